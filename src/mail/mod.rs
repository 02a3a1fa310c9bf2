//! Email (DESIGN §12): tells a newly registered person with an email address that an account exists
//! and that the IDパスワード発行通知書 comes from their administrator, and tells the managers of an
//! account that it was locked. Never a password, never an attachment, never a link that logs in.
//!
//! A layer beside `pdf` and `import`: no Rocket, no sqlx. [`messages`] builds the texts as pure
//! functions; [`Outbox`] writes every message atomically (temporary file + rename) as an RFC 5322
//! `.eml` file into `<data_dir>/mail/outbox/`, after the operation that caused it has committed, and
//! never fails that operation. Without SMTP configured that folder is where mail stays (an
//! administrator reads or forwards the files); with `smtp_host`, [`Delivery`] (spawned by `serve`)
//! sends them over SMTP and moves each delivered file to `mail/sent/`.

mod delivery;
pub mod messages;
mod outbox;
pub mod reminders;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use delivery::{Delivery, DeliveryReport, TlsMode};
pub use outbox::Outbox;

/// One message to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The addressee's 氏名 (shown in the To header).
    pub to_name: String,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    /// A short ASCII word for the file name (`registered`, `locked`).
    pub kind: &'static str,
}

impl Mail {
    /// The registration mail to `address` (see [`messages::registration`]).
    pub fn registration(
        address: &str,
        r: &messages::Registered<'_>,
        at: crate::domain::time::Instant,
    ) -> Mail {
        let (subject, body) = messages::registration(r, at);
        Mail {
            to_name: r.full_name.to_string(),
            to_address: address.trim().to_string(),
            subject,
            body,
            kind: "registered",
        }
    }

    /// The lock mail to one manager (see [`messages::lock`]).
    pub fn lock(manager_name: &str, address: &str, l: &messages::Locked<'_>) -> Mail {
        let (subject, body) = messages::lock(manager_name, l);
        Mail {
            to_name: manager_name.to_string(),
            to_address: address.trim().to_string(),
            subject,
            body,
            kind: "locked",
        }
    }
}

/// The product's name, as the messages sign them.
pub const PRODUCT: &str = "難病・小慢DB 医療機関ユーザ管理";

/// The sender when `mail_from` is not configured (spool only: nothing leaves the machine).
pub const DEFAULT_FROM: &str = "nanbyo-accounts@localhost";

/// `<data_dir>/mail`.
pub fn mail_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("mail")
}

/// `<data_dir>/mail/outbox`: every message is written here first.
pub fn outbox_dir(data_dir: &Path) -> PathBuf {
    mail_dir(data_dir).join("outbox")
}

/// `<data_dir>/mail/sent`: delivered messages.
pub fn sent_dir(data_dir: &Path) -> PathBuf {
    mail_dir(data_dir).join("sent")
}

/// `<data_dir>/mail/failed`: messages the SMTP server refused for good (5xx) or that cannot be read.
pub fn failed_dir(data_dir: &Path) -> PathBuf {
    mail_dir(data_dir).join("failed")
}
