//! Accounts read many at once by their login IDs (a change file names up to 10,000), and the names of
//! who last changed them.

use std::collections::HashMap;

use sqlx::Row;

use super::sql::SqlBuilder;
use super::users::{user_select, UserRecord};
use super::Result;

/// Well under SQLite's and PostgreSQL's limits on bound parameters.
const CHUNK: usize = 500;

/// The accounts with these login IDs (deleted ones too), by login ID.
pub async fn by_login_ids(
    db: &mut sqlx::AnyConnection,
    login_ids: &[&str],
) -> Result<HashMap<String, UserRecord>> {
    let mut out = HashMap::with_capacity(login_ids.len());
    for chunk in login_ids.chunks(CHUNK) {
        let mut q = SqlBuilder::new(user_select!("WHERE u.login_id IN ("));
        for (n, id) in chunk.iter().enumerate() {
            if n > 0 {
                q.push(", ");
            }
            q.bind_text(*id);
        }
        q.push(")");
        for row in q.build().fetch_all(&mut *db).await? {
            let user = UserRecord::from_row(&row)?;
            out.insert(user.login_id.clone(), user);
        }
    }
    Ok(out)
}

/// "ログインID 姓　名" of each account id.
pub async fn labels(db: &mut sqlx::AnyConnection, ids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut q = SqlBuilder::new(
            "SELECT id, login_id || ' ' || family_name || '　' || given_name AS label FROM users WHERE id IN (",
        );
        for (n, id) in chunk.iter().enumerate() {
            if n > 0 {
                q.push(", ");
            }
            q.bind_int(*id);
        }
        q.push(")");
        for row in q.build().fetch_all(&mut *db).await? {
            out.insert(row.try_get("id")?, row.try_get("label")?);
        }
    }
    Ok(out)
}
