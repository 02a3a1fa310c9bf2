//! IDパスワード発行通知書 (DESIGN §8): the one moment a temporary password exists in plain text. It is
//! generated, stored as an HMAC, printed into the PDF, and forgotten — all inside one transaction, so
//! a PDF that could not be made leaves no new password behind.

use std::collections::HashMap;
use std::sync::Arc;

use crate::domain::audit::Action;
use crate::domain::credentials::temp_password_stamp;
use crate::domain::natural::NaturalKey;
use crate::domain::roles::{manager_of, Manager, Permit};
use crate::domain::time::{format_date, format_jst, jst_date, wareki};
use crate::domain::AccountState;
use crate::pdf::{self, Notice};
use crate::store::audit::AuditActor;
use crate::store::orgs::{self, ContactOf};
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

/// For each account a form showed, the [`temp_password_stamp`] it showed, by account id.
pub type SeenStamps = HashMap<i64, String>;

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

/// Notices print in the order the batch is handed out: by 医療機関 (a 自治体担当者's batch spans
/// several; otherwise all share one), then 部署 in natural order (第2病棟 before 第10病棟), then
/// フリガナ.
fn hand_out_order(targets: &mut [(Permit, UserRecord)]) {
    targets.sort_by_cached_key(|(_, u)| {
        (
            u.institution_code.clone().unwrap_or_default(),
            // 第２病棟 and 第2病棟 are one ward: フリガナ decides between them.
            NaturalKey::of(&u.department),
            u.family_kana.clone(),
            u.given_kana.clone(),
            u.id,
        )
    });
}

impl App {
    /// お問い合わせ先 for a notice: the text of the organisation that manages the account (its
    /// institution for 責任者 and 医療クラーク等, its municipality for 指定医), else the installation's
    /// `notice_contact`, else empty (the notice prints the default sentence naming the manager).
    /// Looked up once per organisation in a batch.
    async fn notice_contact(
        &self,
        u: &UserRecord,
        manager: Manager,
        cache: &mut HashMap<ContactOf, Option<String>>,
    ) -> Result<String> {
        let of = match (manager, u.institution_id) {
            (Manager::Institution, Some(id)) => Some(ContactOf::Institution(id)),
            (Manager::Municipality, _) => Some(ContactOf::Municipality(u.municipality_id)),
            _ => None,
        };
        let own = match of {
            Some(of) => match cache.get(&of) {
                Some(text) => text.clone(),
                None => {
                    let text = orgs::notice_contact(self.store.pool(), of).await?;
                    cache.insert(of, text.clone());
                    text
                }
            },
            None => None,
        };
        Ok(own
            .or_else(|| self.settings.notice_contact.clone())
            .unwrap_or_default())
    }

    /// Which of the selected accounts may be issued a notice by `actor` now: each is re-checked
    /// against the role rules and its state. The others are returned with the reason.
    ///
    /// `shown` holds, for the accounts the form showed, the [`temp_password_stamp`] it showed: an
    /// account issued a notice since then is left out (the console passes none).
    pub async fn notice_eligibility(
        &self,
        actor: &UserRecord,
        ids: &[i64],
        shown: &SeenStamps,
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
                Ok((_, user))
                    if shown.get(&id).is_some_and(|stamp| {
                        *stamp != temp_password_stamp(user.temp_password_mac.as_deref())
                    }) =>
                {
                    ineligible.push(Ineligible {
                        id,
                        reason: "この画面を表示した後に通知書が発行されています（二重の送信か、他の方の操作です）。検索画面で状態を確認してください。".to_string(),
                        user: Some(user),
                    });
                }
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
    /// (ordered by 医療機関, 部署 in natural order, then フリガナ), optionally after a 交付管理表. All or nothing.
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
            // The stamp read before the transaction: a submit that raced this one and committed
            // first has changed it, and this one is refused instead of issuing a second password.
            let seen = temp_password_stamp(user.temp_password_mac.as_deref());
            let p = self
                .issue_in(&mut tx, permit, &actor, addr.clone(), action, Some(&seen))
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
        let mut contacts = HashMap::new();
        let mut notices: Vec<Notice> = Vec::with_capacity(issued.len());
        for (u, p) in issued {
            let manager = manager_of(u.user_type);
            let contact = self.notice_contact(u, manager, &mut contacts).await?;
            notices.push(Notice {
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
                contact,
                manager,
            });
        }
        let fonts = Arc::clone(&self.fonts);
        // Rendering a large batch takes CPU time: keep it off the async workers.
        let pdf = tokio::task::spawn_blocking(move || pdf::render(&notices, receipt_list, &fonts))
            .await
            .map_err(|e| ServiceError::Conflict(format!("通知書の作成に失敗しました: {e}")))??;
        Ok(pdf)
    }
}
