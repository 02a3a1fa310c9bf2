//! The fingerprints of the keys the database was first opened with (never the keys themselves).

use sqlx::Row;

use super::{Result, Store};

/// Records `fingerprint` under `name` on first use; afterwards returns the stored one when it
/// differs (another instance, or the console, runs with other keys).
pub async fn check_fingerprint(
    store: &Store,
    name: &str,
    fingerprint: &str,
    now: i64,
) -> Result<Option<String>> {
    let mut tx = store.begin_write().await?;
    let stored = sqlx::query("SELECT fingerprint FROM key_fingerprints WHERE name = $1")
        .bind(name.to_string())
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get::<String, _>("fingerprint"))
        .transpose()?;
    let out = match stored {
        Some(s) if s == fingerprint => None,
        Some(s) => Some(s),
        None => {
            sqlx::query(
                "INSERT INTO key_fingerprints (name, fingerprint, created_at) VALUES ($1, $2, $3)",
            )
            .bind(name.to_string())
            .bind(fingerprint.to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            None
        }
    };
    tx.commit().await?;
    Ok(out)
}
