//! The audit log: appended inside the caller's write transaction, chained by HMAC (DESIGN §11).

use futures_util::TryStreamExt;
use sqlx::any::AnyRow;
use sqlx::{AnyExecutor, Row};

use crate::domain::audit::{
    Action, AuditQuery, ChainedContent, Outcome, CONSOLE_LABEL, GENESIS_MAC,
};
use crate::domain::credentials::{equal_secret, SecretKey};
use crate::domain::time::end_of_jst_day;
use crate::domain::visibility::View;
use crate::domain::Db;

use super::search::push_view;
use super::sql::{like_contains, SqlBuilder};
use super::users::UserRecord;
use super::{Result, Store, Tx};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditActor {
    User {
        id: i64,
        label: String,
    },
    /// The system administrator at the server's console.
    Console,
    /// Nobody identified (a failed login with an unknown ID).
    Anonymous,
}

impl AuditActor {
    pub fn user(u: &UserRecord) -> AuditActor {
        AuditActor::User {
            id: u.id,
            label: format!("{} {}", u.login_id, u.full_name()),
        }
    }
}

/// Whose account it was about; the institution, municipality and DB decide who may read the entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditTarget {
    pub user_id: Option<i64>,
    pub label: String,
    pub institution_id: Option<i64>,
    pub municipality_id: Option<i64>,
    pub db: Option<Db>,
    pub user_type: Option<String>,
}

impl AuditTarget {
    pub fn user(u: &UserRecord) -> AuditTarget {
        AuditTarget {
            user_id: Some(u.id),
            label: format!("{} {}", u.login_id, u.full_name()),
            institution_id: u.institution_id,
            municipality_id: Some(u.municipality_id),
            db: u.db,
            user_type: Some(u.user_type.as_str().to_string()),
        }
    }
}

/// One entry to append. `details` never holds a password, token or cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor: AuditActor,
    pub action: Action,
    pub target: Option<AuditTarget>,
    pub outcome: Outcome,
    pub client_addr: Option<String>,
    pub details: String,
}

impl AuditEntry {
    pub fn new(actor: AuditActor, action: Action, outcome: Outcome) -> AuditEntry {
        AuditEntry {
            actor,
            action,
            target: None,
            outcome,
            client_addr: None,
            details: String::new(),
        }
    }

    pub fn target(mut self, target: AuditTarget) -> Self {
        self.target = Some(target);
        self
    }

    pub fn addr(mut self, addr: Option<String>) -> Self {
        self.client_addr = addr;
        self
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = details.into();
        self
    }
}

/// Appends `entry` to the chain inside `tx`, which must be a write transaction from
/// [`Store::begin_write`]: its lock is what keeps concurrent appenders from forking the chain.
pub async fn append(tx: &mut Tx, key: &SecretKey, entry: &AuditEntry, now: i64) -> Result<()> {
    append_many(tx, key, std::slice::from_ref(entry), now).await
}

/// Appends several entries in order: the chain's head is read once, each MAC is computed from the one
/// before (a 10,000-row import writes 10,000 entries without 10,000 look-ups).
pub async fn append_many(
    tx: &mut Tx,
    key: &SecretKey,
    entries: &[AuditEntry],
    now: i64,
) -> Result<()> {
    let last = sqlx::query("SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    let (mut prev_seq, mut prev_mac) = match last {
        Some(r) => (r.try_get::<i64, _>("seq")?, r.try_get::<String, _>("mac")?),
        None => (0, GENESIS_MAC.to_string()),
    };
    // Rows go in as multi-row INSERTs (a batch's entries in a few statements, not one each).
    let mut rows: Vec<(ChainedContent, String, String)> = Vec::with_capacity(entries.len());
    for entry in entries {
        let (actor_user_id, actor_label) = match &entry.actor {
            AuditActor::User { id, label } => (Some(*id), label.clone()),
            AuditActor::Console => (None, "console".to_string()),
            AuditActor::Anonymous => (None, "-".to_string()),
        };
        let t = entry.target.clone().unwrap_or_default();
        let content = ChainedContent {
            seq: prev_seq + 1,
            at: now,
            actor_user_id,
            actor_label,
            action: entry.action.as_str().to_string(),
            target_user_id: t.user_id,
            target_label: entry.target.as_ref().map(|t| t.label.clone()),
            institution_id: t.institution_id,
            municipality_id: t.municipality_id,
            db: t.db.map(|d| d.as_str().to_string()),
            target_type: t.user_type,
            result: entry.outcome.as_str().to_string(),
            client_addr: entry.client_addr.clone(),
            details: entry.details.clone(),
        };
        let mac = content.mac(key, &prev_mac);
        prev_seq = content.seq;
        rows.push((content, std::mem::replace(&mut prev_mac, mac.clone()), mac));
    }
    for chunk in rows.chunks(25) {
        let mut q = SqlBuilder::new(
            "INSERT INTO audit_log (seq, at, actor_user_id, actor_label, action, target_user_id, target_label, \
             institution_id, municipality_id, db, target_type, result, client_addr, details, prev_mac, mac) VALUES ",
        );
        for (n, (c, prev, mac)) in chunk.iter().enumerate() {
            q.push(if n == 0 { "(" } else { ", (" });
            q.bind_int(c.seq).push(", ").bind_int(c.at).push(", ");
            q.bind_opt_int(c.actor_user_id)
                .push(", ")
                .bind_text(c.actor_label.clone())
                .push(", ");
            q.bind_text(c.action.clone())
                .push(", ")
                .bind_opt_int(c.target_user_id)
                .push(", ");
            q.bind_opt_text(c.target_label.clone())
                .push(", ")
                .bind_opt_int(c.institution_id)
                .push(", ");
            q.bind_opt_int(c.municipality_id)
                .push(", ")
                .bind_opt_text(c.db.clone())
                .push(", ");
            q.bind_opt_text(c.target_type.clone())
                .push(", ")
                .bind_text(c.result.clone())
                .push(", ");
            q.bind_opt_text(c.client_addr.clone())
                .push(", ")
                .bind_text(c.details.clone())
                .push(", ");
            q.bind_text(prev.clone())
                .push(", ")
                .bind_text(mac.clone())
                .push(")");
        }
        q.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Appends one entry in a transaction of its own (for events that change nothing else).
pub async fn record(store: &Store, key: &SecretKey, entry: &AuditEntry, now: i64) -> Result<()> {
    let mut tx = store.begin_write().await?;
    append(&mut tx, key, entry, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A stored entry as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEntry {
    pub id: i64,
    pub content: ChainedContent,
    pub prev_mac: String,
    pub mac: String,
}

impl StoredEntry {
    fn from_row(r: &AnyRow) -> sqlx::Result<StoredEntry> {
        Ok(StoredEntry {
            id: r.try_get("id")?,
            content: ChainedContent {
                seq: r.try_get("seq")?,
                at: r.try_get("at")?,
                actor_user_id: r.try_get("actor_user_id")?,
                actor_label: r.try_get("actor_label")?,
                action: r.try_get("action")?,
                target_user_id: r.try_get("target_user_id")?,
                target_label: r.try_get("target_label")?,
                institution_id: r.try_get("institution_id")?,
                municipality_id: r.try_get("municipality_id")?,
                db: r.try_get("db")?,
                target_type: r.try_get("target_type")?,
                result: r.try_get("result")?,
                client_addr: r.try_get("client_addr")?,
                details: r.try_get("details")?,
            },
            prev_mac: r.try_get("prev_mac")?,
            mac: r.try_get("mac")?,
        })
    }
}

/// Why the chain does not verify, naming the first entry at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The sequence number where the chain breaks.
    pub seq: i64,
    pub reason: &'static str,
}

/// Walks the whole chain in order. Ok(number of entries) or the first break.
pub async fn verify(store: &Store, key: &SecretKey) -> Result<Result<u64, ChainBreak>> {
    let mut rows = sqlx::query(
        "SELECT id, seq, at, actor_user_id, actor_label, action, target_user_id, target_label, institution_id, \
         municipality_id, db, target_type, result, client_addr, details, prev_mac, mac FROM audit_log ORDER BY seq",
    )
    .fetch(store.pool());
    let mut expected_seq = 1;
    let mut prev_mac = GENESIS_MAC.to_string();
    let mut count = 0;
    while let Some(row) = rows.try_next().await? {
        let e = StoredEntry::from_row(&row)?;
        if e.content.seq != expected_seq {
            return Ok(Err(ChainBreak {
                seq: expected_seq,
                reason: "entry missing (sequence gap)",
            }));
        }
        if !equal_secret(&e.prev_mac, &prev_mac) {
            return Ok(Err(ChainBreak {
                seq: e.content.seq,
                reason: "previous MAC does not match",
            }));
        }
        if !equal_secret(&e.mac, &e.content.mac(key, &prev_mac)) {
            return Ok(Err(ChainBreak {
                seq: e.content.seq,
                reason: "entry content does not match its MAC",
            }));
        }
        prev_mac = e.mac;
        expected_seq += 1;
        count += 1;
    }
    Ok(Ok(count))
}

/// The newest entries about one account (for tests and the account's history).
pub async fn for_target<'e>(db: impl AnyExecutor<'e>, user_id: i64) -> Result<Vec<StoredEntry>> {
    let rows = sqlx::query(
        "SELECT id, seq, at, actor_user_id, actor_label, action, target_user_id, target_label, institution_id, \
         municipality_id, db, target_type, result, client_addr, details, prev_mac, mac FROM audit_log \
         WHERE target_user_id = $1 ORDER BY seq",
    )
    .bind(user_id)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(StoredEntry::from_row)
        .collect::<sqlx::Result<_>>()?)
}

/// Every entry in order (for the console and tests).
pub async fn all<'e>(db: impl AnyExecutor<'e>) -> Result<Vec<StoredEntry>> {
    let rows = sqlx::query(
        "SELECT id, seq, at, actor_user_id, actor_label, action, target_user_id, target_label, institution_id, \
         municipality_id, db, target_type, result, client_addr, details, prev_mac, mac FROM audit_log ORDER BY seq",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(StoredEntry::from_row)
        .collect::<sqlx::Result<_>>()?)
}

/// Appends `WHERE`-conditions (after a `WHERE 1 = 1`) restricting `a` (audit_log) to the entries
/// `viewer` may read (DESIGN §3, §11): those whose actor or target is the viewer itself or an account
/// its [`View`](crate::domain::visibility::View) lists. Console entries and failed logins are read
/// through their target.
pub fn push_visible(b: &mut SqlBuilder, viewer_id: i64, view: &View) {
    b.push(" AND (a.actor_user_id = ")
        .bind_int(viewer_id)
        .push(" OR a.target_user_id = ")
        .bind_int(viewer_id)
        .push(" OR a.target_user_id IN (SELECT u.id FROM users u LEFT JOIN institutions i ON i.id = u.institution_id WHERE 1 = 1");
    push_view(b, view);
    b.push(") OR a.actor_user_id IN (SELECT u.id FROM users u LEFT JOIN institutions i ON i.id = u.institution_id WHERE 1 = 1");
    push_view(b, view);
    b.push("))");
}

/// Every word must occur in `column` (a literal naming an audit_log column).
fn push_words(b: &mut SqlBuilder, column: &'static str, words: &[String]) {
    for (n, w) in words.iter().enumerate() {
        if n > 0 {
            b.push(" AND ");
        }
        b.push(column)
            .push(" LIKE ")
            .bind_text(like_contains(w))
            .push(" ESCAPE '\\'");
    }
}

fn push_query(b: &mut SqlBuilder, viewer_id: i64, view: &View, query: &AuditQuery) {
    push_visible(b, viewer_id, view);
    if let Some(from) = query.from {
        // The first instant of `from` in Japan is the end of the day before.
        let start = match from.previous_day() {
            Some(day) => end_of_jst_day(day),
            None => i64::MIN,
        };
        b.push(" AND a.at >= ").bind_int(start);
    }
    if let Some(to) = query.to {
        b.push(" AND a.at < ").bind_int(end_of_jst_day(to));
    }
    if !query.actor.is_empty() {
        b.push(" AND ((");
        push_words(b, "a.actor_label", &query.actor);
        b.push(")");
        if query.actor_matches_console() {
            b.push(" OR (a.actor_user_id IS NULL AND a.actor_label = ")
                .bind_text(CONSOLE_LABEL)
                .push(")");
        }
        b.push(")");
    }
    if let Some(action) = query.action {
        b.push(" AND a.action = ").bind_text(action.as_str());
    }
    if !query.target.is_empty() {
        b.push(" AND a.target_label IS NOT NULL AND (");
        push_words(b, "a.target_label", &query.target);
        b.push(")");
    }
}

/// The number of entries `viewer` may read that match `query` (its page is ignored).
pub async fn count_visible<'e>(
    db: impl AnyExecutor<'e>,
    viewer_id: i64,
    view: &View,
    query: &AuditQuery,
) -> Result<u64> {
    let mut b = SqlBuilder::new("SELECT COUNT(*) AS n FROM audit_log a WHERE 1 = 1");
    push_query(&mut b, viewer_id, view, query);
    let n: i64 = b.build().fetch_one(db).await?.try_get("n")?;
    Ok(n.max(0) as u64)
}

/// The entries `viewer` may read that match `query`, newest first: `limit` entries from `offset`,
/// or all of them.
pub async fn list_visible<'e>(
    db: impl AnyExecutor<'e>,
    viewer_id: i64,
    view: &View,
    query: &AuditQuery,
    window: Option<(u64, u32)>,
) -> Result<Vec<StoredEntry>> {
    let mut b = SqlBuilder::new(
        "SELECT a.id, a.seq, a.at, a.actor_user_id, a.actor_label, a.action, a.target_user_id, a.target_label, \
         a.institution_id, a.municipality_id, a.db, a.target_type, a.result, a.client_addr, a.details, a.prev_mac, \
         a.mac FROM audit_log a WHERE 1 = 1",
    );
    push_query(&mut b, viewer_id, view, query);
    b.push(" ORDER BY a.seq DESC");
    if let Some((offset, limit)) = window {
        b.push(" LIMIT ")
            .bind_int(i64::from(limit))
            .push(" OFFSET ")
            .bind_int(i64::try_from(offset).unwrap_or(i64::MAX));
    }
    let rows = b.build().fetch_all(db).await?;
    Ok(rows
        .iter()
        .map(StoredEntry::from_row)
        .collect::<sqlx::Result<_>>()?)
}
