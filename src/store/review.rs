//! アカウント棚卸し: the accounts a review goes through, their registrars, the review records and the
//! reminders already sent.

use std::collections::HashMap;

use sqlx::{AnyConnection, AnyExecutor, Row};
use time::Date;

use crate::domain::review::ReviewScope;
use crate::domain::roles::Permit;
use crate::domain::time::iso_date;
use crate::domain::visibility::View;
use crate::domain::Db;

use super::search::push_view;
use super::sql::SqlBuilder;
use super::users::{user_select, UserRecord};
use super::{Result, StoreError, Tx};

/// Every non-deleted account `view` lists (the reviewer's own among them), by フリガナ. Read through
/// `conn`: inside [棚卸しを完了]'s transaction the counts recorded are the ones read there.
pub async fn reviewable(conn: &mut AnyConnection, view: &View) -> Result<Vec<UserRecord>> {
    let mut b = SqlBuilder::new(user_select!("WHERE u.deleted_at IS NULL"));
    push_view(&mut b, view);
    b.push(" ORDER BY u.kana_fold, u.id");
    let rows = b.build().fetch_all(&mut *conn).await?;
    rows.iter().map(UserRecord::from_row).collect()
}

/// The accounts with these ids (the registrars of clerks), by id.
pub async fn by_ids(conn: &mut AnyConnection, ids: &[i64]) -> Result<HashMap<i64, UserRecord>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let mut b = SqlBuilder::new(user_select!("WHERE u.id IN ("));
        for (n, id) in chunk.iter().enumerate() {
            if n > 0 {
                b.push(", ");
            }
            b.bind_int(*id);
        }
        b.push(")");
        for row in b.build().fetch_all(&mut *conn).await? {
            let u = UserRecord::from_row(&row)?;
            out.insert(u.id, u);
        }
    }
    Ok(out)
}

/// Sets only the 有効期限 (the review's bulk action; [変更] sets it with the other fields).
pub async fn set_expiry(tx: &mut Tx, permit: &Permit, expires_on: Date, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE users SET expires_on = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL",
    )
    .bind(iso_date(expires_on))
    .bind(now)
    .bind(permit.target_user_id())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One [棚卸しを完了] as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRecord {
    pub id: i64,
    pub reviewer_user_id: i64,
    pub reviewer_label: String,
    pub at: i64,
    /// `Group=count;…` (domain::review::decode_counts).
    pub counts: String,
    pub comment: String,
}

/// `scope`'s three columns: (institution_id, db, municipality_id).
fn columns(scope: &ReviewScope) -> (Option<i64>, Option<&'static str>, Option<i64>) {
    match *scope {
        ReviewScope::Institution { institution_id, db } => {
            (Some(institution_id), Some(db.as_str()), None)
        }
        ReviewScope::Municipality { municipality_id } => (None, None, Some(municipality_id)),
    }
}

pub async fn insert_review(
    tx: &mut Tx,
    scope: &ReviewScope,
    reviewer_user_id: i64,
    reviewer_label: &str,
    at: i64,
    counts: &str,
    comment: &str,
) -> Result<()> {
    let (institution_id, db, municipality_id) = columns(scope);
    sqlx::query(
        "INSERT INTO reviews (institution_id, db, municipality_id, reviewer_user_id, reviewer_label, at, \
         counts, comment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(institution_id)
    .bind(db)
    .bind(municipality_id)
    .bind(reviewer_user_id)
    .bind(reviewer_label.to_string())
    .bind(at)
    .bind(counts.to_string())
    .bind(comment.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The newest `limit` reviews of `scope`, newest first.
pub async fn reviews_of<'e>(
    db: impl AnyExecutor<'e>,
    scope: &ReviewScope,
    limit: i64,
) -> Result<Vec<ReviewRecord>> {
    let mut b = SqlBuilder::new(
        "SELECT id, reviewer_user_id, reviewer_label, at, counts, comment FROM reviews WHERE ",
    );
    match *scope {
        ReviewScope::Institution { institution_id, db } => {
            b.push("institution_id = ")
                .bind_int(institution_id)
                .push(" AND db = ")
                .bind_text(db.as_str());
        }
        ReviewScope::Municipality { municipality_id } => {
            b.push("municipality_id = ").bind_int(municipality_id);
        }
    }
    b.push(" ORDER BY at DESC, id DESC LIMIT ").bind_int(limit);
    let rows = b.build().fetch_all(db).await?;
    rows.iter()
        .map(|r| {
            Ok(ReviewRecord {
                id: r.try_get("id")?,
                reviewer_user_id: r.try_get("reviewer_user_id")?,
                reviewer_label: r.try_get("reviewer_label")?,
                at: r.try_get("at")?,
                counts: r.try_get("counts")?,
                comment: r.try_get("comment")?,
            })
        })
        .collect::<sqlx::Result<_>>()
        .map_err(StoreError::from)
}

/// When `scope` was last reviewed.
pub async fn last_review_at<'e>(
    db: impl AnyExecutor<'e>,
    scope: &ReviewScope,
) -> Result<Option<i64>> {
    Ok(reviews_of(db, scope, 1).await?.first().map(|r| r.at))
}

/// Records that `kind` was sent to `user_id` for `period`; false when it already was (the primary
/// key decides, so two `remind` runs at once send once).
pub async fn claim_reminder(
    tx: &mut Tx,
    kind: &str,
    user_id: i64,
    period: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "SELECT 1 AS one FROM reminders WHERE kind = $1 AND user_id = $2 AND period = $3",
    )
    .bind(kind.to_string())
    .bind(user_id)
    .bind(period.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    if done.is_some() {
        return Ok(false);
    }
    sqlx::query("INSERT INTO reminders (kind, user_id, period, sent_at) VALUES ($1, $2, $3, $4)")
        .bind(kind.to_string())
        .bind(user_id)
        .bind(period.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(true)
}

/// The active 責任者 and 自治体担当者 with an email address (the monthly summary's recipients).
pub async fn active_reviewers_with_email<'e>(
    db: impl AnyExecutor<'e>,
    today: Date,
) -> Result<Vec<UserRecord>> {
    let rows = sqlx::query(user_select!(
        "WHERE u.deleted_at IS NULL AND (u.expires_on IS NULL OR u.expires_on >= $1) \
         AND u.email IS NOT NULL AND u.email <> '' AND u.user_type IN ('responsible', 'municipal') \
         ORDER BY u.id"
    ))
    .bind(iso_date(today))
    .fetch_all(db)
    .await?;
    rows.iter().map(UserRecord::from_row).collect()
}

/// Non-deleted accounts with an email address whose 有効期限 is between `from` and `to` (inclusive).
pub async fn expiring_with_email<'e>(
    db: impl AnyExecutor<'e>,
    from: Date,
    to: Date,
) -> Result<Vec<UserRecord>> {
    let rows = sqlx::query(user_select!(
        "WHERE u.deleted_at IS NULL AND u.expires_on IS NOT NULL AND u.expires_on >= $1 \
         AND u.expires_on <= $2 AND u.email IS NOT NULL AND u.email <> '' ORDER BY u.id"
    ))
    .bind(iso_date(from))
    .bind(iso_date(to))
    .fetch_all(db)
    .await?;
    rows.iter().map(UserRecord::from_row).collect()
}

/// The name of a review's scope as screens and entries show it: 東京中央病院（難病DB）, 新宿区.
pub async fn scope_label<'e>(ex: impl AnyExecutor<'e>, scope: &ReviewScope) -> Result<String> {
    let (sql, id): (&'static str, i64) = match *scope {
        ReviewScope::Institution { institution_id, .. } => (
            "SELECT name FROM institutions WHERE id = $1",
            institution_id,
        ),
        ReviewScope::Municipality { municipality_id } => (
            "SELECT name FROM municipalities WHERE id = $1",
            municipality_id,
        ),
    };
    let name: String = sqlx::query(sql)
        .bind(id)
        .fetch_optional(ex)
        .await?
        .map(|r| r.try_get("name"))
        .transpose()?
        .unwrap_or_default();
    Ok(match scope {
        ReviewScope::Institution { db, .. } => format!("{name}（{}）", Db::label(*db)),
        ReviewScope::Municipality { .. } => name,
    })
}
