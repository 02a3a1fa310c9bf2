//! The n-gram side table of partial 氏名・フリガナ・部署 search (migration 0004, grams from
//! [`crate::domain::ngram`]). Written in the same transaction as the search keys it is derived from —
//! account creation, the bulk import, [変更] — and read by [`super::search`] to narrow a partial
//! condition to the accounts that have its rarest gram, before the LIKE decides.

use sqlx::{AnyExecutor, Row};

use crate::domain::ngram::{account_grams, GramField};

use super::sql::{Param, SqlBuilder};
use super::{Result, Tx};

/// An account's search keys as stored, with the view they are listed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GramKeys {
    pub user_id: i64,
    pub institution_id: i64,
    pub db: String,
    pub name_fold: String,
    pub kana_fold: String,
    pub department_fold: String,
}

/// Parameters per INSERT statement. Small on purpose: sqlx's SQLite driver finds each `$n` among the
/// statement's parameter names one by one, so binding costs grow with the square of their number (at
/// 8,000 a 10,000-row import spent 36 s there; measured with `cargo bench --bench import` and perf).
/// A few hundred keeps that negligible while a 10,000-row import still needs hundreds of statements,
/// not one per gram.
const MAX_PARAMS: usize = 400;

/// Writes the grams of `accounts` (new accounts, or new keys after [`delete`]). Multi-row INSERTs;
/// the four columns an account's grams share are bound once per account.
pub(super) async fn insert(tx: &mut Tx, accounts: &[GramKeys]) -> Result<()> {
    let with_grams: Vec<(&GramKeys, Vec<(GramField, String)>)> = accounts
        .iter()
        .map(|a| {
            (
                a,
                account_grams(&a.name_fold, &a.kana_fold, &a.department_fold),
            )
        })
        .collect();
    insert_grams(tx, &with_grams).await
}

/// Writes the given grams of each account.
async fn insert_grams(
    tx: &mut Tx,
    accounts: &[(&GramKeys, Vec<(GramField, String)>)],
) -> Result<()> {
    let mut q: Option<SqlBuilder> = None;
    let mut params = 0;
    for (a, grams) in accounts {
        let grams = grams.clone();
        if grams.is_empty() {
            continue;
        }
        if params + 4 + grams.len() > MAX_PARAMS {
            if let Some(done) = q.take() {
                finish(tx, done).await?;
            }
            params = 0;
        }
        let b = q.get_or_insert_with(|| {
            SqlBuilder::new(
                "INSERT INTO user_ngrams (field, gram, institution_id, db, kana_fold, user_id) VALUES ",
            )
        });
        let first = params == 0;
        // The shared values, bound once: $k = institution, $k+1 = DB, $k+2 = フリガナ, $k+3 = id.
        let shared = b.declare(Param::Int(a.institution_id));
        b.declare(Param::Text(a.db.clone()));
        b.declare(Param::Text(a.kana_fold.clone()));
        b.declare(Param::Int(a.user_id));
        params += 4;
        for (n, (field, gram)) in grams.into_iter().enumerate() {
            b.push(if first && n == 0 { "(" } else { ", (" });
            b.push(match field {
                GramField::Name => "'n', ",
                GramField::Department => "'d', ",
            });
            b.bind_text(gram);
            for k in 0..4 {
                b.push(", ").placeholder(shared + k);
            }
            b.push(")");
            params += 1;
        }
    }
    if let Some(done) = q {
        finish(tx, done).await?;
    }
    Ok(())
}

/// A gram already there (left by an earlier version of the same keys) is kept, not an error: the
/// search re-checks every candidate with LIKE, so a stale gram costs a look-up, never a wrong row.
async fn finish(tx: &mut Tx, mut q: SqlBuilder) -> Result<()> {
    q.push(" ON CONFLICT DO NOTHING");
    q.build().execute(&mut **tx).await?;
    Ok(())
}

/// Removes `grams` of `keys` (the keys as stored before an edit), by their exact index key.
async fn delete(tx: &mut Tx, keys: &GramKeys, grams: &[(GramField, String)]) -> Result<()> {
    for field in [GramField::Name, GramField::Department] {
        let of_field: Vec<&String> = grams
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, g)| g)
            .collect();
        if of_field.is_empty() {
            continue;
        }
        let mut q = SqlBuilder::new("DELETE FROM user_ngrams WHERE field = ");
        q.push(match field {
            GramField::Name => "'n'",
            GramField::Department => "'d'",
        });
        q.push(" AND institution_id = ")
            .bind_int(keys.institution_id)
            .push(" AND db = ")
            .bind_text(keys.db.clone())
            .push(" AND kana_fold = ")
            .bind_text(keys.kana_fold.clone())
            .push(" AND user_id = ")
            .bind_int(keys.user_id)
            .push(" AND gram IN (");
        for (n, g) in of_field.into_iter().enumerate() {
            if n > 0 {
                q.push(", ");
            }
            q.bind_text(g.clone());
        }
        q.push(")");
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// The stored search keys of an institution account (None for a 自治体担当者, which has no grams).
pub(super) async fn keys_of<'e>(
    db: impl AnyExecutor<'e>,
    user_id: i64,
) -> Result<Option<GramKeys>> {
    let row = sqlx::query(
        "SELECT id, institution_id, db, name_fold, kana_fold, department_fold FROM users \
         WHERE id = $1 AND institution_id IS NOT NULL AND db IS NOT NULL",
    )
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| -> sqlx::Result<GramKeys> {
        Ok(GramKeys {
            user_id: r.try_get("id")?,
            institution_id: r.try_get("institution_id")?,
            db: r.try_get("db")?,
            name_fold: r.try_get("name_fold")?,
            kana_fold: r.try_get("kana_fold")?,
            department_fold: r.try_get("department_fold")?,
        })
    })
    .transpose()
    .map_err(Into::into)
}

/// After [変更] and change files: the grams follow the keys. Only the grams that differ are written
/// (a 部署 moved from 病棟3 to 病棟4 replaces two grams, not all thirty), nothing when the keys did not
/// change; a new フリガナ (part of every gram's key) replaces them all.
pub(super) async fn replace(tx: &mut Tx, before: &GramKeys, after: &GramKeys) -> Result<()> {
    if before == after {
        return Ok(());
    }
    let old = account_grams(
        &before.name_fold,
        &before.kana_fold,
        &before.department_fold,
    );
    let new = account_grams(&after.name_fold, &after.kana_fold, &after.department_fold);
    let same_key = (
        before.user_id,
        before.institution_id,
        &before.db,
        &before.kana_fold,
    ) == (
        after.user_id,
        after.institution_id,
        &after.db,
        &after.kana_fold,
    );
    let (gone, added): (Vec<_>, Vec<_>) = if same_key {
        (
            old.iter().filter(|g| !new.contains(g)).cloned().collect(),
            new.iter().filter(|g| !old.contains(g)).cloned().collect(),
        )
    } else {
        (old, new)
    };
    delete(tx, before, &gone).await?;
    insert_grams(tx, &[(after, added)]).await
}

/// Where a gram is counted: one institution + DB, or everywhere (a municipality's view spans
/// institutions; the join to them decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GramScope<'a> {
    InstitutionDb { institution_id: i64, db: &'a str },
    Everywhere,
}

/// Appends the conditions putting `g` (user_ngrams) on one gram of one field in `scope`.
pub(super) fn push_gram(b: &mut SqlBuilder, field: GramField, gram: &str, scope: GramScope<'_>) {
    b.push(match field {
        GramField::Name => " AND g.field = 'n' AND g.gram = ",
        GramField::Department => " AND g.field = 'd' AND g.gram = ",
    });
    b.bind_text(gram);
    if let GramScope::InstitutionDb { institution_id, db } = scope {
        b.push(" AND g.institution_id = ")
            .bind_int(institution_id)
            .push(" AND g.db = ")
            .bind_text(db);
    }
}

/// How many accounts of `scope` have each gram, counted up to `cap` (an index range each, read in
/// one statement): the rarest one drives the search.
pub(super) async fn frequencies<'e>(
    db: impl AnyExecutor<'e>,
    grams: &[(GramField, String)],
    scope: GramScope<'_>,
    cap: u64,
) -> Result<Vec<u64>> {
    if grams.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = SqlBuilder::new("");
    for (i, (field, gram)) in grams.iter().enumerate() {
        q.push(if i == 0 {
            "SELECT "
        } else {
            " UNION ALL SELECT "
        });
        q.bind_int(i as i64)
            .push(" AS i, COUNT(*) AS n FROM (SELECT 1 AS one FROM user_ngrams g WHERE 1 = 1");
        push_gram(&mut q, *field, gram, scope);
        q.push(" LIMIT ").bind_int(cap as i64).push(") AS t");
    }
    let rows = q.build().fetch_all(db).await?;
    let mut out = vec![0; grams.len()];
    for r in rows {
        let i: i64 = r.try_get("i")?;
        let n: i64 = r.try_get("n")?;
        if let Some(slot) = out.get_mut(i as usize) {
            *slot = n.max(0) as u64;
        }
    }
    Ok(out)
}
