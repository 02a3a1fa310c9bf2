//! アカウント棚卸し (DESIGN §13): the groups of the accounts a 責任者 or 自治体担当者 sees, the bulk
//! 有効期限 and deletion over them, and the review record.

use sqlx::AnyConnection;
use time::Date;

use crate::domain::audit::{Action, Outcome};
use crate::domain::operations::Operations;
use crate::domain::review::{
    self, describe_counts, encode_counts, Group, Registrar, ReviewFacts, ReviewScope,
};
use crate::domain::roles::{may_see, Permit};
use crate::domain::time::{format_date, jst_date, Instant};
use crate::domain::visibility::View;
use crate::domain::AccountState;
use crate::store::audit::{self, AuditActor, AuditEntry, AuditTarget};
use crate::store::review::{self as store, ReviewRecord};
use crate::store::sessions;
use crate::store::users::{self, UserRecord};

use super::{App, Result, ServiceError};

/// One account of a group, with what the reviewer may do to it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub user: UserRecord,
    pub state: AccountState,
    pub ops: Operations,
}

/// A group and its accounts.
#[derive(Debug, Clone)]
pub struct GroupList {
    pub group: Group,
    pub accounts: Vec<Listed>,
}

/// The bulk actions of the review screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    /// Set this 有効期限 (today or later).
    SetExpiry(Date),
    Delete,
}

impl BulkAction {
    pub fn label(&self) -> String {
        match self {
            BulkAction::SetExpiry(d) => format!("有効期限を{}に設定", format_date(*d)),
            BulkAction::Delete => "アカウント削除".to_string(),
        }
    }
}

/// One requested account and, if it cannot be done, why (in Japanese).
#[derive(Debug, Clone)]
pub struct BulkRow {
    pub id: i64,
    /// None for an account the actor cannot see (its existence is not revealed).
    pub user: Option<UserRecord>,
    pub refused: Option<String>,
}

const NOT_VISIBLE: &str = "指定されたユーザが見つからないか、棚卸しの対象外です。";
const ALREADY_DELETED: &str = "このアカウントは既に削除されています。";
const NOT_REVIEWER: &str = "アカウント棚卸しは、責任者と自治体担当者が利用できます。";

/// A comment stays one field of the record: no control characters but line breaks, 500 at most.
pub fn check_comment(comment: &str) -> std::result::Result<String, &'static str> {
    let c = comment.trim();
    if c.chars().count() > 500 {
        return Err("コメントは500文字以内で入力してください。");
    }
    if c.chars()
        .any(|ch| ch.is_control() && ch != '\n' && ch != '\r')
    {
        return Err("コメントに使えない文字（制御文字）が含まれています。");
    }
    Ok(c.replace("\r\n", "\n"))
}

impl App {
    /// The reviewer's scope, or the refusal for anyone else.
    fn review_scope(&self, actor: &UserRecord) -> Result<ReviewScope> {
        ReviewScope::of(&actor.actor()).ok_or(ServiceError::WrongState(NOT_REVIEWER))
    }

    /// Every group with its accounts at `now`, read through `conn`.
    async fn groups_in(
        &self,
        conn: &mut AnyConnection,
        actor: &UserRecord,
        now: Instant,
    ) -> Result<Vec<GroupList>> {
        let a = actor.actor();
        let view = View::of(&a);
        let accounts = store::reviewable(conn, &view).await?;
        let mut registrar_ids: Vec<i64> = accounts.iter().filter_map(|u| u.created_by).collect();
        registrar_ids.sort_unstable();
        registrar_ids.dedup();
        let registrars = store::by_ids(conn, &registrar_ids).await?;
        let lockout = self.settings.lockout();
        let policy = self.settings.review();
        let mut lists: Vec<GroupList> = Group::ALL
            .into_iter()
            .filter(|g| g.applies_to(&view))
            .map(|group| GroupList {
                group,
                accounts: Vec::new(),
            })
            .collect();
        for u in accounts {
            let facts = ReviewFacts {
                user_type: u.user_type,
                facts: u.facts(),
                last_login_at: u.last_login_at,
                temp_password_issued_at: u.temp_password_issued_at,
                notice_pending_since: u.notice_pending_since(now),
                registrar: u
                    .created_by
                    .and_then(|id| registrars.get(&id))
                    .map(|r| Registrar {
                        user_type: r.user_type,
                        active: r.facts().is_active(now),
                    }),
            };
            let groups = review::groups(&facts, &policy, &lockout, now);
            if groups.is_empty() {
                continue;
            }
            let state = u.facts().state(&lockout, now);
            let ops = u
                .target()
                .map(|t| Operations::for_account(&a, &t, state))
                .unwrap_or_default();
            for list in lists.iter_mut().filter(|l| groups.contains(&l.group)) {
                list.accounts.push(Listed {
                    user: u.clone(),
                    state,
                    ops,
                });
            }
        }
        Ok(lists)
    }

    /// The groups at `now`, read through `tx` (for `remind`).
    pub(super) async fn review_lists_at(
        &self,
        tx: &mut crate::store::Tx,
        actor: &UserRecord,
        now: Instant,
    ) -> Result<Vec<GroupList>> {
        self.groups_in(tx, actor, now).await
    }

    /// The アカウント棚卸し screen's groups, now.
    pub async fn review_groups(&self, actor: &UserRecord) -> Result<Vec<GroupList>> {
        self.review_scope(actor)?;
        let mut conn = self.store.pool().acquire().await?;
        self.groups_in(&mut conn, actor, self.now()).await
    }

    /// The review history of the actor's scope (newest first).
    pub async fn review_history(&self, actor: &UserRecord) -> Result<Vec<ReviewRecord>> {
        let scope = self.review_scope(actor)?;
        Ok(store::reviews_of(self.store.pool(), &scope, 20).await?)
    }

    /// For the menu: None when the actor does not review; else whether a review is due and when
    /// the last one was.
    pub async fn review_due(&self, actor: &UserRecord) -> Result<Option<(bool, Option<Instant>)>> {
        let Some(scope) = ReviewScope::of(&actor.actor()) else {
            return Ok(None);
        };
        let last = store::last_review_at(self.store.pool(), &scope).await?;
        Ok(Some((
            review::review_due(last, &self.settings.review(), self.now()),
            last,
        )))
    }

    /// [棚卸しを完了]: the counts of every group as read inside the write transaction, the comment
    /// and who reviewed, in the review history and the audit log together.
    pub async fn complete_review(
        &self,
        actor: &UserRecord,
        comment: &str,
        addr: Option<String>,
    ) -> Result<Vec<(Group, u64)>> {
        let scope = self.review_scope(actor)?;
        let comment = check_comment(comment).map_err(ServiceError::WrongState)?;
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        let lists = self.groups_in(&mut tx, actor, now).await?;
        let counts: Vec<(Group, u64)> = lists
            .iter()
            .map(|l| (l.group, l.accounts.len() as u64))
            .collect();
        let who = AuditActor::user(actor);
        let label = match &who {
            AuditActor::User { label, .. } => label.clone(),
            _ => String::new(),
        };
        store::insert_review(
            &mut tx,
            &scope,
            actor.id,
            &label,
            now,
            &encode_counts(&counts),
            &comment,
        )
        .await?;
        let (institution_id, db, municipality_id) = match scope {
            ReviewScope::Institution { institution_id, db } => {
                (Some(institution_id), Some(db), Some(actor.municipality_id))
            }
            ReviewScope::Municipality { municipality_id } => (None, None, Some(municipality_id)),
        };
        let target = AuditTarget {
            user_id: None,
            label: store::scope_label(&mut *tx, &scope).await?,
            institution_id,
            municipality_id,
            db,
            user_type: None,
        };
        let mut details = format!("アカウント棚卸しを完了（{}）", describe_counts(&counts));
        if !comment.is_empty() {
            details.push_str(&format!(" コメント: {comment}"));
        }
        let entry = AuditEntry::new(who, Action::ReviewComplete, Outcome::Success)
            .target(target)
            .addr(addr)
            .details(details);
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        Ok(counts)
    }

    /// A bulk action over `ids`: every row checked by the role rules (and the last-責任者 rule, with
    /// the rows before it applied) inside one write transaction. `commit` false: the confirmation
    /// screen's check, nothing kept. `commit` true: applied only if no row is refused (the people
    /// confirmed are exactly the people changed), one audit entry per account; otherwise nothing.
    pub async fn review_bulk(
        &self,
        actor: &UserRecord,
        action: BulkAction,
        ids: &[i64],
        commit: bool,
        addr: Option<String>,
    ) -> Result<Vec<BulkRow>> {
        self.review_scope(actor)?;
        let now = self.now();
        if let BulkAction::SetExpiry(d) = action {
            if d < jst_date(now) {
                return Err(ServiceError::WrongState(
                    "有効期限は今日以降の日付を入力してください（すぐに使えなくする場合はアカウント削除を選んでください）。",
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<i64> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
        let a = actor.actor();
        let who = AuditActor::user(actor);
        let mut tx = self.store.begin_write().await?;
        let mut rows = Vec::with_capacity(ids.len());
        let mut entries = Vec::new();
        let mut forged = Vec::new();
        for id in ids {
            let stored = users::by_id(&mut *tx, id).await?;
            let visible = stored
                .as_ref()
                .and_then(|u| u.target().map(|t| (u, t)))
                .filter(|(_, t)| may_see(&a, t));
            let Some((user, target)) = visible else {
                forged.push(id);
                rows.push(BulkRow {
                    id,
                    user: None,
                    refused: Some(NOT_VISIBLE.to_string()),
                });
                continue;
            };
            let user = user.clone();
            let refused = if user.deleted_at.is_some() {
                Some(ALREADY_DELETED.to_string())
            } else {
                match Permit::check(&a, id, &target) {
                    Err(d) => Some(d.to_string()),
                    Ok(permit) => {
                        match self.apply_one(&mut tx, &permit, &user, action, now).await {
                            Ok(()) => {
                                entries.push(bulk_entry(&who, &user, action, addr.clone()));
                                None
                            }
                            Err(ServiceError::Denied(d)) => Some(d.to_string()),
                            Err(e) => return Err(e),
                        }
                    }
                }
            };
            rows.push(BulkRow {
                id,
                user: Some(user),
                refused,
            });
        }
        let any_refused = rows.iter().any(|r| r.refused.is_some());
        if commit && !any_refused {
            audit::append_many(&mut tx, &self.keys.audit, &entries, now).await?;
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        if commit && !forged.is_empty() {
            // Only a forged form or a guessed id sends an account the screen never listed.
            self.record_denied(
                actor,
                None,
                addr,
                format!("アカウント棚卸しの一括操作: 見えないユーザ（id={forged:?}）"),
            )
            .await;
        }
        Ok(rows)
    }

    /// One row of a bulk action inside `tx`; the last-責任者 rule counts what the rows before it did.
    async fn apply_one(
        &self,
        tx: &mut crate::store::Tx,
        permit: &Permit,
        user: &UserRecord,
        action: BulkAction,
        now: Instant,
    ) -> Result<()> {
        match action {
            BulkAction::Delete => {
                self.check_removable(tx, user, now).await?;
                users::mark_deleted(tx, permit, now).await?;
                sessions::delete_for_user(&mut **tx, user.id).await?;
            }
            BulkAction::SetExpiry(d) => {
                store::set_expiry(tx, permit, d, now).await?;
            }
        }
        Ok(())
    }
}

fn bulk_entry(
    who: &AuditActor,
    user: &UserRecord,
    action: BulkAction,
    addr: Option<String>,
) -> AuditEntry {
    let (act, details) = match action {
        BulkAction::Delete => (Action::Delete, "アカウント棚卸しによる一括削除".to_string()),
        BulkAction::SetExpiry(d) => (
            Action::Edit,
            format!(
                "変更: 有効期限（{} → {}、アカウント棚卸しによる一括設定）",
                user.expires_on
                    .map_or_else(|| "なし".to_string(), format_date),
                format_date(d)
            ),
        ),
    };
    AuditEntry::new(who.clone(), act, Outcome::Success)
        .target(AuditTarget::user(user))
        .addr(addr)
        .details(details)
}
