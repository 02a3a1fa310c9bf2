//! The 交付管理表: who in the batch receives a notice, with room for their signature.
//! Never a password.

use printpdf::PdfPage;

use super::canvas::{Align, Canvas, Style};
use super::fonts::{DocFonts, NoticeFonts};
use super::forms::Forms;
use super::labels as l;
use super::model::Notice;
use super::page::{LABEL_FILL, LEFT, RIGHT, THIN};
use super::paper::PAGE_W;

/// People per page.
pub(super) const ROWS_PER_PAGE: usize = 20;
/// Column widths (mm), in the order of `labels::RECEIPT_COLUMNS`; they add up to 170.
const COLUMNS: [f32; 7] = [10.0, 31.0, 31.0, 27.0, 23.0, 30.0, 18.0];
/// With a 医療機関 column after No. (a batch that spans institutions): they add up to 170 too.
const COLUMNS_WITH_INSTITUTION: [f32; 8] = [8.0, 28.0, 25.0, 25.0, 21.0, 23.0, 24.0, 16.0];
const TABLE_TOP: f32 = 55.0;
const HEAD_H: f32 = 8.0;
const ROW_H: f32 = 10.0;

/// The receipt list's pages for `notices`.
pub(super) fn pages(
    notices: &[Notice],
    fonts: &NoticeFonts,
    ids: &DocFonts,
    forms: &mut Forms,
) -> Vec<PdfPage> {
    let total = notices.len().div_ceil(ROWS_PER_PAGE);
    notices
        .chunks(ROWS_PER_PAGE)
        .enumerate()
        .map(|(p, chunk)| {
            let mut c = Canvas::new(fonts, ids);
            draw(&mut c, notices, chunk, p * ROWS_PER_PAGE, p + 1, total);
            c.finish(forms)
        })
        .collect()
}

/// The institutions of a batch, each once, in the batch's order.
fn institutions(notices: &[Notice]) -> Vec<&str> {
    let mut seen: Vec<&str> = Vec::new();
    for n in notices {
        if !seen.contains(&n.institution_code.as_str()) {
            seen.push(&n.institution_code);
        }
    }
    seen
}

/// Whether the batch spans institutions (a 自治体担当者's): the list then has a 医療機関 column.
pub(super) fn spans_institutions(notices: &[Notice]) -> bool {
    institutions(notices).len() > 1
}

/// The organisation line: the institution (or municipality) of the batch; for a batch over
/// several institutions, their municipality and how many.
fn organisation(notices: &[Notice]) -> String {
    if spans_institutions(notices) {
        let municipality = &notices[0].municipality_name;
        let n = institutions(notices).len();
        return format!(
            "{municipality}（{}{n}{}）",
            l::RECEIPT_INSTITUTIONS,
            l::RECEIPT_PLACES
        );
    }
    let org = |n: &Notice| {
        if n.institution_name.trim().is_empty() {
            n.municipality_name.clone()
        } else if n.institution_code.trim().is_empty() {
            n.institution_name.clone()
        } else {
            format!("{}（{}）", n.institution_name, n.institution_code)
        }
    };
    let first = org(&notices[0]);
    if notices.iter().all(|n| org(n) == first) {
        first
    } else {
        format!("{first} {}", l::SEVERAL)
    }
}

fn draw(
    c: &mut Canvas,
    all: &[Notice],
    chunk: &[Notice],
    offset: usize,
    page: usize,
    pages: usize,
) {
    c.text(
        Style::text(18.0),
        PAGE_W / 2.0,
        26.0,
        Align::Center,
        l::RECEIPT_TITLE,
    );
    c.line(LEFT, 30.0, RIGHT, 30.0, 1.2);
    c.line(LEFT, 31.0, RIGHT, 31.0, 0.4);

    let info = Style::text(10.0);
    let issued = format!("{}: {}", l::ISSUED_ON, all[0].issued_on);
    let org = organisation(all);
    let org_w = RIGHT - LEFT - c.width(info, &issued) - 6.0;
    let (org_style, org) = c.fit_lines(info, &org, org_w, 1, 7.0);
    c.text(org_style, LEFT, 38.5, Align::Left, &org[0]);
    c.text(info, RIGHT, 38.5, Align::Right, &issued);
    let count = format!("{}{}{}", l::RECEIPT_COUNT, all.len(), l::RECEIPT_PERSONS);
    c.text(info, LEFT, 44.5, Align::Left, &count);
    let page_no = format!("{page} / {pages} {}", l::RECEIPT_PAGE);
    c.text(info, RIGHT, 44.5, Align::Right, &page_no);
    c.text(Style::text(8.5), LEFT, 51.0, Align::Left, l::RECEIPT_NOTE);

    // Header row.
    let with_institution = spans_institutions(all);
    let (columns, labels): (&[f32], Vec<&str>) = if with_institution {
        let mut labels = l::RECEIPT_COLUMNS.to_vec();
        labels.insert(1, l::RECEIPT_INSTITUTION);
        (&COLUMNS_WITH_INSTITUTION, labels)
    } else {
        (&COLUMNS, l::RECEIPT_COLUMNS.to_vec())
    };
    let width: f32 = columns.iter().sum();
    let height = HEAD_H + ROW_H * chunk.len() as f32;
    c.rect(LEFT, TABLE_TOP, width, HEAD_H, Some(LABEL_FILL), 0.0);
    let mut x = LEFT;
    for (label, &w) in labels.iter().zip(columns) {
        c.text(
            Style::text(9.0),
            x + w / 2.0,
            TABLE_TOP + 5.4,
            Align::Center,
            label,
        );
        x += w;
        if x < RIGHT - 0.1 {
            c.line(x, TABLE_TOP, x, TABLE_TOP + height, THIN);
        }
    }
    c.line(LEFT, TABLE_TOP + HEAD_H, RIGHT, TABLE_TOP + HEAD_H, 0.9);

    // One row per person.
    for (i, n) in chunk.iter().enumerate() {
        let top = TABLE_TOP + HEAD_H + ROW_H * i as f32;
        let base = top + ROW_H / 2.0 + 1.3;
        if i + 1 < chunk.len() {
            c.line(LEFT, top + ROW_H, RIGHT, top + ROW_H, THIN);
        }
        let number = (offset + i + 1).to_string();
        let institution = format!("{} {}", n.institution_name, n.institution_code);
        let mut x = LEFT;
        let mut cells = vec![
            number.as_str(),
            n.full_name.as_str(),
            n.kana.as_str(),
            n.department.as_str(),
        ];
        if with_institution {
            cells.insert(1, institution.as_str());
        }
        for (text, &w) in cells.iter().zip(columns) {
            // Names, kana and 部署 as registered: wrapped and shrunk, never cut.
            let (style, lines) = c.fit_whole(Style::text(10.0), text, w - 3.0, 3, 6.0);
            let gap = style.size * 0.42;
            for (i, line) in lines.iter().enumerate() {
                let y = base + (i as f32 - (lines.len() - 1) as f32 / 2.0) * gap;
                if x == LEFT {
                    c.text(style, x + w / 2.0, y, Align::Center, line);
                } else {
                    c.text(style, x + 1.5, y, Align::Left, line);
                }
            }
            x += w;
        }
        let id_w = columns[cells.len()];
        let (style, id) = c.fit_lines(Style::mono(10.5, 0.6), &n.login_id, id_w - 3.0, 1, 6.0);
        c.text(style, x + id_w / 2.0, base, Align::Center, &id[0]);
    }
    c.rect(LEFT, TABLE_TOP, width, height, None, 0.9);

    // Signatures of who handed the notices over and who checked.
    let sign_y = TABLE_TOP + height + 14.0;
    let style = Style::text(10.0);
    for (label, x) in [
        (l::RECEIPT_HANDED_BY, LEFT + 60.0),
        (l::RECEIPT_CHECKED_BY, LEFT + 120.0),
    ] {
        c.text(style, x, sign_y, Align::Left, label);
        c.line(x + 14.0, sign_y + 1.2, x + 50.0, sign_y + 1.2, THIN);
    }
}
