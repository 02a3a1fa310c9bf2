//! The audit log's vocabulary and its chain (DESIGN §11): each entry's MAC covers its content and the
//! previous entry's MAC, so editing or removing an entry breaks every MAC after it.

use std::fmt;

use super::credentials::SecretKey;

/// What was done. Stored as `as_str()`, shown as `label()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    LoginSuccess,
    LoginFailure,
    /// The failure that locked the account.
    AccountLocked,
    Logout,
    PasswordChange,
    Register,
    Edit,
    NoticeIssue,
    NoticeBatch,
    PasswordReset,
    Unlock,
    Delete,
    ImportPreview,
    ImportCommit,
    CsvExport,
    InstitutionAdd,
    InstitutionRename,
    MunicipalityAdd,
    /// お問い合わせ先 of an institution or municipality set at the console.
    NoticeContact,
    Bootstrap,
    /// A request the role rules refused (forged form, guessed id).
    Denied,
    /// [棚卸しを完了] on the アカウント棚卸し screen (DESIGN §13).
    ReviewComplete,
}

impl Action {
    pub const ALL: [Action; 22] = [
        Action::LoginSuccess,
        Action::LoginFailure,
        Action::AccountLocked,
        Action::Logout,
        Action::PasswordChange,
        Action::Register,
        Action::Edit,
        Action::NoticeIssue,
        Action::NoticeBatch,
        Action::PasswordReset,
        Action::Unlock,
        Action::Delete,
        Action::ImportPreview,
        Action::ImportCommit,
        Action::CsvExport,
        Action::InstitutionAdd,
        Action::InstitutionRename,
        Action::MunicipalityAdd,
        Action::NoticeContact,
        Action::Bootstrap,
        Action::Denied,
        Action::ReviewComplete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Action::LoginSuccess => "login_success",
            Action::LoginFailure => "login_failure",
            Action::AccountLocked => "account_locked",
            Action::Logout => "logout",
            Action::PasswordChange => "password_change",
            Action::Register => "register",
            Action::Edit => "edit",
            Action::NoticeIssue => "notice_issue",
            Action::NoticeBatch => "notice_batch",
            Action::PasswordReset => "password_reset",
            Action::Unlock => "unlock",
            Action::Delete => "delete",
            Action::ImportPreview => "import_preview",
            Action::ImportCommit => "import_commit",
            Action::CsvExport => "csv_export",
            Action::InstitutionAdd => "institution_add",
            Action::InstitutionRename => "institution_rename",
            Action::MunicipalityAdd => "municipality_add",
            Action::NoticeContact => "notice_contact",
            Action::Bootstrap => "bootstrap",
            Action::Denied => "denied",
            Action::ReviewComplete => "review_complete",
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Action::LoginSuccess => "ログイン",
            Action::LoginFailure => "ログイン失敗",
            Action::AccountLocked => "アカウントロック",
            Action::Logout => "ログアウト",
            Action::PasswordChange => "パスワード変更",
            Action::Register => "ユーザ登録",
            Action::Edit => "ユーザ情報変更",
            Action::NoticeIssue => "通知書発行",
            Action::NoticeBatch => "通知書一括発行",
            Action::PasswordReset => "パスワード初期化",
            Action::Unlock => "アカウントロック解除",
            Action::Delete => "アカウント削除",
            Action::ImportPreview => "CSV一括登録（確認）",
            Action::ImportCommit => "CSV一括登録",
            Action::CsvExport => "CSV出力",
            Action::InstitutionAdd => "医療機関登録",
            Action::InstitutionRename => "医療機関名変更",
            Action::MunicipalityAdd => "自治体登録",
            Action::NoticeContact => "お問い合わせ先の設定",
            Action::Bootstrap => "初期ユーザ登録",
            Action::Denied => "権限のない操作",
            Action::ReviewComplete => "アカウント棚卸し完了",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "成功",
            Outcome::Failure => "失敗",
            Outcome::Denied => "拒否",
        }
    }
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Success, Outcome::Failure, Outcome::Denied];

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// The stored `actor_label` of entries made at the server's console.
pub const CONSOLE_LABEL: &str = "console";
/// The stored `actor_label` of entries with nobody identified (a failed login).
pub const ANONYMOUS_LABEL: &str = "-";

/// How the 操作履歴 screen names the console as an actor.
pub const CONSOLE_DISPLAY: &str = "システム管理者（コンソール）";
/// How the 操作履歴 screen names an unidentified actor.
pub const ANONYMOUS_DISPLAY: &str = "（未認証）";

/// The 操作者 as shown: the stored label, with the console and nobody in words.
pub fn actor_display(actor_label: &str) -> &str {
    match actor_label {
        CONSOLE_LABEL => CONSOLE_DISPLAY,
        ANONYMOUS_LABEL => ANONYMOUS_DISPLAY,
        other => other,
    }
}

/// The 操作 as shown (the stored value itself if a newer version wrote an action this one lacks).
pub fn action_display(action: &str) -> &str {
    Action::parse(action).map_or(action, |a| a.label())
}

/// The 結果 as shown.
pub fn outcome_display(result: &str) -> &str {
    Outcome::parse(result).map_or(result, |o| o.label())
}

/// Entries per page on the 操作履歴 screen.
pub const PER_PAGE: u32 = 50;

/// The most entries one CSV export may hold (narrow the period for more).
pub const EXPORT_MAX: u64 = 100_000;

/// The 操作履歴 screen's conditions (all optional; the dates are JST days, both ends included).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    pub from: Option<time::Date>,
    pub to: Option<time::Date>,
    /// Words that must all occur in the 操作者 (login ID and name).
    pub actor: Vec<String>,
    pub action: Option<Action>,
    /// Words that must all occur in the 対象.
    pub target: Vec<String>,
    /// 1-based.
    pub page: u32,
}

impl AuditQuery {
    /// Splits a typed condition into words (half- and full-width spaces both separate), so that
    /// 「髙橋 美咲」 finds 「髙橋　美咲」.
    pub fn words(input: &str) -> Vec<String> {
        input
            .split(|c: char| c.is_whitespace() || c == '\u{3000}')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// Whether the console's displayed name matches the 操作者 condition (its stored label is
    /// `console`, which nobody would type).
    pub fn actor_matches_console(&self) -> bool {
        !self.actor.is_empty()
            && self
                .actor
                .iter()
                .all(|w| CONSOLE_DISPLAY.contains(w.as_str()))
    }

    /// The page actually shown for `total` entries: `page` clamped to 1..=last.
    pub fn clamped_page(&self, total: u64) -> u32 {
        let last = total.div_ceil(u64::from(PER_PAGE)).max(1);
        u64::from(self.page.max(1)).min(last) as u32
    }
}

/// 2026/11/24 09:00:05 (JST), for the CSV export (which keeps the seconds).
pub fn format_jst_seconds(at: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(at)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
        .to_offset(super::time::JST);
    format!(
        "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// An entry's content as stored (everything the MAC covers).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainedContent {
    pub seq: i64,
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor_label: String,
    pub action: String,
    pub target_user_id: Option<i64>,
    pub target_label: Option<String>,
    pub institution_id: Option<i64>,
    pub municipality_id: Option<i64>,
    pub db: Option<String>,
    pub target_type: Option<String>,
    pub result: String,
    pub client_addr: Option<String>,
    pub details: String,
}

/// The MAC of the first entry's predecessor.
pub const GENESIS_MAC: &str = "genesis";

impl ChainedContent {
    /// HMAC-SHA-256 over every field (absent ones distinguished from empty ones) and `prev_mac`. Hex.
    pub fn mac(&self, key: &SecretKey, prev_mac: &str) -> String {
        let int = |v: Option<i64>| v.map_or_else(|| "-".to_string(), |v| format!("+{v}"));
        let text = |v: &Option<String>| {
            v.as_ref()
                .map_or_else(|| "-".to_string(), |v| format!("+{v}"))
        };
        let fields = [
            self.seq.to_string(),
            self.at.to_string(),
            int(self.actor_user_id),
            self.actor_label.clone(),
            self.action.clone(),
            int(self.target_user_id),
            text(&self.target_label),
            int(self.institution_id),
            int(self.municipality_id),
            text(&self.db),
            text(&self.target_type),
            self.result.clone(),
            text(&self.client_addr),
            self.details.clone(),
            prev_mac.to_string(),
        ];
        let parts: Vec<&[u8]> = fields.iter().map(|f| f.as_bytes()).collect();
        hex::encode(key.mac(&parts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_changes_the_mac() {
        let key = SecretKey::new(vec![9; 32]);
        let base = ChainedContent {
            seq: 1,
            at: 10,
            actor_label: "console".into(),
            action: "bootstrap".into(),
            result: "success".into(),
            ..Default::default()
        };
        let m = base.mac(&key, GENESIS_MAC);
        assert_eq!(m, base.mac(&key, GENESIS_MAC));
        assert_ne!(m, base.mac(&key, "other"));
        assert_ne!(
            m,
            ChainedContent {
                details: "x".into(),
                ..base.clone()
            }
            .mac(&key, GENESIS_MAC)
        );
        assert_ne!(
            m,
            ChainedContent {
                target_label: Some(String::new()),
                ..base.clone()
            }
            .mac(&key, GENESIS_MAC)
        );
        assert_ne!(
            m,
            ChainedContent {
                seq: 2,
                ..base.clone()
            }
            .mac(&key, GENESIS_MAC)
        );
        assert_ne!(m, base.mac(&SecretKey::new(vec![8; 32]), GENESIS_MAC));
    }

    #[test]
    fn labels_and_conditions() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(action_display("login_success"), "ログイン");
        assert_eq!(action_display("future_thing"), "future_thing");
        assert_eq!(outcome_display("denied"), "拒否");
        assert_eq!(actor_display("console"), CONSOLE_DISPLAY);
        assert_eq!(actor_display("-"), ANONYMOUS_DISPLAY);
        assert_eq!(actor_display("ABCD2345 髙橋　美咲"), "ABCD2345 髙橋　美咲");
        assert_eq!(
            AuditQuery::words(" 髙橋　美咲  x "),
            vec!["髙橋", "美咲", "x"]
        );
        let q = AuditQuery {
            actor: AuditQuery::words("コンソール"),
            ..Default::default()
        };
        assert!(q.actor_matches_console());
        assert!(!AuditQuery::default().actor_matches_console());
        let q = AuditQuery {
            page: 9,
            ..Default::default()
        };
        assert_eq!(q.clamped_page(0), 1);
        assert_eq!(q.clamped_page(50), 1);
        assert_eq!(q.clamped_page(51), 2);
        assert_eq!(q.clamped_page(1000), 9);
        assert_eq!(format_jst_seconds(1_795_478_405), "2026/11/24 09:00:05");
    }

    #[test]
    fn actions_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }
}
