//! Reading back the PDFs the server answers with.

#![allow(dead_code)]

/// The text of every page, line breaks removed.
pub fn pages(pdf: &[u8]) -> Vec<String> {
    let doc = lopdf::Document::load_mem(pdf).expect("a readable PDF");
    let n = doc.get_pages().len() as u32;
    (1..=n)
        .map(|p| {
            doc.extract_text(&[p])
                .expect("extractable text")
                .replace('\n', "")
        })
        .collect()
}
