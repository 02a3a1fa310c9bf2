//! IDパスワード発行通知書 (DESIGN §8): the notice PDFs, one A4 page per person, optionally
//! preceded by a 交付管理表, Japanese text in embedded subset fonts, text extractable.
//!
//! Pure: no I/O but reading configured font files. Build [`NoticeFonts`] once, share it behind
//! an `Arc`, and call [`render`] per issue.

mod canvas;
mod cmap;
pub mod fonts;
mod labels;
pub mod notice;
mod page;
mod receipt;
#[cfg(test)]
mod tests;

pub use fonts::NoticeFonts;
pub use notice::{render, Notice, PdfError};
