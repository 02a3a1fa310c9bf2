//! Which operations of the search screen's 操作 column an actor may use on an account in its current
//! state (DESIGN §3, §4, §7). The role rules decide who; the state decides when.

use serde::Serialize;

use super::roles::{may_manage, Actor, Target};
use super::state::AccountState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Operations {
    /// [変更]
    pub edit: bool,
    /// [IDパスワード通知書ダウンロード]: for 通知書未発行 and 初期パスワード未変更.
    pub notice: bool,
    /// [パスワード初期化]: for 有効 and 初期パスワード未変更.
    pub reset: bool,
    /// [アカウントロック解除]
    pub unlock: bool,
    /// [アカウント削除]
    pub delete: bool,
}

impl Operations {
    pub fn for_account(actor: &Actor, target: &Target, state: AccountState) -> Operations {
        if may_manage(actor, target).is_err() {
            return Operations::default();
        }
        Operations::in_state(state)
    }

    /// What an account's state allows, for whoever may manage it. The service asks this again
    /// under the write lock, on the state as stored then.
    pub fn in_state(state: AccountState) -> Operations {
        let alive = !matches!(state, AccountState::Deleted);
        Operations {
            edit: alive,
            notice: matches!(
                state,
                AccountState::NoticePending | AccountState::TemporaryPassword
            ),
            reset: matches!(
                state,
                AccountState::Active | AccountState::TemporaryPassword
            ),
            unlock: state == AccountState::Locked,
            delete: alive,
        }
    }

    pub fn any(&self) -> bool {
        self.edit || self.notice || self.reset || self.unlock || self.delete
    }
}

#[cfg(test)]
mod tests {
    use super::super::kinds::{Db, UserType};
    use super::super::roles::{InstitutionRef, Scope};
    use super::*;

    const HOSPITAL: InstitutionRef = InstitutionRef {
        id: 1,
        municipality_id: 10,
    };

    fn actor(user_type: UserType) -> Actor {
        Actor {
            user_id: 1,
            user_type,
            scope: Scope::Institution {
                institution: HOSPITAL,
                db: Db::Nanbyo,
            },
        }
    }

    fn clerk() -> Target {
        Target {
            user_id: Some(2),
            user_type: UserType::Clerk,
            db: Db::Nanbyo,
            institution: HOSPITAL,
        }
    }

    #[test]
    fn the_state_decides_which_buttons() {
        let a = actor(UserType::Responsible);
        let t = clerk();
        let ops = |s| Operations::for_account(&a, &t, s);
        assert_eq!(
            ops(AccountState::Active),
            Operations {
                edit: true,
                notice: false,
                reset: true,
                unlock: false,
                delete: true
            }
        );
        assert_eq!(
            ops(AccountState::TemporaryPassword),
            Operations {
                edit: true,
                notice: true,
                reset: true,
                unlock: false,
                delete: true
            }
        );
        assert_eq!(
            ops(AccountState::NoticePending),
            Operations {
                edit: true,
                notice: true,
                reset: false,
                unlock: false,
                delete: true
            }
        );
        assert_eq!(
            ops(AccountState::Locked),
            Operations {
                edit: true,
                notice: false,
                reset: false,
                unlock: true,
                delete: true
            }
        );
        assert_eq!(
            ops(AccountState::Expired),
            Operations {
                edit: true,
                notice: false,
                reset: false,
                unlock: false,
                delete: true
            }
        );
        assert_eq!(ops(AccountState::Deleted), Operations::default());
    }

    #[test]
    fn no_buttons_without_the_right_to_manage() {
        let t = clerk();
        assert!(!Operations::for_account(&actor(UserType::Clerk), &t, AccountState::Active).any());
        let own = Target {
            user_id: Some(1),
            ..t
        };
        assert!(!Operations::for_account(
            &actor(UserType::Responsible),
            &own,
            AccountState::Active
        )
        .any());
        assert!(
            Operations::for_account(&actor(UserType::NanbyoDoctor), &t, AccountState::Locked)
                .unlock
        );
    }
}
