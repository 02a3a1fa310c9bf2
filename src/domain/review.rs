//! アカウント棚卸し (DESIGN §13): which accounts a periodic review lists, and in which groups. Decided
//! on the stored facts and the current time (a parameter), so every group is tested without waiting.
//!
//! Who may act on a listed account is not decided here: the screen asks `may_manage` (through
//! [`Operations`](super::operations::Operations)) and the service asks it again for every row.

use time::{Date, Duration};

use super::lockout::LockoutPolicy;
use super::roles::{Actor, Scope};
use super::state::{AccountFacts, AccountState};
use super::time::{jst_date, Instant};
use super::visibility::View;
use super::UserType;

const DAY: i64 = 86_400;

/// The configured thresholds (Settings::review).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewPolicy {
    /// No login for this many days or more.
    pub inactive_days: i64,
    /// 通知書未発行 for this many days or more.
    pub pending_days: i64,
    /// 有効期限 within this many days (or past).
    pub expiry_days: i64,
    /// ロック中 for more than this many days.
    pub locked_days: i64,
    /// A review older than this many days is due again.
    pub interval_days: i64,
}

impl Default for ReviewPolicy {
    fn default() -> Self {
        ReviewPolicy {
            inactive_days: 90,
            pending_days: 14,
            expiry_days: 30,
            locked_days: 7,
            interval_days: 180,
        }
    }
}

/// One group of the review screen. An account may be in several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Group {
    /// A notice was issued and nobody has logged in with it.
    NeverLoggedIn,
    /// No login for `inactive_days` or more.
    Inactive,
    /// 通知書未発行 (never issued, reset, or its temporary password expired) for `pending_days`.
    NoticePending,
    /// 有効期限 within `expiry_days`, or already past.
    Expiring,
    /// ロック中 for more than `locked_days`.
    LockedLong,
    /// A 医療クラーク等 whose registering 指定医 is deleted or expired.
    OrphanClerk,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::NeverLoggedIn,
        Group::Inactive,
        Group::NoticePending,
        Group::Expiring,
        Group::LockedLong,
        Group::OrphanClerk,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Group::NeverLoggedIn => "never_logged_in",
            Group::Inactive => "inactive",
            Group::NoticePending => "notice_pending",
            Group::Expiring => "expiring",
            Group::LockedLong => "locked",
            Group::OrphanClerk => "orphan_clerk",
        }
    }

    pub fn parse(s: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// The group's heading, with the configured number of days.
    pub fn label(self, p: &ReviewPolicy) -> String {
        match self {
            Group::NeverLoggedIn => "通知書の発行後、一度もログインしていない".to_string(),
            Group::Inactive => format!("{}日以上ログインしていない", p.inactive_days),
            Group::NoticePending => format!(
                "通知書未発行のまま{}日以上（初期パスワードの期限切れを含む）",
                p.pending_days
            ),
            Group::Expiring => format!("有効期限が{}日以内、または期限切れ", p.expiry_days),
            Group::LockedLong => format!("ロック中のまま{}日を超える", p.locked_days),
            Group::OrphanClerk => {
                "登録した指定医が削除済または有効期限切れの医療クラーク等".to_string()
            }
        }
    }

    /// A short name for counts (the review history, the audit entry, the monthly mail).
    pub fn short_label(self) -> &'static str {
        match self {
            Group::NeverLoggedIn => "通知書発行後未ログイン",
            Group::Inactive => "長期間ログインなし",
            Group::NoticePending => "通知書未発行",
            Group::Expiring => "有効期限間近・期限切れ",
            Group::LockedLong => "長期ロック中",
            Group::OrphanClerk => "登録した指定医が無効な医療クラーク等",
        }
    }

    /// What to do about the accounts of the group (shown under its heading).
    pub fn advice(self) -> &'static str {
        match self {
            Group::NeverLoggedIn => "通知書が本人に届いているか確認してください。不要になったアカウントは削除してください。",
            Group::Inactive => "退職・異動などで使われていないアカウントは、有効期限を設定するか削除してください。",
            Group::NoticePending => "必要なアカウントは通知書を発行して本人に渡してください。不要なアカウントは削除してください。",
            Group::Expiring => "引き続き使う場合は有効期限を延長し、不要になったアカウントは削除してください。",
            Group::LockedLong => "本人に確認のうえロックを解除するか、不要なアカウントは削除してください。",
            Group::OrphanClerk => "引き続き業務で使うか確認し、不要なアカウントは削除してください。",
        }
    }

    /// Whether accounts of this group can appear in `view` at all (a 自治体担当者 sees no clerks).
    pub fn applies_to(self, view: &View) -> bool {
        match self {
            Group::OrphanClerk => {
                matches!(view, View::InstitutionDb { .. } | View::ClerksOf { .. })
            }
            _ => true,
        }
    }
}

/// The registrar of an account, as the [`Group::OrphanClerk`] rule needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registrar {
    pub user_type: UserType,
    /// Neither deleted nor expired (now).
    pub active: bool,
}

/// What the groups are decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewFacts {
    pub user_type: UserType,
    pub facts: AccountFacts,
    pub last_login_at: Option<Instant>,
    /// When the latest notice was issued (its temporary password made).
    pub temp_password_issued_at: Option<Instant>,
    /// Since when the account has been 通知書未発行 (None: it has a usable password).
    pub notice_pending_since: Option<Instant>,
    pub registrar: Option<Registrar>,
}

/// The groups an account falls in at `now`. A deleted account is in none.
pub fn groups(
    f: &ReviewFacts,
    policy: &ReviewPolicy,
    lockout: &LockoutPolicy,
    now: Instant,
) -> Vec<Group> {
    let mut out = Vec::new();
    if f.facts.is_deleted() {
        return out;
    }
    let state = f.facts.state(lockout, now);
    let alive = f.facts.is_active(now);
    if state == AccountState::TemporaryPassword
        && f.temp_password_issued_at
            .is_some_and(|issued| f.last_login_at.is_none_or(|l| l < issued))
    {
        out.push(Group::NeverLoggedIn);
    }
    // An account with a password of its own whose last login is not recorded (older than the record)
    // counts as not logged in for the whole period.
    if alive
        && f.facts.has_chosen_password
        && f.last_login_at
            .is_none_or(|l| now - l >= policy.inactive_days * DAY)
    {
        out.push(Group::Inactive);
    }
    if state == AccountState::NoticePending
        && f.notice_pending_since
            .is_some_and(|since| now - since >= policy.pending_days * DAY)
    {
        out.push(Group::NoticePending);
    }
    if f.facts
        .expires_on
        .is_some_and(|d| d <= expiry_horizon(now, policy))
    {
        out.push(Group::Expiring);
    }
    if state == AccountState::Locked
        && f.facts
            .lockout
            .locked_at
            .is_some_and(|at| now - at > policy.locked_days * DAY)
    {
        out.push(Group::LockedLong);
    }
    if f.user_type == UserType::Clerk
        && f.registrar
            .is_some_and(|r| r.user_type.is_doctor() && !r.active)
    {
        out.push(Group::OrphanClerk);
    }
    out
}

/// The last 有効期限 date the [`Group::Expiring`] group includes.
pub fn expiry_horizon(now: Instant, policy: &ReviewPolicy) -> Date {
    jst_date(now)
        .checked_add(Duration::days(policy.expiry_days))
        .unwrap_or(Date::MAX)
}

/// Whether `actor` uses the アカウント棚卸し screen: a 責任者 over its institution + DB, a 自治体担当者
/// over its municipality (DESIGN §13). Others manage too few accounts to review (a 指定医's clerks are
/// its 責任者's to review).
pub fn may_review(actor: &Actor) -> bool {
    matches!(
        (actor.user_type, actor.scope),
        (UserType::Responsible, Scope::Institution { .. })
            | (UserType::MunicipalOfficer, Scope::Municipality { .. })
    )
}

/// Where a review's record belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewScope {
    Institution { institution_id: i64, db: super::Db },
    Municipality { municipality_id: i64 },
}

impl ReviewScope {
    pub fn of(actor: &Actor) -> Option<ReviewScope> {
        if !may_review(actor) {
            return None;
        }
        Some(match actor.scope {
            Scope::Institution { institution, db } => ReviewScope::Institution {
                institution_id: institution.id,
                db,
            },
            Scope::Municipality { municipality_id } => {
                ReviewScope::Municipality { municipality_id }
            }
        })
    }
}

/// Whether a review is due: none recorded, or the last one `interval_days` old or older.
pub fn review_due(last: Option<Instant>, policy: &ReviewPolicy, now: Instant) -> bool {
    last.is_none_or(|at| now - at >= policy.interval_days * DAY)
}

/// The counts as stored with a review record: `never_logged_in=2;inactive=0;…`.
pub fn encode_counts(counts: &[(Group, u64)]) -> String {
    counts
        .iter()
        .map(|(g, n)| format!("{}={n}", g.as_str()))
        .collect::<Vec<_>>()
        .join(";")
}

/// The counts of a stored record (unknown names, from a newer version, are skipped).
pub fn decode_counts(text: &str) -> Vec<(Group, u64)> {
    text.split(';')
        .filter_map(|part| {
            let (name, n) = part.split_once('=')?;
            Some((Group::parse(name)?, n.parse().ok()?))
        })
        .collect()
}

/// The counts in words, for the audit entry and the history: 「通知書未発行 2件、…」.
pub fn describe_counts(counts: &[(Group, u64)]) -> String {
    counts
        .iter()
        .map(|(g, n)| format!("{} {n}件", g.short_label()))
        .collect::<Vec<_>>()
        .join("、")
}

#[cfg(test)]
#[path = "review_tests.rs"]
mod tests;
