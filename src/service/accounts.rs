//! Operations on someone else's account: issuing a temporary password, パスワード初期化 and
//! アカウントロック解除. Each takes a [`Permit`], so the role rules have already been applied.

use crate::domain::audit::{Action, Outcome};
use crate::domain::credentials;
use crate::domain::operations::Operations;
use crate::domain::roles::Permit;
use crate::domain::time::format_jst;
use crate::store::audit::{self, AuditActor, AuditEntry, AuditTarget};
use crate::store::users::{self, UserRecord};
use crate::store::{sessions, Tx};

use super::{App, Result, ServiceError};

/// A temporary password that exists only until it is printed (or shown on the console).
#[derive(Clone)]
pub struct IssuedPassword {
    pub login_id: String,
    pub password: String,
    pub expires_at: i64,
}

impl std::fmt::Debug for IssuedPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedPassword")
            .field("login_id", &self.login_id)
            .finish_non_exhaustive()
    }
}

const NOT_ISSUABLE: &str =
    "通知書を発行できるのは「通知書未発行」または「初期パスワード未変更」のアカウントです。";

/// The target of an operation as stored now, read inside the operation's write transaction (the
/// record the screen was drawn from may be stale). A deleted account is not there to operate on.
pub(super) async fn current(tx: &mut Tx, permit: &Permit) -> Result<UserRecord> {
    match users::by_id(&mut **tx, permit.target_user_id()).await? {
        Some(u) if u.deleted_at.is_none() => Ok(u),
        Some(_) => Err(ServiceError::WrongState(
            "このアカウントは既に削除されています。",
        )),
        None => Err(ServiceError::NotFound),
    }
}

impl App {
    pub async fn user_by_id(&self, id: i64) -> Result<UserRecord> {
        users::by_id(self.store.pool(), id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    pub async fn user_by_login_id(&self, login_id: &str) -> Result<UserRecord> {
        let id = credentials::normalise_login_id(login_id).ok_or(ServiceError::NotFound)?;
        users::by_login_id(self.store.pool(), &id)
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// Generates a temporary password, stores its keyed hash inside `tx`, and ends the account's
    /// sessions. The caller prints the returned password and forgets it. The account's state is
    /// decided on what is stored now, under the write lock: a double submit, or a reset by another
    /// manager since the page was drawn, cannot slip past a check made earlier.
    pub(super) async fn issue_in(
        &self,
        tx: &mut Tx,
        permit: &Permit,
        actor: &AuditActor,
        addr: Option<String>,
        action: Action,
        seen_stamp: Option<&str>,
    ) -> Result<IssuedPassword> {
        let now = self.now();
        let target = &current(tx, permit).await?;
        let state = target.facts().state(&self.settings.lockout(), now);
        if !Operations::in_state(state).notice {
            return Err(ServiceError::WrongState(NOT_ISSUABLE));
        }
        if let Some(seen) = seen_stamp {
            if credentials::temp_password_stamp(target.temp_password_mac.as_deref()) != seen {
                return Err(ServiceError::Conflict(format!(
                    "{}様の通知書は、この画面を表示した後に発行されています（二重の送信か、他の方の操作です）。\
                     二重に押した場合は最初の通知書が保存されていないことがあります。\
                     検索画面で状態を確認し、必要なら改めて発行してください。",
                    target.full_name()
                )));
            }
        }
        let password = credentials::generate_temp_password();
        let mac = credentials::temp_password_mac(&self.keys.temp_password, target.id, &password);
        let expires_at = now + self.settings.temp_password_days * 86_400;
        users::set_temp_password(tx, permit, &mac, now, expires_at).await?;
        sessions::delete_for_user(&mut **tx, target.id).await?;
        let entry = AuditEntry::new(actor.clone(), action, Outcome::Success)
            .target(AuditTarget::user(target))
            .addr(addr)
            .details(format!(
                "初期パスワードを発行（有効期限 {}）",
                format_jst(expires_at)
            ));
        audit::append(tx, &self.keys.audit, &entry, now).await?;
        Ok(IssuedPassword {
            login_id: target.login_id.clone(),
            password,
            expires_at,
        })
    }

    /// Issues a notice's temporary password for an account in 通知書未発行 or 初期パスワード未変更 (the
    /// console's and the tests' way; the screens go through `issue_notices`, which checks the stamp).
    pub async fn issue_temp_password(
        &self,
        permit: &Permit,
        actor: &AuditActor,
        addr: Option<String>,
    ) -> Result<IssuedPassword> {
        let mut tx = self.store.begin_write().await?;
        let issued = self
            .issue_in(&mut tx, permit, actor, addr, Action::NoticeIssue, None)
            .await?;
        tx.commit().await?;
        Ok(issued)
    }

    /// パスワード初期化: voids every password and ends the sessions; the account is 通知書未発行 until a
    /// new notice is issued. `verified_by` is 本人確認の方法.
    pub async fn reset_password(
        &self,
        permit: &Permit,
        verified_by: &str,
        actor: &AuditActor,
        addr: Option<String>,
    ) -> Result<UserRecord> {
        let mut tx = self.store.begin_write().await?;
        // DESIGN §6: a reset is for an account that has a password. One already 通知書未発行 (just
        // reset — a double submit, or another manager got there first) needs its notice instead.
        let state = current(&mut tx, permit)
            .await?
            .facts()
            .state(&self.settings.lockout(), self.now());
        if !Operations::in_state(state).reset {
            return Err(ServiceError::WrongState(
                "パスワード初期化ができるのは「有効」または「初期パスワード未変更」のアカウントです（既に初期化されている場合は、通知書を発行してください）。",
            ));
        }
        self.reset_in(&mut tx, permit, verified_by, actor, addr)
            .await?;
        tx.commit().await?;
        self.user_by_id(permit.target_user_id()).await
    }

    /// The reset inside `tx`, decided on the account as stored now.
    pub(super) async fn reset_in(
        &self,
        tx: &mut Tx,
        permit: &Permit,
        verified_by: &str,
        actor: &AuditActor,
        addr: Option<String>,
    ) -> Result<()> {
        let verified_by = verified_by.trim();
        if verified_by.is_empty() {
            return Err(ServiceError::WrongState(
                "本人確認の方法を入力してください。",
            ));
        }
        let now = self.now();
        let target = &current(tx, permit).await?;
        if !target.facts().is_active(now) {
            return Err(ServiceError::WrongState(
                "削除済または有効期限切れのアカウントは初期化できません。",
            ));
        }
        users::void_password(tx, permit, now).await?;
        sessions::delete_for_user(&mut **tx, target.id).await?;
        let entry = AuditEntry::new(actor.clone(), Action::PasswordReset, Outcome::Success)
            .target(AuditTarget::user(target))
            .addr(addr)
            .details(format!("本人確認の方法: {verified_by}"));
        audit::append(tx, &self.keys.audit, &entry, now).await?;
        Ok(())
    }

    /// アカウントロック解除.
    pub async fn unlock(
        &self,
        permit: &Permit,
        actor: &AuditActor,
        addr: Option<String>,
    ) -> Result<UserRecord> {
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        let target = current(&mut tx, permit).await?;
        if !target.lockout().is_locked(&self.settings.lockout(), now) {
            return Err(ServiceError::WrongState(
                "このアカウントはロックされていません。",
            ));
        }
        users::unlock(&mut tx, permit, now).await?;
        let entry = AuditEntry::new(actor.clone(), Action::Unlock, Outcome::Success)
            .target(AuditTarget::user(&target))
            .addr(addr);
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        self.user_by_id(target.id).await
    }
}
