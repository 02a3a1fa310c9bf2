//! IDパスワード発行通知書 (DESIGN §8): the notice PDFs, one A4 page per person, optionally
//! preceded by a 交付管理表, Japanese text in embedded subset fonts, text extractable.
//!
//! Pure: no I/O but reading configured font files. Build [`NoticeFonts`] once, share it behind
//! an `Arc`, and call [`render`] per issue.
//!
//! Kept fast and small for 1,000-notice batches (about 0.5 s and 1.8 MB here): each font is
//! embedded once per PDF as a subset; text is placed as glyph ids from our own character map
//! (the parsed font's lookup is a linear scan of the CJK cmap); the line work of pages with
//! the same layout is one shared form XObject; numbers are written to 0.1 pt. The login ID and
//! the password carry `/ActualText`, so copying them from a viewer gives them exactly.

mod canvas;
mod cmap;
mod fit;
pub mod fonts;
mod forms;
mod labels;
mod model;
pub mod notice;
mod page;
mod paper;
mod receipt;
#[cfg(test)]
mod tests;

pub use fonts::NoticeFonts;
pub use model::{Notice, PdfError};
pub use notice::render;
