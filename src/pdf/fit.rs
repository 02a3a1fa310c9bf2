//! Fitting text into boxes: wrapping, shrinking, cutting.

use super::canvas::{Canvas, Style};

impl Canvas<'_> {
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

    /// `s` cut to fit `max_w` mm, ending in 「…」 when cut.
    pub(super) fn ellipsize(&self, style: Style, s: &str, max_w: f32) -> String {
        if self.width(style, s) <= max_w {
            return s.to_string();
        }
        let mut cut: String = s.to_string();
        while !cut.is_empty() && self.width(style, &format!("{cut}…")) > max_w {
            cut.pop();
        }
        format!("{}…", cut.trim_end())
    }

    /// Lays `s` out in at most `max_lines` lines of `max_w` mm: on one line, shrunk to no less
    /// than 70 % of `style.size`; else wrapped, shrinking down to `min` pt; else cut (「…」).
    pub(super) fn fit_lines(
        &self,
        style: Style,
        s: &str,
        max_w: f32,
        max_lines: usize,
        min: f32,
    ) -> (Style, Vec<String>) {
        let one = self.fit(style, s, max_w, min.max(style.size * 0.7));
        if self.width(one, s) <= max_w || max_lines <= 1 {
            let one = self.fit(style, s, max_w, min);
            return (one, vec![self.ellipsize(one, s, max_w)]);
        }
        let mut size = one.size;
        loop {
            let style = style.sized(size);
            let mut lines = self.wrap(style, s, max_w);
            if lines.len() <= max_lines {
                return (style, lines);
            }
            if size - 0.5 < min {
                lines.truncate(max_lines);
                if let Some(last) = lines.last_mut() {
                    *last = self.ellipsize(style, &format!("{last}…"), max_w);
                }
                return (style, lines);
            }
            size -= 0.5;
        }
    }
}

impl Canvas<'_> {
    /// Lays out text that must never be cut — a person's name, which must match the register: like
    /// [`Canvas::fit_lines`], but where that would end in 「…」 the text keeps shrinking below `min`
    /// instead (the field limits keep this readable for real names).
    pub(super) fn fit_whole(
        &self,
        style: Style,
        s: &str,
        max_w: f32,
        max_lines: usize,
        min: f32,
    ) -> (Style, Vec<String>) {
        let (fitted, lines) = self.fit_lines(style, s, max_w, max_lines, min);
        let whole = |lines: &[String]| lines.concat().replace(' ', "") == s.replace(' ', "");
        if whole(&lines) && lines.iter().all(|l| self.width(fitted, l) <= max_w) {
            return (fitted, lines);
        }
        let mut size = fitted.size;
        loop {
            size -= 0.25;
            let style = style.sized(size);
            let lines = self.wrap(style, s, max_w);
            if lines.len() <= max_lines || size <= 2.0 {
                return (style, lines);
            }
        }
    }
}

/// Characters that must not begin a line (行頭禁則).
fn no_line_start(c: char) -> bool {
    "、。，．,.)）」』】〕〉》]・ー？！?!：:；;ぁぃぅぇぉっゃゅょァィゥェォッャュョ々".contains(c)
}
