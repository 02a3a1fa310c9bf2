//! 人事異動 change files (issue 12), the pure core: the search's CSV export, edited in Excel and
//! uploaded back. A file is a change file when its header has a ログインID column (a registration file
//! never has one: login IDs are issued, not chosen).
//!
//! [`parse`] reads the file (the same size limit, encodings and Excel row numbers as registration) into
//! [`ChangeRow`]s; [`diff`] compares one row with the account as stored ([`Current`]) and says what
//! would change. What needs the database (which account a login ID is, its 更新番号, the role rules,
//! the last 責任者) is the caller's, inside the write transaction.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::columns::header_key;
use super::validate::FORMULA;
use super::{decode, table, Encoding, Limits, Problem};
use crate::domain::account::{Profile, RawProfile};
use crate::domain::fold::{fold, to_ascii_digits};
use crate::domain::spreadsheet::looks_like_formula;
use crate::domain::time::{format_date, parse_date};

/// The columns of the search's CSV export, in its order; the export writes this header, and a change
/// file is read by these names (in any order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChangeColumn {
    LoginId,
    FamilyName,
    GivenName,
    FamilyKana,
    GivenKana,
    UserType,
    Db,
    InstitutionCode,
    InstitutionName,
    Department,
    MedicalRegNo,
    Email,
    Phone,
    ExpiresOn,
    State,
    CreatedOn,
    LastLogin,
    Remarks,
    Version,
    Delete,
}

/// What a column is to a change file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// ログインID, 更新番号: which account, and which version of it the file was exported from.
    Key,
    /// DESIGN §5's editable fields (医籍登録番号 only in a 自治体担当者's file).
    Editable,
    /// Facts no file changes (ユーザ種別, 対象DB, 医療機関, 登録日): an edit is reported, not applied.
    Fixed,
    /// 状態 and 最終ログイン change by themselves between export and upload: not read.
    Reference,
    /// 削除: marks the account for deletion.
    Delete,
}

impl ChangeColumn {
    pub const EXPORT: [ChangeColumn; 20] = [
        ChangeColumn::LoginId,
        ChangeColumn::FamilyName,
        ChangeColumn::GivenName,
        ChangeColumn::FamilyKana,
        ChangeColumn::GivenKana,
        ChangeColumn::UserType,
        ChangeColumn::Db,
        ChangeColumn::InstitutionCode,
        ChangeColumn::InstitutionName,
        ChangeColumn::Department,
        ChangeColumn::MedicalRegNo,
        ChangeColumn::Email,
        ChangeColumn::Phone,
        ChangeColumn::ExpiresOn,
        ChangeColumn::State,
        ChangeColumn::CreatedOn,
        ChangeColumn::LastLogin,
        ChangeColumn::Remarks,
        ChangeColumn::Version,
        ChangeColumn::Delete,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ChangeColumn::LoginId => "ログインID",
            ChangeColumn::FamilyName => "氏名（姓）",
            ChangeColumn::GivenName => "氏名（名）",
            ChangeColumn::FamilyKana => "フリガナ（セイ）",
            ChangeColumn::GivenKana => "フリガナ（メイ）",
            ChangeColumn::UserType => "ユーザ種別",
            ChangeColumn::Db => "対象DB",
            ChangeColumn::InstitutionCode => "医療機関コード",
            ChangeColumn::InstitutionName => "医療機関名",
            ChangeColumn::Department => "部署",
            ChangeColumn::MedicalRegNo => "医籍登録番号",
            ChangeColumn::Email => "メールアドレス",
            ChangeColumn::Phone => "電話番号",
            ChangeColumn::ExpiresOn => "有効期限",
            ChangeColumn::State => "状態",
            ChangeColumn::CreatedOn => "登録日",
            ChangeColumn::LastLogin => "最終ログイン",
            ChangeColumn::Remarks => "備考",
            ChangeColumn::Version => "更新番号",
            ChangeColumn::Delete => "削除",
        }
    }

    /// The column of a [`crate::domain::account::ProfileError`]'s form field name.
    pub fn of_field(name: &str) -> ChangeColumn {
        match name {
            "department" => ChangeColumn::Department,
            "family_name" => ChangeColumn::FamilyName,
            "given_name" => ChangeColumn::GivenName,
            "family_kana" => ChangeColumn::FamilyKana,
            "given_kana" => ChangeColumn::GivenKana,
            "medical_reg_no" => ChangeColumn::MedicalRegNo,
            "email" => ChangeColumn::Email,
            "phone" => ChangeColumn::Phone,
            "expires_on" => ChangeColumn::ExpiresOn,
            _ => ChangeColumn::Remarks,
        }
    }

    pub fn role(self) -> Role {
        use ChangeColumn::*;
        match self {
            LoginId | Version => Role::Key,
            FamilyName | GivenName | FamilyKana | GivenKana | Department | MedicalRegNo | Email
            | Phone | ExpiresOn | Remarks => Role::Editable,
            UserType | Db | InstitutionCode | InstitutionName | CreatedOn => Role::Fixed,
            State | LastLogin => Role::Reference,
            Delete => Role::Delete,
        }
    }

    fn from_header(text: &str) -> Option<ChangeColumn> {
        let key = header_key(text);
        let key = if key == "ユーザー種別" {
            "ユーザ種別".to_string()
        } else {
            key
        };
        ChangeColumn::EXPORT
            .into_iter()
            .find(|c| header_key(c.name()) == key)
    }
}

/// Whether `bytes` is a change file (its header names a ログインID column). Unreadable files are not:
/// the registration import then explains what is wrong with them.
pub fn is_change_file(bytes: &[u8], limits: &Limits) -> bool {
    if bytes.len() > limits.max_bytes {
        return false;
    }
    let Ok((_, text)) = decode::decode(bytes) else {
        return false;
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    while let Ok(true) = reader.read_record(&mut record) {
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        return record
            .iter()
            .any(|c| ChangeColumn::from_header(c) == Some(ChangeColumn::LoginId));
    }
    false
}

/// One data row of a change file, its cells cleaned of the export's own apostrophe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRow {
    /// The Excel row number.
    pub row: usize,
    pub login_id: String,
    /// 更新番号 as exported; None when blank or not a number (an error once the row changes).
    pub version: Option<i64>,
    pub delete: bool,
    cells: Vec<(ChangeColumn, String)>,
}

impl ChangeRow {
    pub fn cell(&self, column: ChangeColumn) -> Option<&str> {
        self.cells
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeFile {
    pub encoding: Encoding,
    /// Rows whose cells could be read (a row with a formula or a broken 削除 is left out).
    pub rows: Vec<ChangeRow>,
    pub problems: Vec<Problem>,
    /// Hex SHA-256 of the raw bytes ("" for a file refused by size).
    pub content_hash: String,
}

impl ChangeFile {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }
}

const DELETE_MARKS: [&str; 9] = ["削除", "○", "〇", "◯", "1", "はい", "y", "yes", "true"];

/// Reads and checks a change file's shape: header, login IDs, 更新番号, 削除, formulas. Never panics.
pub fn parse(bytes: &[u8], limits: &Limits) -> ChangeFile {
    let mut file = ChangeFile {
        encoding: Encoding::Utf8,
        rows: Vec::new(),
        problems: Vec::new(),
        content_hash: String::new(),
    };
    if bytes.len() > limits.max_bytes {
        file.problems.push(Problem::error(
            0,
            "",
            "ファイルが大きすぎます。ファイルを分割して取り込んでください。",
        ));
        return file;
    }
    file.content_hash = hex::encode(Sha256::digest(bytes));
    let (encoding, text) = match decode::decode(bytes) {
        Ok(decoded) => decoded,
        Err(reason) => {
            file.problems.push(Problem::error(0, "", reason));
            return file;
        }
    };
    file.encoding = encoding;
    let table = match table::read(&text, limits) {
        Ok(table) => table,
        Err(mut problems) => {
            for p in &mut problems {
                if p.reason == table::HEADER_ONLY {
                    p.reason =
                        "変更するデータの行がありません（見出し行だけのファイルです）。".into();
                }
            }
            file.problems = problems;
            return file;
        }
    };
    let mut positions: Vec<(ChangeColumn, usize)> = Vec::new();
    for (i, text) in table.header.cells.iter().enumerate() {
        let shown = text.trim();
        match ChangeColumn::from_header(text) {
            Some(c) if positions.iter().any(|(p, _)| *p == c) => file.problems.push(Problem::error(
                table.header.row,
                c.name(),
                format!("「{}」の列が2つあります。1つにしてください。", c.name()),
            )),
            Some(c) => positions.push((c, i)),
            None if shown.is_empty() => file.problems.push(Problem::error(
                table.header.row,
                "",
                format!("{}列目の見出しが空です。列名を入力するか、列を削除してください。", i + 1),
            )),
            None => file.problems.push(Problem::error(
                table.header.row,
                shown,
                format!("「{shown}」は変更ファイルで使えない列名です。検索画面の「CSV出力」で出力したファイルの列名のままにしてください。"),
            )),
        }
    }
    for required in [ChangeColumn::LoginId, ChangeColumn::Version] {
        if !positions.iter().any(|(c, _)| *c == required) {
            file.problems.push(Problem::error(
                table.header.row,
                required.name(),
                format!("必須の列「{}」がありません。検索画面の「CSV出力」で出力したファイルを編集してください。", required.name()),
            ));
        }
    }
    if file.has_errors() {
        return file;
    }
    let mut problems = table.problems;
    let refused: Vec<usize> = problems.iter().map(|p| p.row).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for record in &table.records {
        if refused.contains(&record.row) {
            continue;
        }
        if let Some(row) = read_row(record, &positions, &mut seen, &mut problems) {
            file.rows.push(row);
        }
    }
    problems.sort_by_key(|p| p.row);
    file.problems = problems;
    file
}

fn read_row(
    record: &table::Record,
    positions: &[(ChangeColumn, usize)],
    seen: &mut HashMap<String, usize>,
    problems: &mut Vec<Problem>,
) -> Option<ChangeRow> {
    let row = record.row;
    let before = problems.len();
    let mut cells = Vec::with_capacity(positions.len());
    for &(column, i) in positions {
        let raw = record.cells.get(i).map_or("", String::as_str);
        // The export escapes a cell that Excel would take for a formula with a leading apostrophe;
        // its own escape comes back and is removed. A formula typed in Excel is refused.
        let value = match raw.strip_prefix('\'') {
            Some(rest) if looks_like_formula(rest) => rest,
            _ if looks_like_formula(raw) && column.role() != Role::Reference => {
                problems.push(Problem::error(row, column.name(), FORMULA));
                raw
            }
            _ => raw,
        };
        cells.push((column, value.to_string()));
    }
    let get = |c: ChangeColumn| {
        cells
            .iter()
            .find(|(k, _)| *k == c)
            .map_or("", |(_, v)| v.as_str())
    };
    let login_id = get(ChangeColumn::LoginId).trim().to_string();
    if login_id.is_empty() {
        problems.push(Problem::error(
            row,
            ChangeColumn::LoginId.name(),
            "ログインIDが空です。出力したファイルのログインIDは変更・削除しないでください。",
        ));
    } else if let Some(first) = seen.get(&login_id) {
        problems.push(Problem::error(
            row,
            ChangeColumn::LoginId.name(),
            format!(
                "ログインID {login_id} が{first}行目と重複しています。1人につき1行にしてください。"
            ),
        ));
    } else {
        seen.insert(login_id.clone(), row);
    }
    let version = to_ascii_digits(get(ChangeColumn::Version).trim())
        .parse::<i64>()
        .ok()
        .filter(|v| *v > 0);
    let mark = fold(get(ChangeColumn::Delete));
    let delete = !mark.is_empty();
    if delete && !DELETE_MARKS.contains(&mark.as_str()) {
        problems.push(Problem::error(
            row,
            ChangeColumn::Delete.name(),
            "削除するアカウントの行には「削除」と入力してください（空欄なら削除しません）。",
        ));
    }
    (problems.len() == before).then_some(ChangeRow {
        row,
        login_id,
        version,
        delete,
        cells,
    })
}

/// The account a row names, as stored, in the strings the export writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Current {
    pub raw: RawProfile,
    pub doctor: bool,
    /// The Fixed columns' exported values.
    pub fixed: Vec<(ChangeColumn, String)>,
}

/// One field a row changes, for the preview (before → after as the screens show them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub column: ChangeColumn,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Diff {
    Unchanged,
    Delete,
    Change {
        profile: Box<Profile>,
        changes: Vec<FieldChange>,
    },
}

/// What `row` would change on `current`. `may_edit_reg_no`: the actor is a 自治体担当者. Problems of
/// the row's values are pushed (an error leaves the row out: None); edits of columns no file changes
/// are warnings and are not applied.
pub fn diff(
    row: &ChangeRow,
    current: &Current,
    may_edit_reg_no: bool,
    problems: &mut Vec<Problem>,
) -> Option<Diff> {
    for (column, stored) in &current.fixed {
        if let Some(cell) = row.cell(*column) {
            if !same_fact(cell, stored) {
                problems.push(Problem::warning(
                    row.row,
                    column.name(),
                    format!(
                        "「{}」は変更できない列です（{} → {}）。この変更は反映されません。",
                        column.name(),
                        shown(stored),
                        shown(cell.trim())
                    ),
                ));
            }
        }
    }
    if row.delete {
        return Some(Diff::Delete);
    }
    let mut raw = current.raw.clone();
    for (column, slot) in [
        (ChangeColumn::Department, &mut raw.department),
        (ChangeColumn::FamilyName, &mut raw.family_name),
        (ChangeColumn::GivenName, &mut raw.given_name),
        (ChangeColumn::FamilyKana, &mut raw.family_kana),
        (ChangeColumn::GivenKana, &mut raw.given_kana),
        (ChangeColumn::MedicalRegNo, &mut raw.medical_reg_no),
        (ChangeColumn::Email, &mut raw.email),
        (ChangeColumn::Phone, &mut raw.phone),
        (ChangeColumn::ExpiresOn, &mut raw.expires_on),
        (ChangeColumn::Remarks, &mut raw.remarks),
    ] {
        let Some(cell) = row.cell(column) else {
            continue;
        };
        if column == ChangeColumn::Phone && lost_leading_zero(cell, slot) {
            continue;
        }
        *slot = cell.to_string();
    }
    if raw.medical_reg_no != current.raw.medical_reg_no && (!may_edit_reg_no || !current.doctor) {
        let same = same_fact(&raw.medical_reg_no, &current.raw.medical_reg_no);
        if !same {
            let reason = if current.doctor {
                "医籍登録番号は自治体担当者だけが変更できます。この変更は反映されません。"
            } else {
                "指定医以外のユーザには医籍登録番号は登録されません。この値は反映されません。"
            };
            problems.push(Problem::warning(
                row.row,
                ChangeColumn::MedicalRegNo.name(),
                reason,
            ));
        }
        raw.medical_reg_no = current.raw.medical_reg_no.clone();
    }
    let after = match Profile::parse(&raw, current.doctor) {
        Ok(profile) => profile,
        Err(errors) => {
            for e in errors {
                problems.push(Problem::error(
                    row.row,
                    ChangeColumn::of_field(e.name).name(),
                    e.error.to_string(),
                ));
            }
            return None;
        }
    };
    // A stored value today's rules would refuse (a rule tightened since) is compared as stored.
    let before = match Profile::parse(&current.raw, current.doctor) {
        Ok(before) => shown_values(&before),
        Err(_) => raw_values(&current.raw),
    };
    let changes: Vec<FieldChange> = before
        .into_iter()
        .zip(shown_values(&after))
        .filter(|((_, b), (_, a))| b != a)
        .map(|((column, before), (_, after))| FieldChange {
            column,
            before,
            after,
        })
        .collect();
    Some(if changes.is_empty() {
        Diff::Unchanged
    } else {
        Diff::Change {
            profile: Box::new(after),
            changes,
        }
    })
}

fn shown(s: &str) -> &str {
    if s.is_empty() {
        "（空欄）"
    } else {
        s
    }
}

/// Excel shows 0312345678 as the number 312345678 and saves it so: the same phone, not a change.
fn lost_leading_zero(cell: &str, stored: &str) -> bool {
    let cell = to_ascii_digits(cell.trim());
    !cell.is_empty()
        && cell.bytes().all(|b| b.is_ascii_digit())
        && stored.starts_with('0')
        && stored.trim_start_matches('0') == cell
}

/// Two exported facts are the same after Excel's habits: width and spaces folded, leading zeros of a
/// number dropped, a date reformatted (2027/03/31 → 2027/3/31).
fn same_fact(cell: &str, stored: &str) -> bool {
    let (a, b) = (fold(cell), fold(stored));
    if a == b {
        return true;
    }
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if numeric(&a) && numeric(&b) {
        return a.trim_start_matches('0') == b.trim_start_matches('0');
    }
    match (parse_date("", cell), parse_date("", stored)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// The editable fields as the screens show them, in the export's order.
fn shown_values(p: &Profile) -> [(ChangeColumn, String); 10] {
    let opt = |o: Option<&str>| o.unwrap_or("").to_string();
    [
        (ChangeColumn::FamilyName, p.family_name.as_str().to_string()),
        (ChangeColumn::GivenName, p.given_name.as_str().to_string()),
        (ChangeColumn::FamilyKana, p.family_kana.as_str().to_string()),
        (ChangeColumn::GivenKana, p.given_kana.as_str().to_string()),
        (ChangeColumn::Department, p.department.as_str().to_string()),
        (
            ChangeColumn::MedicalRegNo,
            opt(p.medical_reg_no.as_ref().map(|n| n.as_str())),
        ),
        (
            ChangeColumn::Email,
            opt(p.email.as_ref().map(|e| e.as_str())),
        ),
        (
            ChangeColumn::Phone,
            opt(p.phone.as_ref().map(|e| e.as_str())),
        ),
        (
            ChangeColumn::ExpiresOn,
            p.expires_on.map(format_date).unwrap_or_default(),
        ),
        (
            ChangeColumn::Remarks,
            opt(p.remarks.as_ref().map(|r| r.as_str())),
        ),
    ]
}

fn raw_values(raw: &RawProfile) -> [(ChangeColumn, String); 10] {
    [
        (ChangeColumn::FamilyName, raw.family_name.clone()),
        (ChangeColumn::GivenName, raw.given_name.clone()),
        (ChangeColumn::FamilyKana, raw.family_kana.clone()),
        (ChangeColumn::GivenKana, raw.given_kana.clone()),
        (ChangeColumn::Department, raw.department.clone()),
        (ChangeColumn::MedicalRegNo, raw.medical_reg_no.clone()),
        (ChangeColumn::Email, raw.email.clone()),
        (ChangeColumn::Phone, raw.phone.clone()),
        (ChangeColumn::ExpiresOn, raw.expires_on.clone()),
        (ChangeColumn::Remarks, raw.remarks.clone()),
    ]
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
