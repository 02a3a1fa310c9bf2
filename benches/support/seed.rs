//! What the search benchmarks share: a database (SQLite in a temporary folder, or a fresh database on
//! the PostgreSQL server of `NANBYO_TEST_POSTGRES` / `--postgres URL`), and N accounts seeded into one
//! institution's view through the import's bulk insert, with a logged-in 責任者.

#![allow(dead_code)]

use std::sync::Arc;

use nanbyo_accounts::config::{Keys, Settings};
use nanbyo_accounts::domain::account::{Profile, RawProfile};
use nanbyo_accounts::domain::time::SystemClock;
use nanbyo_accounts::domain::visibility::View;
use nanbyo_accounts::domain::{Db, UserType};
use nanbyo_accounts::service::auth::LoginOutcome;
use nanbyo_accounts::service::console::BootstrapHome;
use nanbyo_accounts::service::App;
use nanbyo_accounts::store::users::{self, Home};
use nanbyo_accounts::store::Dialect;
use sqlx::Connection;

pub const PASSWORD: &str = "Kumo-no-ue7Sora";

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

/// The PostgreSQL admin URL asked for (`--postgres URL`, else `NANBYO_TEST_POSTGRES`), if any.
pub fn postgres_admin_url() -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--postgres")
        .and_then(|i| args.get(i + 1).cloned())
        .or_else(|| std::env::var("NANBYO_TEST_POSTGRES").ok())
        .filter(|u| !u.is_empty())
}

/// A fresh database: None on SQLite (the product's default file in the data folder), else the URL of
/// a new database `bench_<hex>` on the server of `admin` (dropped by [`drop_database`]).
pub async fn fresh_database(admin: Option<&str>) -> Option<String> {
    let admin = admin?;
    let name = format!("bench_{:08x}", rand::random::<u32>());
    let mut conn = sqlx::postgres::PgConnection::connect(admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let (server, _) = admin.rsplit_once('/').unwrap();
    Some(format!("{server}/{name}"))
}

pub async fn drop_database(admin: Option<&str>, url: Option<&str>) {
    let (Some(admin), Some(url)) = (admin, url) else {
        return;
    };
    let name = url.rsplit('/').next().unwrap();
    let mut conn = sqlx::postgres::PgConnection::connect(admin).await.unwrap();
    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await;
    let _ = conn.close().await;
}

/// The application on `data_dir` and `database_url`, with 新宿区 and 東京中央病院.
pub async fn open(data_dir: &std::path::Path, database_url: Option<String>) -> (App, Keys) {
    let settings = Settings {
        data_dir: data_dir.to_path_buf(),
        database_url,
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
    (app, keys)
}

/// Seeds `n` accounts into one 責任者's view (many 部署, 20 surnames × 10 given names, registered
/// over three years, a third with a password, some locked) and returns that 責任者's session
/// token and view.
pub async fn seed(app: &App, n: usize) -> (String, View) {
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
    let home = Home::Institution {
        institution_id,
        db: Db::Nanbyo,
    };
    let profiles: Vec<(UserType, Profile)> = (0..n)
        .map(|i| {
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
            let t = if i % 50 == 0 {
                UserType::Responsible
            } else {
                UserType::Clerk
            };
            (t, Profile::parse(&raw, false).unwrap())
        })
        .collect();
    // The import's bulk insert, a few thousand accounts per transaction.
    for chunk in profiles.chunks(5_000) {
        let accounts: Vec<(Home, UserType, &Profile)> =
            chunk.iter().map(|(t, p)| (home, *t, p)).collect();
        let mut tx = app.store.begin_write().await.unwrap();
        users::create_many(&mut tx, &accounts, Some(admin.id), app.now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let pool = app.store.pool();
    // Registered over three years, in id order.
    let start = app.now() - 3 * 365 * 86_400;
    sqlx::query("UPDATE users SET created_at = $1 + ((id - $2) * 94608000) / $3 WHERE id > $2")
        .bind(start)
        .bind(admin.id)
        .bind(n.max(1) as i64)
        .execute(pool)
        .await
        .unwrap();
    // Some accounts have passwords (有効), some are locked.
    sqlx::query("UPDATE users SET password_hash = 'x' WHERE id % 3 = 0")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("UPDATE users SET locked_at = $1, failed_logins = 5 WHERE id % 97 = 0")
        .bind(app.now())
        .execute(pool)
        .await
        .unwrap();
    // What autovacuum (PostgreSQL) or `PRAGMA optimize` would have done by the time anyone searches.
    let maintenance = match app.store.dialect() {
        Dialect::Sqlite => "ANALYZE",
        Dialect::Postgres => "VACUUM ANALYZE",
    };
    sqlx::query(maintenance).execute(pool).await.unwrap();
    let phc = app.hash_password(PASSWORD.into()).await;
    let mut tx = app.store.begin_write().await.unwrap();
    users::set_chosen_password(&mut tx, admin.id, &phc, app.now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    match app.login(&admin.login_id, PASSWORD, None).await.unwrap() {
        LoginOutcome::Success { token, .. } => (token, View::of(&admin.actor())),
        other => panic!("{other:?}"),
    }
}

/// The database named for the output.
pub fn label(app: &App) -> &'static str {
    match app.store.dialect() {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
    }
}
