//! What a notice prints, and why a notice PDF could not be made: the data the page layouts, the fonts
//! and the assembly share (kept apart so none of them depends on another for it).

use std::path::PathBuf;

use crate::domain::roles::Manager;

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
    /// お問い合わせ先 set for the organisation that manages the account, or for the installation; may
    /// be empty (then the default sentence for `manager`), may contain newlines.
    pub contact: String,
    /// Who manages the account: the last instruction and the default お問い合わせ先 name them.
    pub manager: Manager,
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
