//! The differences between SQLite and PostgreSQL, in one place.

use sqlx::{AnyConnection, AnyPool, Executor, Row};

use super::{Result, StoreError, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn from_url(url: &str) -> Result<Dialect> {
        if url.starts_with("sqlite:") {
            Ok(Dialect::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Dialect::Postgres)
        } else {
            Err(StoreError::Setup(format!(
                "unsupported database URL (sqlite:// or postgres:// expected): {}",
                url.split(':').next().unwrap_or("")
            )))
        }
    }

    pub(super) fn max_connections(self) -> u32 {
        match self {
            Dialect::Sqlite => 8,
            Dialect::Postgres => 16,
        }
    }

    /// Per-connection settings. SQLite: WAL (persistent in the file), full fsync at commit, foreign
    /// keys enforced, and a wait instead of an error when another writer holds the lock.
    pub(super) async fn prepare_connection(self, conn: &mut AnyConnection) -> sqlx::Result<()> {
        match self {
            Dialect::Sqlite => {
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = FULL").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
            }
            Dialect::Postgres => {
                conn.execute("SET TIME ZONE 'UTC'").await?;
            }
        }
        Ok(())
    }

    /// Refuses to start on a connection without the settings the design relies on.
    pub(super) async fn check(self, pool: &AnyPool) -> Result<()> {
        if self == Dialect::Sqlite {
            let mut conn = pool.acquire().await?;
            let journal: String = sqlx::query("PRAGMA journal_mode")
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            let sync: i64 = sqlx::query("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            let fk: i64 = sqlx::query("PRAGMA foreign_keys")
                .fetch_one(&mut *conn)
                .await?
                .try_get(0)?;
            // An in-memory database reports "memory"; files must be in WAL.
            if !(journal.eq_ignore_ascii_case("wal") || journal.eq_ignore_ascii_case("memory"))
                || sync != 2
                || fk != 1
            {
                return Err(StoreError::Setup(format!(
                    "SQLite settings not in effect: journal_mode={journal}, synchronous={sync}, foreign_keys={fk}"
                )));
            }
        }
        Ok(())
    }

    pub(super) async fn begin_write(self, pool: &AnyPool) -> sqlx::Result<Tx> {
        match self {
            Dialect::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => pool.begin().await,
        }
    }

    /// Serialises appends to the audit chain. SQLite's `BEGIN IMMEDIATE` already holds the database's
    /// write lock; PostgreSQL locks the table against other appenders (readers are not blocked).
    pub(super) async fn lock_audit_chain(self, tx: &mut Tx) -> sqlx::Result<()> {
        if self == Dialect::Postgres {
            sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }
}
