//! Benchmark of the 医療機関ユーザ検索 screen (not a test): seeds N accounts in one institution's view
//! across many 部署, starts the real server on 127.0.0.1, and times the common searches through HTTP.
//! Prints p50/p95 per query and SQLite's query plans.
//!
//!     cargo bench --bench search              # 10,000 and 100,000 accounts
//!     cargo bench --bench search -- 10000     # one size

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nanbyo_accounts::config::{Keys, Settings};
use nanbyo_accounts::domain::account::{Profile, RawProfile};
use nanbyo_accounts::domain::search::{Filter, SortKey, UserQuery};
use nanbyo_accounts::domain::time::{iso_date, jst_date, SystemClock};
use nanbyo_accounts::domain::visibility::View;
use nanbyo_accounts::domain::{Db, UserType};
use nanbyo_accounts::service::auth::LoginOutcome;
use nanbyo_accounts::service::console::BootstrapHome;
use nanbyo_accounts::service::App;
use nanbyo_accounts::store::search;
use nanbyo_accounts::store::users::{self, Home};
use rocket::figment::providers::Serialized;

const FAMILY: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("髙橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡邊", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山﨑", "ヤマザキ"),
    ("齋藤", "サイトウ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("清水", "シミズ"),
];
const GIVEN: &[(&str, &str)] = &[
    ("美咲", "ミサキ"),
    ("花子", "ハナコ"),
    ("太郎", "タロウ"),
    ("陽菜", "ヒナ"),
    ("翔", "ショウ"),
    ("健太", "ケンタ"),
    ("結衣", "ユイ"),
    ("大輔", "ダイスケ"),
    ("さくら", "サクラ"),
    ("蓮", "レン"),
];

async fn seed(app: &App, n: usize) -> (String, View) {
    let home = BootstrapHome::Institution {
        code: "1311234567".into(),
        db: Db::Nanbyo,
    };
    let raw = RawProfile {
        department: "医事課".into(),
        family_name: "責任".into(),
        given_name: "者".into(),
        family_kana: "セキニン".into(),
        given_kana: "シャ".into(),
        ..RawProfile::default()
    };
    let (admin, _) = app.bootstrap(&home, &raw).await.unwrap();
    let institution_id = admin.institution_id.unwrap();
    let start = app.now() - 3 * 365 * 86_400;
    let mut tx = app.store.begin_write().await.unwrap();
    for i in 0..n {
        let (f, fk) = FAMILY[i % FAMILY.len()];
        let (g, gk) = GIVEN[(i / FAMILY.len()) % GIVEN.len()];
        let raw = RawProfile {
            department: format!(
                "{}{}",
                ["外来", "病棟", "医事課", "検査部", "薬剤部"][i % 5],
                i % 200
            ),
            family_name: f.into(),
            given_name: g.into(),
            family_kana: fk.into(),
            given_kana: gk.into(),
            ..RawProfile::default()
        };
        let profile = Profile::parse(&raw, false).unwrap();
        let user_type = if i % 50 == 0 {
            UserType::Responsible
        } else {
            UserType::Clerk
        };
        // Registered over three years.
        let at = start + (i as i64 * 3 * 365 * 86_400) / n as i64;
        users::create(
            &mut tx,
            Home::Institution {
                institution_id,
                db: Db::Nanbyo,
            },
            user_type,
            &profile,
            Some(admin.id),
            at,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    // Some accounts have passwords (有効), some are locked.
    sqlx::query("UPDATE users SET password_hash = 'x' WHERE id % 3 = 0")
        .execute(app.store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE users SET locked_at = $1, failed_logins = 5 WHERE id % 97 = 0")
        .bind(app.now())
        .execute(app.store.pool())
        .await
        .unwrap();
    sqlx::query("ANALYZE")
        .execute(app.store.pool())
        .await
        .unwrap();
    // A session for the 責任者, as if logged in.
    let phc = app.hash_password("Kumo-no-ue7Sora".into()).await;
    let mut tx = app.store.begin_write().await.unwrap();
    users::set_chosen_password(&mut tx, admin.id, &phc, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    match app
        .login(&admin.login_id, "Kumo-no-ue7Sora", None)
        .await
        .unwrap()
    {
        LoginOutcome::Success { token, .. } => (token, View::of(&admin.actor())),
        other => panic!("{other:?}"),
    }
}

fn get(port: u16, path: &str, cookie: &str) -> (u16, usize) {
    let (status, body) = get_body(port, path, cookie);
    (status, body.len())
}

/// The response, and its 「検索結果 N件」 line.
fn get_body(port: u16, path: &str, cookie: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: nanbyo_session={cookie}\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// The page's 「検索結果 N件…」 line.
fn result_count(body: &str) -> String {
    body.find("検索結果 ")
        .map(|at| body[at..].chars().take_while(|c| *c != '<').collect())
        .unwrap_or_default()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    let keys = Keys::load(&settings).unwrap();
    let app = App::open(settings, keys.clone(), Arc::new(SystemClock))
        .await
        .unwrap();
    app.add_municipality("131041", "新宿区").await.unwrap();
    app.add_institution("1311234567", "東京中央病院", "131041")
        .await
        .unwrap();
    let t = Instant::now();
    let (token, view) = seed(&app, n).await;
    println!(
        "\n== {n} accounts (seeded in {:.1} s)",
        t.elapsed().as_secs_f64()
    );

    let today = jst_date(app.now());
    // A half-year window a year back.
    let year_ago = iso_date(today - time::Duration::days(365));
    let half_year_ago = iso_date(today - time::Duration::days(182));
    let late = n as u32 / 50 - 1;
    let queries: Vec<(&str, String, UserQuery)> = vec![
        (
            "フリガナ partial (タカ)",
            "/users?name=%E3%82%BF%E3%82%AB".into(),
            q(vec![Filter::name("タカ").unwrap()], 1),
        ),
        (
            "氏名 partial (髙橋 → 高橋)",
            "/users?name=%E9%AB%98%E6%A9%8B".into(),
            q(vec![Filter::name("高橋").unwrap()], 1),
        ),
        (
            "type + state (clerk, 有効)",
            "/users?user_type=clerk&state=active".into(),
            q(
                vec![
                    Filter::Type(UserType::Clerk),
                    Filter::State(nanbyo_accounts::domain::AccountState::Active),
                ],
                1,
            ),
        ),
        (
            "部署 (外来17)",
            "/users?department=%E5%A4%96%E6%9D%A517".into(),
            q(vec![Filter::department("外来17").unwrap()], 1),
        ),
        (
            "登録日 range",
            format!("/users?from={year_ago}&to={half_year_ago}"),
            q(vec![], 1),
        ),
        ("page 1, no condition", "/users".into(), q(vec![], 1)),
        ("late page", format!("/users?page={late}"), q(vec![], late)),
    ];

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let figment = rocket::Config::figment()
        .merge(Serialized::defaults(rocket::Config::release_default()))
        .merge(("port", port))
        .merge(("address", "127.0.0.1"))
        .merge(("log_level", "off"))
        .merge(("ip_header", false))
        .merge(("secret_key", keys.rocket_secret.clone()));
    let pool = app.store.pool().clone();
    let lockout = app.settings.lockout();
    let now = app.now();
    let rocket = nanbyo_accounts::web::build(app, figment, false)
        .ignite()
        .await
        .unwrap();
    let shutdown = rocket.shutdown();
    let server = tokio::spawn(rocket.launch());
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!(
        "{:<30} {:>9} {:>9} {:>8}",
        "query (50 runs, through HTTP)", "p50 ms", "p95 ms", "bytes"
    );
    for (label, path, query) in &queries {
        let path = path.clone();
        let token = token.clone();
        let (times, bytes, found) = tokio::task::spawn_blocking(move || {
            let (status, body) = get_body(port, &path, &token);
            assert_eq!(status, 200, "{path}");
            let found = result_count(&body);
            let mut times = Vec::new();
            let mut bytes = 0;
            for _ in 0..50 {
                let t = Instant::now();
                let (_, b) = get(port, &path, &token);
                times.push(t.elapsed());
                bytes = b;
            }
            times.sort();
            (times, bytes, found)
        })
        .await
        .unwrap();
        println!(
            "{label:<30} {:>9.2} {:>9.2} {bytes:>8}  {found}",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3
        );
        for line in search::explain(&pool, &view, query, now, &lockout)
            .await
            .unwrap()
        {
            println!("    plan: {line}");
        }
    }
    shutdown.notify();
    let _ = server.await;
}

fn q(filters: Vec<Filter>, page: u32) -> UserQuery {
    UserQuery {
        filters,
        sort: SortKey::Kana,
        descending: false,
        page,
        per_page: 50,
    }
}

#[rocket::main]
async fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10_000, 100_000]
    } else {
        sizes
    };
    for n in sizes {
        run(n).await;
    }
}
