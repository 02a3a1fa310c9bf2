//! Server-side sessions: only the token's hash is stored, so a copy of the database opens no session.

use sqlx::{AnyExecutor, Row};

use super::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: i64,
    pub user_id: i64,
    /// Opened with a temporary password: only the password change is open to it.
    pub temporary: bool,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub async fn create<'e>(
    db: impl AnyExecutor<'e>,
    token_hash: &str,
    user_id: i64,
    temporary: bool,
    now: i64,
    client_addr: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, temporary, created_at, last_seen_at, client_addr) \
         VALUES ($1, $2, $3, $4, $4, $5)",
    )
    .bind(token_hash.to_string())
    .bind(user_id)
    .bind(i64::from(temporary))
    .bind(now)
    .bind(client_addr.map(str::to_string))
    .execute(db)
    .await?;
    Ok(())
}

pub async fn by_token_hash<'e>(
    db: impl AnyExecutor<'e>,
    token_hash: &str,
) -> Result<Option<SessionRecord>> {
    let row = sqlx::query(
        "SELECT id, user_id, temporary, created_at, last_seen_at FROM sessions WHERE token_hash = $1",
    )
    .bind(token_hash.to_string())
    .fetch_optional(db)
    .await?;
    Ok(row
        .map(|r| -> sqlx::Result<SessionRecord> {
            Ok(SessionRecord {
                id: r.try_get("id")?,
                user_id: r.try_get("user_id")?,
                temporary: r.try_get::<i64, _>("temporary")? != 0,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
            })
        })
        .transpose()?)
}

pub async fn touch<'e>(db: impl AnyExecutor<'e>, id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete<'e>(db: impl AnyExecutor<'e>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Ends every session of an account (password change elsewhere, reset, deletion, expiry).
pub async fn delete_for_user<'e>(db: impl AnyExecutor<'e>, user_id: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(db)
        .await?
        .rows_affected())
}

/// Forgets sessions that can no longer be used (housekeeping).
pub async fn delete_expired<'e>(
    db: impl AnyExecutor<'e>,
    idle_before: i64,
    created_before: i64,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
            .bind(idle_before)
            .bind(created_before)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
