//! Benchmark of the 医療機関ユーザ検索 screen (not a test): seeds N accounts in one institution's view
//! across many 部署, starts the real server on 127.0.0.1, and times the common searches through HTTP.
//! Prints p50/p95 per query, the plan the store chose, and the database's plans of the count and
//! the page (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN ANALYZE).
//!
//!     cargo bench --bench search                         # SQLite, 10,000 and 100,000 accounts
//!     cargo bench --bench search -- 100000               # one size (or NANBYO_BENCH_ACCOUNTS)
//!     NANBYO_TEST_POSTGRES=postgres://… cargo bench --bench search -- 100000
//!     cargo bench --bench search -- 100000 --postgres postgres://…   # a fresh database on that server
//!
//! Goal (issue 9): p95 ≤ 10 ms for every query at 100,000 accounts, on both databases.

#[path = "support/http.rs"]
mod http;
#[path = "support/seed.rs"]
mod seed;

use http::{get_body, result_count};

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use nanbyo_accounts::domain::search::{Filter, SortKey, UserQuery};
use nanbyo_accounts::domain::time::{iso_date, jst_date};
use nanbyo_accounts::domain::{AccountState, UserType};
use nanbyo_accounts::store::search;
use rocket::figment::providers::Serialized;

const RUNS: usize = 50;

fn get(port: u16, path: &str, cookie: &str) -> (u16, usize) {
    let (status, body) = get_body(port, path, cookie);
    (status, body.len())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Percent-encodes a query-string value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn run(n: usize, admin: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let url = seed::fresh_database(admin).await;
    let (app, keys) = seed::open(dir.path(), url.clone()).await;
    let t = Instant::now();
    let (token, view) = seed::seed(&app, n).await;
    let dialect = app.store.dialect();
    println!(
        "\n== {}: {n} accounts in one view (seeded in {:.1} s)",
        seed::label(&app),
        t.elapsed().as_secs_f64()
    );

    let today = jst_date(app.now());
    // A half-year window a year back.
    let year_ago = iso_date(today - time::Duration::days(365));
    let half_year_ago = iso_date(today - time::Duration::days(182));
    let late = (n as u32).div_ceil(50).saturating_sub(1).max(1);
    let name = |s: &str| Filter::name(s).unwrap();
    let queries: Vec<(&str, String, UserQuery)> = vec![
        (
            "氏名 1 character (高)",
            format!("/users?name={}", enc("高")),
            q(vec![name("高")], 1),
        ),
        (
            "氏名 2 characters (髙橋)",
            format!("/users?name={}", enc("髙橋")),
            q(vec![name("髙橋")], 1),
        ),
        (
            "フリガナ partial (タカ)",
            format!("/users?name={}", enc("タカ")),
            q(vec![name("タカ")], 1),
        ),
        (
            "フリガナ partial (ｶﾊｼ)",
            format!("/users?name={}", enc("ｶﾊｼ")),
            q(vec![name("ｶﾊｼ")], 1),
        ),
        (
            "フリガナ 5 chars (ザキケンタ)",
            format!("/users?name={}", enc("ザキケンタ")),
            q(vec![name("ザキケンタ")], 1),
        ),
        (
            "部署 (外来17)",
            format!("/users?department={}", enc("外来17")),
            q(vec![Filter::department("外来17").unwrap()], 1),
        ),
        (
            "combined (ハシ+外来+clerk)",
            format!(
                "/users?name={}&department={}&user_type=clerk",
                enc("ハシ"),
                enc("外来")
            ),
            q(
                vec![
                    name("ハシ"),
                    Filter::department("外来").unwrap(),
                    Filter::Type(UserType::Clerk),
                ],
                1,
            ),
        ),
        (
            "type + state (clerk, 有効)",
            "/users?user_type=clerk&state=active".into(),
            q(
                vec![
                    Filter::Type(UserType::Clerk),
                    Filter::State(AccountState::Active),
                ],
                1,
            ),
        ),
        (
            "登録日 range",
            format!("/users?from={year_ago}&to={half_year_ago}"),
            q(vec![], 1),
        ),
        ("no condition, page 1", "/users".into(), q(vec![], 1)),
        (
            "no condition, page 20",
            "/users?page=20".into(),
            q(vec![], 20),
        ),
        (
            "no condition, last page",
            format!("/users?page={late}"),
            q(vec![], late),
        ),
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
    let mut summary = Vec::new();
    for (label, path, query) in &queries {
        let path = path.clone();
        let token = token.clone();
        let (times, bytes, found) = tokio::task::spawn_blocking(move || {
            let (status, body) = get_body(port, &path, &token);
            assert_eq!(status, 200, "{path}");
            let found = result_count(&body);
            assert!(!found.is_empty(), "{path}: no result line");
            let mut times = Vec::new();
            let mut bytes = 0;
            for _ in 0..RUNS {
                let t = Instant::now();
                let (status, b) = get(port, &path, &token);
                times.push(t.elapsed());
                assert_eq!(status, 200, "{path}");
                bytes = b;
            }
            times.sort();
            (times, bytes, found)
        })
        .await
        .unwrap();
        let (p50, p95) = (
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.95).as_secs_f64() * 1e3,
        );
        summary.push((label.to_string(), p50, p95, bytes, found));
        let plan = search::explain(&pool, dialect, &view, query, now, &lockout)
            .await
            .unwrap();
        println!("-- {label}: p50 {p50:.2} ms, p95 {p95:.2} ms");
        for line in plan {
            println!("    {line}");
        }
    }
    println!(
        "\n{:<30} {:>9} {:>9} {:>8}  ({} accounts, {RUNS} runs each, through HTTP)",
        "query", "p50 ms", "p95 ms", "bytes", n
    );
    for (label, p50, p95, bytes, found) in &summary {
        println!("{label:<30} {p50:>9.2} {p95:>9.2} {bytes:>8}  {found}");
    }
    shutdown.notify();
    let _ = server.await;
    seed::drop_database(admin, url.as_deref()).await;
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
    let mut sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if sizes.is_empty() {
        sizes.extend(
            std::env::var("NANBYO_BENCH_ACCOUNTS")
                .ok()
                .and_then(|v| v.parse::<usize>().ok()),
        );
    }
    if sizes.is_empty() {
        sizes = vec![10_000, 100_000];
    }
    let admin = seed::postgres_admin_url();
    for n in sizes {
        run(n, admin.as_deref()).await;
    }
}
