//! The search screen's query: the actor's view and the conditions compiled into SQL with bound
//! parameters. A partial 氏名・フリガナ・部署 condition starts from the accounts that have its rarest
//! n-gram ([`super::ngrams`]) instead of reading the whole view; its LIKE still decides, so the
//! results are exactly those of the LIKE alone. The count stops at [`COUNT_CAP`].

use crate::domain::lockout::LockoutPolicy;
use crate::domain::search::{Filter, SortKey, UserQuery};
use crate::domain::time::{end_of_jst_day, iso_date, jst_date};
use crate::domain::visibility::{View, MUNICIPALITY_SEES};
use crate::domain::AccountState;
use sqlx::{AnyExecutor, Row};

use super::ngrams;
pub use super::search_plan::{choose_plan, Plan};
use super::sql::{like_contains, SqlBuilder};
use super::users::UserRecord;
use super::{Dialect, Result};

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
            Filter::Institution { code, name } => {
                // A subquery, so that every plan (and every view's FROM) takes it as it is.
                b.push(
                    " AND u.institution_id IN (SELECT f.id FROM institutions f WHERE f.name LIKE ",
                )
                .bind_text(like_contains(name))
                .push(" ESCAPE '\\'");
                if let Some(code) = code {
                    b.push(" OR f.code LIKE ")
                        .bind_text(like_contains(code))
                        .push(" ESCAPE '\\'");
                }
                b.push(")");
            }
            Filter::Import(id) => {
                b.push(
                    " AND u.id IN (SELECT x.user_id FROM import_accounts x WHERE x.import_id = ",
                )
                .bind_int(*id)
                .push(")");
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

/// Results are counted up to this many, and shown as 「1,000件以上」 beyond: an exact count of a large
/// view reads all of it on every page, for a figure nobody pages through.
pub const COUNT_CAP: u64 = 1_000;

/// `SELECT <what> FROM` the rows a plan reads, with `WHERE` opened (then the view and filters).
fn from_plan(b: &mut SqlBuilder, view: &View, plan: &Plan, selecting: Selecting) {
    let Plan::Gram {
        field, gram, scope, ..
    } = plan
    else {
        b.push(from_view(view, selecting));
        return;
    };
    b.push(match selecting {
        Selecting::Ids => "SELECT u.id",
        Selecting::Count => "SELECT 1 AS one",
    });
    // CROSS JOIN: SQLite then keeps the gram index as the outer loop (PostgreSQL plans freely).
    b.push(" FROM user_ngrams g CROSS JOIN users u");
    if matches!(view, View::Municipality { .. }) {
        b.push(" LEFT JOIN institutions i ON i.id = u.institution_id");
    }
    b.push(" WHERE u.id = g.user_id");
    ngrams::push_gram(b, *field, gram, *scope);
}

/// ORDER BY the chosen column (ties broken by id, so paging is stable) and the page's LIMIT/OFFSET,
/// one row more than the page to tell whether another follows.
fn push_order(select: &mut SqlBuilder, query: &UserQuery, plan: &Plan) {
    if let Plan::Gram { ordered: true, .. } = plan {
        // The gram index's own order: the same as u.kana_fold, u.id (the key is copied), and
        // read in it, a page stops after its rows.
        let dir = if query.descending { " DESC" } else { " ASC" };
        select
            .push(" ORDER BY g.kana_fold")
            .push(dir)
            .push(", g.user_id")
            .push(dir);
    } else {
        push_order_only(select, query);
    }
    select
        .push(" LIMIT ")
        .bind_int(i64::from(query.per_page) + 1)
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
            "SELECT 1 AS one FROM users u LEFT JOIN institutions i ON i.id = u.institution_id WHERE 1 = 1"
        }
        (Selecting::Ids, false) => "SELECT u.id FROM users u WHERE 1 = 1",
        (Selecting::Count, false) => "SELECT 1 AS one FROM users u WHERE 1 = 1",
    }
}

/// The page's rows. The page is chosen on the users table (and the gram index) alone, and only
/// those rows are joined and read: a late page then skips index entries, not rows.
fn page_query(
    view: &View,
    query: &UserQuery,
    plan: &Plan,
    now: i64,
    lockout: &LockoutPolicy,
) -> SqlBuilder {
    let mut ids = SqlBuilder::new("");
    from_plan(&mut ids, view, plan, Selecting::Ids);
    push_filters(&mut ids, view, query, now, lockout);
    push_order(&mut ids, query, plan);
    let mut select = SqlBuilder::new(super::users::user_select!("WHERE u.id IN ("));
    select.push_sql(ids);
    select.push(")");
    push_order_only(&mut select, query);
    select
}

/// `SELECT COUNT(*)` of the matches, stopping at `cap` when given.
fn count_query(
    view: &View,
    query: &UserQuery,
    plan: &Plan,
    now: i64,
    lockout: &LockoutPolicy,
    cap: Option<u64>,
) -> SqlBuilder {
    let mut inner = SqlBuilder::new("");
    from_plan(&mut inner, view, plan, Selecting::Count);
    push_filters(&mut inner, view, query, now, lockout);
    if let Some(cap) = cap {
        inner.push(" LIMIT ").bind_int(cap as i64);
    }
    let mut count = SqlBuilder::new("SELECT COUNT(*) AS n FROM (");
    count.push_sql(inner);
    count.push(") AS t");
    count
}

/// One page of results and the count.
#[derive(Debug, Default)]
pub struct Page {
    /// The number of results, or [`COUNT_CAP`] when there are more (`capped`).
    pub total: u64,
    /// More than [`COUNT_CAP`] results: `total` is a lower bound.
    pub capped: bool,
    /// Another page follows this one.
    pub has_next: bool,
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
    let plan = choose_plan(db, view, query).await?;
    search_with(db, view, query, &plan, now, lockout).await
}

/// The search along a given plan: every plan but `Empty` finds the same rows in the same order
/// (the tests compare them with `Scan`, the LIKE alone).
pub async fn search_with<'e, E>(
    db: E,
    view: &View,
    query: &UserQuery,
    plan: &Plan,
    now: i64,
    lockout: &LockoutPolicy,
) -> Result<Page>
where
    E: AnyExecutor<'e> + Copy,
{
    if *plan == Plan::Empty {
        return Ok(Page::default());
    }
    let mut rows = page_query(view, query, plan, now, lockout)
        .build()
        .fetch_all(db)
        .await?
        .iter()
        .map(UserRecord::from_row)
        .collect::<Result<Vec<_>>>()?;
    let per_page = query.per_page as usize;
    let has_next = rows.len() > per_page;
    rows.truncate(per_page);
    // A first page that is not full is the whole result: no count needed.
    let total = if query.offset() == 0 && !has_next {
        rows.len() as u64
    } else {
        count_query(view, query, plan, now, lockout, Some(COUNT_CAP + 1))
            .build()
            .fetch_one(db)
            .await?
            .try_get::<i64, _>("n")?
            .max(0) as u64
    };
    Ok(Page {
        total: total.min(COUNT_CAP),
        capped: total > COUNT_CAP,
        has_next,
        rows,
    })
}

/// The exact number of results, however many (for a page asked beyond the end of a capped count).
pub async fn count_all<'e, E>(
    db: E,
    view: &View,
    query: &UserQuery,
    now: i64,
    lockout: &LockoutPolicy,
) -> Result<u64>
where
    E: AnyExecutor<'e> + Copy,
{
    let plan = choose_plan(db, view, query).await?;
    if plan == Plan::Empty {
        return Ok(0);
    }
    let n: i64 = count_query(view, query, &plan, now, lockout, None)
        .build()
        .fetch_one(db)
        .await?
        .try_get("n")?;
    Ok(n.max(0) as u64)
}

/// The plan chosen, and the database's plans of the count and the page query (for the benchmark
/// that justifies the indexes): SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN ANALYZE.
pub async fn explain<'e, E>(
    db: E,
    dialect: Dialect,
    view: &View,
    query: &UserQuery,
    now: i64,
    lockout: &LockoutPolicy,
) -> Result<Vec<String>>
where
    E: AnyExecutor<'e> + Copy,
{
    let plan = choose_plan(db, view, query).await?;
    let mut out = vec![format!("chosen: {plan:?}")];
    if plan == Plan::Empty {
        return Ok(out);
    }
    let (prefix, column) = dialect.explain();
    for (label, statement) in [
        (
            "count",
            count_query(view, query, &plan, now, lockout, Some(COUNT_CAP + 1)),
        ),
        ("page", page_query(view, query, &plan, now, lockout)),
    ] {
        let mut b = SqlBuilder::new(prefix);
        b.push_sql(statement);
        for r in b.build().fetch_all(db).await? {
            out.push(format!(
                "{label}: {}",
                r.try_get::<String, _>(column).unwrap_or_default()
            ));
        }
    }
    Ok(out)
}
