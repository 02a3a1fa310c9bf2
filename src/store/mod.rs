//! All SQL lives here. One dialect-neutral SQL text serves SQLite and PostgreSQL (`$1` placeholders,
//! BIGINT instants, TEXT dates); what must differ is kept in [`dialect`].

pub mod audit;
pub mod backup;
pub mod dialect;
pub mod imports;
pub mod keys;
pub mod lookup;
pub mod ngrams;
pub mod orgs;
pub mod pool;
pub mod review;
pub mod search;
pub mod search_plan;
pub mod sessions;
pub mod sql;
pub mod throttle;
pub mod users;

use std::path::Path;
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, Row};

pub use dialect::Dialect;

/// A write transaction (the audit chain is appended inside one).
pub type Tx = sqlx::Transaction<'static, Any>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Setup(String),
    /// A stored value the domain types do not accept (a hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The database: a pool and its dialect.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    dialect: Dialect,
}

impl Store {
    /// The default database: a SQLite file in the data folder, created if missing.
    pub fn default_url(data_dir: &Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("nanbyo.db").display())
    }

    /// Connects, applies the connection settings of the dialect, checks them, and runs the migrations.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::from_url(url)?;
        let options = AnyConnectOptions::from_str(url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(dialect.max_connections())
            .after_connect(move |conn, _meta| {
                Box::pin(async move { dialect.prepare_connection(conn).await })
            })
            .connect_with(options)
            .await?;
        let store = Store { pool, dialect };
        store.dialect.check(&store.pool).await?;
        store.migrate().await?;
        Ok(store)
    }

    pub async fn migrate(&self) -> Result<()> {
        match self.dialect {
            Dialect::Sqlite => {
                sqlx::migrate!("src/store/migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Dialect::Postgres => {
                sqlx::migrate!("src/store/migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// A transaction that holds the write lock from its first statement (SQLite `BEGIN IMMEDIATE`), so
    /// that read-then-write sequences such as the audit chain never interleave.
    pub async fn begin_write(&self) -> Result<Tx> {
        Ok(self.dialect.begin_write(&self.pool).await?)
    }

    /// `PRAGMA integrity_check` / a trivial query: for `/health`.
    pub async fn healthy(&self) -> bool {
        sqlx::query("SELECT 1")
            .fetch_one(&self.pool)
            .await
            .and_then(|r| r.try_get::<i64, _>(0))
            .is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
