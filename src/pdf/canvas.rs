//! A tiny drawing surface over printpdf's ops: millimetres measured from the top-left corner
//! of an A4 page, text runs placed absolutely, graphics first and all text in one text object.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use printpdf::{
    Codepoint, Color, DictItem, Greyscale, Mm, Op, PdfFontHandle, PdfPage, Pt, TextItem,
    TextMatrix, XObjectTransform,
};

use super::fonts::{is_invisible, DocFonts, FaceKind, NoticeFonts};
use super::forms::Forms;
use super::paper::{round, PAGE_H, PAGE_W, PT_PER_MM};

/// A length in mm as a PDF number in points, to 0.1 pt (0.035 mm): short numbers keep pages
/// small.
fn num(out: &mut String, mm: f32) {
    let tenths = (mm * PT_PER_MM * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let (whole, frac) = (tenths.abs() / 10, tenths.abs() % 10);
    let _ = match frac {
        0 => write!(out, "{sign}{whole} "),
        _ => write!(out, "{sign}{whole}.{frac} "),
    };
}

/// Horizontal alignment of a text run relative to its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Center,
    Right,
}

/// A text style: face, size in pt, extra spacing after each character in pt, grey level.
#[derive(Debug, Clone, Copy)]
pub(super) struct Style {
    pub(super) face: FaceKind,
    pub(super) size: f32,
    pub(super) spacing: f32,
    pub(super) grey: f32,
}

impl Style {
    pub(super) const fn text(size: f32) -> Style {
        Style {
            face: FaceKind::Text,
            size,
            spacing: 0.0,
            grey: 0.0,
        }
    }

    pub(super) const fn mono(size: f32, spacing: f32) -> Style {
        Style {
            face: FaceKind::Mono,
            size,
            spacing,
            grey: 0.0,
        }
    }

    pub(super) const fn grey(self, grey: f32) -> Style {
        Style { grey, ..self }
    }

    pub(super) const fn sized(self, size: f32) -> Style {
        Style { size, ..self }
    }
}

/// One page being drawn.
pub(super) struct Canvas<'a> {
    fonts: &'a NoticeFonts,
    ids: &'a DocFonts,
    /// Raw graphics operators (page coordinates in pt), drawn first, as a form XObject.
    gfx: String,
    text: Vec<Op>,
    /// Text state inside the page's text object, to skip redundant operators.
    state_font: Option<(FaceKind, f32)>,
    state_spacing: f32,
    state_grey: f32,
    /// Graphics state outside text.
    line_width: f32,
    fill_grey: f32,
}

impl<'a> Canvas<'a> {
    pub(super) fn new(fonts: &'a NoticeFonts, ids: &'a DocFonts) -> Canvas<'a> {
        Canvas {
            fonts,
            ids,
            gfx: String::with_capacity(1024),
            text: Vec::with_capacity(256),
            state_font: None,
            state_spacing: 0.0,
            state_grey: 0.0,
            line_width: 1.0,
            fill_grey: 0.0,
        }
    }

    /// The finished A4 page; its line work joins `forms`.
    pub(super) fn finish(self, forms: &mut Forms) -> PdfPage {
        let mut ops = Vec::with_capacity(self.text.len() + 4);
        if !self.gfx.is_empty() {
            ops.push(Op::UseXobject {
                id: forms.id(self.gfx),
                transform: XObjectTransform::default(),
            });
        }
        ops.push(Op::SetFillColor { col: grey(0.0) });
        ops.push(Op::StartTextSection);
        ops.extend(self.text);
        ops.push(Op::EndTextSection);
        PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops)
    }

    /// Width of `s` in millimetres in `style` (without the spacing after the last character).
    pub(super) fn width(&self, style: Style, s: &str) -> f32 {
        let mut em = 0.0;
        let mut n = 0usize;
        for (face, run) in self.runs(style.face, s) {
            let face = self.fonts.face(face);
            for c in run.chars() {
                em += face.glyph(c).map_or(0.5, |g| face.advance_em(g));
                n += 1;
            }
        }
        let pts = em * style.size + style.spacing * n.saturating_sub(1) as f32;
        pts / PT_PER_MM
    }

    /// Marks the text drawn until [`Canvas::end_exact`] so that copying it from a viewer
    /// yields exactly `s` (`/ActualText`), however far apart its characters are spaced.
    pub(super) fn begin_exact(&mut self, s: &str) {
        let mut utf16 = vec![0xFE, 0xFF];
        utf16.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        let actual = BTreeMap::from([(
            "ActualText".to_string(),
            DictItem::String {
                data: utf16,
                literal: false,
            },
        )]);
        self.text.push(Op::BeginMarkedContentWithProperties {
            tag: "Span".to_string(),
            properties: DictItem::Dict { map: actual },
        });
    }

    pub(super) fn end_exact(&mut self) {
        self.text.push(Op::EndMarkedContent);
    }

    /// Draws `s` with its baseline at `y` (mm from the top).
    pub(super) fn text(&mut self, style: Style, x: f32, y: f32, align: Align, s: &str) {
        let x = match align {
            Align::Left => x,
            Align::Center => x - self.width(style, s) / 2.0,
            Align::Right => x - self.width(style, s),
        };
        let mut x_pt = x * PT_PER_MM;
        let y_pt = (PAGE_H - y) * PT_PER_MM;
        for (kind, run) in self.runs(style.face, s) {
            let face = self.fonts.face(kind);
            let em: f32 = run
                .chars()
                .map(|c| face.glyph(c).map_or(0.5, |g| face.advance_em(g)))
                .sum();
            let advance = em * style.size + style.spacing * run.chars().count() as f32;
            self.show(style, kind, x_pt, y_pt, vec![TextItem::Text(run)]);
            x_pt += advance;
        }
    }

    /// One text-showing operation at (x, y) in points from the bottom-left corner.
    fn show(&mut self, style: Style, kind: FaceKind, x_pt: f32, y_pt: f32, items: Vec<TextItem>) {
        if self.state_grey != style.grey {
            self.state_grey = style.grey;
            self.text.push(Op::SetFillColor {
                col: grey(style.grey),
            });
        }
        if self.state_spacing != style.spacing {
            self.state_spacing = style.spacing;
            self.text.push(Op::SetCharacterSpacing {
                multiplier: (style.spacing * 100.0).round() / 100.0,
            });
        }
        if self.state_font != Some((kind, style.size)) {
            self.state_font = Some((kind, style.size));
            let id = match kind {
                FaceKind::Text => self.ids.text.clone(),
                FaceKind::Mono => self.ids.mono.clone(),
            };
            self.text.push(Op::SetFont {
                font: PdfFontHandle::External(id),
                size: Pt(style.size),
            });
        }
        self.text.push(Op::SetTextMatrix {
            matrix: TextMatrix::Translate(Pt(round(x_pt)), Pt(round(y_pt))),
        });
        let face = self.fonts.face(kind);
        let items = items
            .into_iter()
            .map(|item| match item {
                TextItem::Text(t) => TextItem::GlyphIds(
                    t.chars()
                        .map(|c| Codepoint {
                            gid: face.glyph(c).unwrap_or(0),
                            offset: 0.0,
                            cid: Some(c.to_string()),
                        })
                        .collect(),
                ),
                other => other,
            })
            .collect();
        self.text.push(Op::ShowText { items });
    }

    /// Draws `items` centred in consecutive cells `cell_w` mm wide starting at `x`, baseline
    /// `y`, as one text run (kerning offsets between the items keep the page small).
    pub(super) fn spread(&mut self, style: Style, x: f32, cell_w: f32, y: f32, items: &[&str]) {
        let single_face = items.iter().all(|s| {
            self.runs(style.face, s)
                .iter()
                .all(|(k, _)| *k == style.face)
        });
        if !single_face || style.spacing != 0.0 || items.is_empty() {
            for (i, item) in items.iter().enumerate() {
                let center = x + (i as f32 + 0.5) * cell_w;
                self.text(style, center, y, Align::Center, item);
            }
            return;
        }
        let widths: Vec<f32> = items.iter().map(|s| self.width(style, s)).collect();
        let start = x + (cell_w - widths[0]) / 2.0;
        let mut run = Vec::with_capacity(items.len() * 2);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                // From the end of the previous item to the start of this one, in 1/1000 em.
                let gap = cell_w - (widths[i - 1] + widths[i]) / 2.0;
                run.push(TextItem::Offset(kern(
                    gap * PT_PER_MM / style.size * 1000.0,
                )));
            }
            run.push(TextItem::Text(item.to_string()));
        }
        self.show(
            style,
            style.face,
            start * PT_PER_MM,
            (PAGE_H - y) * PT_PER_MM,
            run,
        );
    }

    /// Splits `s` into runs of one face: characters the preferred face lacks come from the
    /// other face when it has them; whitespace it lacks becomes a plain space; variation
    /// selectors and zero-width marks are dropped.
    fn runs(&self, preferred: FaceKind, s: &str) -> Vec<(FaceKind, String)> {
        let other = match preferred {
            FaceKind::Text => FaceKind::Mono,
            FaceKind::Mono => FaceKind::Text,
        };
        let (pref, alt) = (self.fonts.face(preferred), self.fonts.face(other));
        let mut runs: Vec<(FaceKind, String)> = Vec::new();
        for c in s.chars() {
            if is_invisible(c) && !pref.has(c) {
                continue;
            }
            let (kind, c) = if pref.has(c) {
                (preferred, c)
            } else if c.is_whitespace() || c.is_control() {
                (preferred, ' ')
            } else if alt.has(c) {
                (other, c)
            } else {
                (preferred, c)
            };
            match runs.last_mut() {
                Some((k, run)) if *k == kind => run.push(c),
                _ => runs.push((kind, c.to_string())),
            }
        }
        runs
    }

    fn set_line_width(&mut self, w: f32) {
        if self.line_width != w {
            self.line_width = w;
            let _ = writeln!(self.gfx, "{} w", round(w));
        }
    }

    /// A rectangle with its top-left corner at (x, y), filled with `fill` grey and/or
    /// stroked with a line `stroke` pt wide.
    pub(super) fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Option<f32>, stroke: f32) {
        let paint = match (fill, stroke > 0.0) {
            (Some(_), true) => "B",
            (Some(_), false) => "f",
            (None, true) => "S",
            (None, false) => return,
        };
        if let Some(g) = fill {
            if self.fill_grey != g {
                self.fill_grey = g;
                let _ = writeln!(self.gfx, "{} g", (g * 100.0).round() / 100.0);
            }
        }
        if stroke > 0.0 {
            self.set_line_width(stroke);
        }
        for v in [x, PAGE_H - y - h, w, h] {
            num(&mut self.gfx, v);
        }
        let _ = writeln!(self.gfx, "re {paint}");
    }

    /// A straight line from (x1, y1) to (x2, y2), `w` pt wide.
    pub(super) fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, w: f32) {
        self.set_line_width(w);
        num(&mut self.gfx, x1);
        num(&mut self.gfx, PAGE_H - y1);
        self.gfx.push_str("m ");
        num(&mut self.gfx, x2);
        num(&mut self.gfx, PAGE_H - y2);
        self.gfx.push_str("l S\n");
    }
}

/// The `TJ` number that moves the pen `thousandths` of an em to the right. Kept fractional:
/// an integer below -100 is read as a word space by simple text extractors (lopdf), which
/// would split a spaced-out password; 0.05/1000 em is invisible.
fn kern(thousandths: f32) -> f32 {
    let n = -(thousandths * 10.0).round() / 10.0;
    if n.fract() == 0.0 {
        n - 0.05
    } else {
        n
    }
}

fn grey(g: f32) -> Color {
    Color::Greyscale(Greyscale::new(g, None))
}
