//! The search screen's query: the actor's view and the conditions compiled into one SQL statement
//! with bound parameters.

use crate::domain::lockout::LockoutPolicy;
use crate::domain::search::{Filter, SortKey, UserQuery};
use crate::domain::time::{end_of_jst_day, iso_date, jst_date};
use crate::domain::visibility::{View, MUNICIPALITY_SEES};
use crate::domain::AccountState;
use sqlx::{AnyExecutor, Row};

use super::sql::{like_contains, SqlBuilder};
use super::users::UserRecord;
use super::Result;

/// Appends `AND (…)` restricting `u` (users, with `i` = its institution) to what `view` lists.
pub fn push_view(b: &mut SqlBuilder, view: &View) {
    match *view {
        View::InstitutionDb { institution_id, db } => {
            b.push(" AND u.institution_id = ")
                .bind_int(institution_id)
                .push(" AND u.db = ")
                .bind_text(db.as_str());
        }
        View::ClerksOf { institution_id, db } => {
            b.push(" AND u.user_type = 'clerk' AND u.institution_id = ")
                .bind_int(institution_id)
                .push(" AND u.db = ")
                .bind_text(db.as_str());
        }
        View::Municipality { municipality_id } => {
            b.push(" AND i.municipality_id = ")
                .bind_int(municipality_id)
                .push(" AND u.user_type IN (");
            for (n, t) in MUNICIPALITY_SEES.iter().enumerate() {
                if n > 0 {
                    b.push(", ");
                }
                b.bind_text(t.as_str());
            }
            b.push(")");
        }
        View::OnlySelf { user_id } => {
            b.push(" AND u.id = ").bind_int(user_id);
        }
    }
}

/// Appends the condition for one displayed state, consistent with `AccountFacts::state`.
fn push_state(b: &mut SqlBuilder, state: AccountState, now: i64, lockout: &LockoutPolicy) {
    let today = iso_date(jst_date(now));
    let alive = |b: &mut SqlBuilder| {
        b.push(" AND u.deleted_at IS NULL AND (u.expires_on IS NULL OR u.expires_on >= ")
            .bind_text(today.clone())
            .push(")");
    };
    let locked = |b: &mut SqlBuilder, negate: bool| {
        b.push(if negate { " AND NOT " } else { " AND " });
        b.push("(u.locked_at IS NOT NULL");
        if lockout.auto_release_secs > 0 {
            b.push(" AND u.locked_at > ")
                .bind_int(now - lockout.auto_release_secs);
        }
        b.push(")");
    };
    match state {
        AccountState::Deleted => {
            b.push(" AND u.deleted_at IS NOT NULL");
        }
        AccountState::Expired => {
            b.push(" AND u.deleted_at IS NULL AND u.expires_on < ")
                .bind_text(today.clone());
        }
        AccountState::Locked => {
            alive(b);
            locked(b, false);
        }
        AccountState::Active => {
            alive(b);
            locked(b, true);
            b.push(" AND u.password_hash IS NOT NULL");
        }
        AccountState::TemporaryPassword => {
            alive(b);
            locked(b, true);
            b.push(" AND u.password_hash IS NULL AND u.temp_password_mac IS NOT NULL AND u.temp_password_expires_at > ")
                .bind_int(now);
        }
        AccountState::NoticePending => {
            alive(b);
            locked(b, true);
            b.push(" AND u.password_hash IS NULL AND (u.temp_password_mac IS NULL OR u.temp_password_expires_at <= ")
                .bind_int(now)
                .push(")");
        }
    }
}

fn push_filters(
    b: &mut SqlBuilder,
    view: &View,
    query: &UserQuery,
    now: i64,
    lockout: &LockoutPolicy,
) {
    push_view(b, view);
    if !query.wants_deleted() {
        b.push(" AND u.deleted_at IS NULL");
    }
    for f in &query.filters {
        match f {
            Filter::LoginId(s) => {
                b.push(" AND u.login_id LIKE ")
                    .bind_text(like_contains(s))
                    .push(" ESCAPE '\\'");
            }
            Filter::Name(s) => {
                let pattern = like_contains(s);
                b.push(" AND (u.name_fold LIKE ")
                    .bind_text(pattern.clone())
                    .push(" ESCAPE '\\' OR u.kana_fold LIKE ")
                    .bind_text(pattern)
                    .push(" ESCAPE '\\')");
            }
            Filter::Type(t) => {
                b.push(" AND u.user_type = ").bind_text(t.as_str());
            }
            Filter::Db(d) => {
                b.push(" AND u.db = ").bind_text(d.as_str());
            }
            Filter::Department(s) => {
                b.push(" AND u.department_fold LIKE ")
                    .bind_text(like_contains(s))
                    .push(" ESCAPE '\\'");
            }
            Filter::State(s) => push_state(b, *s, now, lockout),
            Filter::RegisteredFrom(d) => {
                b.push(" AND u.created_at >= ")
                    .bind_int(end_of_jst_day(d.previous_day().unwrap_or(*d)));
            }
            Filter::RegisteredTo(d) => {
                b.push(" AND u.created_at < ").bind_int(end_of_jst_day(*d));
            }
        }
    }
}

/// ORDER BY the chosen column (ties broken by id, so paging is stable) and the page's LIMIT/OFFSET.
fn push_order(select: &mut SqlBuilder, query: &UserQuery) {
    push_order_only(select, query);
    select
        .push(" LIMIT ")
        .bind_int(i64::from(query.per_page))
        .push(" OFFSET ")
        .bind_int(query.offset() as i64);
}

fn push_order_only(select: &mut SqlBuilder, query: &UserQuery) {
    let dir = if query.descending { " DESC" } else { " ASC" };
    select.push(" ORDER BY ");
    match query.sort {
        SortKey::LoginId => select.push("u.login_id").push(dir),
        SortKey::Kana => select.push("u.kana_fold").push(dir),
        SortKey::Department => select
            .push("u.department_fold")
            .push(dir)
            .push(", u.kana_fold"),
        SortKey::UserType => select.push("u.user_type").push(dir).push(", u.kana_fold"),
        SortKey::Registered => select.push("u.created_at").push(dir),
        // SQLite sorts NULL first and PostgreSQL last: never-logged-in is made the oldest in both.
        SortKey::LastLogin => select.push("COALESCE(u.last_login_at, 0)").push(dir),
    };
    select.push(", u.id").push(dir);
}

/// What a query over the view selects.
#[derive(Clone, Copy)]
enum Selecting {
    Ids,
    Count,
}

/// `SELECT … FROM` the users of a view: the institution is joined only for a municipality's view
/// (the others are answered from the users table and its indexes alone).
fn from_view(view: &View, selecting: Selecting) -> &'static str {
    let municipality = matches!(view, View::Municipality { .. });
    match (selecting, municipality) {
        (Selecting::Ids, true) => "SELECT u.id FROM users u LEFT JOIN institutions i ON i.id = u.institution_id WHERE 1 = 1",
        (Selecting::Count, true) => {
            "SELECT COUNT(*) AS n FROM users u LEFT JOIN institutions i ON i.id = u.institution_id WHERE 1 = 1"
        }
        (Selecting::Ids, false) => "SELECT u.id FROM users u WHERE 1 = 1",
        (Selecting::Count, false) => "SELECT COUNT(*) AS n FROM users u WHERE 1 = 1",
    }
}

/// The page's rows. The page is chosen on the users table alone (which its indexes can answer in
/// order), and only those rows are joined and read: a late page then skips index entries, not rows.
fn page_query(view: &View, query: &UserQuery, now: i64, lockout: &LockoutPolicy) -> SqlBuilder {
    let mut ids = SqlBuilder::new(from_view(view, Selecting::Ids));
    push_filters(&mut ids, view, query, now, lockout);
    push_order(&mut ids, query);
    let mut select = SqlBuilder::new(super::users::user_select!("WHERE u.id IN ("));
    select.push_sql(ids);
    select.push(")");
    push_order_only(&mut select, query);
    select
}

/// One page of results and the total count.
pub struct Page {
    pub total: u64,
    pub rows: Vec<UserRecord>,
}

pub async fn search<'e, E>(
    db: E,
    view: &View,
    query: &UserQuery,
    now: i64,
    lockout: &LockoutPolicy,
) -> Result<Page>
where
    E: AnyExecutor<'e> + Copy,
{
    let mut count = SqlBuilder::new(from_view(view, Selecting::Count));
    push_filters(&mut count, view, query, now, lockout);
    let total: i64 = count.build().fetch_one(db).await?.try_get("n")?;

    let rows = page_query(view, query, now, lockout)
        .build()
        .fetch_all(db)
        .await?;
    Ok(Page {
        total: total.max(0) as u64,
        rows: rows
            .iter()
            .map(UserRecord::from_row)
            .collect::<Result<_>>()?,
    })
}

/// SQLite's plan for the search's page query (for the benchmark that justifies the indexes).
pub async fn explain<'e, E>(
    db: E,
    view: &View,
    query: &UserQuery,
    now: i64,
    lockout: &LockoutPolicy,
) -> Result<Vec<String>>
where
    E: AnyExecutor<'e>,
{
    let mut plan = SqlBuilder::new("EXPLAIN QUERY PLAN ");
    plan.push_sql(page_query(view, query, now, lockout));
    let rows = plan.build().fetch_all(db).await?;
    Ok(rows
        .iter()
        .map(|r| r.try_get::<String, _>("detail").unwrap_or_default())
        .collect())
}
