//! IDパスワード発行通知書 (DESIGN §8): the one moment a temporary password exists in plain text. It is
//! generated, stored as an HMAC, printed into the PDF, and forgotten — all inside one transaction, so
//! a PDF that could not be made leaves no new password behind.

use std::sync::Arc;

use crate::domain::audit::Action;
use crate::domain::roles::Permit;
use crate::domain::time::{format_date, format_jst, jst_date, wareki};
use crate::domain::AccountState;
use crate::pdf::{self, Notice};
use crate::store::audit::AuditActor;
use crate::store::users::UserRecord;

use super::accounts::IssuedPassword;
use super::{App, Result, ServiceError};

/// An account the actor selected but may not (or need not) be issued a notice, and why.
#[derive(Debug, Clone)]
pub struct Ineligible {
    pub id: i64,
    /// Absent when the account is not visible to the actor (its existence is not revealed).
    pub user: Option<UserRecord>,
    pub reason: String,
}

/// Who prints: a logged-in person, or the system administrator at the console.
#[derive(Debug, Clone, Copy)]
pub enum Issuer<'a> {
    User(&'a UserRecord),
    Console,
}

impl Issuer<'_> {
    fn audit_actor(&self) -> AuditActor {
        match self {
            Issuer::User(u) => AuditActor::user(u),
            Issuer::Console => AuditActor::Console,
        }
    }

    /// 発行者 as printed on the notice.
    fn label(&self) -> String {
        match self {
            Issuer::User(u) => {
                let org = u
                    .institution_name
                    .clone()
                    .unwrap_or_else(|| u.municipality_name.clone());
                format!(
                    "{org} {} {}（{}）",
                    u.department,
                    u.full_name(),
                    u.user_type.label()
                )
            }
            Issuer::Console => "システム管理者（サーバのコンソール）".to_string(),
        }
    }
}

/// Notices print in the order the batch is handed out: by 部署, then フリガナ.
fn hand_out_order(targets: &mut [(Permit, UserRecord)]) {
    targets.sort_by(|(_, a), (_, b)| {
        (
            a.department.as_str(),
            a.family_kana.as_str(),
            a.given_kana.as_str(),
            a.id,
        )
            .cmp(&(
                b.department.as_str(),
                b.family_kana.as_str(),
                b.given_kana.as_str(),
                b.id,
            ))
    });
}

impl App {
    /// Which of the selected accounts may be issued a notice by `actor` now: each is re-checked
    /// against the role rules and its state. The others are returned with the reason.
    pub async fn notice_eligibility(
        &self,
        actor: &UserRecord,
        ids: &[i64],
        addr: Option<String>,
    ) -> Result<(Vec<(Permit, UserRecord)>, Vec<Ineligible>)> {
        let mut eligible = Vec::new();
        let mut ineligible = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for &id in ids {
            if !seen.insert(id) {
                continue;
            }
            match self
                .authorize(actor, id, Action::NoticeIssue, addr.clone())
                .await
            {
                Ok((permit, user)) => {
                    let state = user.facts().state(&self.settings.lockout(), self.now());
                    if matches!(
                        state,
                        AccountState::NoticePending | AccountState::TemporaryPassword
                    ) {
                        eligible.push((permit, user));
                    } else {
                        ineligible.push(Ineligible {
                            id,
                            reason: format!(
                                "状態が「{}」のため発行できません（発行できるのは「通知書未発行」「初期パスワード未変更」のアカウントです）。",
                                state.label()
                            ),
                            user: Some(user),
                        });
                    }
                }
                Err(ServiceError::NotFound) => ineligible.push(Ineligible {
                    id,
                    user: None,
                    reason: "指定されたユーザが見つからないか、閲覧する権限がありません。"
                        .to_string(),
                }),
                Err(ServiceError::Denied(d)) => {
                    let user = self.user_by_id(id).await.ok();
                    ineligible.push(Ineligible {
                        id,
                        user,
                        reason: d.to_string(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok((eligible, ineligible))
    }

    /// Issues a temporary password to every target and returns one PDF with a notice per person
    /// (ordered by 部署 then フリガナ), optionally after a 交付管理表. All or nothing.
    pub async fn issue_notices(
        &self,
        issuer: Issuer<'_>,
        mut targets: Vec<(Permit, UserRecord)>,
        receipt_list: bool,
        addr: Option<String>,
    ) -> Result<Vec<u8>> {
        if targets.is_empty() {
            return Err(ServiceError::WrongState(
                "通知書を発行するユーザを選択してください。",
            ));
        }
        hand_out_order(&mut targets);
        let action = if targets.len() == 1 {
            Action::NoticeIssue
        } else {
            Action::NoticeBatch
        };
        let actor = issuer.audit_actor();
        let mut tx = self.store.begin_write().await?;
        let mut issued = Vec::with_capacity(targets.len());
        for (permit, user) in &targets {
            // issue_in decides each account's state under the write lock.
            let p = self
                .issue_in(&mut tx, permit, user, &actor, addr.clone(), action)
                .await?;
            issued.push((user, p));
        }
        let pdf = self.render_notices(issuer, &issued, receipt_list).await?;
        tx.commit().await?;
        Ok(pdf)
    }

    /// Renders the notices of passwords issued in the current transaction (the caller commits only
    /// once the PDF exists).
    pub(super) async fn render_notices(
        &self,
        issuer: Issuer<'_>,
        issued: &[(&UserRecord, IssuedPassword)],
        receipt_list: bool,
    ) -> Result<Vec<u8>> {
        let login_url = self
            .settings
            .notice_login_url()
            .map_err(ServiceError::WrongState)?;
        let today = jst_date(self.now());
        let issued_on = match wareki(today) {
            Some(w) => format!("{}（{w}）", format_date(today)),
            None => format_date(today),
        };
        let issuer_label = issuer.label();
        let notices: Vec<Notice> = issued
            .iter()
            .map(|(u, p)| Notice {
                issued_on: issued_on.clone(),
                institution_name: u.institution_name.clone().unwrap_or_default(),
                institution_code: u.institution_code.clone().unwrap_or_default(),
                municipality_name: u.municipality_name.clone(),
                db_label: u.db.map(|d| d.label().to_string()).unwrap_or_default(),
                user_type_label: u.user_type.label().to_string(),
                department: u.department.clone(),
                full_name: u.full_name(),
                kana: u.full_kana(),
                login_id: p.login_id.clone(),
                password: p.password.clone(),
                password_expires: format_jst(p.expires_at),
                login_url: login_url.clone(),
                issuer: issuer_label.clone(),
                contact: self.settings.notice_contact.clone(),
            })
            .collect();
        let fonts = Arc::clone(&self.fonts);
        // Rendering a large batch takes CPU time: keep it off the async workers.
        let pdf = tokio::task::spawn_blocking(move || pdf::render(&notices, receipt_list, &fonts))
            .await
            .map_err(|e| ServiceError::Conflict(format!("通知書の作成に失敗しました: {e}")))??;
        Ok(pdf)
    }
}
