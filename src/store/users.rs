//! Accounts: the rows, their credentials and lockout facts. State changes on someone else's account
//! take a [`Permit`], which only the role rules (or the console) hand out.

use sqlx::any::AnyRow;
use sqlx::{AnyExecutor, Row};
use time::Date;

use crate::domain::account::Profile;
use crate::domain::fold::fold;
use crate::domain::lockout::Lockout;
use crate::domain::roles::{InstitutionRef, Permit, Scope, Target};
use crate::domain::time::{iso_date, jst_date};
use crate::domain::{credentials, AccountFacts, Actor, Db, UserType};

use super::ngrams::{self, GramKeys};
use super::{Result, StoreError, Tx};

/// One account as stored, with its institution and municipality names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub login_id: String,
    pub user_type: UserType,
    pub db: Option<Db>,
    pub institution_id: Option<i64>,
    pub institution_code: Option<String>,
    pub institution_name: Option<String>,
    /// The 自治体担当者's own municipality, or the institution's.
    pub municipality_id: i64,
    pub municipality_name: String,
    pub department: String,
    pub family_name: String,
    pub given_name: String,
    pub family_kana: String,
    pub given_kana: String,
    pub medical_reg_no: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub remarks: Option<String>,
    pub expires_on: Option<Date>,
    pub password_hash: Option<String>,
    pub temp_password_mac: Option<String>,
    pub temp_password_issued_at: Option<i64>,
    pub temp_password_expires_at: Option<i64>,
    /// When the account last became 通知書未発行 by パスワード初期化 (see [`UserRecord::notice_pending_since`]).
    pub voided_at: Option<i64>,
    /// The last successful login (None: never).
    pub last_login_at: Option<i64>,
    /// Who registered the account (for a 医療クラーク等, the 責任者 or 指定医 who did).
    pub created_by: Option<i64>,
    pub failed_logins: i64,
    pub locked_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// 更新番号: bumped by every change of the profile (DESIGN §5's editable fields), so that a change
    /// file exported before a change is refused rather than undoing it.
    pub profile_version: i64,
    /// The last change of the profile: when, and by whom (None with a time: the console).
    pub profile_changed_at: Option<i64>,
    pub profile_changed_by: Option<i64>,
}

/// The SELECT every account read uses, with a tail (a literal, because sqlx takes only static SQL).
macro_rules! user_select {
    ($tail:literal) => {
        concat!(
            "SELECT u.id, u.login_id, u.user_type, u.db, u.institution_id, i.code AS institution_code, ",
            "i.name AS institution_name, m.id AS scope_municipality_id, m.name AS municipality_name, ",
            "u.department, u.family_name, u.given_name, u.family_kana, u.given_kana, u.medical_reg_no, ",
            "u.email, u.phone, u.remarks, u.expires_on, u.password_hash, u.temp_password_mac, ",
            "u.temp_password_issued_at, u.temp_password_expires_at, u.notice_pending_since, u.last_login_at, ",
            "u.created_by, u.failed_logins, u.locked_at, u.deleted_at, u.created_at, u.updated_at, ",
            "u.profile_version, u.profile_changed_at, u.profile_changed_by ",
            "FROM users u LEFT JOIN institutions i ON i.id = u.institution_id ",
            "JOIN municipalities m ON m.id = COALESCE(u.municipality_id, i.municipality_id) ",
            $tail
        )
    };
}
pub(crate) use user_select;

impl UserRecord {
    pub(super) fn from_row(row: &AnyRow) -> Result<UserRecord> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("users.{what}"));
        let user_type: String = row.try_get("user_type")?;
        let db: Option<String> = row.try_get("db")?;
        let expires_on: Option<String> = row.try_get("expires_on")?;
        Ok(UserRecord {
            id: row.try_get("id")?,
            login_id: row.try_get("login_id")?,
            user_type: UserType::parse(&user_type).ok_or_else(|| corrupt("user_type"))?,
            db: db
                .map(|d| Db::parse(&d).ok_or_else(|| corrupt("db")))
                .transpose()?,
            institution_id: row.try_get("institution_id")?,
            institution_code: row.try_get("institution_code")?,
            institution_name: row.try_get("institution_name")?,
            municipality_id: row.try_get("scope_municipality_id")?,
            municipality_name: row.try_get("municipality_name")?,
            department: row.try_get("department")?,
            family_name: row.try_get("family_name")?,
            given_name: row.try_get("given_name")?,
            family_kana: row.try_get("family_kana")?,
            given_kana: row.try_get("given_kana")?,
            medical_reg_no: row.try_get("medical_reg_no")?,
            email: row.try_get("email")?,
            phone: row.try_get("phone")?,
            remarks: row.try_get("remarks")?,
            expires_on: expires_on
                .map(|d| {
                    Date::parse(
                        &d,
                        time::macros::format_description!("[year]-[month]-[day]"),
                    )
                })
                .transpose()
                .map_err(|_| corrupt("expires_on"))?,
            password_hash: row.try_get("password_hash")?,
            temp_password_mac: row.try_get("temp_password_mac")?,
            temp_password_issued_at: row.try_get("temp_password_issued_at")?,
            temp_password_expires_at: row.try_get("temp_password_expires_at")?,
            voided_at: row.try_get("notice_pending_since")?,
            last_login_at: row.try_get("last_login_at")?,
            created_by: row.try_get("created_by")?,
            failed_logins: row.try_get("failed_logins")?,
            locked_at: row.try_get("locked_at")?,
            deleted_at: row.try_get("deleted_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            profile_version: row.try_get("profile_version")?,
            profile_changed_at: row.try_get("profile_changed_at")?,
            profile_changed_by: row.try_get("profile_changed_by")?,
        })
    }

    pub fn full_name(&self) -> String {
        format!("{}\u{3000}{}", self.family_name, self.given_name)
    }

    pub fn full_kana(&self) -> String {
        format!("{}\u{3000}{}", self.family_kana, self.given_kana)
    }

    /// Since when the account has been 通知書未発行 (None: it has a usable password): its expired
    /// temporary password's end, its last パスワード初期化, or its registration.
    pub fn notice_pending_since(&self, now: i64) -> Option<i64> {
        if self.password_hash.is_some() {
            return None;
        }
        match (&self.temp_password_mac, self.temp_password_expires_at) {
            (Some(_), Some(end)) if end > now => None,
            (Some(_), Some(end)) => Some(end),
            _ => Some(self.voided_at.unwrap_or(self.created_at)),
        }
    }

    pub fn lockout(&self) -> Lockout {
        Lockout {
            failures: u32::try_from(self.failed_logins).unwrap_or(u32::MAX),
            locked_at: self.locked_at,
        }
    }

    pub fn facts(&self) -> AccountFacts {
        AccountFacts {
            deleted_at: self.deleted_at,
            expires_on: self.expires_on,
            lockout: self.lockout(),
            has_chosen_password: self.password_hash.is_some(),
            temp_password_expires_at: self
                .temp_password_mac
                .as_ref()
                .and(self.temp_password_expires_at),
        }
    }

    /// The account as the role rules see it when it acts.
    pub fn actor(&self) -> Actor {
        let scope = match (self.institution_id, self.db) {
            (Some(id), Some(db)) => Scope::Institution {
                institution: InstitutionRef {
                    id,
                    municipality_id: self.municipality_id,
                },
                db,
            },
            _ => Scope::Municipality {
                municipality_id: self.municipality_id,
            },
        };
        Actor {
            user_id: self.id,
            user_type: self.user_type,
            scope,
        }
    }

    /// The account as the role rules see it when it is managed; None for a 自治体担当者 (nobody
    /// manages those through the rules, only the console).
    pub fn target(&self) -> Option<Target> {
        Some(Target {
            user_id: Some(self.id),
            user_type: self.user_type,
            db: self.db?,
            institution: InstitutionRef {
                id: self.institution_id?,
                municipality_id: self.municipality_id,
            },
        })
    }

    /// The 氏名 parts a chosen password must not contain.
    pub fn name_parts(&self) -> [&str; 4] {
        [
            &self.family_name,
            &self.given_name,
            &self.family_kana,
            &self.given_kana,
        ]
    }
}

/// Where a new account belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Home {
    Institution { institution_id: i64, db: Db },
    Municipality { municipality_id: i64 },
}

pub async fn by_id<'e>(db: impl AnyExecutor<'e>, id: i64) -> Result<Option<UserRecord>> {
    let row = sqlx::query(user_select!("WHERE u.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.as_ref().map(UserRecord::from_row).transpose()
}

pub async fn by_login_id<'e>(
    db: impl AnyExecutor<'e>,
    login_id: &str,
) -> Result<Option<UserRecord>> {
    let row = sqlx::query(user_select!("WHERE u.login_id = $1"))
        .bind(login_id.to_string())
        .fetch_optional(db)
        .await?;
    row.as_ref().map(UserRecord::from_row).transpose()
}

/// Creates an account with no usable password (通知書未発行) and a fresh login ID; returns (id,
/// login ID). Login IDs are never reused: deleted accounts keep theirs.
pub async fn create(
    tx: &mut Tx,
    home: Home,
    user_type: UserType,
    profile: &Profile,
    created_by: Option<i64>,
    now: i64,
) -> Result<(i64, String)> {
    let login_id = fresh_login_ids(tx, 1).await?.remove(0);
    let id = insert(tx, home, user_type, profile, &login_id, created_by, now).await?;
    Ok((id, login_id))
}

async fn insert(
    tx: &mut Tx,
    home: Home,
    user_type: UserType,
    profile: &Profile,
    login_id: &str,
    created_by: Option<i64>,
    now: i64,
) -> Result<i64> {
    let (db, institution_id, municipality_id) = match home {
        Home::Institution { institution_id, db } => (Some(db.as_str()), Some(institution_id), None),
        Home::Municipality { municipality_id } => (None, None, Some(municipality_id)),
    };
    // The profile's 13 columns are $1..$13, in the order `bind_profile` binds them.
    let query = sqlx::query(
        "INSERT INTO users (department, department_fold, family_name, given_name, family_kana, given_kana, \
         name_fold, kana_fold, medical_reg_no, email, phone, remarks, expires_on, login_id, user_type, db, \
         institution_id, municipality_id, created_at, created_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $19) \
         RETURNING id",
    );
    let row = bind_profile(query, profile)
        .bind(login_id.to_string())
        .bind(user_type.as_str())
        .bind(db)
        .bind(institution_id)
        .bind(municipality_id)
        .bind(now)
        .bind(created_by)
        .fetch_one(&mut **tx)
        .await?;
    let id: i64 = row.try_get("id")?;
    if let Some(keys) = gram_keys(id, home, profile) {
        ngrams::insert(tx, &[keys]).await?;
    }
    Ok(id)
}

/// The search keys of a new institution account, for its n-grams (a 自治体担当者 has none: no
/// search view lists it).
fn gram_keys(user_id: i64, home: Home, profile: &Profile) -> Option<GramKeys> {
    match home {
        Home::Institution { institution_id, db } => Some(GramKeys {
            user_id,
            institution_id,
            db: db.as_str().to_string(),
            name_fold: profile.name_fold(),
            kana_fold: profile.kana_fold(),
            department_fold: fold(profile.department.as_str()),
        }),
        Home::Municipality { .. } => None,
    }
}

/// `n` new login IDs, unused in the database and distinct from each other (IDs are never reused, so
/// deleted accounts keep theirs). Checked in chunks, not one query per ID.
pub async fn fresh_login_ids(tx: &mut Tx, n: usize) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::with_capacity(n);
    while out.len() < n {
        let candidates: Vec<String> = (0..(n - out.len()).min(500))
            .map(|_| credentials::generate_login_id())
            .filter(|c| seen.insert(c.clone()))
            .collect();
        if candidates.is_empty() {
            continue;
        }
        let mut q = super::sql::SqlBuilder::new("SELECT login_id FROM users WHERE login_id IN (");
        for (i, c) in candidates.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind_text(c.clone());
        }
        q.push(")");
        let taken: std::collections::HashSet<String> = q
            .build()
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("login_id"))
            .collect::<sqlx::Result<_>>()?;
        out.extend(candidates.into_iter().filter(|c| !taken.contains(c)));
    }
    Ok(out)
}

/// Creates many accounts in `tx` (CSV一括登録); returns (id, login ID) per account, in order.
pub async fn create_many(
    tx: &mut Tx,
    accounts: &[(Home, UserType, &Profile)],
    created_by: Option<i64>,
    now: i64,
) -> Result<Vec<(i64, String)>> {
    let ids = fresh_login_ids(tx, accounts.len()).await?;
    let mut out = Vec::with_capacity(accounts.len());
    let mut grams = Vec::with_capacity(accounts.len());
    // Multi-row INSERTs, then one look-up of the new ids per chunk (RETURNING's row order is not
    // guaranteed for several rows).
    for (chunk, logins) in accounts.chunks(20).zip(ids.chunks(20)) {
        let mut q = super::sql::SqlBuilder::new(
            "INSERT INTO users (department, department_fold, family_name, given_name, family_kana, given_kana, \
             name_fold, kana_fold, medical_reg_no, email, phone, remarks, expires_on, login_id, user_type, db, \
             institution_id, municipality_id, created_at, created_by, updated_at) VALUES ",
        );
        for (n, ((home, user_type, p), login_id)) in chunk.iter().zip(logins).enumerate() {
            let (db, institution_id, municipality_id) = match home {
                Home::Institution { institution_id, db } => {
                    (Some(db.as_str().to_string()), Some(*institution_id), None)
                }
                Home::Municipality { municipality_id } => (None, None, Some(*municipality_id)),
            };
            q.push(if n == 0 { "(" } else { ", (" });
            q.bind_text(p.department.as_str())
                .push(", ")
                .bind_text(fold(p.department.as_str()))
                .push(", ");
            q.bind_text(p.family_name.as_str())
                .push(", ")
                .bind_text(p.given_name.as_str())
                .push(", ");
            q.bind_text(p.family_kana.as_str())
                .push(", ")
                .bind_text(p.given_kana.as_str())
                .push(", ");
            q.bind_text(p.name_fold())
                .push(", ")
                .bind_text(p.kana_fold())
                .push(", ");
            q.bind_opt_text(p.medical_reg_no.as_ref().map(|v| v.as_str().to_string()))
                .push(", ");
            q.bind_opt_text(p.email.as_ref().map(|v| v.as_str().to_string()))
                .push(", ");
            q.bind_opt_text(p.phone.as_ref().map(|v| v.as_str().to_string()))
                .push(", ");
            q.bind_opt_text(p.remarks.as_ref().map(|v| v.as_str().to_string()))
                .push(", ");
            q.bind_opt_text(p.expires_on.map(iso_date)).push(", ");
            q.bind_text(login_id.clone())
                .push(", ")
                .bind_text(user_type.as_str())
                .push(", ");
            q.bind_opt_text(db)
                .push(", ")
                .bind_opt_int(institution_id)
                .push(", ");
            q.bind_opt_int(municipality_id)
                .push(", ")
                .bind_int(now)
                .push(", ");
            q.bind_opt_int(created_by)
                .push(", ")
                .bind_int(now)
                .push(")");
        }
        q.build().execute(&mut **tx).await?;
        let mut look =
            super::sql::SqlBuilder::new("SELECT id, login_id FROM users WHERE login_id IN (");
        for (n, l) in logins.iter().enumerate() {
            if n > 0 {
                look.push(", ");
            }
            look.bind_text(l.clone());
        }
        look.push(")");
        let found: std::collections::HashMap<String, i64> = look
            .build()
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<String, _>("login_id")?,
                    r.try_get::<i64, _>("id")?,
                ))
            })
            .collect::<sqlx::Result<_>>()?;
        for ((home, _, profile), l) in chunk.iter().zip(logins) {
            let id = *found
                .get(l)
                .ok_or_else(|| StoreError::Corrupt(format!("users.login_id {l} not inserted")))?;
            grams.extend(gram_keys(id, *home, profile));
            out.push((id, l.clone()));
        }
    }
    // Every account's grams in a few multi-row statements, in the same transaction.
    ngrams::insert(tx, &grams).await?;
    Ok(out)
}

/// The SQL condition for "active" (neither deleted nor expired) as of `today` (an ISO date in JST):
/// a 有効期限 is valid through that whole day.
fn today(now: i64) -> String {
    iso_date(jst_date(now))
}

/// Active accounts of one type in one institution + DB, other than `except` (for the last-責任者 rule
/// and for `bootstrap`).
pub async fn count_active_in_institution<'e>(
    db: impl AnyExecutor<'e>,
    institution_id: i64,
    target_db: Db,
    user_type: UserType,
    except: Option<i64>,
    now: i64,
) -> Result<u64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM users WHERE institution_id = $1 AND db = $2 AND user_type = $3 \
         AND deleted_at IS NULL AND (expires_on IS NULL OR expires_on >= $4) AND id <> $5",
    )
    .bind(institution_id)
    .bind(target_db.as_str())
    .bind(user_type.as_str())
    .bind(today(now))
    .bind(except.unwrap_or(-1))
    .fetch_one(db)
    .await?;
    Ok(row.try_get::<i64, _>("n")?.max(0) as u64)
}

/// Active 自治体担当者 of one municipality.
pub async fn count_active_officers<'e>(
    db: impl AnyExecutor<'e>,
    municipality_id: i64,
    now: i64,
) -> Result<u64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM users WHERE municipality_id = $1 AND user_type = 'municipal' \
         AND deleted_at IS NULL AND (expires_on IS NULL OR expires_on >= $2)",
    )
    .bind(municipality_id)
    .bind(today(now))
    .fetch_one(db)
    .await?;
    Ok(row.try_get::<i64, _>("n")?.max(0) as u64)
}

/// Counts a failed login in the database (`failed_logins + 1 … RETURNING`, never from a number read
/// earlier) and returns the new count, or `None` when the account is already locked (then nothing
/// is counted: failures after the lock are not "the 6th in a row").
pub async fn count_failed_login(tx: &mut Tx, user_id: i64) -> Result<Option<u32>> {
    let row = sqlx::query(
        "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = $1 AND locked_at IS NULL \
         RETURNING failed_logins",
    )
    .bind(user_id)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        let n = r.try_get::<i64, _>("failed_logins")?;
        Ok(n.clamp(0, i64::from(u32::MAX)) as u32)
    })
    .transpose()
}

/// Locks the account (the lockout policy decided that this failure locks it).
pub async fn lock(tx: &mut Tx, user_id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE users SET locked_at = $1 WHERE id = $2 AND locked_at IS NULL")
        .bind(now)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Tombstones the expired (not deleted) accounts holding one of `numbers` in `target_db`, so that a
/// new holder fits the unique index over non-deleted accounts (DESIGN §3); `except` (the account
/// being edited) is never among them. Returns their ids.
pub async fn tombstone_expired_doctors(
    tx: &mut Tx,
    target_db: Db,
    numbers: &[&str],
    except: Option<i64>,
    now: i64,
) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for chunk in numbers.chunks(500) {
        let mut q = super::sql::SqlBuilder::new("UPDATE users SET deleted_at = ");
        q.bind_int(now)
            .push(", password_hash = NULL, temp_password_mac = NULL, temp_password_expires_at = NULL, updated_at = ")
            .bind_int(now)
            .push(" WHERE deleted_at IS NULL AND expires_on IS NOT NULL AND expires_on < ")
            .bind_text(today(now))
            .push(" AND db = ")
            .bind_text(target_db.as_str())
            .push(" AND id <> ")
            .bind_int(except.unwrap_or(-1))
            .push(" AND medical_reg_no IN (");
        for (i, n) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.bind_text(*n);
        }
        q.push(") RETURNING id");
        for row in q.build().fetch_all(&mut **tx).await? {
            ids.push(row.try_get::<i64, _>("id")?);
        }
    }
    Ok(ids)
}

/// Saves the lockout facts after a failed or successful login.
pub async fn save_lockout<'e>(
    db: impl AnyExecutor<'e>,
    user_id: i64,
    lockout: Lockout,
) -> Result<()> {
    sqlx::query("UPDATE users SET failed_logins = $1, locked_at = $2 WHERE id = $3")
        .bind(i64::from(lockout.failures))
        .bind(lockout.locked_at)
        .bind(user_id)
        .execute(db)
        .await?;
    Ok(())
}

/// A successful login, inside the login's write transaction (not `updated_at`: a login changes
/// nothing a manager edits).
pub async fn record_login(tx: &mut Tx, user_id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The person's own new password (argon2 PHC string); any temporary password stops working.
pub async fn set_chosen_password(tx: &mut Tx, user_id: i64, phc: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = $1, password_changed_at = $2, temp_password_mac = NULL, \
         temp_password_issued_at = NULL, temp_password_expires_at = NULL, updated_at = $2 WHERE id = $3",
    )
    .bind(phc.to_string())
    .bind(now)
    .bind(user_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Stores a new temporary password's MAC; the earlier one, and any chosen password, stop working.
pub async fn set_temp_password(
    tx: &mut Tx,
    permit: &Permit,
    mac: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = NULL, temp_password_mac = $1, temp_password_issued_at = $2, \
         temp_password_expires_at = $3, updated_at = $2 WHERE id = $4 AND deleted_at IS NULL",
    )
    .bind(mac.to_string())
    .bind(now)
    .bind(expires_at)
    .bind(permit.target_user_id())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// パスワード初期化: no password works until a new notice is issued.
pub async fn void_password(tx: &mut Tx, permit: &Permit, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE users SET password_hash = NULL, temp_password_mac = NULL, temp_password_issued_at = NULL, \
         temp_password_expires_at = NULL, notice_pending_since = $1, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(permit.target_user_id())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// アカウントロック解除.
pub async fn unlock(tx: &mut Tx, permit: &Permit, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE users SET failed_logins = 0, locked_at = NULL, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(permit.target_user_id())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Binds the §5 fields and their search keys as $1..$13: department, department_fold, family_name,
/// given_name, family_kana, given_kana, name_fold, kana_fold, medical_reg_no, email, phone, remarks,
/// expires_on.
fn bind_profile<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    profile: &Profile,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    let text = |o: Option<&str>| o.map(str::to_string);
    query
        .bind(profile.department.as_str().to_string())
        .bind(fold(profile.department.as_str()))
        .bind(profile.family_name.as_str().to_string())
        .bind(profile.given_name.as_str().to_string())
        .bind(profile.family_kana.as_str().to_string())
        .bind(profile.given_kana.as_str().to_string())
        .bind(profile.name_fold())
        .bind(profile.kana_fold())
        .bind(text(profile.medical_reg_no.as_ref().map(|n| n.as_str())))
        .bind(text(profile.email.as_ref().map(|e| e.as_str())))
        .bind(text(profile.phone.as_ref().map(|p| p.as_str())))
        .bind(text(profile.remarks.as_ref().map(|r| r.as_str())))
        .bind(profile.expires_on.map(iso_date))
}

/// [変更] and change files: the editable fields (DESIGN §5), with the 更新番号 bumped and who changed
/// them (`by`: None = the console). Type, DB and institution never change.
pub async fn update_profile(
    tx: &mut Tx,
    permit: &Permit,
    profile: &Profile,
    by: Option<i64>,
    now: i64,
) -> Result<()> {
    let query = sqlx::query(
        "UPDATE users SET department = $1, department_fold = $2, family_name = $3, given_name = $4, \
         family_kana = $5, given_kana = $6, name_fold = $7, kana_fold = $8, medical_reg_no = $9, email = $10, \
         phone = $11, remarks = $12, expires_on = $13, updated_at = $14, profile_changed_at = $14, \
         profile_version = profile_version + 1, profile_changed_by = $15 WHERE id = $16 AND deleted_at IS NULL",
    );
    let before = ngrams::keys_of(&mut **tx, permit.target_user_id()).await?;
    let changed = bind_profile(query, profile)
        .bind(now)
        .bind(by)
        .bind(permit.target_user_id())
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if let (Some(before), true) = (before, changed > 0) {
        let after = GramKeys {
            name_fold: profile.name_fold(),
            kana_fold: profile.kana_fold(),
            department_fold: fold(profile.department.as_str()),
            ..before.clone()
        };
        ngrams::replace(tx, &before, &after).await?;
    }
    Ok(())
}

/// アカウント削除: a tombstone. The row stays for the audit trail and its login ID is never reused.
pub async fn mark_deleted(tx: &mut Tx, permit: &Permit, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE users SET deleted_at = $1, password_hash = NULL, temp_password_mac = NULL, \
         temp_password_expires_at = NULL, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(permit.target_user_id())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Another active account in `target_db` with this 医籍登録番号 (a doctor has one account per DB).
pub async fn active_with_medical_reg_no<'e>(
    db: impl AnyExecutor<'e>,
    target_db: Db,
    number: &str,
    except: Option<i64>,
    now: i64,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT login_id FROM users WHERE db = $1 AND medical_reg_no = $2 AND deleted_at IS NULL \
         AND (expires_on IS NULL OR expires_on >= $3) AND id <> $4 LIMIT 1",
    )
    .bind(target_db.as_str())
    .bind(number.to_string())
    .bind(today(now))
    .bind(except.unwrap_or(-1))
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.try_get("login_id")).transpose()?)
}

/// The accounts to tell of `target`'s lock (DESIGN §3, §12), before the role rules pick: the active
/// 責任者 of its institution + DB and the active 自治体担当者 of its municipality that have an email
/// address. The caller keeps those `may_manage(candidate, target)` allows.
pub async fn active_managers_with_email<'e>(
    db: impl AnyExecutor<'e>,
    target: &UserRecord,
    now: i64,
) -> Result<Vec<UserRecord>> {
    let rows = sqlx::query(user_select!(
        "WHERE u.deleted_at IS NULL AND (u.expires_on IS NULL OR u.expires_on >= $1) \
         AND u.email IS NOT NULL AND u.email <> '' AND u.id <> $2 \
         AND ((u.user_type = 'responsible' AND u.institution_id = $3 AND u.db = $4) \
         OR (u.user_type = 'municipal' AND u.municipality_id = $5)) ORDER BY u.id"
    ))
    .bind(today(now))
    .bind(target.id)
    .bind(target.institution_id.unwrap_or(-1))
    .bind(target.db.map(|d| d.as_str()).unwrap_or(""))
    .bind(target.municipality_id)
    .fetch_all(db)
    .await?;
    rows.iter().map(UserRecord::from_row).collect()
}
