//! The layout of one notice page (A4 portrait, millimetres from the top-left corner).

use super::canvas::{Align, Canvas, Style};
use super::labels as l;
use super::model::Notice;
use super::paper::PAGE_W;

/// Left and right edges of the content.
pub(super) const LEFT: f32 = 20.0;
pub(super) const RIGHT: f32 = PAGE_W - 20.0;
/// Width of the label column of the tables.
const LABEL_W: f32 = 40.0;
/// Grey of the label cells and of the credentials' heading band.
pub(super) const LABEL_FILL: f32 = 0.92;
pub(super) const THIN: f32 = 0.5;
const THICK: f32 = 1.5;

const LABEL: Style = Style::text(9.5);
const VALUE: Style = Style::text(11.0);

/// Draws one notice.
pub(super) fn draw(c: &mut Canvas, n: &Notice) {
    header(c, n);
    let mut y = 56.0;
    y = details(c, n, y) + 9.0;
    y = credentials(c, n, y) + 7.0;
    y = table(c, y, &[(l::LOGIN_URL, Cell::Line(&n.login_url))]) + 9.0;
    y = instructions(c, n, y) + 6.0;
    let contact = if n.contact.trim().is_empty() {
        l::default_contact(n.manager, &n.municipality_name)
    } else {
        n.contact.trim().to_string()
    };
    table(
        c,
        y,
        &[
            (l::ISSUER, Cell::Line(&n.issuer)),
            (l::CONTACT, Cell::Lines(&contact)),
        ],
    );
}

fn header(c: &mut Canvas, n: &Notice) {
    // 「取扱注意」 stamp, top left.
    c.rect(LEFT, 12.0, 21.0, 8.0, None, 1.0);
    c.text(
        Style::text(10.0),
        LEFT + 10.5,
        17.6,
        Align::Center,
        l::CONFIDENTIAL,
    );
    // 発行日, top right.
    let issued = format!("{}: {}", l::ISSUED_ON, n.issued_on);
    c.text(Style::text(10.0), RIGHT, 17.6, Align::Right, &issued);
    // Title and system name.
    c.text(
        Style::text(22.0),
        PAGE_W / 2.0,
        34.0,
        Align::Center,
        l::DOC_TITLE,
    );
    c.text(
        Style::text(11.0),
        PAGE_W / 2.0,
        42.0,
        Align::Center,
        // A 自治体担当者 belongs to a municipality (no institution is printed for it).
        if n.institution_name.is_empty() {
            l::SYSTEM_NAME_MUNICIPAL
        } else {
            l::SYSTEM_NAME
        },
    );
    c.line(LEFT, 45.5, RIGHT, 45.5, 1.2);
    c.line(LEFT, 46.5, RIGHT, 46.5, 0.4);
    c.text(Style::text(10.5), LEFT, 54.0 - 1.5, Align::Left, l::INTRO);
}

/// The person and where they belong; returns the bottom of the table.
fn details(c: &mut Canvas, n: &Notice, y: f32) -> f32 {
    let org_value;
    let mut rows: Vec<(&str, Cell)> = Vec::with_capacity(5);
    if n.institution_name.trim().is_empty() {
        rows.push((l::MUNICIPALITY, Cell::Line(&n.municipality_name)));
    } else {
        org_value = if n.institution_code.trim().is_empty() {
            n.institution_name.clone()
        } else {
            format!("{}（{}）", n.institution_name, n.institution_code)
        };
        rows.push((l::INSTITUTION, Cell::Line(&org_value)));
    }
    if !n.db_label.trim().is_empty() {
        rows.push((l::DB, Cell::Line(&n.db_label)));
    }
    rows.push((l::USER_TYPE, Cell::Line(&n.user_type_label)));
    if !n.department.trim().is_empty() {
        rows.push((l::DEPARTMENT, Cell::Line(&n.department)));
    }
    rows.push((
        l::NAME,
        Cell::Name {
            kana: &n.kana,
            name: &n.full_name,
        },
    ));
    table(c, y, &rows)
}

/// What a table row's value cell holds.
enum Cell<'a> {
    /// One line, shrunk to fit.
    Line(&'a str),
    /// Wrapped text (newlines kept).
    Lines(&'a str),
    /// フリガナ over the name, then 「様」.
    Name { kana: &'a str, name: &'a str },
}

const ROW_H: f32 = 9.5;
/// The lowest a table may reach.
const BOTTOM: f32 = 285.0;
const NAME_ROW_H: f32 = 15.0;
const LINE_GAP: f32 = 4.8;

/// A two-column table of labelled rows from `y`; returns its bottom.
fn table(c: &mut Canvas, y: f32, rows: &[(&str, Cell)]) -> f32 {
    let value_x = LEFT + LABEL_W + 3.5;
    let value_w = RIGHT - value_x - 3.0;
    let fixed: f32 = rows.iter().map(|(_, cell)| cell.height()).sum();
    let laid_out: Vec<(f32, Style, Vec<String>)> = rows
        .iter()
        .map(|(_, cell)| match cell {
            Cell::Lines(text) => {
                let (style, lines) = wrap_within(c, text, value_w, BOTTOM - y - fixed);
                (lines_height(style, lines.len()).max(ROW_H), style, lines)
            }
            Cell::Line(text) => {
                let (style, lines) = c.fit_lines(VALUE, text, value_w, 3, 8.0);
                let h = match lines.len() {
                    1 => ROW_H,
                    n => lines_height(style, n).max(ROW_H),
                };
                (h, style, lines)
            }
            Cell::Name { kana, name } => (
                NameLayout::of(c, kana, name, value_w).height(),
                VALUE,
                Vec::new(),
            ),
        })
        .collect();
    let bottom = y + laid_out.iter().map(|(h, _, _)| h).sum::<f32>();
    // Fills first, then the rules over them, then the text.
    c.rect(LEFT, y, LABEL_W, bottom - y, Some(LABEL_FILL), 0.0);
    c.line(LEFT + LABEL_W, y, LEFT + LABEL_W, bottom, THIN);
    let mut top = y;
    for (h, _, _) in &laid_out[..laid_out.len() - 1] {
        top += h;
        c.line(LEFT, top, RIGHT, top, THIN);
    }
    c.rect(LEFT, y, RIGHT - LEFT, bottom - y, None, 0.9);
    let mut top = y;
    for ((label, cell), (h, style, lines)) in rows.iter().zip(&laid_out) {
        let (h, style) = (*h, *style);
        c.text(LABEL, LEFT + 3.0, top + h / 2.0 + 1.2, Align::Left, label);
        match cell {
            Cell::Line(_) if lines.len() == 1 => {
                c.text(style, value_x, top + h / 2.0 + 1.4, Align::Left, &lines[0]);
            }
            Cell::Name { kana, name } => {
                let n = NameLayout::of(c, kana, name, value_w);
                for (i, line) in n.kana_lines.iter().enumerate() {
                    c.text(
                        n.kana_style,
                        value_x,
                        n.kana_baseline(top, i),
                        Align::Left,
                        line,
                    );
                }
                for (i, line) in n.name_lines.iter().enumerate() {
                    c.text(
                        n.name_style,
                        value_x,
                        n.name_baseline(top, i),
                        Align::Left,
                        line,
                    );
                }
                let last = n.name_lines.last().map(String::as_str).unwrap_or_default();
                let after = value_x + c.width(n.name_style, last) + 3.0;
                c.text(
                    Style::text(12.0),
                    after,
                    n.name_baseline(top, n.name_lines.len().saturating_sub(1)),
                    Align::Left,
                    l::HONORIFIC,
                );
            }
            Cell::Line(_) | Cell::Lines(_) => {
                let gap = style.size * LINE_GAP / 10.0;
                let first = top + (h - lines_height(style, lines.len())) / 2.0 + 2.2 + gap / 2.0;
                for (i, line) in lines.iter().enumerate() {
                    c.text(style, value_x, first + i as f32 * gap, Align::Left, line);
                }
            }
        }
        top += h;
    }
    bottom
}

impl Cell<'_> {
    /// Height of a row of fixed height (0 for wrapped text).
    fn height(&self) -> f32 {
        match self {
            Cell::Line(_) => ROW_H,
            Cell::Name { .. } => NAME_ROW_H,
            Cell::Lines(_) => 0.0,
        }
    }
}

/// フリガナ over the name, as registered and never cut: one line each where they fit; else the kana
/// in two lines and the name in up to three, smaller — and the row grows rather than the text
/// shrinking out of sight (the longest names the fields allow stay readable).
struct NameLayout {
    kana_style: Style,
    kana_lines: Vec<String>,
    name_style: Style,
    name_lines: Vec<String>,
}

impl NameLayout {
    fn of(c: &Canvas, kana: &str, name: &str, value_w: f32) -> NameLayout {
        let kana_style = c.fit(Style::text(8.0), kana, value_w, 5.5);
        let (kana_style, kana_lines) = c.fit_whole(kana_style, kana, value_w, 2, 5.5);
        // Room for 「様」 after the last line.
        let (name_style, name_lines) = c.fit_whole(Style::text(15.0), name, value_w - 10.0, 3, 9.0);
        NameLayout {
            kana_style,
            kana_lines,
            name_style,
            name_lines,
        }
    }

    fn kana_baseline(&self, top: f32, i: usize) -> f32 {
        top + 4.8 + i as f32 * self.kana_style.size * 0.42
    }

    fn name_baseline(&self, top: f32, i: usize) -> f32 {
        let below_kana = self.kana_baseline(top, self.kana_lines.len().saturating_sub(1));
        let first = match self.name_lines.len() {
            1 => below_kana + 7.2,
            _ => below_kana + 5.0,
        };
        first + i as f32 * self.name_style.size * 0.42
    }

    /// The row's height: the usual one, or more for names that need more lines.
    fn height(&self) -> f32 {
        let last = self.name_baseline(0.0, self.name_lines.len().saturating_sub(1));
        (last + 3.0).max(NAME_ROW_H)
    }
}

/// Height of `n` wrapped lines in `style`.
fn lines_height(style: Style, n: usize) -> f32 {
    n as f32 * style.size * LINE_GAP / 10.0 + 4.4
}

/// Wraps `text` at 10 pt, or smaller (down to 7 pt) so it fits in `max_h` mm; what still does
/// not fit is cut, ending in 「…」.
fn wrap_within(c: &Canvas, text: &str, width: f32, max_h: f32) -> (Style, Vec<String>) {
    let mut size = 10.0;
    loop {
        let style = Style::text(size);
        let mut lines = c.wrap(style, text, width);
        if lines_height(style, lines.len()) <= max_h {
            return (style, lines);
        }
        if size <= 7.0 {
            let fits = ((max_h - 4.4) / (size * LINE_GAP / 10.0)).floor().max(1.0) as usize;
            lines.truncate(fits);
            if let Some(last) = lines.last_mut() {
                while !last.is_empty() && c.width(style, &format!("{last}…")) > width {
                    last.pop();
                }
                last.push('…');
            }
            return (style, lines);
        }
        size -= 0.5;
    }
}

/// Password cells: width and height, in mm.
const CELL_W: f32 = 7.6;
const CELL_H: f32 = 11.0;

/// The box with the login ID, the password and its expiry; returns its bottom.
fn credentials(c: &mut Canvas, n: &Notice, y: f32) -> f32 {
    let h = 62.0;
    let label_x = LEFT + 5.0;
    let value_x = LEFT + 38.0;
    // Heading band.
    c.rect(LEFT, y, RIGHT - LEFT, 8.0, Some(0.82), 0.0);
    c.line(LEFT, y + 8.0, RIGHT, y + 8.0, THIN);
    c.text(
        Style::text(11.0),
        label_x,
        y + 5.6,
        Align::Left,
        l::CREDENTIALS,
    );

    // Login ID.
    let id_base = y + 20.0;
    c.text(
        Style::text(10.5),
        label_x,
        id_base - 1.0,
        Align::Left,
        l::LOGIN_ID,
    );
    let id_style = c.fit(
        Style::mono(20.0, 3.0),
        &n.login_id,
        RIGHT - value_x - 5.0,
        9.0,
    );
    c.begin_exact(&n.login_id);
    c.text(id_style, value_x + 1.5, id_base, Align::Left, &n.login_id);
    c.end_exact();
    c.line(label_x, y + 25.0, RIGHT - 5.0, y + 25.0, THIN);

    // Password: one fixed-width cell per character, its class printed below.
    let cells_top = y + 29.0;
    c.text(
        Style::text(10.5),
        label_x,
        cells_top + CELL_H / 2.0 + 1.2,
        Align::Left,
        l::PASSWORD,
    );
    let chars: Vec<char> = n.password.chars().collect();
    let avail = RIGHT - 5.0 - value_x;
    let cell_w = CELL_W.min(avail / chars.len().max(1) as f32);
    for i in 0..chars.len() {
        c.rect(
            value_x + i as f32 * cell_w,
            cells_top,
            cell_w,
            CELL_H,
            None,
            THIN,
        );
    }
    let classes: Vec<&str> = chars.iter().map(|&ch| char_class(ch)).collect();
    let class_style = Style::text(5.5).grey(0.3);
    c.spread(
        class_style,
        value_x,
        cell_w,
        cells_top + CELL_H + 3.2,
        &classes,
    );
    // As large as the cells allow, and no glyph wider than 80 % of its cell.
    let widest = chars
        .iter()
        .map(|ch| c.width(Style::mono(1.0, 0.0), &ch.to_string()))
        .fold(0.01, f32::max);
    let size = (cell_w * 2.65).min(20.0).min(cell_w * 0.8 / widest);
    let size = (size * 10.0).floor() / 10.0;
    let base = cells_top + CELL_H / 2.0 + size * 0.125;
    let each: Vec<String> = chars.iter().map(char::to_string).collect();
    let each: Vec<&str> = each.iter().map(String::as_str).collect();
    c.begin_exact(&n.password);
    c.spread(Style::mono(size, 0.0), value_x, cell_w, base, &each);
    c.end_exact();

    // Expiry.
    let expires = format!("{}{}", l::EXPIRES, n.password_expires);
    let exp_style = c.fit(Style::text(11.5), &expires, RIGHT - LEFT - 10.0, 7.0);
    c.text(exp_style, label_x, y + h - 5.0, Align::Left, &expires);

    c.rect(LEFT, y, RIGHT - LEFT, h, None, THICK);
    y + h
}

fn char_class(ch: char) -> &'static str {
    if ch.is_ascii_lowercase() {
        l::CLASS_LOWER
    } else if ch.is_ascii_uppercase() {
        l::CLASS_UPPER
    } else if ch.is_ascii_digit() {
        l::CLASS_DIGIT
    } else if ch.is_ascii_punctuation() {
        l::CLASS_SYMBOL
    } else {
        ""
    }
}

/// The numbered instructions; returns the bottom.
fn instructions(c: &mut Canvas, n: &Notice, y: f32) -> f32 {
    c.text(Style::text(11.0), LEFT, y + 4.0, Align::Left, l::CAUTION);
    let mut base = y + 10.5;
    let style = Style::text(10.0);
    let last = l::expired_instruction(n.manager);
    for (i, text) in l::INSTRUCTIONS.iter().chain([&last]).enumerate() {
        let number = format!("{}.", i + 1);
        c.text(style, LEFT + 3.0, base, Align::Left, &number);
        c.text(style, LEFT + 8.0, base, Align::Left, text);
        base += 5.6;
    }
    base - 3.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Kana, PersonName};
    use crate::pdf::fonts::NoticeFonts;

    /// The longest 氏名 and フリガナ the fields allow stay readable on the notice: the kana at 5 pt or
    /// more (in two lines), the name at 9 pt or more (in up to three), the row growing to hold them.
    #[test]
    fn the_longest_names_stay_readable() {
        let fonts = NoticeFonts::embedded().expect("embedded fonts");
        let mut doc = printpdf::PdfDocument::new("test");
        let ids = fonts.register(&mut doc);
        let c = Canvas::new(&fonts, &ids);
        let name = format!(
            "{}　{}",
            "髙﨑邊齋"
                .repeat(PersonName::MAX)
                .chars()
                .take(PersonName::MAX)
                .collect::<String>(),
            "長谷川"
                .repeat(PersonName::MAX)
                .chars()
                .take(PersonName::MAX)
                .collect::<String>()
        );
        let kana = "タカサキ"
            .repeat(Kana::MAX)
            .chars()
            .take(Kana::MAX)
            .collect::<String>();
        let kana = format!("{kana}　{kana}");
        let value_w = RIGHT - (LEFT + LABEL_W + 3.5) - 3.0;
        let n = NameLayout::of(&c, &kana, &name, value_w);
        assert!(n.kana_style.size >= 5.0, "kana at {} pt", n.kana_style.size);
        assert!(n.name_style.size >= 9.0, "name at {} pt", n.name_style.size);
        assert_eq!(
            n.kana_lines.concat().replace(' ', ""),
            kana.replace(' ', "")
        );
        assert!(n.height() > NAME_ROW_H);
        // An ordinary name keeps the usual row.
        let short = NameLayout::of(&c, "ヤマザキ　ハナコ", "山﨑　花子", value_w);
        assert_eq!((short.kana_lines.len(), short.name_lines.len()), (1, 1));
        assert_eq!(short.height(), NAME_ROW_H);
        assert_eq!(short.name_style.size, 15.0);
    }
}
