//! CSV bulk registration (DESIGN §9), the pure core: bytes in, checked rows and problems out.
//!
//! No I/O, no database, no clock. The caller supplies who imports ([`Context`]); what needs the
//! database (a 医籍登録番号 already active, a person matching an active account, a file already
//! imported by [`Parsed::content_hash`]) is checked by the caller on the returned rows.
//!
//! Steps: size limit → encoding ([`decode`]) → CSV records with Excel row numbers ([`table`]) →
//! header ([`columns`]) → every row against §5 and §3 ([`validate`]). Every problem is reported at
//! once; a row with an error is left out of [`Parsed::rows`].

pub mod changes;
mod columns;
mod decode;
mod table;
mod validate;

use std::fmt;

use sha2::{Digest, Sha256};

use crate::domain::account::Profile;
use crate::domain::roles::{Actor, InstitutionRef};
use crate::domain::{Db, InstitutionCode, UserType};

pub use columns::Column;

/// Caps on what is read; a file over either is refused, never truncated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    /// Data rows (the header and blank lines not counted).
    pub max_rows: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 5 * 1024 * 1024,
            max_rows: 10_000,
        }
    }
}

/// The encoding the file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    /// Shift_JIS with the Windows (CP932) extensions, as Japanese Excel saves.
    ShiftJis,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8（BOM付き）",
            Encoding::ShiftJis => "Shift_JIS",
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Blocks the whole file.
    Error,
    /// Needs an explicit confirmation.
    Warning,
}

/// One problem, as the preview lists it: 行 as Excel numbers rows (header = 1; 0 = the file as a
/// whole), 列 = the Japanese column name ("" for the whole row/file), 理由 in Japanese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub row: usize,
    pub column: String,
    pub reason: String,
    pub severity: Severity,
}

impl Problem {
    pub(crate) fn error(row: usize, column: &str, reason: impl Into<String>) -> Problem {
        Problem {
            row,
            column: column.to_string(),
            reason: reason.into(),
            severity: Severity::Error,
        }
    }

    pub(crate) fn warning(row: usize, column: &str, reason: impl Into<String>) -> Problem {
        Problem {
            severity: Severity::Warning,
            ..Problem::error(row, column, reason)
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A row that passed every check, ready to be re-checked and registered inside the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// The Excel row number.
    pub row: usize,
    pub user_type: UserType,
    pub db: Db,
    /// The row's 医療機関コード (a 自治体担当者's file); None = the actor's own institution.
    pub institution_code: Option<InstitutionCode>,
    /// Where the row registers (resolved from the code, or the actor's own institution).
    pub institution: InstitutionRef,
    pub profile: Profile,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub encoding: Encoding,
    pub rows: Vec<ImportRow>,
    /// Sorted by row; file-level problems (row 0) and the header (row 1) first.
    pub problems: Vec<Problem>,
    /// Hex SHA-256 of the raw bytes ("" for a file refused by size, which is not read).
    pub content_hash: String,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(Problem::is_error)
    }

    pub fn has_warnings(&self) -> bool {
        self.problems.iter().any(|p| !p.is_error())
    }
}

/// Context from the caller: who imports, where it registers, and which characters the notice font
/// lacks.
pub struct Context<'a> {
    pub actor: Actor,
    /// For institution actors: their own institution (the file has no 医療機関コード column). For a
    /// 自治体担当者: None, and `institution` resolves each row's 医療機関コード (None = unknown code).
    pub own_institution: Option<InstitutionRef>,
    pub institution: &'a dyn Fn(&str) -> Option<InstitutionRef>,
    /// The first character of the text the notice font cannot draw, if any.
    pub missing_glyph: &'a dyn Fn(&str) -> Option<char>,
}

/// Reads and checks a whole file. Never panics on any input.
pub fn parse(bytes: &[u8], limits: &Limits, ctx: &Context) -> Parsed {
    let mut parsed = Parsed {
        encoding: Encoding::Utf8,
        rows: Vec::new(),
        problems: Vec::new(),
        content_hash: String::new(),
    };
    if bytes.len() > limits.max_bytes {
        parsed.problems.push(Problem::error(
            0,
            "",
            format!(
                "ファイルが大きすぎます（上限 {}）。ファイルを分割して取り込んでください。",
                size_label(limits.max_bytes)
            ),
        ));
        return parsed;
    }
    parsed.content_hash = hex::encode(Sha256::digest(bytes));
    let (encoding, text) = match decode::decode(bytes) {
        Ok(decoded) => decoded,
        Err(reason) => {
            parsed.problems.push(Problem::error(0, "", reason));
            return parsed;
        }
    };
    parsed.encoding = encoding;
    let table = match table::read(&text, limits) {
        Ok(table) => table,
        Err(problems) => {
            parsed.problems = problems;
            return parsed;
        }
    };
    let header = match columns::Header::parse(&table.header, ctx) {
        Ok(header) => header,
        Err(problems) => {
            parsed.problems = problems;
            return parsed;
        }
    };
    let mut problems = table.problems;
    let rows = validate::rows(&header, &table.records, ctx, &mut problems);
    problems.sort_by_key(|p| p.row);
    parsed.rows = rows;
    parsed.problems = problems;
    parsed
}

/// The first errors of a refused file in one line, for the import history ("3行 部署: 部署を入力して
/// ください。／… ほか2件").
pub fn summary(problems: &[Problem]) -> String {
    const SHOWN: usize = 3;
    let errors: Vec<&Problem> = problems.iter().filter(|p| p.is_error()).collect();
    let listed = if errors.is_empty() {
        problems.iter().collect()
    } else {
        errors
    };
    let mut out: Vec<String> = listed
        .iter()
        .take(SHOWN)
        .map(|p| {
            let at = match (p.row, p.column.as_str()) {
                (0, _) => String::new(),
                (r, "") => format!("{r}行: "),
                (r, c) => format!("{r}行 {c}: "),
            };
            format!("{at}{}", p.reason)
        })
        .collect();
    if listed.len() > SHOWN {
        out.push(format!("ほか{}件", listed.len() - SHOWN));
    }
    out.join("／")
}

fn size_label(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{}MB", bytes / MIB)
    } else {
        format!("{}バイト", group_digits(bytes))
    }
}

/// 10000 → "10,000".
pub(crate) fn group_digits(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
