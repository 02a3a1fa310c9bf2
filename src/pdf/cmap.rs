//! A font's Unicode → glyph map, read once into a hash map.
//!
//! The parsed font's own lookup scans the cmap subtable linearly (thousands of groups in a CJK
//! font), which made a 1,000-page batch spend most of its time there.

use std::collections::HashMap;

/// The Unicode character → glyph id map of the first face in `font` (`.ttf`, `.otf`, `.ttc`),
/// from its best Unicode cmap subtable (format 12 preferred, else format 4).
pub(super) fn unicode_map(font: &[u8]) -> Option<HashMap<char, u16>> {
    let cmap = table(font, b"cmap")?;
    let count = usize::from(be16(cmap, 2)?);
    let mut best: Option<(u8, &[u8])> = None;
    for i in 0..count {
        let rec = 4 + 8 * i;
        let (platform, encoding) = (be16(cmap, rec)?, be16(cmap, rec + 2)?);
        let sub = cmap.get(be32(cmap, rec + 4)? as usize..)?;
        let format = be16(sub, 0)?;
        let rank = match (platform, encoding, format) {
            (3, 10, 12) | (0, 4 | 6, 12) => 0,
            (3, 1, 4) | (0, 3, 4) => 1,
            (0, 0..=2, 4) => 2,
            _ => continue,
        };
        if best.is_none_or(|(r, _)| rank < r) {
            best = Some((rank, sub));
        }
    }
    let (_, sub) = best?;
    match be16(sub, 0)? {
        12 => format12(sub),
        _ => format4(sub),
    }
}

fn format12(sub: &[u8]) -> Option<HashMap<char, u16>> {
    let groups = be32(sub, 12)? as usize;
    let mut map = HashMap::new();
    for g in 0..groups.min(sub.len() / 12) {
        let at = 16 + 12 * g;
        let (start, end, gid) = (be32(sub, at)?, be32(sub, at + 4)?, be32(sub, at + 8)?);
        if end < start || end - start > 0x10_FFFF {
            continue;
        }
        for code in start..=end {
            let glyph = gid + (code - start);
            if let (Some(c), Ok(glyph)) = (char::from_u32(code), u16::try_from(glyph)) {
                if glyph != 0 {
                    map.entry(c).or_insert(glyph);
                }
            }
        }
    }
    Some(map)
}

fn format4(sub: &[u8]) -> Option<HashMap<char, u16>> {
    let segs = usize::from(be16(sub, 6)? / 2);
    let (ends, starts) = (14, 16 + 2 * segs);
    let (deltas, offsets) = (starts + 2 * segs, starts + 4 * segs);
    let mut map = HashMap::new();
    for i in 0..segs {
        let (end, start) = (be16(sub, ends + 2 * i)?, be16(sub, starts + 2 * i)?);
        let (delta, range) = (be16(sub, deltas + 2 * i)?, be16(sub, offsets + 2 * i)?);
        if start > end {
            continue;
        }
        for code in start..=end {
            if code == 0xFFFF {
                continue;
            }
            let glyph = if range == 0 {
                code.wrapping_add(delta)
            } else {
                let at = offsets + 2 * i + usize::from(range) + 2 * usize::from(code - start);
                match be16(sub, at) {
                    Some(0) | None => 0,
                    Some(g) => g.wrapping_add(delta),
                }
            };
            if let (Some(c), true) = (char::from_u32(u32::from(code)), glyph != 0) {
                map.entry(c).or_insert(glyph);
            }
        }
    }
    Some(map)
}

/// The bytes of table `tag` of the first face (a collection's face 0).
pub(super) fn table<'a>(font: &'a [u8], tag: &[u8; 4]) -> Option<&'a [u8]> {
    let sfnt = if font.get(0..4)? == b"ttcf" {
        be32(font, 12)? as usize
    } else {
        0
    };
    let tables = usize::from(be16(font, sfnt + 4)?);
    (0..tables)
        .map(|i| sfnt + 12 + 16 * i)
        .find(|&rec| font.get(rec..rec + 4) == Some(tag))
        .and_then(|rec| {
            let (offset, length) = (
                be32(font, rec + 8)? as usize,
                be32(font, rec + 12)? as usize,
            );
            font.get(offset..offset.checked_add(length)?)
        })
}

pub(super) fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]))
}

pub(super) fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
