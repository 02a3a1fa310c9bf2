//! Each data row against the field rules (DESIGN §5) and the role rules (§3) for the acting user,
//! and duplicates inside the file.

use std::collections::HashMap;

use super::columns::{Column, Header};
use super::table::Record;
use super::{Context, ImportRow, Problem};
use crate::domain::account::{Profile, RawProfile};
use crate::domain::roles::{may_manage, Denied, InstitutionRef, Scope, Target};
use crate::domain::spreadsheet::looks_like_formula;
use crate::domain::{Db, FieldError, InstitutionCode, UserType};

pub(super) const FORMULA: &str =
    "数式とみなされる文字で始まるセルは取り込めません。先頭の = + - @ などを削除してください。";

/// Problems of one row, at most one per column (the first found explains the cell).
struct RowProblems<'p> {
    row: usize,
    columns: Vec<&'static str>,
    errors: usize,
    out: &'p mut Vec<Problem>,
}

impl RowProblems<'_> {
    fn error(&mut self, column: Column, reason: impl Into<String>) {
        let name = column.name();
        if !self.columns.contains(&name) {
            self.columns.push(name);
            self.errors += 1;
            self.out.push(Problem::error(self.row, name, reason));
        }
    }

    fn has(&self, column: Column) -> bool {
        self.columns.contains(&column.name())
    }
}

/// Validates every record; returns the rows without errors and pushes every problem.
pub(super) fn rows(
    header: &Header,
    records: &[Record],
    ctx: &Context,
    problems: &mut Vec<Problem>,
) -> Vec<ImportRow> {
    // Rows already refused while reading (wrong field count): their cells do not line up.
    let refused: Vec<usize> = problems.iter().map(|p| p.row).collect();
    let mut rows = Vec::new();
    let mut people: HashMap<(UserType, Db, i64, String, String, String), usize> = HashMap::new();
    let mut numbers: HashMap<(Db, String), usize> = HashMap::new();
    for record in records {
        if refused.contains(&record.row) {
            continue;
        }
        let mut p = RowProblems {
            row: record.row,
            columns: Vec::new(),
            errors: 0,
            out: problems,
        };
        let Some(row) = check(header, record, ctx, &mut p) else {
            continue;
        };
        // Duplicates inside the file: the second occurrence is the error.
        let person = (
            row.user_type,
            row.db,
            row.institution.id,
            row.profile.name_fold(),
            row.profile.kana_fold(),
            row.profile.department.as_str().to_string(),
        );
        if let Some(first) = people.get(&person) {
            p.out.push(Problem::error(
                row.row,
                "",
                format!("{first}行目と同じ人です（ユーザ種別・対象DB・氏名・フリガナ・部署が同じ）。どちらかの行を削除してください。"),
            ));
            p.errors += 1;
        } else {
            people.insert(person, row.row);
        }
        if let Some(no) = &row.profile.medical_reg_no {
            let key = (row.db, no.as_str().to_string());
            if let Some(first) = numbers.get(&key) {
                p.error(
                    Column::MedicalRegNo,
                    format!(
                        "医籍登録番号 {} が{first}行目と重複しています。同じ対象DBに同じ医籍登録番号の指定医は1人だけ登録できます。",
                        no.as_str()
                    ),
                );
            } else {
                numbers.insert(key, row.row);
            }
        }
        if p.errors == 0 {
            rows.push(row);
        }
    }
    rows
}

/// One row's checks. Returns the row when its type, DB, institution and fields are known (it may
/// still have an error, e.g. the role rules refuse it); `p.errors` says whether it may be registered.
fn check(
    header: &Header,
    record: &Record,
    ctx: &Context,
    p: &mut RowProblems,
) -> Option<ImportRow> {
    let cells = &record.cells;
    for (i, cell) in cells.iter().enumerate() {
        if looks_like_formula(cell) {
            if let Some(c) = header.column_at(i) {
                p.error(c, FORMULA);
            }
        }
    }
    let cell = |c: Column| header.cell(cells, c);

    let user_type = parse_type(cell(Column::UserType), p);
    let db = parse_db(cell(Column::Db), user_type, ctx, p);
    let (institution_code, institution) = resolve_institution(header, cells, ctx, p);

    let raw = RawProfile {
        department: cell(Column::Department).to_string(),
        family_name: cell(Column::FamilyName).to_string(),
        given_name: cell(Column::GivenName).to_string(),
        family_kana: cell(Column::FamilyKana).to_string(),
        given_kana: cell(Column::GivenKana).to_string(),
        medical_reg_no: cell(Column::MedicalRegNo).to_string(),
        email: cell(Column::Email).to_string(),
        phone: cell(Column::Phone).to_string(),
        expires_on: cell(Column::ExpiresOn).to_string(),
        remarks: cell(Column::Remarks).to_string(),
    };
    let doctor = user_type.is_some_and(UserType::is_doctor);
    let profile = match Profile::parse(&raw, doctor) {
        Ok(profile) => Some(profile),
        Err(errors) => {
            for e in errors {
                p.error(column_of(e.name), e.error.to_string());
            }
            None
        }
    };
    if let Some(profile) = &profile {
        for (column, field, value) in [
            (
                Column::FamilyName,
                "氏名（姓）",
                profile.family_name.as_str(),
            ),
            (Column::GivenName, "氏名（名）", profile.given_name.as_str()),
            (Column::Department, "部署", profile.department.as_str()),
        ] {
            if let Some(character) = (ctx.missing_glyph)(value) {
                p.error(
                    column,
                    FieldError::Unprintable { field, character }.to_string(),
                );
            }
        }
    }
    if user_type.is_some_and(|t| !t.is_doctor()) && !raw.medical_reg_no.trim().is_empty() {
        p.out.push(Problem::warning(
            p.row,
            Column::MedicalRegNo.name(),
            "指定医以外のユーザには医籍登録番号は登録されません（この値は取り込まれません）。",
        ));
    }

    let (user_type, db, institution) = (user_type?, db?, institution?);
    let target = Target {
        user_id: None,
        user_type,
        db,
        institution,
    };
    let verdict = if user_type == UserType::MunicipalOfficer {
        Err(Denied::TypeNotAllowed)
    } else {
        may_manage(&ctx.actor, &target)
    };
    if let Err(denied) = verdict {
        let column = match denied {
            Denied::OtherDb | Denied::TypeDoesNotFitDb if header.has(Column::Db) => Column::Db,
            Denied::OtherMunicipality | Denied::OtherInstitution
                if header.has(Column::InstitutionCode) =>
            {
                Column::InstitutionCode
            }
            _ => Column::UserType,
        };
        p.error(column, denied.to_string());
    }
    Some(ImportRow {
        row: record.row,
        user_type,
        db,
        institution_code,
        institution,
        profile: profile?,
    })
}

fn parse_type(text: &str, p: &mut RowProblems) -> Option<UserType> {
    if p.has(Column::UserType) {
        return None;
    }
    if text.trim().is_empty() {
        p.error(Column::UserType, "ユーザ種別を入力してください。");
        return None;
    }
    let parsed = UserType::parse(text);
    if parsed.is_none() {
        p.error(
            Column::UserType,
            format!("ユーザ種別「{}」は正しくありません。責任者・難病指定医・協力難病指定医・小児慢性特定疾病指定医・医療クラーク等 のいずれかを入力してください。", text.trim()),
        );
    }
    parsed
}

/// Blank = the DB the type implies, else the actor's own DB.
fn parse_db(
    text: &str,
    user_type: Option<UserType>,
    ctx: &Context,
    p: &mut RowProblems,
) -> Option<Db> {
    if p.has(Column::Db) {
        return None;
    }
    if text.trim().is_empty() {
        let own = match ctx.actor.scope {
            Scope::Institution { db, .. } => Some(ctx.actor.user_type.implied_db().unwrap_or(db)),
            Scope::Municipality { .. } => None,
        };
        let user_type = user_type?;
        // A type without a DB of its own, in a 自治体担当者's file, is refused by the role rules
        // whatever the DB; 難病DB stands in so that the rules can say so.
        return user_type.implied_db().or(own).or(Some(Db::Nanbyo));
    }
    let parsed = Db::parse(text);
    if parsed.is_none() {
        p.error(
            Column::Db,
            format!(
                "対象DB「{}」は正しくありません。難病DB または 小慢DB を入力してください（空欄ならユーザ種別から決まります）。",
                text.trim()
            ),
        );
    }
    parsed
}

fn resolve_institution(
    header: &Header,
    cells: &[String],
    ctx: &Context,
    p: &mut RowProblems,
) -> (Option<InstitutionCode>, Option<InstitutionRef>) {
    if !header.has(Column::InstitutionCode) {
        let own = ctx.own_institution.or(match ctx.actor.scope {
            Scope::Institution { institution, .. } => Some(institution),
            Scope::Municipality { .. } => None,
        });
        return (None, own);
    }
    if p.has(Column::InstitutionCode) {
        return (None, None);
    }
    let code = match InstitutionCode::parse(header.cell(cells, Column::InstitutionCode)) {
        Ok(code) => code,
        Err(e) => {
            p.error(Column::InstitutionCode, e.to_string());
            return (None, None);
        }
    };
    let institution = (ctx.institution)(code.as_str());
    if institution.is_none() {
        p.error(
            Column::InstitutionCode,
            format!(
                "医療機関コード {} の医療機関は登録されていません。コードを確認してください。",
                code.as_str()
            ),
        );
    }
    (Some(code), institution)
}

/// The column of a [`crate::domain::account::ProfileError`]'s form field name.
fn column_of(name: &str) -> Column {
    match name {
        "department" => Column::Department,
        "family_name" => Column::FamilyName,
        "given_name" => Column::GivenName,
        "family_kana" => Column::FamilyKana,
        "given_kana" => Column::GivenKana,
        "medical_reg_no" => Column::MedicalRegNo,
        "email" => Column::Email,
        "phone" => Column::Phone,
        "expires_on" => Column::ExpiresOn,
        _ => Column::Remarks,
    }
}
