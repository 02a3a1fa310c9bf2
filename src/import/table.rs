//! The CSV records of a decoded file, each with the row number Excel shows for it.
//!
//! Excel counts a record with a quoted line break as one row and a blank line as a row; the csv crate
//! skips blank lines, so [`scan`] numbers the records itself, following the same quoting rules.

use super::{group_digits, Limits, Problem};

pub(super) const EMPTY: &str = "ファイルが空です。見出し行と登録するデータの行を入力してください。";
pub(super) const HEADER_ONLY: &str =
    "登録するデータの行がありません（見出し行だけのファイルです）。";

#[derive(Debug)]
pub(super) struct Record {
    /// The Excel row number.
    pub row: usize,
    pub cells: Vec<String>,
}

#[derive(Debug)]
pub(super) struct Table {
    pub header: Record,
    /// Data records; entirely blank ones are skipped.
    pub records: Vec<Record>,
    /// Problems found while reading (field counts, an unterminated quote).
    pub problems: Vec<Problem>,
}

pub(super) fn read(text: &str, limits: &Limits) -> Result<Table, Vec<Problem>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Field counts are checked here, so that every bad row is reported, not only the first.
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header: Option<Record> = None;
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let scanned = scan(text);
    let mut index = 0;
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            // Only invalid UTF-8 fails here, and the text is a `str`.
            Err(_) => return Err(vec![Problem::error(0, "", super::decode::UNKNOWN_ENCODING)]),
        }
        let row = scanned.rows.get(index).copied().unwrap_or(index + 1);
        index += 1;
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let Some(head) = &header else {
            header = Some(Record { row, cells });
            continue;
        };
        if records.len() == limits.max_rows {
            return Err(vec![Problem::error(
                0,
                "",
                format!(
                    "データの行数が上限（{}行）を超えています。ファイルを分割して取り込んでください。",
                    group_digits(limits.max_rows)
                ),
            )]);
        }
        if cells.len() != head.cells.len() {
            problems.push(Problem::error(
                row,
                "",
                format!(
                    "列の数が見出し行と合いません（見出し行 {}列、この行 {}列）。セルの中のコンマは\"\"で囲んでください。",
                    head.cells.len(),
                    cells.len()
                ),
            ));
        }
        records.push(Record { row, cells });
    }
    if let Some(field) = scanned.unterminated {
        let last = records.pop().or_else(|| header.take());
        let (row, column) = match (&last, &header) {
            (Some(r), Some(h)) => (r.row, h.cells.get(field).cloned().unwrap_or_default()),
            (Some(r), None) => (r.row, String::new()),
            _ => (1, String::new()),
        };
        problems.retain(|p| p.row != row);
        problems.push(Problem::error(
            row,
            column.trim(),
            "\"（ダブルクォーテーション）が閉じられていません。この行からファイルの最後までが1つのセルとして読み込まれました。",
        ));
        if header.is_none() {
            return Err(problems);
        }
    }
    let Some(header) = header else {
        return Err(vec![Problem::error(0, "", EMPTY)]);
    };
    if records.is_empty() && problems.is_empty() {
        return Err(vec![Problem::error(0, "", HEADER_ONLY)]);
    }
    Ok(Table {
        header,
        records,
        problems,
    })
}

struct Scan {
    /// The Excel row of each record the csv crate returns (blank lines are not records).
    rows: Vec<usize>,
    /// The index, within its record, of a field whose quote is never closed.
    unterminated: Option<usize>,
}

/// Follows the csv crate's rules: a quote opens a field only at its start, `""` inside is a quote,
/// and CR, LF or CRLF ends a record unless quoted.
fn scan(text: &str) -> Scan {
    #[derive(PartialEq)]
    enum State {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
    }
    let mut state = State::FieldStart;
    let mut rows = Vec::new();
    let (mut row, mut field) = (1, 0);
    let (mut record_start, mut after_cr) = (true, false);
    for c in text.chars() {
        let line_break = matches!(c, '\r' | '\n') && state != State::Quoted;
        if line_break {
            if !(c == '\n' && after_cr) {
                row += 1;
            }
            after_cr = c == '\r';
            record_start = true;
            field = 0;
            state = State::FieldStart;
            continue;
        }
        after_cr = false;
        if record_start {
            rows.push(row);
            record_start = false;
        }
        state = match (state, c) {
            (State::Quoted, '"') => State::QuoteInQuoted,
            (State::Quoted, _) => State::Quoted,
            (State::QuoteInQuoted, '"') => State::Quoted,
            (State::FieldStart, '"') => State::Quoted,
            (_, ',') => {
                field += 1;
                State::FieldStart
            }
            _ => State::Unquoted,
        };
    }
    Scan {
        rows,
        unterminated: (state == State::Quoted).then_some(field),
    }
}
