//! The notice data, its errors, and assembling the PDF.

use std::path::PathBuf;

use printpdf::{OffsetDateTime, PdfDocument, PdfSaveOptions};

use super::canvas::Canvas;
use super::fonts::NoticeFonts;
use super::forms::Forms;
use super::{labels, page, receipt};

/// What one IDパスワード発行通知書 prints. All fields are display-ready text.
#[derive(Debug, Clone)]
pub struct Notice {
    /// e.g. 「2026/11/24（令和8年11月24日）」.
    pub issued_on: String,
    /// Empty for a 自治体担当者 (then `municipality_name` is printed instead).
    pub institution_name: String,
    /// 医療機関コード (10 digits); empty for a 自治体担当者.
    pub institution_code: String,
    pub municipality_name: String,
    /// 「難病DB」 / 「小慢DB」 / empty (the row is left out).
    pub db_label: String,
    /// e.g. 「医療クラーク等」.
    pub user_type_label: String,
    /// May be empty (the row is left out).
    pub department: String,
    /// e.g. 「髙橋　美咲」.
    pub full_name: String,
    /// e.g. 「タカハシ　ミサキ」.
    pub kana: String,
    pub login_id: String,
    pub password: String,
    /// e.g. 「2026/12/08 21:41」.
    pub password_expires: String,
    pub login_url: String,
    /// Who issued it, e.g. 「東京中央病院 医事課 髙橋　美咲（責任者）」.
    pub issuer: String,
    /// The institution's contact text; may be empty, may contain newlines.
    pub contact: String,
}

/// Why a notice PDF could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    /// A configured font file could not be read.
    #[error("通知書のフォントファイル「{}」を読み込めません: {source}", .path.display())]
    FontRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A font file is not a usable TrueType/OpenType font.
    #[error(
        "通知書のフォント「{what}」を読み込めません（TrueType/OpenType形式のフォントではないか、壊れています）"
    )]
    FontParse { what: String },
    /// A font lacks a character the notice itself prints (a label or a password character).
    #[error("通知書のフォント「{font}」には、通知書に必要な文字「{ch}」（U+{:04X}）がありません", u32::from(*.ch))]
    FontLacksGlyph { font: String, ch: char },
    /// `render` was given no notice.
    #[error("通知書の対象者がいません")]
    NoNotices,
    /// printpdf produced no document.
    #[error("通知書のPDFを作成できませんでした: {0}")]
    Render(String),
}

/// Renders the notices as one PDF: one A4 portrait page per notice, in the given order, and
/// with `receipt_list` a 交付管理表 first (20 people per page; never a password). Each font is
/// embedded once per PDF, as a subset of the glyphs used.
pub fn render(
    notices: &[Notice],
    receipt_list: bool,
    fonts: &NoticeFonts,
) -> Result<Vec<u8>, PdfError> {
    if notices.is_empty() {
        return Err(PdfError::NoNotices);
    }
    let mut doc = PdfDocument::new(labels::DOC_TITLE);
    let info = &mut doc.metadata.info;
    info.creator = labels::SYSTEM_NAME.to_string();
    let now = OffsetDateTime::now_utc();
    (
        info.creation_date,
        info.modification_date,
        info.metadata_date,
    ) = (now, now, now);
    let ids = fonts.register(&mut doc);

    let mut forms = Forms::default();
    let mut pages = Vec::with_capacity(notices.len() + 1);
    if receipt_list {
        pages.extend(receipt::pages(notices, fonts, &ids, &mut forms));
    }
    for notice in notices {
        let mut canvas = Canvas::new(fonts, &ids);
        page::draw(&mut canvas, notice);
        pages.push(canvas.finish(&mut forms));
    }
    doc.with_pages(pages);
    forms.register(&mut doc);

    let mut warnings = Vec::new();
    let bytes = doc.save(&PdfSaveOptions::default(), &mut warnings);
    if bytes.is_empty() {
        let why = warnings
            .iter()
            .map(|w| w.msg.clone())
            .collect::<Vec<_>>()
            .join("; ");
        return Err(PdfError::Render(why));
    }
    Ok(bytes)
}
