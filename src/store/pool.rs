//! The store as a `rocket_db_pools` pool (DESIGN §12): rocket_db_pools 0.2 with its default features
//! off brings no sqlx of its own (its sqlx integration pins 0.7, RUSTSEC-2024-0363), so the store's
//! sqlx 0.9 pool implements its `Pool` trait. The server's `Database` fairing and the console call
//! the same `Pool::init` with the same figment (`databases.nanbyo`).

use rocket::figment::Figment;
use sqlx::pool::PoolConnection;
use sqlx::Any;

use super::{Result, Store, StoreError};

/// The name of the database in the configuration: `[default.databases.nanbyo] url = …`.
pub const NAME: &str = "nanbyo";

#[rocket::async_trait]
impl rocket_db_pools::Pool for Store {
    type Connection = PoolConnection<Any>;
    type Error = StoreError;

    /// Opens the database at `url` (created and migrated at start). Connection limits follow the
    /// dialect (a SQLite file wants few writers), not rocket_db_pools' workers × 4 default.
    async fn init(figment: &Figment) -> Result<Store> {
        let url: String = figment.extract_inner("url").map_err(|e| {
            StoreError::Setup(format!("databases.{NAME}.url が設定されていません（{e}）"))
        })?;
        // rocket_db_pools reports a failure in English; say first, in Japanese, what failed.
        Store::open(&url).await.inspect_err(|e| {
            eprintln!(
                "エラー: データベース {} を開けません: {e}",
                without_password(&url)
            )
        })
    }

    async fn get(&self) -> Result<Self::Connection> {
        Ok(self.pool().acquire().await?)
    }

    async fn close(&self) {
        Store::close(self).await;
    }
}

/// A database URL fit for a log line: the password, if any, replaced by `***`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) if userinfo.contains(':') => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(
            super::without_password("postgres://nanbyo:s3cret@db.local/nanbyo"),
            "postgres://nanbyo:***@db.local/nanbyo"
        );
        assert_eq!(
            super::without_password("sqlite:///var/lib/x.db?mode=rwc"),
            "sqlite:///var/lib/x.db?mode=rwc"
        );
    }
}
