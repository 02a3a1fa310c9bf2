//! A tiny drawing surface over printpdf's ops: millimetres measured from the top-left corner
//! of an A4 page, text runs placed absolutely, graphics first and all text in one text object.

use printpdf::{
    Color, Greyscale, Line, LinePoint, Mm, Op, PaintMode, PdfFontHandle, PdfPage, Point, Pt, Rect,
    TextItem, TextMatrix,
};

use super::fonts::{is_invisible, DocFonts, FaceKind, NoticeFonts};

/// A4 portrait, in millimetres.
pub(super) const PAGE_W: f32 = 210.0;
pub(super) const PAGE_H: f32 = 297.0;

const PT_PER_MM: f32 = 72.0 / 25.4;

/// Millimetres to points, rounded to 0.1 pt (0.035 mm): short numbers keep pages small.
fn pt(mm: f32) -> Pt {
    Pt(round(mm * PT_PER_MM))
}

fn round(v: f32) -> f32 {
    (v * 10.0).round() / 10.0
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
    gfx: Vec<Op>,
    text: Vec<Op>,
    /// Text state inside the page's text object, to skip redundant operators.
    state_font: Option<(FaceKind, f32)>,
    state_spacing: f32,
    state_grey: f32,
    /// Graphics state outside text.
    line_width: f32,
}

impl<'a> Canvas<'a> {
    pub(super) fn new(fonts: &'a NoticeFonts, ids: &'a DocFonts) -> Canvas<'a> {
        Canvas {
            fonts,
            ids,
            gfx: Vec::with_capacity(64),
            text: Vec::with_capacity(256),
            state_font: None,
            state_spacing: 0.0,
            state_grey: 0.0,
            line_width: -1.0,
        }
    }

    /// The finished A4 page.
    pub(super) fn finish(self) -> PdfPage {
        let mut ops = self.gfx;
        ops.reserve(self.text.len() + 2);
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

    /// Draws `s` with its baseline at `y` (mm from the top).
    pub(super) fn text(&mut self, style: Style, x: f32, y: f32, align: Align, s: &str) {
        let x = match align {
            Align::Left => x,
            Align::Center => x - self.width(style, s) / 2.0,
            Align::Right => x - self.width(style, s),
        };
        let mut x_pt = x * PT_PER_MM;
        let y_pt = (PAGE_H - y) * PT_PER_MM;
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
        for (kind, run) in self.runs(style.face, s) {
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
            self.text.push(Op::ShowText {
                items: vec![TextItem::Text(run.clone())],
            });
            let face = self.fonts.face(kind);
            let em: f32 = run
                .chars()
                .map(|c| face.glyph(c).map_or(0.5, |g| face.advance_em(g)))
                .sum();
            x_pt += em * style.size + style.spacing * run.chars().count() as f32;
        }
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
            self.gfx.push(Op::SetOutlineThickness { pt: Pt(w) });
        }
    }

    /// A rectangle with its top-left corner at (x, y), filled with `fill` grey and/or
    /// stroked with a line `stroke` pt wide.
    pub(super) fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, fill: Option<f32>, stroke: f32) {
        let mode = match (fill, stroke > 0.0) {
            (Some(_), true) => PaintMode::FillStroke,
            (Some(_), false) => PaintMode::Fill,
            (None, true) => PaintMode::Stroke,
            (None, false) => return,
        };
        if let Some(g) = fill {
            self.gfx.push(Op::SetFillColor { col: grey(g) });
        }
        if stroke > 0.0 {
            self.set_line_width(stroke);
        }
        self.gfx.push(Op::DrawRectangle {
            rectangle: Rect {
                x: pt(x),
                y: pt(PAGE_H - y - h),
                width: pt(w),
                height: pt(h),
                mode: Some(mode),
                winding_order: None,
            },
        });
    }

    /// A straight line from (x1, y1) to (x2, y2), `w` pt wide.
    pub(super) fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, w: f32) {
        self.set_line_width(w);
        let p = |x: f32, y: f32| LinePoint {
            p: Point {
                x: pt(x),
                y: pt(PAGE_H - y),
            },
            bezier: false,
        };
        self.gfx.push(Op::DrawLine {
            line: Line {
                points: vec![p(x1, y1), p(x2, y2)],
                is_closed: false,
            },
        });
    }

    /// Breaks `s` into lines no wider than `max_w` mm (at explicit newlines, between any two
    /// Japanese characters, at spaces inside Latin text; closing punctuation never starts a line).
    pub(super) fn wrap(&self, style: Style, s: &str, max_w: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for para in s.split('\n') {
            let para = para.trim_end_matches('\r');
            let mut line = String::new();
            for c in para.chars() {
                let mut candidate = line.clone();
                candidate.push(c);
                if line.is_empty() || self.width(style, &candidate) <= max_w || no_line_start(c) {
                    line = candidate;
                    continue;
                }
                // Prefer breaking at the last space when inside a Latin word.
                let split = if c.is_ascii_alphanumeric() {
                    line.rfind(' ').filter(|&i| i > 0)
                } else {
                    None
                };
                match split {
                    Some(i) => {
                        let rest = line[i + 1..].to_string();
                        lines.push(line[..i].to_string());
                        line = rest;
                        line.push(c);
                    }
                    None => {
                        lines.push(std::mem::take(&mut line));
                        if c != ' ' {
                            line.push(c);
                        }
                    }
                }
            }
            lines.push(line);
        }
        while lines.last().is_some_and(|l| l.trim().is_empty()) && lines.len() > 1 {
            lines.pop();
        }
        lines
    }

    /// The largest size not above `style.size` (and not below `min`) at which `s` fits in
    /// `max_w` mm on one line.
    pub(super) fn fit(&self, style: Style, s: &str, max_w: f32, min: f32) -> Style {
        let w = self.width(style, s);
        if w <= max_w {
            return style;
        }
        let size = (style.size * max_w / w * 10.0).floor() / 10.0;
        style.sized(size.max(min))
    }
}

/// Characters that must not begin a line (行頭禁則).
fn no_line_start(c: char) -> bool {
    "、。，．,.)）」』】〕〉》]・ー？！?!：:；;ぁぃぅぇぉっゃゅょァィゥェォッャュョ々".contains(c)
}

fn grey(g: f32) -> Color {
    Color::Greyscale(Greyscale::new(g, None))
}
