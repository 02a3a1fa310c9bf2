//! Which encoding a file is in (DESIGN §9: UTF-8 with or without BOM, Shift_JIS/CP932), and refusing
//! what is not a text file at all.

use super::Encoding;

pub(super) const UNKNOWN_ENCODING: &str = "文字コードを判別できません。UTF-8またはShift_JIS（Excelの「CSV（コンマ区切り）」）で保存してください。";
pub(super) const NOT_CSV: &str = "CSVファイルではありません（画像や文書など、文字以外のデータが含まれています）。Excelの「CSV（コンマ区切り）」で保存したファイルを選んでください。";
pub(super) const EXCEL_BOOK: &str = "Excelのブック形式のファイルは取り込めません。Excelの「名前を付けて保存」で「CSV（コンマ区切り）」を選んで保存してください。";
pub(super) const UTF16: &str = "UTF-16（Unicode テキスト）のファイルは取り込めません。Excelの「CSV（コンマ区切り）」またはUTF-8で保存してください。";

/// Signatures of common non-text files people pick by mistake.
const BINARY_MAGIC: [&[u8]; 6] = [
    b"\x89PNG",
    b"%PDF",
    b"\xFF\xD8\xFF", // JPEG
    b"GIF8",
    b"BM\x00", // never text: NUL follows
    b"\x7FELF",
];
/// .xlsx (a zip) and .xls (OLE2).
const EXCEL_MAGIC: [&[u8]; 2] = [b"PK\x03\x04", b"\xD0\xCF\x11\xE0"];

pub(super) fn decode(bytes: &[u8]) -> Result<(Encoding, String), &'static str> {
    if EXCEL_MAGIC.iter().any(|m| bytes.starts_with(m)) {
        return Err(EXCEL_BOOK);
    }
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(UTF16);
    }
    if BINARY_MAGIC.iter().any(|m| bytes.starts_with(m)) || bytes.contains(&0) {
        return Err(NOT_CSV);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(|s| (Encoding::Utf8Bom, s.to_string()))
            .map_err(|_| UNKNOWN_ENCODING);
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok((Encoding::Utf8, s.to_string()));
    }
    let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(UNKNOWN_ENCODING);
    }
    Ok((Encoding::ShiftJis, text.into_owned()))
}
