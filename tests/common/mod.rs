//! Test harness: a fresh data folder and database per test, a clock that moves only when told, and
//! Rocket's local client (no socket is opened).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use nanbyo_accounts::config::{Keys, Settings};
use nanbyo_accounts::domain::account::RawProfile;
use nanbyo_accounts::domain::time::ManualClock;
use nanbyo_accounts::domain::Db;
use nanbyo_accounts::service::console::BootstrapHome;
use nanbyo_accounts::service::App;
use nanbyo_accounts::store::users::UserRecord;
use rocket::figment::providers::Serialized;
use rocket::http::{ContentType, Status};
use rocket::local::asynchronous::{Client, LocalResponse};
use tempfile::TempDir;

/// 2026-11-24 09:00 JST.
pub const START: i64 = 1_795_478_400;

pub const HOSPITAL: &str = "1311234567";
pub const OTHER_HOSPITAL: &str = "1311234568";
pub const SHINJUKU: &str = "131041";
pub const SAPPORO: &str = "011002";

pub struct TestServer {
    pub client: Client,
    pub clock: Arc<ManualClock>,
    pub dir: TempDir,
}

/// The address the local client reports as the socket's peer.
pub fn peer() -> SocketAddr {
    "192.0.2.10:50000".parse().unwrap()
}

pub async fn server() -> TestServer {
    server_with(|_| {}).await
}

pub async fn server_with(adjust: impl FnOnce(&mut Settings)) -> TestServer {
    server_with_figment(adjust, |f| f).await
}

/// A server with adjusted settings and Rocket configuration (e.g. `ip_header`).
pub async fn server_with_figment(
    adjust: impl FnOnce(&mut Settings),
    figment: impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment,
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings { data_dir: dir.path().to_path_buf(), ..Settings::default() };
    adjust(&mut settings);
    let keys = Keys::load(&settings).unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let app = App::open(settings, keys.clone(), clock.clone()).await.unwrap();
    seed_orgs(&app).await;
    let base = rocket::Config::figment()
        .merge(Serialized::defaults(rocket::Config::debug_default()))
        .merge(("ip_header", false))
        .merge(("log_level", "off"))
        .merge(("secret_key", keys.rocket_secret.clone()));
    let rocket = nanbyo_accounts::web::build(app, figment(base), false);
    let client = Client::tracked(rocket).await.unwrap();
    TestServer { client, clock, dir }
}

async fn seed_orgs(app: &App) {
    app.add_municipality(SHINJUKU, "新宿区").await.unwrap();
    app.add_municipality(SAPPORO, "札幌市").await.unwrap();
    app.add_institution(HOSPITAL, "東京中央病院", SHINJUKU).await.unwrap();
    app.add_institution(OTHER_HOSPITAL, "新宿西クリニック", SHINJUKU).await.unwrap();
}

impl TestServer {
    pub fn app(&self) -> &App {
        self.client.rocket().state::<App>().unwrap()
    }

    /// The first 責任者 of HOSPITAL in `db`; returns the account and its temporary password.
    pub async fn bootstrap(&self, db: Db, family: &str) -> (UserRecord, String) {
        let raw = RawProfile {
            department: "医事課".into(),
            family_name: family.into(),
            given_name: "美咲".into(),
            family_kana: "タカハシ".into(),
            given_kana: "ミサキ".into(),
            ..RawProfile::default()
        };
        let home = BootstrapHome::Institution { code: HOSPITAL.into(), db };
        let (user, issued) = self.app().bootstrap(&home, &raw).await.unwrap();
        (user, issued.password)
    }

    /// A fresh browser: GET /login, returning the CSRF token of its form (the client keeps cookies).
    pub async fn login_csrf(&self) -> String {
        let res = self.client.get("/login").remote(peer()).dispatch().await;
        csrf_of(&res.into_string().await.unwrap())
    }

    pub async fn post_login(&self, login_id: &str, password: &str) -> LocalResponse<'_> {
        let csrf = self.login_csrf().await;
        self.client
            .post("/login")
            .remote(peer())
            .header(ContentType::Form)
            .body(form(&[("csrf", &csrf), ("login_id", login_id), ("password", password)]))
            .dispatch()
            .await
    }

    /// Logs in with a temporary password and sets `new` as the password; the client ends logged in.
    pub async fn login_and_set_password(&self, login_id: &str, temp: &str, new: &str) {
        let res = self.post_login(login_id, temp).await;
        assert_eq!(res.status(), Status::SeeOther);
        assert_eq!(res.headers().get_one("Location"), Some("/password"));
        let csrf = self.page_csrf("/password").await;
        let res = self
            .client
            .post("/password")
            .remote(peer())
            .header(ContentType::Form)
            .body(form(&[("csrf", &csrf), ("current", temp), ("new", new), ("confirm", new)]))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::SeeOther, "password change refused");
        assert_eq!(res.headers().get_one("Location"), Some("/"));
    }

    /// GET a page and return the CSRF token of its forms.
    pub async fn page_csrf(&self, path: &str) -> String {
        let res = self.client.get(path.to_string()).remote(peer()).dispatch().await;
        assert_eq!(res.status(), Status::Ok, "GET {path}");
        csrf_of(&res.into_string().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> LocalResponse<'_> {
        self.client.get(path.to_string()).remote(peer()).dispatch().await
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        self.client
            .post(path.to_string())
            .remote(peer())
            .header(ContentType::Form)
            .body(form(fields))
            .dispatch()
            .await
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql).fetch_one(self.app().store.pool()).await.unwrap().try_get::<i64, _>(0).unwrap()
    }
}

/// The value of the first `name="csrf"` hidden field.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("page has a CSRF field") + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
