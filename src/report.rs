//! What the server tells its operator on stderr (the journal, under systemd), in Japanese. Rocket's
//! own log is off by default (its lines are English); `log_level = "normal"` in Rocket.toml turns it
//! back on for diagnosis. Never a password, a token or a cookie.

use std::fmt::Display;

/// An error the person at the screen was spared the details of.
pub fn error(what: &str, detail: impl Display) {
    eprintln!("エラー: {what}: {detail}");
}
