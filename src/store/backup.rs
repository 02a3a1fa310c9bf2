//! Consistent copies of the database (DESIGN §10 `backup` / `restore`). SQLite only: PostgreSQL has
//! its own tools (`pg_dump` / `pg_restore`), which the console names instead.

use std::path::Path;

use sqlx::any::AnyPoolOptions;
use sqlx::Row;

use super::{Dialect, Result, Store, StoreError};

/// What a backup file holds, read without changing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFacts {
    /// `PRAGMA integrity_check` said "ok".
    pub intact: bool,
    /// The newest migration applied to it (0: not a database of this product).
    pub schema_version: i64,
    pub users: i64,
    pub audit_entries: i64,
}

/// The newest migration this binary knows (a backup from a newer version is refused).
pub fn latest_schema_version() -> i64 {
    sqlx::migrate!("src/store/migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

impl Store {
    /// A consistent copy of the whole database as of one moment, taken while the server keeps
    /// writing (SQLite `VACUUM INTO`: one read transaction, WAL readers do not block writers).
    pub async fn backup_into(&self, path: &Path) -> Result<()> {
        if self.dialect() != Dialect::Sqlite {
            return Err(StoreError::Setup("PostgreSQL".into()));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.display().to_string())
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

/// Opens a SQLite file read-only and reports what it holds.
pub async fn inspect(path: &Path) -> Result<BackupFacts> {
    sqlx::any::install_default_drivers();
    let url = format!("sqlite://{}?mode=ro", path.display());
    let pool = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await?;
    let check: String = sqlx::query("PRAGMA integrity_check")
        .fetch_one(&pool)
        .await?
        .try_get(0)?;
    let has = |table: &'static str| {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            )
            .bind(table)
            .fetch_one(&pool)
            .await?
            .try_get(0)?;
            Ok::<bool, StoreError>(n > 0)
        }
    };
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            let n: i64 = sqlx::query(sql).fetch_one(&pool).await?.try_get(0)?;
            Ok::<i64, StoreError>(n)
        }
    };
    let schema_version = if has("_sqlx_migrations").await? {
        count("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success").await?
    } else {
        0
    };
    let (users, audit_entries) = if has("users").await? && has("audit_log").await? {
        (
            count("SELECT COUNT(*) FROM users").await?,
            count("SELECT COUNT(*) FROM audit_log").await?,
        )
    } else {
        (0, 0)
    };
    pool.close().await;
    Ok(BackupFacts {
        intact: check == "ok",
        schema_version,
        users,
        audit_entries,
    })
}

/// The file behind a `sqlite:` URL (`sqlite://path?mode=rwc`, `sqlite:path`); None for other databases
/// and for in-memory ones.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && path != ":memory:").then(|| std::path::PathBuf::from(path))
}
