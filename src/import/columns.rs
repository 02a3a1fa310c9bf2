//! The header row: columns matched by their Japanese name, in any order (DESIGN §9).

use unicode_normalization::UnicodeNormalization;

use super::table::Record;
use super::{Context, Problem};
use crate::domain::roles::Scope;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    UserType,
    Db,
    InstitutionCode,
    Department,
    FamilyName,
    GivenName,
    FamilyKana,
    GivenKana,
    MedicalRegNo,
    Email,
    Phone,
    ExpiresOn,
    Remarks,
}

impl Column {
    /// In the order of `import/template.csv` (医療機関コード only in a 自治体担当者's file).
    pub const ALL: [Column; 13] = [
        Column::InstitutionCode,
        Column::UserType,
        Column::Db,
        Column::Department,
        Column::FamilyName,
        Column::GivenName,
        Column::FamilyKana,
        Column::GivenKana,
        Column::MedicalRegNo,
        Column::Email,
        Column::Phone,
        Column::ExpiresOn,
        Column::Remarks,
    ];

    /// The header name (full-width parentheses; half-width ones are accepted too).
    pub fn name(self) -> &'static str {
        match self {
            Column::UserType => "ユーザ種別",
            Column::Db => "対象DB",
            Column::InstitutionCode => "医療機関コード",
            Column::Department => "部署",
            Column::FamilyName => "氏名（姓）",
            Column::GivenName => "氏名（名）",
            Column::FamilyKana => "フリガナ（セイ）",
            Column::GivenKana => "フリガナ（メイ）",
            Column::MedicalRegNo => "医籍登録番号",
            Column::Email => "メールアドレス",
            Column::Phone => "電話番号",
            Column::ExpiresOn => "有効期限",
            Column::Remarks => "備考",
        }
    }

    /// Finds a column by its header text: NFKC (so half-width parentheses and kana match), spaces
    /// ignored, and ユーザー種別 accepted for ユーザ種別.
    pub fn from_header(text: &str) -> Option<Column> {
        let key = header_key(text);
        if key == "ユーザー種別" {
            return Some(Column::UserType);
        }
        Column::ALL
            .into_iter()
            .find(|c| header_key(c.name()) == key)
    }

    fn required(self, municipal: bool) -> bool {
        match self {
            Column::UserType
            | Column::Department
            | Column::FamilyName
            | Column::GivenName
            | Column::FamilyKana
            | Column::GivenKana => true,
            // Every row of a 自治体担当者's file is a 指定医, who needs both.
            Column::InstitutionCode | Column::MedicalRegNo => municipal,
            _ => false,
        }
    }
}

pub(super) fn header_key(text: &str) -> String {
    text.nfkc().filter(|c| !c.is_whitespace()).collect()
}

/// Which cell of a record holds which column.
#[derive(Debug)]
pub(super) struct Header {
    positions: Vec<(Column, usize)>,
}

impl Header {
    pub fn parse(header: &Record, ctx: &Context) -> Result<Header, Vec<Problem>> {
        let municipal = matches!(ctx.actor.scope, Scope::Municipality { .. });
        let mut positions: Vec<(Column, usize)> = Vec::new();
        let mut problems = Vec::new();
        let row = header.row;
        for (i, text) in header.cells.iter().enumerate() {
            let shown = text.trim();
            match Column::from_header(text) {
                Some(c) if positions.iter().any(|(p, _)| *p == c) => problems.push(Problem::error(
                    row,
                    c.name(),
                    format!("「{}」の列が2つあります。1つにしてください。", c.name()),
                )),
                Some(Column::InstitutionCode) if !municipal => problems.push(Problem::error(
                    row,
                    Column::InstitutionCode.name(),
                    "医療機関コードの列は自治体担当者のファイルにだけ使います。このファイルの行はすべてご自身の医療機関に登録されるため、この列を削除してください。",
                )),
                Some(c) => positions.push((c, i)),
                None if shown.is_empty() => problems.push(Problem::error(
                    row,
                    "",
                    format!("{}列目の見出しが空です。列名を入力するか、列を削除してください。", i + 1),
                )),
                None => problems.push(Problem::error(
                    row,
                    shown,
                    format!("「{shown}」は使えない列名です。列名の一覧（ユーザ種別、部署、氏名（姓） など）と同じ名前にしてください。"),
                )),
            }
        }
        for c in Column::ALL {
            if c.required(municipal) && !positions.iter().any(|(p, _)| *p == c) {
                let reason = if c == Column::InstitutionCode {
                    "必須の列「医療機関コード」がありません。自治体担当者のファイルには、登録先の医療機関コードの列が必要です。".to_string()
                } else {
                    format!("必須の列「{}」がありません。", c.name())
                };
                problems.push(Problem::error(row, c.name(), reason));
            }
        }
        if problems.is_empty() {
            Ok(Header { positions })
        } else {
            Err(problems)
        }
    }

    /// The cell of `column` in `cells` ("" when the file has no such column).
    pub fn cell<'c>(&self, cells: &'c [String], column: Column) -> &'c str {
        self.position(column)
            .and_then(|i| cells.get(i))
            .map_or("", String::as_str)
    }

    pub fn position(&self, column: Column) -> Option<usize> {
        self.positions
            .iter()
            .find(|(c, _)| *c == column)
            .map(|(_, i)| *i)
    }

    pub fn has(&self, column: Column) -> bool {
        self.position(column).is_some()
    }

    /// The column at cell index `i`.
    pub fn column_at(&self, i: usize) -> Option<Column> {
        self.positions
            .iter()
            .find(|(_, p)| *p == i)
            .map(|(c, _)| *c)
    }
}
