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
    Bootstrap,
    /// A request the role rules refused (forged form, guessed id).
    Denied,
}

impl Action {
    pub const ALL: [Action; 20] = [
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
        Action::Bootstrap,
        Action::Denied,
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
            Action::Bootstrap => "bootstrap",
            Action::Denied => "denied",
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
            Action::Bootstrap => "初期ユーザ登録",
            Action::Denied => "権限のない操作",
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
    fn actions_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
    }
}
