//! Configuration (DESIGN §12): `Rocket.toml` profiles and `ROCKET_*` variables for everything, plus
//! `NANBYO_DATA_DIR` for the data folder. The server and the console read the same figment.
//!
//! Secrets never live in the database: they come from the environment, from files the configuration
//! names, or are generated on first start into `keys/` in the data folder (mode 0600).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rocket::figment::providers::{Env, Format, Serialized, Toml};
use rocket::figment::{Figment, Profile};
use serde::{Deserialize, Serialize};

use crate::domain::credentials::SecretKey;
use crate::domain::lockout::{LockoutPolicy, ThrottlePolicy};
use crate::domain::password::PasswordPolicy;
use crate::domain::review::ReviewPolicy;
use crate::domain::session::SessionPolicy;
use crate::store::Store;

/// The product's own settings, read from the same figment as Rocket's.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct Settings {
    /// The data folder (`NANBYO_DATA_DIR`, default `./data`).
    pub data_dir: PathBuf,
    /// The database in effect (`sqlite://…` or `postgres://…`), as [`resolve_database`] found it:
    /// `databases.nanbyo.url`, or the older top-level `database_url`; unset, `nanbyo.db` in the
    /// data folder.
    pub database_url: Option<String>,
    pub lockout_threshold: u32,
    /// Minutes until a lock releases itself; 0 = only by hand.
    pub lockout_release_minutes: i64,
    pub throttle_max_failures: u32,
    pub throttle_window_minutes: i64,
    pub session_idle_minutes: i64,
    pub session_absolute_hours: i64,
    /// Days a temporary password stays usable.
    pub temp_password_days: i64,
    pub password_min_length: usize,
    /// argon2 computations allowed at once (each takes 19 MiB for ~20 ms).
    pub max_concurrent_hashes: usize,
    /// The login URL printed on notices (unset by default: see [`Settings::notice_login_url`]).
    pub login_url: Option<String>,
    /// Where the server listens (Rocket's own `address` and `port`, read here to know whether a
    /// login URL can be derived).
    pub address: std::net::IpAddr,
    pub port: u16,
    /// The proxies whose client-address header (Rocket's `ip_header`, off by default) is believed:
    /// a request from any other peer is recorded under its own socket address, so a client that
    /// reaches an instance directly cannot forge `X-Real-IP` past the throttle or into the audit log.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The server sits behind a TLS-terminating proxy: cookies are `Secure`, and listening on a
    /// non-loopback address without Rocket's own TLS is allowed.
    pub behind_tls_proxy: bool,
    /// お問い合わせ先 printed on notices when the managing institution or municipality has no text of
    /// its own (`institution contact` / `municipality contact`); unset: a sentence naming whoever
    /// manages the account (DESIGN §3).
    pub notice_contact: Option<String>,
    /// Another font for notices (e.g. Noto Sans CJK JP); default: the embedded IPAex Gothic.
    pub notice_font: Option<PathBuf>,
    /// The monospaced font for the password; default: IPA Gothic (or `notice_font` if that is set).
    pub notice_mono_font: Option<PathBuf>,
    pub temp_password_key_file: Option<PathBuf>,
    pub audit_key_file: Option<PathBuf>,
    pub csrf_key_file: Option<PathBuf>,
    // ---- Email (DESIGN §12, src/mail). Every message is first written as an .eml file into
    // <data_dir>/mail/outbox/; without `smtp_host` that folder is where mail stays (an administrator
    // reads or forwards it). With `smtp_host`, `serve` delivers the files and moves them to
    // mail/sent/. The SMTP password comes from NANBYO_SMTP_PASSWORD or `smtp_password_file`, never
    // from Rocket.toml or the database.
    /// The SMTP server (unset: the outbox folder only).
    pub smtp_host: Option<String>,
    /// 587 (submission with STARTTLS) by default; usually 465 with `smtp_tls = "tls"`.
    pub smtp_port: u16,
    /// "starttls" (default), "tls" (TLS from the first byte) or "none" (only to 127.0.0.1: tests).
    pub smtp_tls: String,
    pub smtp_username: Option<String>,
    /// A file holding the SMTP password (first line), if `NANBYO_SMTP_PASSWORD` is not set.
    pub smtp_password_file: Option<PathBuf>,
    /// The hospital's internal CA (PEM), trusted besides the system's CA certificates.
    pub smtp_ca_file: Option<PathBuf>,
    /// The sender, e.g. `難病・小慢DB ユーザ管理 <nanbyo@hospital.local>` (required with `smtp_host`).
    pub mail_from: Option<String>,
    /// Seconds between attempts to deliver what waits in the outbox.
    pub mail_retry_seconds: u64,
    // ---- end of email settings
    // ---- アカウント棚卸し (DESIGN §13, /review) and `remind`.
    /// 「N日以上ログインしていない」: days without a login.
    pub review_inactive_days: i64,
    /// 「通知書未発行のままN日以上」: days an account may wait for its notice (or a new one).
    pub review_pending_days: i64,
    /// 「有効期限がN日以内または期限切れ」.
    pub review_expiry_days: i64,
    /// 「ロック中のままN日を超える」.
    pub review_locked_days: i64,
    /// The menu asks for a review when the last one is this many days old (or there is none).
    pub review_interval_days: i64,
    /// `remind` tells a person this many days before their 有効期限.
    pub remind_expiry_days: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("data"),
            database_url: None,
            lockout_threshold: 5,
            lockout_release_minutes: 30,
            throttle_max_failures: 20,
            throttle_window_minutes: 10,
            session_idle_minutes: 30,
            session_absolute_hours: 8,
            temp_password_days: 14,
            password_min_length: 13,
            max_concurrent_hashes: 4,
            login_url: None,
            address: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            port: 8000,
            trusted_proxies: vec![
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
                std::net::IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ],
            behind_tls_proxy: false,
            notice_contact: None,
            notice_font: None,
            notice_mono_font: None,
            temp_password_key_file: None,
            audit_key_file: None,
            csrf_key_file: None,
            // Email: the outbox folder only, until an SMTP server is configured.
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: "starttls".to_string(),
            smtp_username: None,
            smtp_password_file: None,
            smtp_ca_file: None,
            mail_from: None,
            mail_retry_seconds: 30,
            review_inactive_days: 90,
            review_pending_days: 14,
            review_expiry_days: 30,
            review_locked_days: 7,
            review_interval_days: 180,
            remind_expiry_days: 14,
        }
    }
}

impl Settings {
    pub fn lockout(&self) -> LockoutPolicy {
        LockoutPolicy {
            threshold: self.lockout_threshold.max(1),
            auto_release_secs: self.lockout_release_minutes * 60,
        }
    }

    pub fn throttle(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            max_failures: self.throttle_max_failures.max(1),
            window_secs: self.throttle_window_minutes * 60,
            block_secs: self.throttle_window_minutes * 60,
        }
    }

    pub fn session(&self) -> SessionPolicy {
        SessionPolicy {
            idle_secs: self.session_idle_minutes * 60,
            absolute_secs: self.session_absolute_hours * 3600,
        }
    }

    pub fn review(&self) -> ReviewPolicy {
        ReviewPolicy {
            inactive_days: self.review_inactive_days.max(1),
            pending_days: self.review_pending_days.max(0),
            expiry_days: self.review_expiry_days.max(0),
            locked_days: self.review_locked_days.max(0),
            interval_days: self.review_interval_days.max(1),
        }
    }

    pub fn password(&self) -> PasswordPolicy {
        PasswordPolicy {
            min_length: self.password_min_length,
            ..PasswordPolicy::default()
        }
    }

    /// The login URL a notice prints: the configured `login_url`; unset, the server's own address
    /// while it listens on this machine only. A server on the LAN has no address it could guess
    /// for its users (a host name, a proxy, TLS), so there it must be configured.
    pub fn notice_login_url(&self) -> Result<String, &'static str> {
        match &self.login_url {
            Some(url) if !url.trim().is_empty() => Ok(url.trim().to_string()),
            _ if self.address.is_loopback() => Ok(match self.address {
                std::net::IpAddr::V6(a) => format!("http://[{a}]:{}/login", self.port),
                a => format!("http://{a}:{}/login", self.port),
            }),
            _ => Err(LOGIN_URL_UNSET),
        }
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| Store::default_url(&self.data_dir))
    }
}

/// Finds the database URL — `databases.nanbyo.url` (Rocket's convention: `[default.databases.nanbyo]`
/// in Rocket.toml, or `ROCKET_DATABASES={nanbyo={url="…"}}`), else the older `database_url` (with a
/// warning), else SQLite in the data folder — and writes it back into the figment, so that
/// rocket_db_pools' fairing (which sees only `databases.nanbyo`) and the console open the same one.
/// Returns the warning to print, if any.
pub fn resolve_database(figment: Figment, settings: &mut Settings) -> (Figment, Option<String>) {
    let key = format!("databases.{}.url", crate::store::pool::NAME);
    let (url, warning) = match figment.extract_inner::<String>(&key) {
        Ok(url) => (url, None),
        Err(_) => match settings.database_url.clone() {
            Some(url) => (
                url,
                Some(format!(
                    "database_url は古い設定です。Rocket.toml の [default.databases.{name}] に url = \"…\" を書くか、\
                     環境変数 ROCKET_DATABASES={{{name}={{url=\"…\"}}}} を使ってください（今回は database_url を使います）。",
                    name = crate::store::pool::NAME
                )),
            ),
            None => (Store::default_url(&settings.data_dir), None),
        },
    };
    settings.database_url = Some(url.clone());
    (figment.merge(Serialized::global(&key, url)), warning)
}

/// Why a notice cannot be issued on a LAN server without `login_url`.
pub const LOGIN_URL_UNSET: &str = "通知書に印刷するログインURLが設定されていないため、通知書を発行できません（初期パスワードは発行していません）。システム管理者が Rocket.toml の login_url（または環境変数 ROCKET_LOGIN_URL）に、利用者がブラウザで開くアドレス（例: https://nanbyo.hospital.local/login）を設定してください。";

/// Rocket's figment with this product's defaults underneath: proxy headers are not trusted unless
/// configured (`ip_header` off), and the data folder comes from `NANBYO_DATA_DIR`.
pub fn figment() -> Figment {
    let figment = Figment::from(rocket::Config::default())
        .merge(Serialized::defaults(Settings::default()))
        .merge(Serialized::default("ip_header", false))
        // Rocket's own log is English: off unless configured (`log_level = "normal"`); `serve` says
        // in Japanese where it listens, and errors are reported in Japanese (`crate::report`).
        .merge(Serialized::default("log_level", "off"))
        .merge(Toml::file(Env::var_or("ROCKET_CONFIG", "Rocket.toml")).nested())
        .merge(Env::prefixed("ROCKET_").ignore(&["PROFILE"]).global());
    let figment = match std::env::var_os("NANBYO_DATA_DIR") {
        Some(dir) => figment.merge(Serialized::global("data_dir", PathBuf::from(dir))),
        None => figment,
    };
    figment.select(Profile::from_env_or(
        "ROCKET_PROFILE",
        rocket::Config::DEFAULT_PROFILE,
    ))
}

/// Rocket's figment for `serve`, with the generated `secret_key` from `keys/` unless the operator
/// configured one (Rocket.toml or `ROCKET_SECRET_KEY`).
///
/// Rocket's own defaults always carry a `secret_key` entry (all zeroes, which a release build refuses
/// as insecure), so "is there a value?" cannot tell; where the value came from can.
pub fn with_secret_key(figment: Figment, keys: &Keys) -> Figment {
    let configured = figment
        .find_metadata(rocket::Config::SECRET_KEY)
        .is_some_and(|m| m.name != ROCKET_DEFAULTS);
    if configured {
        figment
    } else {
        figment.merge(Serialized::global(
            rocket::Config::SECRET_KEY,
            keys.rocket_secret.clone(),
        ))
    }
}

/// The name Rocket gives the metadata of `rocket::Config::default()` as a figment provider.
const ROCKET_DEFAULTS: &str = "rocket::Config::default()";

/// The secrets, each from the environment, a configured file, or `keys/` in the data folder.
#[derive(Clone)]
pub struct Keys {
    /// HMAC key for temporary passwords (losing it only voids printed notices).
    pub temp_password: SecretKey,
    /// HMAC key for the audit chain (losing it makes the chain unverifiable).
    pub audit: SecretKey,
    /// HMAC key for CSRF tokens.
    pub csrf: SecretKey,
    /// Rocket's `secret_key` (base64), used for its private cookies.
    pub rocket_secret: String,
}

impl Keys {
    pub fn load(settings: &Settings) -> std::io::Result<Keys> {
        let dir = settings.data_dir.join("keys");
        Ok(Keys {
            temp_password: key(
                "NANBYO_TEMP_PASSWORD_KEY",
                settings.temp_password_key_file.as_deref(),
                &dir,
                "temp_password.key",
            )?,
            audit: key(
                "NANBYO_AUDIT_KEY",
                settings.audit_key_file.as_deref(),
                &dir,
                "audit.key",
            )?,
            csrf: key(
                "NANBYO_CSRF_KEY",
                settings.csrf_key_file.as_deref(),
                &dir,
                "csrf.key",
            )?,
            rocket_secret: match std::env::var("ROCKET_SECRET_KEY") {
                Ok(v) if !v.is_empty() => v,
                _ => STANDARD.encode(key("", None, &dir, "rocket_secret.key")?.as_bytes()),
            },
        })
    }
}

/// A key is 32+ random bytes, written and read as base64.
fn key(env: &str, file: Option<&Path>, dir: &Path, name: &str) -> std::io::Result<SecretKey> {
    let decode = |text: &str, from: &str| {
        STANDARD
            .decode(text.trim())
            .ok()
            .filter(|b| b.len() >= 32)
            .map(SecretKey::new)
            .ok_or_else(|| {
                std::io::Error::other(format!("{from}: expected at least 32 bytes of base64"))
            })
    };
    if !env.is_empty() {
        if let Ok(v) = std::env::var(env) {
            return decode(&v, env);
        }
    }
    if let Some(path) = file {
        return decode(&fs::read_to_string(path)?, &path.display().to_string());
    }
    let path = dir.join(name);
    match fs::read_to_string(&path) {
        Ok(text) => decode(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let k = SecretKey::generate();
            write_private(dir, &path, &STANDARD.encode(k.as_bytes()))?;
            Ok(k)
        }
        Err(e) => Err(e),
    }
}

/// Creates the keys folder (0700) and the file (0600) without ever making it readable by others.
fn write_private(dir: &Path, path: &Path, text: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)?;
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_headers_are_not_trusted_by_default() {
        // The product's own figment (what `serve` and the console read), not a test harness's.
        let config: rocket::Config = figment().extract().unwrap();
        if std::env::var_os("ROCKET_IP_HEADER").is_none() {
            assert_eq!(config.ip_header, None);
        }
        let settings: Settings = figment().extract().unwrap();
        assert_eq!(settings.lockout_threshold, 5);
        assert_eq!(settings.session_idle_minutes, 30);
    }

    /// The release profile refuses Rocket's zero key; a fresh data folder's generated key must be the
    /// one in effect (this once kept `cargo run --release` from starting at all).
    #[test]
    fn the_generated_secret_key_is_used_unless_one_is_configured() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        let keys = Keys::load(&settings).unwrap();
        let release = || {
            Figment::from(rocket::Config::default())
                .merge(Serialized::defaults(Settings::default()))
                .select("release")
        };
        let config: rocket::Config = with_secret_key(release(), &keys).extract().unwrap();
        let expected: rocket::config::SecretKey = Figment::new()
            .merge(Serialized::global("secret_key", keys.rocket_secret.clone()))
            .extract_inner("secret_key")
            .unwrap();
        assert!(!config.secret_key.is_zero());
        assert!(config.secret_key == expected);

        let own = STANDARD.encode([7u8; 32]);
        let configured = release().merge(Serialized::global("secret_key", own.clone()));
        let config: rocket::Config = with_secret_key(configured, &keys).extract().unwrap();
        assert!(config.secret_key != expected);
    }

    #[test]
    fn the_database_url_follows_rocket_s_convention_then_the_old_key_then_the_data_folder() {
        let base = || Figment::from(Serialized::defaults(Settings::default()));
        let url_of = |figment: Figment| {
            let mut settings: Settings = figment.extract().unwrap();
            let (figment, warning) = resolve_database(figment, &mut settings);
            let focused: String = figment
                .focus("databases.nanbyo")
                .extract_inner("url")
                .unwrap();
            assert_eq!(Some(&focused), settings.database_url.as_ref());
            (focused, warning.is_some())
        };
        assert_eq!(
            url_of(base()),
            ("sqlite://data/nanbyo.db?mode=rwc".to_string(), false)
        );
        let old = base().merge(Serialized::default("database_url", "postgres://a@h/old"));
        assert_eq!(
            url_of(old.clone()),
            ("postgres://a@h/old".to_string(), true)
        );
        let new = old.merge(Serialized::default(
            "databases.nanbyo.url",
            "postgres://a@h/new",
        ));
        assert_eq!(url_of(new), ("postgres://a@h/new".to_string(), false));
    }

    #[test]
    fn keys_are_generated_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            data_dir: dir.path().to_path_buf(),
            ..Settings::default()
        };
        let a = Keys::load(&settings).unwrap();
        let b = Keys::load(&settings).unwrap();
        assert_eq!(a.audit.as_bytes(), b.audit.as_bytes());
        assert_eq!(a.rocket_secret, b.rocket_secret);
        assert_ne!(a.audit.as_bytes(), a.temp_password.as_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("keys/audit.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
            let dmode = fs::metadata(dir.path().join("keys"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dmode & 0o777, 0o700);
        }
    }
}
