//! The operations of the product, shared by the web screens and the console: each one checks the
//! rules, changes the store in one write transaction, and appends its audit entry inside it.

pub mod accounts;
pub mod auth;
pub mod console;
pub mod imports;
pub mod notices;
pub mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use crate::config::{Keys, Settings};
use crate::domain::account::ProfileError;
use crate::domain::credentials;
use crate::domain::lockout::Throttle;
use crate::domain::roles::Denied;
use crate::domain::time::{Clock, Instant};
use crate::pdf::NoticeFonts;
use crate::store::{Store, StoreError};

/// Why an operation did not happen. `Display` is the Japanese message for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("{0}")]
    Denied(#[from] Denied),
    #[error("指定されたユーザが見つかりません。")]
    NotFound,
    /// The account's state does not allow the operation (e.g. unlocking an account that is not locked).
    #[error("{0}")]
    WrongState(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("入力内容に誤りがあります。")]
    Invalid(Vec<ProfileError>),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Pdf(#[from] crate::pdf::PdfError),
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Store(StoreError::Database(e))
    }
}

pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// The configured notice fonts, or the embedded IPA fonts (parsed once per process: 12 MB of tables).
pub fn load_fonts(settings: &Settings) -> Result<Arc<NoticeFonts>> {
    static EMBEDDED: std::sync::OnceLock<Arc<NoticeFonts>> = std::sync::OnceLock::new();
    match &settings.notice_font {
        Some(path) => Ok(Arc::new(NoticeFonts::from_files(
            path,
            settings.notice_mono_font.as_deref(),
        )?)),
        None => {
            if let Some(f) = EMBEDDED.get() {
                return Ok(Arc::clone(f));
            }
            let f = Arc::new(NoticeFonts::embedded()?);
            Ok(Arc::clone(EMBEDDED.get_or_init(|| f)))
        }
    }
}

/// Everything an operation needs: the store, the keys, the settings and the clock.
pub struct App {
    pub store: Store,
    pub keys: Keys,
    pub settings: Settings,
    /// The notice fonts: they also decide which names can be registered (no notice may print a box).
    pub fonts: Arc<NoticeFonts>,
    clock: Arc<dyn Clock>,
    /// Caps concurrent argon2 runs so that a login flood cannot exhaust memory.
    hashing: Semaphore,
    /// Verified against whenever no real hash is at hand, so every failed login costs the same.
    dummy_hash: String,
    /// Failed logins per client address (in memory: a restart forgives).
    throttle: Mutex<HashMap<String, Throttle>>,
}

impl App {
    /// Opens (creating and migrating) the database named by the settings.
    pub async fn open(settings: Settings, keys: Keys, clock: Arc<dyn Clock>) -> Result<App> {
        let fonts = load_fonts(&settings)?;
        let store = Store::open(&settings.database_url()).await?;
        Ok(App::with_store(store, settings, keys, clock, fonts))
    }

    pub fn with_store(
        store: Store,
        settings: Settings,
        keys: Keys,
        clock: Arc<dyn Clock>,
        fonts: Arc<NoticeFonts>,
    ) -> App {
        let permits = settings.max_concurrent_hashes.max(1);
        App {
            store,
            keys,
            settings,
            fonts,
            clock,
            hashing: Semaphore::new(permits),
            dummy_hash: credentials::dummy_password_hash(),
            throttle: Mutex::new(HashMap::new()),
        }
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// argon2id on the blocking pool, under the concurrency cap.
    pub async fn hash_password(&self, password: String) -> String {
        let _permit = self
            .hashing
            .acquire()
            .await
            .expect("semaphore never closed");
        tokio::task::spawn_blocking(move || credentials::hash_password(&password))
            .await
            .expect("hashing task")
    }

    /// Verifies against `phc`, or against the dummy hash when there is none (and then fails).
    pub async fn verify_password(&self, password: &str, phc: Option<&str>) -> bool {
        let _permit = self
            .hashing
            .acquire()
            .await
            .expect("semaphore never closed");
        let real = phc.is_some();
        let phc = phc.unwrap_or(&self.dummy_hash).to_string();
        let password = password.to_string();
        let ok = tokio::task::spawn_blocking(move || credentials::verify_password(&password, &phc))
            .await
            .expect("verify task");
        ok && real
    }
}
