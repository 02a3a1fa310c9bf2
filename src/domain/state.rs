//! Account states (DESIGN §4): stored as facts, shown as one badge.

use time::Date;

use super::lockout::{Lockout, LockoutPolicy};
use super::time::{end_of_jst_day, Instant};

/// What the database knows about an account's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AccountFacts {
    pub deleted_at: Option<Instant>,
    /// 有効期限: valid through 23:59:59 JST of this date.
    pub expires_on: Option<Date>,
    pub lockout: Lockout,
    /// The person has set a password of their own.
    pub has_chosen_password: bool,
    /// When the latest temporary password stops working (None: none issued, or voided).
    pub temp_password_expires_at: Option<Instant>,
}

/// The one badge shown for an account, in the order DESIGN §4 gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountState {
    /// 削除済
    Deleted,
    /// 有効期限切れ
    Expired,
    /// ロック中
    Locked,
    /// 通知書未発行: no usable password yet.
    NoticePending,
    /// 初期パスワード未変更
    TemporaryPassword,
    /// 有効
    Active,
}

impl AccountState {
    pub const ALL: [AccountState; 6] = [
        AccountState::Active,
        AccountState::TemporaryPassword,
        AccountState::NoticePending,
        AccountState::Locked,
        AccountState::Expired,
        AccountState::Deleted,
    ];

    pub fn label(self) -> &'static str {
        match self {
            AccountState::Deleted => "削除済",
            AccountState::Expired => "有効期限切れ",
            AccountState::Locked => "ロック中",
            AccountState::NoticePending => "通知書未発行",
            AccountState::TemporaryPassword => "初期パスワード未変更",
            AccountState::Active => "有効",
        }
    }

    /// A stable name for forms and CSS classes.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Deleted => "deleted",
            AccountState::Expired => "expired",
            AccountState::Locked => "locked",
            AccountState::NoticePending => "notice_pending",
            AccountState::TemporaryPassword => "temporary",
            AccountState::Active => "active",
        }
    }

    pub fn parse(s: &str) -> Option<AccountState> {
        AccountState::ALL.into_iter().find(|st| st.as_str() == s)
    }
}

impl AccountFacts {
    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    pub fn is_expired(&self, now: Instant) -> bool {
        self.expires_on.is_some_and(|d| now >= end_of_jst_day(d))
    }

    /// Neither deleted nor expired.
    pub fn is_active(&self, now: Instant) -> bool {
        !self.is_deleted() && !self.is_expired(now)
    }

    pub fn has_valid_temp_password(&self, now: Instant) -> bool {
        self.temp_password_expires_at.is_some_and(|t| now < t)
    }

    pub fn state(&self, lockout: &LockoutPolicy, now: Instant) -> AccountState {
        if self.is_deleted() {
            AccountState::Deleted
        } else if self.is_expired(now) {
            AccountState::Expired
        } else if self.lockout.is_locked(lockout, now) {
            AccountState::Locked
        } else if self.has_chosen_password {
            AccountState::Active
        } else if self.has_valid_temp_password(now) {
            AccountState::TemporaryPassword
        } else {
            AccountState::NoticePending
        }
    }

    /// Whether a login may be attempted at all (the password is checked separately).
    pub fn may_log_in(&self, lockout: &LockoutPolicy, now: Instant) -> bool {
        matches!(
            self.state(lockout, now),
            AccountState::Active | AccountState::TemporaryPassword
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn at(d: Date, h: u8) -> Instant {
        // hours in JST
        d.with_hms(h, 0, 0)
            .unwrap()
            .assume_offset(super::super::time::JST)
            .unix_timestamp()
    }

    #[test]
    fn badge_order_follows_design_section_4() {
        let p = LockoutPolicy::default();
        let now = at(date!(2026 - 11 - 24), 12);
        let pending = AccountFacts::default();
        assert_eq!(pending.state(&p, now), AccountState::NoticePending);

        let temp = AccountFacts {
            temp_password_expires_at: Some(now + 10),
            ..pending
        };
        assert_eq!(temp.state(&p, now), AccountState::TemporaryPassword);
        assert_eq!(
            temp.state(&p, now + 10),
            AccountState::NoticePending,
            "temporary password expired"
        );

        let active = AccountFacts {
            has_chosen_password: true,
            ..pending
        };
        assert_eq!(active.state(&p, now), AccountState::Active);

        let locked = AccountFacts {
            lockout: Lockout {
                failures: 5,
                locked_at: Some(now),
            },
            ..active
        };
        assert_eq!(locked.state(&p, now), AccountState::Locked);

        let expired = AccountFacts {
            expires_on: Some(date!(2026 - 11 - 23)),
            ..locked
        };
        assert_eq!(expired.state(&p, now), AccountState::Expired);

        let deleted = AccountFacts {
            deleted_at: Some(now),
            ..expired
        };
        assert_eq!(deleted.state(&p, now), AccountState::Deleted);
    }

    #[test]
    fn expiry_date_is_valid_through_the_end_of_that_day_in_japan() {
        let p = LockoutPolicy::default();
        let facts = AccountFacts {
            has_chosen_password: true,
            expires_on: Some(date!(2026 - 03 - 31)),
            ..Default::default()
        };
        let last_second = at(date!(2026 - 04 - 01), 0) - 1;
        assert!(facts.may_log_in(&p, last_second));
        assert!(!facts.may_log_in(&p, last_second + 1));
        assert_eq!(facts.state(&p, last_second + 1), AccountState::Expired);
    }
}
