//! Login, sessions, logout and the password change (DESIGN §6).

use crate::domain::audit::{Action, Outcome};
use crate::domain::credentials::{self, equal_secret};
use crate::domain::lockout::Lockout;
use crate::domain::password::PasswordProblem;
use crate::domain::roles::may_manage;
use crate::mail::{messages, Mail};
use crate::store::audit::{self, AuditActor, AuditEntry, AuditTarget};
use crate::store::sessions::{self, SessionRecord};
use crate::store::throttle;
use crate::store::users::{self, UserRecord};

use super::{App, Result, ServiceError};

/// A request's logged-in person.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session: SessionRecord,
    pub user: UserRecord,
}

impl Authenticated {
    /// Logged in with a temporary password: only the password change is open.
    pub fn is_temporary(&self) -> bool {
        self.session.temporary
    }
}

#[derive(Debug)]
pub enum LoginOutcome {
    /// `token` goes into the cookie; only its hash is stored.
    Success {
        token: String,
        user: Box<UserRecord>,
        temporary: bool,
    },
    /// The one answer for unknown IDs, wrong passwords, locked, deleted, expired and pending accounts.
    Failed,
    /// Too many failures from this client address.
    Throttled,
}

/// Why a password change was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum ChangeRefused {
    CurrentWrong,
    Policy(Vec<PasswordProblem>),
}

impl App {
    /// Counts this attempt against its client address before any password is checked, in the
    /// database that every instance shares. Refused: the attempt is audited and goes no further.
    async fn throttle_admit(&self, addr: Option<&str>) -> Result<bool> {
        let Some(a) = addr else { return Ok(true) };
        let now = self.now();
        let policy = self.settings.throttle();
        let mut tx = self.store.begin_write().await?;
        throttle::forget_stale(&mut tx, policy.window_secs, now).await?;
        let admitted = throttle::get(&mut tx, a).await?.admit(&policy, now);
        match admitted {
            Some(t) => throttle::put(&mut tx, a, t).await?,
            None => {
                let entry =
                    AuditEntry::new(AuditActor::Anonymous, Action::LoginFailure, Outcome::Denied)
                        .addr(Some(a.to_string()))
                        .details("この端末からのログイン失敗が続いたため一時的に制限中");
                audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
            }
        }
        tx.commit().await?;
        Ok(admitted.is_some())
    }

    /// Checks a login. Every path that fails runs exactly one argon2 verification, so the time taken
    /// does not tell unknown IDs, pending accounts and wrong passwords apart.
    pub async fn login(
        &self,
        login_id: &str,
        password: &str,
        addr: Option<String>,
    ) -> Result<LoginOutcome> {
        let addr_ref = addr.as_deref();
        if !self.throttle_admit(addr_ref).await? {
            return Ok(LoginOutcome::Throttled);
        }
        let user = match credentials::normalise_login_id(login_id) {
            Some(id) => users::by_login_id(self.store.pool(), &id).await?,
            None => None,
        };
        let now = self.now();
        let policy = self.settings.lockout();
        let Some(user) = user else {
            self.verify_password(password, None).await;
            // The typed ID is not recorded: people sometimes type their password into it.
            let entry = AuditEntry::new(
                AuditActor::Anonymous,
                Action::LoginFailure,
                Outcome::Failure,
            )
            .addr(addr.clone())
            .details("存在しないログインID");
            audit::record(&self.store, &self.keys.audit, &entry, now).await?;
            return Ok(LoginOutcome::Failed);
        };
        let facts = user.facts();
        if !facts.may_log_in(&policy, now) {
            self.verify_password(password, None).await;
            let entry = AuditEntry::new(
                AuditActor::Anonymous,
                Action::LoginFailure,
                Outcome::Failure,
            )
            .target(AuditTarget::user(&user))
            .addr(addr.clone())
            .details(format!(
                "ログインできない状態（{}）",
                facts.state(&policy, now).label()
            ));
            audit::record(&self.store, &self.keys.audit, &entry, now).await?;
            return Ok(LoginOutcome::Failed);
        }
        let (ok, temporary) = match &user.password_hash {
            Some(phc) => (self.verify_password(password, Some(phc)).await, false),
            None => {
                let mac =
                    credentials::temp_password_mac(&self.keys.temp_password, user.id, password);
                let ok = user
                    .temp_password_mac
                    .as_deref()
                    .is_some_and(|stored| equal_secret(stored, &mac));
                self.verify_password(password, None).await;
                (ok, true)
            }
        };
        let mut tx = self.store.begin_write().await?;
        // The row was read before the argon2 wait, and other attempts (on this instance or another)
        // may have counted since: decide from the row as it stands under the write lock.
        let current = users::by_id(&mut *tx, user.id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let ok = ok
            && current.facts().may_log_in(&policy, now)
            && current.password_hash == user.password_hash
            && current.temp_password_mac == user.temp_password_mac;
        if ok {
            users::save_lockout(&mut *tx, user.id, Lockout::cleared()).await?;
            // The アカウント棚卸し's 最終ログイン: decided with the login, in its transaction.
            users::record_login(&mut tx, user.id, now).await?;
            if let Some(a) = addr_ref {
                let t = throttle::get(&mut tx, a)
                    .await?
                    .forgive(&self.settings.throttle());
                throttle::put(&mut tx, a, t).await?;
            }
            let token = credentials::generate_session_token();
            sessions::create(
                &mut *tx,
                &credentials::session_token_hash(&token),
                user.id,
                temporary,
                now,
                addr_ref,
            )
            .await?;
            let entry = AuditEntry::new(
                AuditActor::user(&user),
                Action::LoginSuccess,
                Outcome::Success,
            )
            .target(AuditTarget::user(&user))
            .addr(addr.clone())
            .details(if temporary {
                "初期パスワードでログイン"
            } else {
                ""
            });
            audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
            tx.commit().await?;
            return Ok(LoginOutcome::Success {
                token,
                user: Box::new(user),
                temporary,
            });
        }
        // A lock past its automatic release is released before this failure counts.
        let stored = current.lockout();
        if stored.at(&policy, now) != stored {
            users::save_lockout(&mut *tx, user.id, stored.at(&policy, now)).await?;
        }
        let failure = |details: String| {
            AuditEntry::new(
                AuditActor::Anonymous,
                Action::LoginFailure,
                Outcome::Failure,
            )
            .target(AuditTarget::user(&user))
            .addr(addr.clone())
            .details(details)
        };
        // Set only where this attempt locks the account: decided once, in this transaction.
        let mut locked_after = None;
        match users::count_failed_login(&mut tx, user.id).await? {
            Some(failures) => {
                let entry = failure(format!("パスワード誤り（連続{failures}回目）"));
                audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
                if policy.locks_after(failures) {
                    users::lock(&mut tx, user.id, now).await?;
                    locked_after = Some(failures);
                    let entry = AuditEntry::new(
                        AuditActor::Anonymous,
                        Action::AccountLocked,
                        Outcome::Success,
                    )
                    .target(AuditTarget::user(&user))
                    .addr(addr.clone())
                    .details(format!("{failures}回連続の失敗によりロック"));
                    audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
                }
            }
            None => {
                let entry = failure("ロック中のアカウントへのログイン試行".to_string());
                audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
            }
        }
        tx.commit().await?;
        if let Some(failures) = locked_after {
            self.mail_lock(&current, failures, now).await;
        }
        Ok(LoginOutcome::Failed)
    }

    /// Tells the managers of an account that just locked (DESIGN §3, §12): for a 医療クラーク等 or
    /// 責任者 the active 責任者 of its institution + DB, for a 指定医 the active 自治体担当者 of its
    /// municipality — those with an email address whom `may_manage` lets manage it. A 自治体担当者
    /// is managed by the console only: that lock is logged. Never fails the login's answer.
    async fn mail_lock(&self, locked: &UserRecord, failures: u32, at: i64) {
        let Some(target) = locked.target() else {
            eprintln!(
                "お知らせ: 自治体担当者 {}（{}、ログインID {}）のアカウントが{failures}回連続のログイン失敗でロックされました。\
                 本人確認のうえ、コンソールで user unlock {} を実行して解除してください。",
                locked.full_name(),
                locked.municipality_name,
                locked.login_id,
                locked.login_id
            );
            return;
        };
        let candidates =
            match users::active_managers_with_email(self.store.pool(), locked, at).await {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("エラー: ロックのお知らせメールの宛先を読めません: {e}");
                    return;
                }
            };
        let full_name = locked.full_name();
        let lock = messages::Locked {
            full_name: &full_name,
            login_id: &locked.login_id,
            department: &locked.department,
            user_type: locked.user_type,
            db: locked.db,
            institution_name: locked.institution_name.as_deref(),
            failures,
            at,
            auto_release_minutes: self.settings.lockout_release_minutes.max(0),
        };
        let mails: Vec<Mail> = candidates
            .iter()
            .filter(|c| may_manage(&c.actor(), &target).is_ok())
            .filter_map(|c| {
                let address = c.email.as_deref()?;
                Some(Mail::lock(&c.full_name(), address, &lock))
            })
            .collect();
        if mails.is_empty() {
            eprintln!(
                "お知らせ: {}（ログインID {}）のアカウントがロックされましたが、メールアドレスが登録された管理者がいないため、\
                 お知らせのメールは作成していません。",
                full_name, locked.login_id
            );
        }
        self.post_mail(mails).await;
    }

    /// The session behind a cookie's token, if it is still good. Expired sessions, and sessions of
    /// deleted or expired accounts, are removed on sight.
    pub async fn session(&self, token: &str) -> Result<Option<Authenticated>> {
        let pool = self.store.pool();
        let Some(session) =
            sessions::by_token_hash(pool, &credentials::session_token_hash(token)).await?
        else {
            return Ok(None);
        };
        let now = self.now();
        if self
            .settings
            .session()
            .is_expired(session.created_at, session.last_seen_at, now)
        {
            sessions::delete(pool, session.id).await?;
            return Ok(None);
        }
        let Some(user) = users::by_id(pool, session.user_id).await? else {
            return Ok(None);
        };
        if !user.facts().is_active(now) {
            sessions::delete_for_user(pool, user.id).await?;
            return Ok(None);
        }
        // Refreshing on every request would write on every page view; a few seconds' slack is enough.
        let mut session = session;
        if now - session.last_seen_at >= 10 {
            sessions::touch(pool, session.id, now).await?;
            session.last_seen_at = now;
        }
        Ok(Some(Authenticated { session, user }))
    }

    pub async fn logout(&self, auth: &Authenticated, addr: Option<String>) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        sessions::delete(&mut *tx, auth.session.id).await?;
        let entry = AuditEntry::new(
            AuditActor::user(&auth.user),
            Action::Logout,
            Outcome::Success,
        )
        .target(AuditTarget::user(&auth.user))
        .addr(addr);
        audit::append(&mut tx, &self.keys.audit, &entry, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes the person's own password. Every session of the account ends and a new one is opened
    /// for this browser; its token is returned.
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        current: &str,
        new: &str,
        confirm: &str,
        addr: Option<String>,
    ) -> Result<Result<String, ChangeRefused>> {
        let user = &auth.user;
        let current_ok = match &user.password_hash {
            Some(phc) => self.verify_password(current, Some(phc)).await,
            None => {
                let mac =
                    credentials::temp_password_mac(&self.keys.temp_password, user.id, current);
                let now = self.now();
                user.facts().has_valid_temp_password(now)
                    && user
                        .temp_password_mac
                        .as_deref()
                        .is_some_and(|stored| equal_secret(stored, &mac))
            }
        };
        if !current_ok {
            let entry = AuditEntry::new(
                AuditActor::user(user),
                Action::PasswordChange,
                Outcome::Failure,
            )
            .target(AuditTarget::user(user))
            .addr(addr)
            .details("現在のパスワード誤り");
            audit::record(&self.store, &self.keys.audit, &entry, self.now()).await?;
            return Ok(Err(ChangeRefused::CurrentWrong));
        }
        let mut problems =
            match self
                .settings
                .password()
                .check(new, &user.login_id, &user.name_parts())
            {
                Ok(()) => Vec::new(),
                Err(p) => p,
            };
        if new == current {
            problems.push(PasswordProblem::Unchanged);
        }
        if new != confirm {
            problems.push(PasswordProblem::ConfirmationMismatch);
        }
        if !problems.is_empty() {
            return Ok(Err(ChangeRefused::Policy(problems)));
        }
        let phc = self.hash_password(new.to_string()).await;
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        users::set_chosen_password(&mut tx, user.id, &phc, now).await?;
        sessions::delete_for_user(&mut *tx, user.id).await?;
        let token = credentials::generate_session_token();
        sessions::create(
            &mut *tx,
            &credentials::session_token_hash(&token),
            user.id,
            false,
            now,
            addr.as_deref(),
        )
        .await?;
        let entry = AuditEntry::new(
            AuditActor::user(user),
            Action::PasswordChange,
            Outcome::Success,
        )
        .target(AuditTarget::user(user))
        .addr(addr)
        .details(if auth.is_temporary() {
            "初期パスワードから変更"
        } else {
            ""
        });
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        Ok(Ok(token))
    }
}
