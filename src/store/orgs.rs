//! 自治体 (municipalities) and 医療機関 (institutions).

use sqlx::any::AnyRow;
use sqlx::{AnyExecutor, Row};

use crate::domain::roles::InstitutionRef;
use crate::domain::{InstitutionCode, MunicipalityCode};

use super::{Result, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    pub id: i64,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Institution {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub municipality_id: i64,
    pub municipality_code: String,
    pub municipality_name: String,
}

impl Institution {
    pub fn as_ref(&self) -> InstitutionRef {
        InstitutionRef {
            id: self.id,
            municipality_id: self.municipality_id,
        }
    }
}

fn municipality(row: &AnyRow) -> sqlx::Result<Municipality> {
    Ok(Municipality {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
    })
}

fn institution(row: &AnyRow) -> sqlx::Result<Institution> {
    Ok(Institution {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        municipality_id: row.try_get("municipality_id")?,
        municipality_code: row.try_get("municipality_code")?,
        municipality_name: row.try_get("municipality_name")?,
    })
}

/// The institution SELECT with a tail (sqlx takes only `&'static str` SQL, so this is a literal).
macro_rules! institution_select {
    ($tail:literal) => {
        concat!(
            "SELECT i.id, i.code, i.name, i.municipality_id, m.code AS municipality_code, ",
            "m.name AS municipality_name FROM institutions i JOIN municipalities m ON m.id = i.municipality_id ",
            $tail
        )
    };
}

pub async fn add_municipality(
    tx: &mut Tx,
    code: &MunicipalityCode,
    name: &str,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO municipalities (code, name, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(code.as_str())
    .bind(name)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

pub async fn municipality_by_code<'e>(
    db: impl AnyExecutor<'e>,
    code: &str,
) -> Result<Option<Municipality>> {
    let row = sqlx::query("SELECT id, code, name FROM municipalities WHERE code = $1")
        .bind(code.to_string())
        .fetch_optional(db)
        .await?;
    Ok(row.as_ref().map(municipality).transpose()?)
}

pub async fn municipality_by_id<'e>(
    db: impl AnyExecutor<'e>,
    id: i64,
) -> Result<Option<Municipality>> {
    let row = sqlx::query("SELECT id, code, name FROM municipalities WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.as_ref().map(municipality).transpose()?)
}

pub async fn list_municipalities<'e>(db: impl AnyExecutor<'e>) -> Result<Vec<Municipality>> {
    let rows = sqlx::query("SELECT id, code, name FROM municipalities ORDER BY code")
        .fetch_all(db)
        .await?;
    Ok(rows.iter().map(municipality).collect::<sqlx::Result<_>>()?)
}

pub async fn add_institution(
    tx: &mut Tx,
    code: &InstitutionCode,
    name: &str,
    municipality_id: i64,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO institutions (code, name, municipality_id, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(code.as_str())
    .bind(name)
    .bind(municipality_id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("id")?)
}

pub async fn rename_institution(tx: &mut Tx, id: i64, name: &str) -> Result<()> {
    sqlx::query("UPDATE institutions SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn institution_by_code<'e>(
    db: impl AnyExecutor<'e>,
    code: &str,
) -> Result<Option<Institution>> {
    let row = sqlx::query(institution_select!("WHERE i.code = $1"))
        .bind(code.to_string())
        .fetch_optional(db)
        .await?;
    Ok(row.as_ref().map(institution).transpose()?)
}

pub async fn institution_by_id<'e>(
    db: impl AnyExecutor<'e>,
    id: i64,
) -> Result<Option<Institution>> {
    let row = sqlx::query(institution_select!("WHERE i.id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(row.as_ref().map(institution).transpose()?)
}

pub async fn list_institutions<'e>(db: impl AnyExecutor<'e>) -> Result<Vec<Institution>> {
    let rows = sqlx::query(institution_select!("ORDER BY i.code"))
        .fetch_all(db)
        .await?;
    Ok(rows.iter().map(institution).collect::<sqlx::Result<_>>()?)
}

/// The institutions of one municipality (for a 自治体担当者's forms).
pub async fn institutions_of<'e>(
    db: impl AnyExecutor<'e>,
    municipality_id: i64,
) -> Result<Vec<Institution>> {
    let rows = sqlx::query(institution_select!(
        "WHERE i.municipality_id = $1 ORDER BY i.code"
    ))
    .bind(municipality_id)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().map(institution).collect::<sqlx::Result<_>>()?)
}

/// Which organisation's お問い合わせ先.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactOf {
    Institution(i64),
    Municipality(i64),
}

/// The お問い合わせ先 set for an institution or a municipality (None: the installation's default).
pub async fn notice_contact<'e>(db: impl AnyExecutor<'e>, of: ContactOf) -> Result<Option<String>> {
    let (sql, id) = match of {
        ContactOf::Institution(id) => ("SELECT notice_contact FROM institutions WHERE id = $1", id),
        ContactOf::Municipality(id) => (
            "SELECT notice_contact FROM municipalities WHERE id = $1",
            id,
        ),
    };
    let row = sqlx::query(sql).bind(id).fetch_optional(db).await?;
    Ok(match row {
        Some(r) => r.try_get::<Option<String>, _>(0)?,
        None => None,
    })
}

pub async fn set_notice_contact(tx: &mut Tx, of: ContactOf, text: Option<&str>) -> Result<()> {
    let (sql, id) = match of {
        ContactOf::Institution(id) => (
            "UPDATE institutions SET notice_contact = $1 WHERE id = $2",
            id,
        ),
        ContactOf::Municipality(id) => (
            "UPDATE municipalities SET notice_contact = $1 WHERE id = $2",
            id,
        ),
    };
    sqlx::query(sql)
        .bind(text)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
