//! Operations on someone else's account: issuing a temporary password, パスワード初期化 and
//! アカウントロック解除. Each takes a [`Permit`], so the role rules have already been applied.

use crate::domain::audit::{Action, Outcome};
use crate::domain::credentials;
use crate::domain::roles::Permit;
use crate::domain::time::format_jst;
use crate::domain::AccountState;
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
    /// sessions. The caller prints the returned password and forgets it.
    pub(super) async fn issue_in(
        &self,
        tx: &mut Tx,
        permit: &Permit,
        target: &UserRecord,
        actor: &AuditActor,
        addr: Option<String>,
        action: Action,
    ) -> Result<IssuedPassword> {
        let now = self.now();
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
        audit::append(&self.store, tx, &self.keys.audit, &entry, now).await?;
        Ok(IssuedPassword {
            login_id: target.login_id.clone(),
            password,
            expires_at,
        })
    }

    /// Issues a notice's temporary password for an account in 通知書未発行 or 初期パスワード未変更.
    pub async fn issue_temp_password(
        &self,
        permit: &Permit,
        actor: &AuditActor,
        addr: Option<String>,
    ) -> Result<IssuedPassword> {
        let target = self.user_by_id(permit.target_user_id()).await?;
        let state = target.facts().state(&self.settings.lockout(), self.now());
        if !matches!(
            state,
            AccountState::NoticePending | AccountState::TemporaryPassword
        ) {
            return Err(ServiceError::WrongState(
                "通知書を発行できるのは「通知書未発行」または「初期パスワード未変更」のアカウントです。",
            ));
        }
        let mut tx = self.store.begin_write().await?;
        let issued = self
            .issue_in(&mut tx, permit, &target, actor, addr, Action::NoticeIssue)
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
        let target = self.user_by_id(permit.target_user_id()).await?;
        let mut tx = self.store.begin_write().await?;
        self.reset_in(&mut tx, permit, &target, verified_by, actor, addr)
            .await?;
        tx.commit().await?;
        self.user_by_id(target.id).await
    }

    pub(super) async fn reset_in(
        &self,
        tx: &mut Tx,
        permit: &Permit,
        target: &UserRecord,
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
        audit::append(&self.store, tx, &self.keys.audit, &entry, now).await?;
        Ok(())
    }

    /// アカウントロック解除.
    pub async fn unlock(
        &self,
        permit: &Permit,
        actor: &AuditActor,
        addr: Option<String>,
    ) -> Result<UserRecord> {
        let target = self.user_by_id(permit.target_user_id()).await?;
        let now = self.now();
        if !target.lockout().is_locked(&self.settings.lockout(), now) {
            return Err(ServiceError::WrongState(
                "このアカウントはロックされていません。",
            ));
        }
        let mut tx = self.store.begin_write().await?;
        users::unlock(&mut tx, permit, now).await?;
        let entry = AuditEntry::new(actor.clone(), Action::Unlock, Outcome::Success)
            .target(AuditTarget::user(&target))
            .addr(addr);
        audit::append(&self.store, &mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        self.user_by_id(target.id).await
    }
}
