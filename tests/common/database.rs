//! The database of one test. With `NANBYO_TEST_POSTGRES` set to an admin URL (`.ci/postgres.sh`), every
//! test gets a fresh PostgreSQL database of its own (`t_<random hex>` on that server); unset, the product's
//! default, a SQLite file in the test's data folder.

#![allow(dead_code)]

use std::future::Future;
use std::path::Path;

use sqlx::{AnyPool, Connection, Row};

/// The admin URL of the PostgreSQL server the tests run on (any database on it: `…/postgres`).
pub const POSTGRES_VAR: &str = "NANBYO_TEST_POSTGRES";

/// Whether this run is on PostgreSQL.
pub fn on_postgres() -> bool {
    admin_url().is_some()
}

fn admin_url() -> Option<String> {
    std::env::var(POSTGRES_VAR).ok().filter(|u| !u.is_empty())
}

/// The database URL to configure for a test whose data folder is `data_dir`: on PostgreSQL a freshly
/// created, empty database; None on SQLite (the product then uses its default file in `data_dir`).
/// Callable from synchronous and asynchronous tests alike.
pub fn test_database_url(data_dir: &Path) -> Option<String> {
    let _ = data_dir;
    let admin = admin_url()?;
    let name = format!("t_{:016x}", rand::random::<u64>());
    blocking(async {
        let mut conn = sqlx::postgres::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_VAR}={admin}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut conn)
            .await
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        conn.close().await.unwrap();
    });
    Some(with_database(&admin, &name))
}

/// The URL the product ends up using: the configured one, else its SQLite default in `data_dir`.
pub fn effective_url(configured: Option<&str>, data_dir: &Path) -> String {
    configured
        .map(str::to_string)
        .unwrap_or_else(|| nanbyo_accounts::store::Store::default_url(data_dir))
}

/// `admin` with its database replaced by `name` (user, host, port and parameters kept).
fn with_database(admin: &str, name: &str) -> String {
    let (base, params) = match admin.split_once('?') {
        Some((b, p)) => (b, Some(p)),
        None => (admin, None),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[host_start..].find('/') {
        Some(i) => &base[..host_start + i],
        None => base,
    };
    match params {
        Some(p) => format!("{server}/{name}?{p}"),
        None => format!("{server}/{name}"),
    }
}

/// A pool on the test's database (through `Any`, as the product connects), for checks from outside
/// the product.
pub async fn connect(url: &str) -> AnyPool {
    sqlx::any::install_default_drivers();
    AnyPool::connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect {url}: {e}"))
}

/// One value of a query on the database at `url`, read as text (integers formatted).
pub async fn query_value(url: &str, sql: &'static str) -> String {
    let pool = connect(url).await;
    let row = sqlx::query(sql).fetch_one(&pool).await.unwrap();
    let v = row
        .try_get::<String, _>(0)
        .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))
        .or_else(|_| row.try_get::<i32, _>(0).map(|n| n.to_string()))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    pool.close().await;
    v
}

/// [`query_value`] for synchronous tests.
pub fn query_value_blocking(url: &str, sql: &'static str) -> String {
    blocking(query_value(url, sql))
}

/// Runs `f` to completion on a runtime of its own, on a thread of its own (so that it may be called
/// inside another runtime, e.g. from a `#[rocket::async_test]`).
pub fn blocking<F: Future + Send>(f: F) -> F::Output
where
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(f)
            })
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e))
    })
}

/// The product's database setting for a child process (`ROCKET_DATABASES`, Rocket's convention for
/// `databases.nanbyo.url`), pointing it at `url`.
pub fn rocket_databases(url: &str) -> String {
    format!("{{nanbyo={{url=\"{url}\"}}}}")
}
