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
                // Read the file through a shared memory map instead of copying pages into each
                // connection's 2 MiB cache: a search at 100,000 accounts touches more than that,
                // and the map's pages are the operating system's page cache, shared by every
                // connection (only what is read becomes resident).
                conn.execute("PRAGMA mmap_size = 268435456").await?;
            }
            Dialect::Postgres => {
                conn.execute("SET TIME ZONE 'UTC'").await?;
                // sqlx prepares every statement; after five runs PostgreSQL may keep one generic
                // plan for all values. A search's best plan depends on the value (a gram held by 10
                // accounts or by 50,000), so each run is planned for its own values.
                conn.execute("SET plan_cache_mode = force_custom_plan")
                    .await?;
                // No parallel workers: on a server answering many small queries at once they only
                // compete for the same cores, and their cheaper-looking parallel scans displaced
                // the index paths of the search (benches/search.rs shows the plans).
                conn.execute("SET max_parallel_workers_per_gather = 0")
                    .await?;
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

    /// A write transaction that is serialised against every other from its first statement, so a
    /// decision read inside it (a lockout count, the last active 責任者, an import's duplicates, the
    /// audit chain's head) still holds when its write commits, across processes and instances.
    ///
    /// SQLite: `BEGIN IMMEDIATE` takes the database's write lock. PostgreSQL: a plain (READ COMMITTED)
    /// transaction whose first statement takes the audit chain's table lock in a mode that conflicts
    /// with itself — every write transaction appends to the chain, so this is the one lock they all
    /// share — which is PostgreSQL's `BEGIN IMMEDIATE`: each later statement sees every transaction
    /// that committed before the lock was granted, and none can commit in between. Readers are not
    /// blocked. SERIALIZABLE was not chosen: it would need a retry loop around every operation and a
    /// mid-transaction `LOCK TABLE` defeats it anyway.
    pub(super) async fn begin_write(self, pool: &AnyPool) -> sqlx::Result<Tx> {
        match self {
            Dialect::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => {
                let mut tx = pool.begin().await?;
                sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE")
                    .execute(&mut *tx)
                    .await?;
                Ok(tx)
            }
        }
    }

    /// The statement prefix that shows a query's plan, and the column each plan line is in. On
    /// PostgreSQL the query runs (ANALYZE), so the lines carry the rows and times it took.
    pub(super) fn explain(self) -> (&'static str, &'static str) {
        match self {
            Dialect::Sqlite => ("EXPLAIN QUERY PLAN ", "detail"),
            Dialect::Postgres => ("EXPLAIN (ANALYZE, COSTS OFF, BUFFERS) ", "QUERY PLAN"),
        }
    }

    /// Whether `e` is a unique-constraint violation (a conflict a user can cause, e.g. the same file
    /// imported twice at once), so that it can be answered in Japanese rather than in database text.
    pub fn is_unique_violation(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
    }

    /// Whether `e` says the disk (or the database's quota) is full: SQLite's SQLITE_FULL (13), or
    /// PostgreSQL's `disk_full` (53100) and `out_of_memory`-class storage errors.
    pub fn is_storage_full(e: &sqlx::Error) -> bool {
        match e {
            sqlx::Error::Database(d) => {
                let code = d.code();
                let code = code.as_deref().unwrap_or("");
                code == "13" || code == "53100" || d.message().contains("database or disk is full")
            }
            sqlx::Error::Io(io) => io.raw_os_error() == Some(28), // ENOSPC
            _ => false,
        }
    }
}
