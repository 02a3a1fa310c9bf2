//! The operations of the product, shared by the web screens and the console: each one checks the
//! rules, changes the store in one write transaction, and appends its audit entry inside it.

pub mod accounts;
pub mod auth;
pub mod changes;
pub mod console;
pub mod imports;
pub mod notices;
pub mod remind;
pub mod review;
pub mod users;

use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::config::{Keys, Settings};
use crate::domain::account::ProfileError;
use crate::domain::credentials;
use crate::domain::roles::Denied;
use crate::domain::time::{Clock, Instant};
use crate::pdf::NoticeFonts;
use crate::store::{Dialect, Store, StoreError};

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
    /// The disk (or the database's quota) is full: nothing was written.
    #[error("ディスクの空き容量が不足しているため保存できませんでした（変更は行われていません）。システム管理者にディスクの空き容量を確保するよう依頼してから、もう一度お試しください。")]
    StorageFull,
    #[error("{0}")]
    Store(StoreError),
    #[error("{0}")]
    Pdf(#[from] crate::pdf::PdfError),
}

/// Database failures a person can cause or fix (another operation got there first; a full disk)
/// become Japanese messages here, at the edge of the store; the rest stay internal errors.
impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Database(d) if Dialect::is_storage_full(d) => ServiceError::StorageFull,
            StoreError::Database(d) if Dialect::is_unique_violation(d) => ServiceError::Conflict(
                "同時に行われた別の操作と競合したため、処理を中止しました（変更は行われていません）。画面を更新して内容を確認してから、もう一度お試しください。"
                    .to_string(),
            ),
            _ => ServiceError::Store(e),
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::from(StoreError::Database(e))
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

/// Refuses to run with keys other than those the database was first opened with: several instances
/// (and the console) must share `keys/`, or the audit chain stops verifying, CSRF tokens fail across
/// instances and printed notices stop working.
async fn check_keys(store: &Store, keys: &Keys, now: Instant) -> Result<()> {
    let named = [
        ("audit.key", "NANBYO_AUDIT_KEY", &keys.audit),
        (
            "temp_password.key",
            "NANBYO_TEMP_PASSWORD_KEY",
            &keys.temp_password,
        ),
        ("csrf.key", "NANBYO_CSRF_KEY", &keys.csrf),
    ];
    for (file, env, key) in named {
        let fingerprint = credentials::key_fingerprint(key);
        if crate::store::keys::check_fingerprint(store, file, &fingerprint, now)
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "鍵 {file}（または環境変数 {env}）が、このデータベースを最初に使ったときの鍵と異なります。\
                 複数のサーバやコンソールで同じデータベースを使う場合は、同じ keys/ フォルダ（または同じ鍵の設定）を\
                 すべてに配置してください。鍵を失った場合はバックアップから keys/ を戻してください。"
            )));
        }
    }
    Ok(())
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
    /// argon2's working memory, one per permit, reused (no 19 MiB allocation per login).
    hash_memory: std::sync::Mutex<Vec<credentials::HashMemory>>,
    /// Verified against whenever no real hash is at hand, so every failed login costs the same.
    dummy_hash: String,
}

impl App {
    /// Opens (creating and migrating) the database named by the settings.
    pub async fn open(settings: Settings, keys: Keys, clock: Arc<dyn Clock>) -> Result<App> {
        let store = Store::open(&settings.database_url()).await?;
        App::on_store(store, settings, keys, clock).await
    }

    /// The application on an opened store (the server's `Db` fairing, the console's `Pool::init`),
    /// refusing keys other than those the database was first used with.
    pub async fn on_store(
        store: Store,
        settings: Settings,
        keys: Keys,
        clock: Arc<dyn Clock>,
    ) -> Result<App> {
        let fonts = load_fonts(&settings)?;
        check_keys(&store, &keys, clock.now()).await?;
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
            hash_memory: std::sync::Mutex::new(Vec::with_capacity(permits)),
            dummy_hash: credentials::dummy_password_hash(),
        }
    }

    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// argon2id on the blocking pool, under the concurrency cap, in reused working memory.
    pub async fn hash_password(&self, password: String) -> String {
        self.with_hash_memory(move |memory| credentials::hash_password_with(&password, memory))
            .await
    }

    /// Verifies against `phc`, or against the dummy hash when there is none (and then fails).
    pub async fn verify_password(&self, password: &str, phc: Option<&str>) -> bool {
        let real = phc.is_some();
        let phc = phc.unwrap_or(&self.dummy_hash).to_string();
        let password = password.to_string();
        let ok = self
            .with_hash_memory(move |memory| {
                credentials::verify_password_with(&password, &phc, memory)
            })
            .await;
        ok && real
    }

    /// Runs `f` on the blocking pool with one of the reusable argon2 buffers. At most
    /// `max_concurrent_hashes` run at once, so at most that many buffers ever exist.
    async fn with_hash_memory<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut credentials::HashMemory) -> T + Send + 'static,
    ) -> T {
        let _permit = self
            .hashing
            .acquire()
            .await
            .expect("semaphore never closed");
        let mut memory = self
            .hash_memory
            .lock()
            .expect("hash memory lock")
            .pop()
            .unwrap_or_default();
        let (out, memory) = tokio::task::spawn_blocking(move || {
            let out = f(&mut memory);
            (out, memory)
        })
        .await
        .expect("hashing task");
        self.hash_memory
            .lock()
            .expect("hash memory lock")
            .push(memory);
        out
    }
}
