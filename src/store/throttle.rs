//! Failed logins per client address (DESIGN §6), in the database so that every instance counts the
//! same attempts. Read and written inside a write transaction: the decision and its write are one.

use sqlx::Row;

use crate::domain::lockout::Throttle;

use super::{Result, Tx};

pub async fn get(tx: &mut Tx, addr: &str) -> Result<Throttle> {
    let row = sqlx::query(
        "SELECT failures, window_start, blocked_until FROM login_throttle WHERE client_addr = $1",
    )
    .bind(addr.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(r) => Throttle {
            failures: r
                .try_get::<i64, _>("failures")?
                .clamp(0, i64::from(u32::MAX)) as u32,
            window_start: r.try_get("window_start")?,
            blocked_until: r.try_get("blocked_until")?,
        },
        None => Throttle::default(),
    })
}

pub async fn put(tx: &mut Tx, addr: &str, t: Throttle) -> Result<()> {
    sqlx::query(
        "INSERT INTO login_throttle (client_addr, failures, window_start, blocked_until) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (client_addr) DO UPDATE SET \
         failures = excluded.failures, window_start = excluded.window_start, \
         blocked_until = excluded.blocked_until",
    )
    .bind(addr.to_string())
    .bind(i64::from(t.failures))
    .bind(t.window_start)
    .bind(t.blocked_until)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets addresses whose window has passed and that are not blocked (keeps the table small).
pub async fn forget_stale(tx: &mut Tx, window_secs: i64, now: i64) -> Result<()> {
    sqlx::query(
        "DELETE FROM login_throttle WHERE window_start <= $1 \
         AND (blocked_until IS NULL OR blocked_until <= $2)",
    )
    .bind(now - window_secs)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
