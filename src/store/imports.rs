//! The import history (CSV一括登録).

use std::collections::HashMap;

use sqlx::{AnyExecutor, Row};

use crate::domain::visibility::View;

use super::search::push_view;
use super::sql::SqlBuilder;
use super::users::{user_select, UserRecord};

use super::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRecord {
    pub id: i64,
    pub file_name: String,
    pub origin: String,
    pub at: i64,
    pub rows: i64,
    /// "committed", "refused" (errors) or "unconfirmed" (warnings not confirmed).
    pub result: String,
    /// "register" (CSV一括登録) or "change" (人事異動の変更ファイル).
    pub kind: String,
    /// Why an attempt registered nobody ("" for a committed import).
    pub reason: String,
}

/// What an import does: register new accounts, or change existing ones (a change file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Register,
    Change,
}

impl ImportKind {
    fn as_str(self) -> &'static str {
        match self {
            ImportKind::Register => "register",
            ImportKind::Change => "change",
        }
    }
}

/// The committed import of a file with this content, if any.
pub async fn committed_with_hash<'e>(
    db: impl AnyExecutor<'e>,
    content_hash: &str,
) -> Result<Option<ImportRecord>> {
    let row = sqlx::query(
        "SELECT id, file_name, origin, at, rows, result, kind, reason FROM imports WHERE content_hash = $1 AND result = 'committed'",
    )
    .bind(content_hash.to_string())
    .fetch_optional(db)
    .await?;
    Ok(row
        .map(|r| -> sqlx::Result<ImportRecord> {
            Ok(ImportRecord {
                id: r.try_get("id")?,
                file_name: r.try_get("file_name")?,
                origin: r.try_get("origin")?,
                at: r.try_get("at")?,
                rows: r.try_get("rows")?,
                result: r.try_get("result")?,
                kind: r.try_get("kind")?,
                reason: r
                    .try_get::<Option<String>, _>("reason")?
                    .unwrap_or_default(),
            })
        })
        .transpose()?)
}

/// One attempt at an import, as the history records it.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub kind: ImportKind,
    pub content_hash: &'a str,
    pub file_name: &'a str,
    pub origin: &'a str,
    pub actor_user_id: i64,
    pub at: i64,
}

/// An import that registered or changed nobody (errors, or warnings not confirmed), for the history.
/// `result`: "refused" (errors) or "unconfirmed" (warnings); `reason`: its first problems.
pub async fn record_unregistered<'e>(
    db: impl AnyExecutor<'e>,
    attempt: &Attempt<'_>,
    result: &'static str,
    reason: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO imports (content_hash, file_name, origin, actor_user_id, at, rows, result, kind, reason) \
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8)",
    )
    .bind(attempt.content_hash.to_string())
    .bind(attempt.file_name.to_string())
    .bind(attempt.origin.to_string())
    .bind(attempt.actor_user_id)
    .bind(attempt.at)
    .bind(result)
    .bind(attempt.kind.as_str())
    .bind(reason.to_string())
    .execute(db)
    .await?;
    Ok(())
}

/// A committed import of `rows` accounts (the unique index on committed content hashes applies a
/// file once).
pub async fn record(tx: &mut Tx, attempt: &Attempt<'_>, rows: i64) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO imports (content_hash, file_name, origin, actor_user_id, at, rows, result, kind) \
         VALUES ($1, $2, $3, $4, $5, $6, 'committed', $7) RETURNING id",
    )
    .bind(attempt.content_hash.to_string())
    .bind(attempt.file_name.to_string())
    .bind(attempt.origin.to_string())
    .bind(attempt.actor_user_id)
    .bind(attempt.at)
    .bind(rows)
    .bind(attempt.kind.as_str())
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

/// The keys of the active accounts the duplicate rules compare against, read in two queries (not one
/// per row): (institution, DB, folded 氏名, folded フリガナ, folded 部署) → login ID, and (DB, 医籍登録番号) →
/// login ID.
pub struct ActiveKeys {
    pub people: HashMap<(i64, String, String, String, String), String>,
    pub doctors: HashMap<(String, String), String>,
}

pub async fn active_keys(
    db: &mut sqlx::AnyConnection,
    institution_ids: &[i64],
    today: &str,
) -> Result<ActiveKeys> {
    let mut people = HashMap::new();
    if !institution_ids.is_empty() {
        let mut q = SqlBuilder::new(
            "SELECT institution_id, db, name_fold, kana_fold, department_fold, login_id FROM users \
             WHERE deleted_at IS NULL AND (expires_on IS NULL OR expires_on >= ",
        );
        q.bind_text(today).push(") AND institution_id IN (");
        for (n, id) in institution_ids.iter().enumerate() {
            if n > 0 {
                q.push(", ");
            }
            q.bind_int(*id);
        }
        q.push(")");
        for r in q.build().fetch_all(&mut *db).await? {
            let key = (
                r.try_get::<i64, _>("institution_id")?,
                r.try_get::<String, _>("db")?,
                r.try_get::<String, _>("name_fold")?,
                r.try_get::<String, _>("kana_fold")?,
                r.try_get::<String, _>("department_fold")?,
            );
            people.insert(key, r.try_get::<String, _>("login_id")?);
        }
    }
    let mut doctors = HashMap::new();
    let rows = sqlx::query(
        "SELECT db, medical_reg_no, login_id FROM users WHERE medical_reg_no IS NOT NULL AND db IS NOT NULL \
         AND deleted_at IS NULL AND (expires_on IS NULL OR expires_on >= $1)",
    )
    .bind(today.to_string())
    .fetch_all(&mut *db)
    .await?;
    for r in rows {
        doctors.insert(
            (
                r.try_get::<String, _>("db")?,
                r.try_get::<String, _>("medical_reg_no")?,
            ),
            r.try_get::<String, _>("login_id")?,
        );
    }
    Ok(ActiveKeys { people, doctors })
}

/// Keeps a previewed file until it is confirmed; returns the staging id.
pub async fn stage(
    tx: &mut Tx,
    actor_user_id: i64,
    content_hash: &str,
    file_name: &str,
    content: &[u8],
    now: i64,
) -> Result<i64> {
    sqlx::query("DELETE FROM import_staging WHERE created_at < $1 OR (actor_user_id = $2 AND content_hash = $3)")
        .bind(now - 86_400)
        .bind(actor_user_id)
        .bind(content_hash.to_string())
        .execute(&mut **tx)
        .await?;
    let row = sqlx::query(
        "INSERT INTO import_staging (actor_user_id, content_hash, file_name, content, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(actor_user_id)
    .bind(content_hash.to_string())
    .bind(file_name.to_string())
    .bind(content.to_vec())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

/// A staged file of this actor: (file name, content).
pub async fn staged<'e>(
    db: impl AnyExecutor<'e>,
    id: i64,
    actor_user_id: i64,
) -> Result<Option<(String, Vec<u8>)>> {
    let row = sqlx::query(
        "SELECT file_name, content FROM import_staging WHERE id = $1 AND actor_user_id = $2",
    )
    .bind(id)
    .bind(actor_user_id)
    .fetch_optional(db)
    .await?;
    Ok(row
        .map(|r| -> sqlx::Result<(String, Vec<u8>)> {
            Ok((r.try_get("file_name")?, r.try_get("content")?))
        })
        .transpose()?)
}

pub async fn unstage<'e>(db: impl AnyExecutor<'e>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM import_staging WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The import history an actor may see: imports made by itself or by accounts in its view (`only`:
/// just that import, for its detail page).
pub async fn history<'e>(
    db: impl AnyExecutor<'e>,
    view: &View,
    self_id: i64,
    only: Option<i64>,
) -> Result<Vec<(ImportRecord, String)>> {
    let mut q = SqlBuilder::new(
        "SELECT m.id, m.file_name, m.origin, m.at, m.rows, m.result, m.kind, m.reason, a.login_id || ' ' || a.family_name || '　' || a.given_name AS who \
         FROM imports m JOIN users a ON a.id = m.actor_user_id WHERE (m.actor_user_id = ",
    );
    q.bind_int(self_id);
    q.push(" OR m.actor_user_id IN (SELECT u.id FROM users u LEFT JOIN institutions i ON i.id = u.institution_id WHERE 1 = 1");
    push_view(&mut q, view);
    q.push("))");
    if let Some(id) = only {
        q.push(" AND m.id = ").bind_int(id);
    }
    q.push(" ORDER BY m.at DESC, m.id DESC LIMIT 50");
    let rows = q.build().fetch_all(db).await?;
    rows.iter()
        .map(|r| {
            Ok((
                ImportRecord {
                    id: r.try_get("id")?,
                    file_name: r.try_get("file_name")?,
                    origin: r.try_get("origin")?,
                    at: r.try_get("at")?,
                    rows: r.try_get("rows")?,
                    result: r.try_get("result")?,
                    kind: r.try_get("kind")?,
                    reason: r
                        .try_get::<Option<String>, _>("reason")?
                        .unwrap_or_default(),
                },
                r.try_get("who")?,
            ))
        })
        .collect()
}

/// Records which accounts a committed import registered or changed, with their Excel rows.
pub async fn link_accounts(tx: &mut Tx, import_id: i64, accounts: &[(i64, usize)]) -> Result<()> {
    for chunk in accounts.chunks(100) {
        let mut q =
            SqlBuilder::new("INSERT INTO import_accounts (import_id, user_id, excel_row) VALUES ");
        for (n, (user_id, row)) in chunk.iter().enumerate() {
            q.push(if n == 0 { "(" } else { ", (" });
            q.bind_int(import_id)
                .push(", ")
                .bind_int(*user_id)
                .push(", ")
                .bind_int(*row as i64)
                .push(")");
        }
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// The accounts of an import, in file order, as they are now.
pub async fn accounts_of(
    db: &mut sqlx::AnyConnection,
    import_id: i64,
) -> Result<Vec<(usize, UserRecord)>> {
    let order = sqlx::query(
        "SELECT user_id, excel_row FROM import_accounts WHERE import_id = $1 ORDER BY excel_row",
    )
    .bind(import_id)
    .fetch_all(&mut *db)
    .await?;
    let mut users: HashMap<i64, UserRecord> = HashMap::new();
    for r in sqlx::query(user_select!(
        "JOIN import_accounts x ON x.user_id = u.id WHERE x.import_id = $1"
    ))
    .bind(import_id)
    .fetch_all(&mut *db)
    .await?
    {
        let u = UserRecord::from_row(&r)?;
        users.insert(u.id, u);
    }
    let mut out = Vec::with_capacity(order.len());
    for r in order {
        let id: i64 = r.try_get("user_id")?;
        let row: i64 = r.try_get("excel_row")?;
        if let Some(u) = users.remove(&id) {
            out.push((row.max(0) as usize, u));
        }
    }
    Ok(out)
}
