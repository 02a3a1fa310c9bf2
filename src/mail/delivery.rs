//! Delivery of the outbox over SMTP (lettre's async transport on tokio, TLS by rustls). `serve`
//! spawns it when `smtp_host` is configured: each `.eml` file in `mail/outbox/` is sent and moved to
//! `mail/sent/`; a temporary failure (the server unreachable, a 4xx reply) is logged and the file
//! waits for the next attempt (every `mail_retry_seconds`, and at once when this process writes new
//! mail); a message the server refuses for good (5xx) or a file that cannot be read is moved to
//! `mail/failed/` and logged. Each data folder has its own outbox: instances with their own data
//! folders each deliver their own, and instances sharing one take turns (a lock file), so a message
//! is never sent twice by two of them.

use std::fs;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::Settings;

use super::outbox::{create_private_dir, NEW_MAIL};

/// `smtp_tls`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// "starttls" (default): plain connection upgraded by STARTTLS, which is then required.
    StartTls,
    /// "tls": TLS from the first byte (usually port 465).
    Tls,
    /// "none": no encryption; only to an SMTP server on this machine (tests).
    None,
}

impl TlsMode {
    pub fn parse(s: &str) -> Option<TlsMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "starttls" => Some(TlsMode::StartTls),
            "tls" => Some(TlsMode::Tls),
            "none" => Some(TlsMode::None),
            _ => None,
        }
    }

    fn label(self) -> &'static str {
        match self {
            TlsMode::StartTls => "STARTTLS",
            TlsMode::Tls => "TLS",
            TlsMode::None => "暗号化なし",
        }
    }
}

/// What one round of delivery did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Moved to `mail/failed/` (refused for good, or unreadable).
    pub failed: usize,
    /// Still in the outbox after this round.
    pub waiting: usize,
    /// The temporary failure that ended the round early, if any (Japanese).
    pub error: Option<String>,
}

/// The SMTP transport and the folders of one data folder.
pub struct Delivery {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    sender: Address,
    data_dir: PathBuf,
    retry: Duration,
    server: String,
}

impl Delivery {
    /// The delivery the settings ask for: `None` without `smtp_host` (the outbox is then the
    /// destination), an error (Japanese, saying what to fix) for settings that cannot work.
    pub fn from_settings(settings: &Settings) -> Result<Option<Delivery>, String> {
        if let Some(from) = settings
            .mail_from
            .as_deref()
            .filter(|f| !f.trim().is_empty())
        {
            Mailbox::from_str(from.trim()).map_err(|e| {
                format!("mail_from「{from}」はメールアドレスとして読めません（{e}）。例: mail_from = \"難病・小慢DB ユーザ管理 <nanbyo@hospital.local>\"")
            })?;
        }
        let Some(host) = settings
            .smtp_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        else {
            return Ok(None);
        };
        let sender = match settings.mail_from.as_deref().map(str::trim) {
            Some(from) if !from.is_empty() => {
                Mailbox::from_str(from)
                    .map_err(|e| format!("mail_from「{from}」を読めません（{e}）"))?
                    .email
            }
            _ => return Err(
                "smtp_host を設定したときは、送信元のメールアドレス mail_from も設定してください\
                     （例: mail_from = \"難病・小慢DB ユーザ管理 <nanbyo@hospital.local>\"）。"
                    .to_string(),
            ),
        };
        let mode = TlsMode::parse(&settings.smtp_tls).ok_or_else(|| {
            format!(
                "smtp_tls「{}」は使えません。\"starttls\"（既定）、\"tls\"、\"none\" のいずれかを指定してください。",
                settings.smtp_tls
            )
        })?;
        let tls = match mode {
            TlsMode::None => {
                if !is_loopback(host) {
                    return Err(format!(
                        "smtp_tls = \"none\"（暗号化なし）は、このサーバ上の SMTP サーバ（127.0.0.1）にだけ使えます。\
                         {host} には \"starttls\" か \"tls\" を指定してください。"
                    ));
                }
                Tls::None
            }
            TlsMode::StartTls | TlsMode::Tls => {
                let mut params = TlsParameters::builder(host.to_string());
                if let Some(ca) = &settings.smtp_ca_file {
                    let pem = fs::read(ca).map_err(|e| {
                        format!("smtp_ca_file {} を読めません（{e}）。", ca.display())
                    })?;
                    let cert = Certificate::from_pem(&pem)
                        .ok()
                        .filter(|_| pem.windows(11).any(|w| w == b"-----BEGIN "))
                        .ok_or_else(|| {
                            format!(
                                "smtp_ca_file {} は PEM 形式の証明書（-----BEGIN CERTIFICATE-----）ではありません。",
                                ca.display()
                            )
                        })?;
                    params = params.add_root_certificate(cert);
                }
                let params = params
                    .build_rustls()
                    .map_err(|e| format!("SMTP の TLS を設定できません（{e}）。"))?;
                if mode == TlsMode::Tls {
                    Tls::Wrapper(params)
                } else {
                    Tls::Required(params)
                }
            }
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(settings.smtp_port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)));
        let password = password(settings)?;
        match (settings.smtp_username.as_deref().map(str::trim), password) {
            (Some(user), Some(password)) if !user.is_empty() => {
                builder = builder.credentials(Credentials::new(user.to_string(), password));
            }
            (Some(user), None) if !user.is_empty() => {
                return Err(
                    "smtp_username を設定したときは、SMTP のパスワードを環境変数 NANBYO_SMTP_PASSWORD か、\
                     smtp_password_file に指定したファイルで渡してください（Rocket.toml には書きません）。"
                        .to_string(),
                )
            }
            (_, Some(_)) => {
                return Err(
                    "SMTP のパスワードが指定されていますが、smtp_username が設定されていません。".to_string(),
                )
            }
            _ => {}
        }
        Ok(Some(Delivery {
            transport: builder.build(),
            sender,
            data_dir: settings.data_dir.clone(),
            retry: Duration::from_secs(settings.mail_retry_seconds.max(1)),
            server: format!("{host}:{}（{}）", settings.smtp_port, mode.label()),
        }))
    }

    /// 「mail.hospital.local:587（STARTTLS）」.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends what is in the outbox now, oldest first. Stops at the first temporary failure (the
    /// server is down or busy: the rest waits too). Never panics on a bad file.
    pub async fn deliver_once(&self) -> DeliveryReport {
        let mut report = DeliveryReport::default();
        let outbox = super::outbox_dir(&self.data_dir);
        // Instances sharing this data folder take turns; the one that holds the lock delivers.
        let _turn = match self.take_turn() {
            Ok(Some(lock)) => lock,
            Ok(None) => return report,
            Err(e) => {
                report.error = Some(format!("メールの送信用ロックファイルを開けません（{e}）"));
                return report;
            }
        };
        let files = match waiting_files(&outbox) {
            Ok(files) => files,
            Err(e) => {
                report.error = Some(format!("{} を読めません（{e}）", outbox.display()));
                return report;
            }
        };
        let total = files.len();
        for (n, path) in files.into_iter().enumerate() {
            let name = path.file_name().unwrap_or_default().to_os_string();
            let bytes = match fs::read(&path) {
                Ok(b) => b,
                // Another instance moved it, or it vanished: nothing to do.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => {
                    self.set_aside(&path, &format!("ファイルを読めません（{e}）"));
                    report.failed += 1;
                    continue;
                }
            };
            let Some(to) = recipient(&bytes).and_then(|a| Address::from_str(&a).ok()) else {
                self.set_aside(&path, "宛先（To）を読み取れません");
                report.failed += 1;
                continue;
            };
            let envelope = match Envelope::new(Some(self.sender.clone()), vec![to.clone()]) {
                Ok(e) => e,
                Err(e) => {
                    self.set_aside(&path, &format!("送信できない宛先です（{e}）"));
                    report.failed += 1;
                    continue;
                }
            };
            match self.transport.send_raw(&envelope, &bytes).await {
                Ok(_) => {
                    report.sent += 1;
                    let sent = super::sent_dir(&self.data_dir);
                    let moved = create_private_dir(&sent)
                        .and_then(|()| fs::rename(&path, sent.join(&name)));
                    if let Err(e) = moved {
                        // It must not be sent again: out of the outbox, whatever it takes.
                        eprintln!(
                            "エラー: 送信したメール {} を {} へ移せません（{e}）。削除します。",
                            path.display(),
                            sent.display()
                        );
                        if let Err(e) = fs::remove_file(&path) {
                            eprintln!(
                                "エラー: 送信済みのメール {} を削除できません（{e}）。次回もう一度送信されます。",
                                path.display()
                            );
                        }
                    }
                }
                Err(e) if e.is_permanent() => {
                    self.set_aside(
                        &path,
                        &format!("SMTP サーバが受け付けませんでした（宛先 {to}）: {e}"),
                    );
                    report.failed += 1;
                }
                Err(e) => {
                    report.waiting = total - n;
                    report.error = Some(format!(
                        "SMTP サーバ {} にメールを送信できませんでした: {e}",
                        self.server
                    ));
                    return report;
                }
            }
        }
        report
    }

    /// Delivers the outbox now and then every `mail_retry_seconds` (sooner when this process writes
    /// new mail), for as long as the runtime runs. Failures are logged (stderr, Japanese) when they
    /// start or change, and the recovery when it comes, not every round.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut failing: Option<String> = None;
            loop {
                let report = self.deliver_once().await;
                match (&report.error, &failing) {
                    (Some(e), last) if last.as_ref() != Some(e) => eprintln!(
                        "エラー: {e}（送信待ち {}通は {} に残し、{}秒ごとに再送を試みます）",
                        report.waiting,
                        super::outbox_dir(&self.data_dir).display(),
                        self.retry.as_secs()
                    ),
                    (None, Some(_)) => eprintln!(
                        "メールの送信を再開しました（SMTP サーバ {}、{}通を送信）。",
                        self.server, report.sent
                    ),
                    _ => {}
                }
                failing = report.error;
                tokio::select! {
                    _ = tokio::time::sleep(self.retry) => {}
                    _ = NEW_MAIL.notified() => {}
                }
            }
        })
    }

    /// The delivery lock of this data folder, if no other instance holds it now.
    fn take_turn(&self) -> std::io::Result<Option<fs::File>> {
        let dir = super::mail_dir(&self.data_dir);
        create_private_dir(&dir)?;
        let mut options = fs::OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(dir.join(".delivery.lock"))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => Err(e),
        }
    }

    /// Moves a message that will never go out to `mail/failed/`, saying why.
    fn set_aside(&self, path: &Path, why: &str) {
        let failed = super::failed_dir(&self.data_dir);
        let target = failed.join(path.file_name().unwrap_or_default());
        let moved = create_private_dir(&failed).and_then(|()| fs::rename(path, &target));
        match moved {
            Ok(()) => eprintln!(
                "エラー: メール {} を送信できないため {} に移しました: {why}",
                path.display(),
                target.display()
            ),
            Err(e) => eprintln!(
                "エラー: メール {} を送信できません（{why}）。{} にも移せません（{e}）。",
                path.display(),
                failed.display()
            ),
        }
    }
}

/// The SMTP password: `NANBYO_SMTP_PASSWORD`, else the file `smtp_password_file` (its first line
/// without the line ending), else none.
fn password(settings: &Settings) -> Result<Option<String>, String> {
    if let Ok(p) = std::env::var("NANBYO_SMTP_PASSWORD") {
        if !p.is_empty() {
            return Ok(Some(p));
        }
    }
    match &settings.smtp_password_file {
        Some(path) => {
            let text = fs::read_to_string(path).map_err(|e| {
                format!(
                    "smtp_password_file {} を読めません（{e}）。",
                    path.display()
                )
            })?;
            let line = text.lines().next().unwrap_or("").to_string();
            if line.is_empty() {
                return Err(format!("smtp_password_file {} が空です。", path.display()));
            }
            Ok(Some(line))
        }
        None => Ok(None),
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The outbox's messages, oldest first (file names begin with the time); hidden temporary files
/// (`.….tmp`, still being written) are not messages yet.
fn waiting_files(outbox: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(outbox) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && n.ends_with(".eml"))
                && p.is_file()
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The address of the (one) To of a message the outbox wrote: the header unfolded, the part in
/// angle brackets (`=?utf-8?b?…?= <a@b.jp>`) or the whole value.
pub(super) fn recipient(message: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(message);
    let head = text
        .split("\r\n\r\n")
        .next()
        .unwrap_or("")
        .split("\n\n")
        .next()
        .unwrap_or("");
    let mut unfolded: Vec<String> = Vec::new();
    for line in head.lines() {
        match (line.starts_with([' ', '\t']), unfolded.last_mut()) {
            (true, Some(last)) => last.push_str(line),
            _ => unfolded.push(line.to_string()),
        }
    }
    let value = unfolded.iter().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim().eq_ignore_ascii_case("to").then(|| value.trim())
    })?;
    let address = match (value.rfind('<'), value.rfind('>')) {
        (Some(start), Some(end)) if start < end => &value[start + 1..end],
        _ => value,
    };
    let address = address.trim();
    (!address.is_empty()).then(|| address.to_string())
}
