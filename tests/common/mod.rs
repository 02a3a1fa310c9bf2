//! Test harness: a fresh data folder and database per test, a clock that moves only when told, and
//! Rocket's local client (no socket is opened).

#![allow(dead_code)]

pub mod database;

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
    /// The database the server uses (SQLite in `dir`, or the test's own PostgreSQL database).
    pub database_url: String,
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
    start_server(adjust, figment, false).await
}

/// The settings of a test: its data folder, and its database (see [`database`]).
pub fn test_settings(data_dir: &std::path::Path) -> Settings {
    Settings {
        data_dir: data_dir.to_path_buf(),
        database_url: database::test_database_url(data_dir),
        ..Settings::default()
    }
}

async fn start_server(
    adjust: impl FnOnce(&mut Settings),
    figment: impl FnOnce(rocket::figment::Figment) -> rocket::figment::Figment,
    secure: bool,
) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = test_settings(dir.path());
    adjust(&mut settings);
    let database_url = settings.database_url();
    let keys = Keys::load(&settings).unwrap();
    let clock = Arc::new(ManualClock::new(START));
    let app = App::open(settings, keys.clone(), clock.clone())
        .await
        .unwrap();
    seed_orgs(&app).await;
    let base = rocket::Config::figment()
        .merge(Serialized::defaults(rocket::Config::debug_default()))
        .merge(("ip_header", false))
        .merge(("log_level", "off"))
        .merge(("secret_key", keys.rocket_secret.clone()));
    let rocket = nanbyo_accounts::web::build(app, figment(base), secure);
    let client = Client::tracked(rocket).await.unwrap();
    TestServer {
        client,
        clock,
        dir,
        database_url,
    }
}

async fn seed_orgs(app: &App) {
    app.add_municipality(SHINJUKU, "新宿区").await.unwrap();
    app.add_municipality(SAPPORO, "札幌市").await.unwrap();
    app.add_institution(HOSPITAL, "東京中央病院", SHINJUKU)
        .await
        .unwrap();
    app.add_institution(OTHER_HOSPITAL, "新宿西クリニック", SHINJUKU)
        .await
        .unwrap();
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
        let home = BootstrapHome::Institution {
            code: HOSPITAL.into(),
            db,
        };
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
            .body(form(&[
                ("csrf", &csrf),
                ("login_id", login_id),
                ("password", password),
            ]))
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
            .body(form(&[
                ("csrf", &csrf),
                ("current", temp),
                ("new", new),
                ("confirm", new),
            ]))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::SeeOther, "password change refused");
        assert_eq!(res.headers().get_one("Location"), Some("/"));
    }

    /// GET a page and return the CSRF token of its forms.
    pub async fn page_csrf(&self, path: &str) -> String {
        let res = self
            .client
            .get(path.to_string())
            .remote(peer())
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Ok, "GET {path}");
        csrf_of(&res.into_string().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> LocalResponse<'_> {
        self.client
            .get(path.to_string())
            .remote(peer())
            .dispatch()
            .await
    }

    /// The page at `path`, as text.
    pub async fn html(&self, path: &str) -> String {
        self.get(path).await.into_string().await.unwrap_or_default()
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
        sqlx::query(sql)
            .fetch_one(self.app().store.pool())
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap()
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
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Helpers for tests/auth_http.rs and tests/console.rs.

/// A server whose cookies are `Secure` and `__Host-` prefixed, as under TLS (here or at a proxy).
pub async fn secure_server() -> TestServer {
    start_server(|_| {}, |f| f, true).await
}

/// The message box of a refused login (`<div id="login-error">…</div>`), tags stripped and
/// whitespace collapsed; None when the page shows no error.
pub fn login_error(html: &str) -> Option<String> {
    let start = html.find("id=\"login-error\"")?;
    let start = start + html[start..].find('>')? + 1;
    let end = start + html[start..].find("</div>")?;
    let mut text = String::new();
    let mut in_tag = false;
    for c in html[start..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The Set-Cookie headers of a response.
pub fn set_cookies(res: &LocalResponse<'_>) -> Vec<String> {
    res.headers()
        .get("Set-Cookie")
        .map(str::to_string)
        .collect()
}

impl TestServer {
    /// The session token the client's browser holds (cookie `nanbyo_session`), if any.
    pub fn session_token(&self) -> Option<String> {
        self.client
            .cookies()
            .get("nanbyo_session")
            .map(|c| c.value().to_string())
    }

    /// GET `path` presenting `token` as the session cookie (a replayed or copied cookie).
    pub async fn get_with_session(&self, path: &str, token: &str) -> LocalResponse<'_> {
        self.client
            .get(path.to_string())
            .remote(peer())
            .cookie(rocket::http::Cookie::new(
                "nanbyo_session",
                token.to_string(),
            ))
            .dispatch()
            .await
    }

    /// A login from another machine: its own GET /login and POST /login from `addr`.
    pub async fn post_login_from(
        &self,
        addr: SocketAddr,
        login_id: &str,
        password: &str,
    ) -> LocalResponse<'_> {
        let res = self.client.get("/login").remote(addr).dispatch().await;
        let csrf = csrf_of(&res.into_string().await.unwrap());
        self.client
            .post("/login")
            .remote(addr)
            .header(ContentType::Form)
            .body(form(&[
                ("csrf", &csrf),
                ("login_id", login_id),
                ("password", password),
            ]))
            .dispatch()
            .await
    }

    /// Logs the client's browser out (the button in the header; /password has it for every session).
    pub async fn logout(&self) {
        let csrf = self.page_csrf("/password").await;
        let res = self.post_form("/logout", &[("csrf", &csrf)]).await;
        assert_eq!(res.status(), Status::SeeOther, "logout");
        assert_eq!(res.headers().get_one("Location"), Some("/login"));
    }

    /// The account as stored now.
    pub async fn user(&self, id: i64) -> UserRecord {
        self.app().user_by_id(id).await.unwrap()
    }

    /// Every audit entry, oldest first.
    pub async fn audit(&self) -> Vec<nanbyo_accounts::store::audit::StoredEntry> {
        nanbyo_accounts::store::audit::all(self.app().store.pool())
            .await
            .unwrap()
    }

    /// Rows in `sessions` for one account.
    pub async fn sessions_of(&self, user_id: i64) -> i64 {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(self.app().store.pool())
            .await
            .unwrap()
            .try_get::<i64, _>(0)
            .unwrap()
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers for tests/audit_log.rs.

impl TestServer {
    /// The first 責任者 / 自治体担当者 of any home (another institution, a municipality); returns the
    /// account and its temporary password.
    pub async fn bootstrap_home(
        &self,
        home: BootstrapHome,
        family: &str,
        family_kana: &str,
    ) -> (UserRecord, String) {
        let raw = RawProfile {
            department: "医事課".into(),
            family_name: family.into(),
            given_name: "太郎".into(),
            family_kana: family_kana.into(),
            given_kana: "タロウ".into(),
            ..RawProfile::default()
        };
        let (user, issued) = self.app().bootstrap(&home, &raw).await.unwrap();
        (user, issued.password)
    }
}
