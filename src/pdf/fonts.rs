//! The fonts of the notices: parsed once, shared by every render.

use std::collections::HashMap;
use std::path::Path;

use printpdf::{FontId, ParsedFont, PdfDocument, PdfFont};

use super::cmap::{be16, table, unicode_map};
use super::model::PdfError;

/// IPAex Gothic (text), shipped unmodified with the project (IPA Font License v1.0).
static IPAEX_GOTHIC: &[u8] = include_bytes!("../../fonts/ipaexg.ttf");
/// IPA Gothic, whose Latin letters are fixed-width (the password).
static IPA_GOTHIC: &[u8] = include_bytes!("../../fonts/ipag.ttf");

/// The notice fonts: a text face and a face with fixed-width Latin letters for the password.
///
/// Parsing a 6 MB font takes a while, so build this once and share it (`Arc<NoticeFonts>`);
/// it is `Send + Sync` and every render only borrows it.
#[derive(Debug)]
pub struct NoticeFonts {
    text: Face,
    /// `None`: the password is printed in the text face.
    mono: Option<Face>,
}

pub(super) struct Face {
    pub(super) parsed: ParsedFont,
    family: String,
    units_per_em: f32,
    /// Character → glyph id (the parsed font's own lookup is a linear scan).
    glyphs: HashMap<char, u16>,
}

impl std::fmt::Debug for Face {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Face")
            .field("family", &self.family)
            .field("glyphs", &self.glyphs.len())
            .finish_non_exhaustive()
    }
}

/// Which face a run of text is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FaceKind {
    Text,
    Mono,
}

/// The faces registered in one PDF document (each font is embedded once per PDF, subset).
#[derive(Debug, Clone)]
pub(super) struct DocFonts {
    pub(super) text: FontId,
    pub(super) mono: FontId,
}

impl NoticeFonts {
    /// The fonts shipped with the project: IPAex Gothic for text, IPA Gothic for the password.
    pub fn embedded() -> Result<NoticeFonts, PdfError> {
        let text = Face::parse(IPAEX_GOTHIC, "ipaexg.ttf")?;
        let mono = Face::parse(IPA_GOTHIC, "ipag.ttf")?;
        NoticeFonts::checked(text, Some(mono))
    }

    /// Fonts read from files (`.ttf`, `.otf`, or the first face of a `.ttc`). Without `mono`
    /// the password is printed in the text font.
    pub fn from_files(text: &Path, mono: Option<&Path>) -> Result<NoticeFonts, PdfError> {
        let text = Face::read(text)?;
        let mono = mono.map(Face::read).transpose()?;
        NoticeFonts::checked(text, mono)
    }

    /// Refuses fonts that cannot print the notice's own labels or a password.
    fn checked(text: Face, mono: Option<Face>) -> Result<NoticeFonts, PdfError> {
        let lacking = super::labels::all()
            .flat_map(str::chars)
            .chain(super::labels::default_contacts().flat_map(|s| s.chars().collect::<Vec<_>>()))
            .find(|&c| !is_ignorable(c) && !text.has(c));
        if let Some(ch) = lacking {
            return Err(PdfError::FontLacksGlyph {
                font: text.family.clone(),
                ch,
            });
        }
        let mono_face = mono.as_ref().unwrap_or(&text);
        if let Some(ch) = ('!'..='~').find(|&c| !mono_face.has(c)) {
            return Err(PdfError::FontLacksGlyph {
                font: mono_face.family.clone(),
                ch,
            });
        }
        Ok(NoticeFonts { text, mono })
    }

    /// The first character of `s` that the text font has no glyph for (a notice would print a
    /// box for it). Whitespace, control characters and variation selectors are ignored.
    pub fn missing_glyph(&self, s: &str) -> Option<char> {
        s.chars().find(|&c| !is_ignorable(c) && !self.text.has(c))
    }

    /// The text font's family name, e.g. 「IPAexゴシック」, for messages.
    pub fn name(&self) -> String {
        self.text.family.clone()
    }

    pub(super) fn face(&self, kind: FaceKind) -> &Face {
        match kind {
            FaceKind::Text => &self.text,
            FaceKind::Mono => self.mono.as_ref().unwrap_or(&self.text),
        }
    }

    /// Registers the faces in `doc` (once per document, not per page).
    /// Short fixed resource names keep every page's content stream small (printpdf's own ids
    /// are 32 random letters, repeated at each font switch); their first six letters are also
    /// the subset tag of the embedded font.
    pub(super) fn register(&self, doc: &mut PdfDocument) -> DocFonts {
        let mut add = |name: &str, face: &Face| {
            let id = FontId(name.to_string());
            let font = PdfFont::new(face.parsed.clone());
            doc.resources.fonts.map.insert(id.clone(), font);
            id
        };
        let text = add("NBTEXT", &self.text);
        let mono = match &self.mono {
            Some(m) => add("NBMONO", m),
            None => text.clone(),
        };
        DocFonts { text, mono }
    }
}

/// Characters that never need a glyph of their own: spaces and line breaks are drawn as
/// advances, variation selectors and zero-width marks are dropped (the base character prints).
pub(super) fn is_ignorable(c: char) -> bool {
    c.is_whitespace() || c.is_control() || is_invisible(c)
}

/// Variation selectors and zero-width format characters.
pub(super) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}' | '\u{180B}'..='\u{180D}'
        | '\u{200B}'..='\u{200F}' | '\u{2060}' | '\u{FEFF}')
}

impl Face {
    fn read(path: &Path) -> Result<Face, PdfError> {
        let bytes = std::fs::read(path).map_err(|source| PdfError::FontRead {
            path: path.to_path_buf(),
            source,
        })?;
        Face::parse(&bytes, &path.display().to_string())
    }

    fn parse(bytes: &[u8], what: &str) -> Result<Face, PdfError> {
        let unparsable = || PdfError::FontParse {
            what: what.to_string(),
        };
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings).ok_or_else(unparsable)?;
        if parsed.cmap_subtable.is_none() || parsed.pdf_font_metrics.units_per_em == 0 {
            return Err(unparsable());
        }
        let glyphs = unicode_map(bytes).ok_or_else(unparsable)?;
        let family = family_name(bytes)
            .or_else(|| parsed.font_name.clone())
            .unwrap_or_else(|| what.to_string());
        let units_per_em = f32::from(parsed.pdf_font_metrics.units_per_em);
        Ok(Face {
            parsed,
            family,
            units_per_em,
            glyphs,
        })
    }

    pub(super) fn glyph(&self, c: char) -> Option<u16> {
        self.glyphs.get(&c).copied()
    }

    pub(super) fn has(&self, c: char) -> bool {
        self.glyph(c).is_some()
    }

    /// Advance width of a glyph in em (1.0 = the font size).
    pub(super) fn advance_em(&self, gid: u16) -> f32 {
        f32::from(self.parsed.get_horizontal_advance(gid)) / self.units_per_em
    }
}

/// The family name (name ID 1) from the font's `name` table, Japanese preferred, then English.
/// For a collection (`.ttc`), the first face.
pub(super) fn family_name(font: &[u8]) -> Option<String> {
    let name = table(font, b"name")?;
    let count = usize::from(be16(name, 2)?);
    let strings = usize::from(be16(name, 4)?);
    let mut best: Option<(u8, String)> = None;
    for i in 0..count {
        let rec = 6 + 12 * i;
        let (platform, encoding) = (be16(name, rec)?, be16(name, rec + 2)?);
        let (language, name_id) = (be16(name, rec + 4)?, be16(name, rec + 6)?);
        if name_id != 1 {
            continue;
        }
        let start = strings + usize::from(be16(name, rec + 10)?);
        let raw = name.get(start..start + usize::from(be16(name, rec + 8)?))?;
        let (rank, text) = match (platform, encoding, language) {
            (3, 1 | 10, 0x0411) => (0, utf16be(raw)),
            (3, 1 | 10, 0x0409) => (1, utf16be(raw)),
            (3, 1 | 10, _) => (2, utf16be(raw)),
            (0, _, _) => (3, utf16be(raw)),
            (1, 0, 0) => (4, raw.iter().map(|&b| char::from(b)).collect()),
            _ => continue,
        };
        let text = text.trim().to_string();
        if !text.is_empty() && best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, text));
        }
    }
    best.map(|(_, text)| text)
}

fn utf16be(raw: &[u8]) -> String {
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}
