//! Assembling the notices' PDF.

use printpdf::{OffsetDateTime, PdfDocument, PdfSaveOptions};

use super::canvas::Canvas;
use super::fonts::NoticeFonts;
use super::forms::Forms;
use super::model::{Notice, PdfError};
use super::{labels, page, receipt};

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
