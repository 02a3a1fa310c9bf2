//! The spool: every message becomes one RFC 5322 `.eml` file in `<data_dir>/mail/outbox/`, written
//! to a hidden temporary file in the same folder and renamed into place, so neither a reader nor the
//! delivery ever sees half a message. Writing happens after the operation's commit and never fails
//! it: a file that cannot be written is logged (stderr, Japanese) and skipped.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, UNIX_EPOCH};

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::Message;
use rand::Rng;
use tokio::sync::Notify;

use crate::domain::time::{Instant, JST};

use super::{Mail, DEFAULT_FROM};

/// Where messages are written, and the From they carry.
#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
    from: Mailbox,
}

impl Outbox {
    /// The outbox of a data folder. `mail_from` as configured (e.g. `難病・小慢DB ユーザ管理
    /// <nanbyo@hospital.local>`); unset or unreadable, [`DEFAULT_FROM`] (`serve` refuses an
    /// unreadable one at start, so only the console can get here with one).
    pub fn new(data_dir: &Path, mail_from: Option<&str>) -> Outbox {
        let from = match mail_from.map(str::trim).filter(|f| !f.is_empty()) {
            Some(text) => Mailbox::from_str(text).unwrap_or_else(|e| {
                eprintln!(
                    "警告: mail_from「{text}」はメールアドレスとして読めません（{e}）。送信元を {DEFAULT_FROM} とします。"
                );
                default_from()
            }),
            None => default_from(),
        };
        Outbox {
            dir: super::outbox_dir(data_dir),
            from,
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The message as RFC 5322 bytes: UTF-8 text/plain, the subject and the To name as encoded
    /// words, the body in base64 or quoted-printable (lettre picks the shorter).
    pub fn message(&self, mail: &Mail, at: Instant) -> Result<Message, String> {
        let address = mail.to_address.trim().parse().map_err(|e| {
            format!(
                "宛先のメールアドレス「{}」を使えません（{e}）",
                mail.to_address
            )
        })?;
        let to = Mailbox::new(Some(format!("{} 様", mail.to_name)), address);
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .date(UNIX_EPOCH + Duration::from_secs(at.max(0) as u64))
            .message_id(None)
            // RFC 3834: an automatic message (no out-of-office replies to it).
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_string(),
            ))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| format!("メールを作成できません（{e}）"))
    }

    /// Writes one message; returns its file.
    pub fn write(&self, mail: &Mail, at: Instant) -> Result<PathBuf, String> {
        let bytes = self.message(mail, at)?.formatted();
        create_private_dir(&self.dir)
            .map_err(|e| format!("{} を作成できません（{e}）", self.dir.display()))?;
        let name = file_name(mail.kind, at);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(&name);
        let written = write_private(&tmp, &bytes).and_then(|()| fs::rename(&tmp, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(format!("{} に書き込めません（{e}）", path.display()));
        }
        Ok(path)
    }

    /// Writes every message, logging those that cannot be written; never fails. Returns the files.
    pub fn post(&self, mails: &[Mail], at: Instant) -> Vec<PathBuf> {
        let mut written = Vec::with_capacity(mails.len());
        for mail in mails {
            match self.write(mail, at) {
                Ok(path) => written.push(path),
                Err(e) => eprintln!(
                    "エラー: メール「{}」（宛先 {}）を送信待ちフォルダに保存できませんでした（操作自体は完了しています）: {e}",
                    mail.subject, mail.to_address
                ),
            }
        }
        if !written.is_empty() {
            NEW_MAIL.notify_one();
        }
        written
    }

    /// [`Outbox::post`] on the blocking pool (a CSV import may write thousands of files).
    pub async fn post_async(self, mails: Vec<Mail>, at: Instant) -> Vec<PathBuf> {
        if mails.is_empty() {
            return Vec::new();
        }
        match tokio::task::spawn_blocking(move || self.post(&mails, at)).await {
            Ok(written) => written,
            Err(e) => {
                eprintln!("エラー: メールを保存する処理が異常終了しました: {e}");
                Vec::new()
            }
        }
    }
}

fn default_from() -> Mailbox {
    Mailbox::from_str(DEFAULT_FROM).expect("the default sender is a valid address")
}

/// `20261124-090000-registered-1a2b3c4d5e6f7a8b.eml`: JST time first, so names sort by time.
fn file_name(kind: &str, at: Instant) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(at)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(JST);
    let random: u64 = rand::thread_rng().gen();
    format!(
        "{:04}{:02}{:02}-{:02}{:02}{:02}-{kind}-{random:016x}.eml",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Wakes the delivery (a task of `serve`, see `delivery.rs`) when this process has written new mail.
/// Process-wide like the outbox folder it signals about; it carries no data.
pub(super) static NEW_MAIL: Notify = Notify::const_new();

/// The mail folders hold names and addresses: readable by the service's user only.
pub(super) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    // No fsync per file: an import of 10,000 rows writes 10,000 messages, and a power cut can at
    // worst leave an empty file, which the delivery sets aside in failed/ (the account itself is
    // committed either way).
    options.open(path)?.write_all(bytes)
}
