//! Natural order for 部署 (DESIGN §8): 第2病棟 before 第10病棟, as people count, not as characters
//! compare. A key splits the text into runs of digits (full-width ones count as digits) and runs of
//! other characters; digit runs compare by their value, the rest character by character.

use std::cmp::Ordering;

use super::fold::to_ascii_digits;

/// One run of a [`NaturalKey`]. Numbers sort before text at the same place (「2F」 before 「A棟」).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Run {
    /// Digits without leading zeros: compared by length first, so by value. The digit count
    /// with zeros breaks ties (「02」 after 「2」), so that different texts never tie.
    Number {
        len: usize,
        digits: String,
        written: usize,
    },
    Text(String),
}

/// The sort key of a text in natural order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NaturalKey(Vec<Run>);

impl NaturalKey {
    pub fn of(s: &str) -> NaturalKey {
        let ascii = to_ascii_digits(s);
        let mut runs = Vec::new();
        let mut rest = ascii.as_str();
        while let Some(c) = rest.chars().next() {
            let digit = c.is_ascii_digit();
            let end = rest
                .find(|ch: char| ch.is_ascii_digit() != digit)
                .unwrap_or(rest.len());
            let (run, tail) = rest.split_at(end);
            runs.push(if digit {
                let digits = run.trim_start_matches('0');
                let digits = if digits.is_empty() { "0" } else { digits };
                Run::Number {
                    len: digits.len(),
                    digits: digits.to_string(),
                    written: run.len(),
                }
            } else {
                Run::Text(run.to_string())
            });
            rest = tail;
        }
        NaturalKey(runs)
    }
}

/// Compares two texts in natural order; texts equal in it fall back to their characters.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    NaturalKey::of(a)
        .cmp(&NaturalKey::of(b))
        .then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(items: &[&str]) -> Vec<String> {
        let mut v: Vec<String> = items.iter().map(|s| s.to_string()).collect();
        v.sort_by(|a, b| natural_cmp(a, b));
        v
    }

    #[test]
    fn wards_count_as_numbers() {
        assert_eq!(
            sorted(&[
                "第10病棟",
                "第2病棟",
                "第1病棟",
                "外来",
                "第11病棟",
                "第3病棟"
            ]),
            [
                "外来",
                "第1病棟",
                "第2病棟",
                "第3病棟",
                "第10病棟",
                "第11病棟"
            ]
        );
    }

    #[test]
    fn full_width_digits_and_several_numbers() {
        assert_eq!(
            sorted(&["第１０病棟", "第２病棟", "3階東", "12階西", "3階西", "10階"]),
            ["3階東", "3階西", "10階", "12階西", "第２病棟", "第１０病棟"]
        );
        assert_eq!(
            sorted(&["病棟2-10", "病棟2-9", "病棟10-1"]),
            ["病棟2-9", "病棟2-10", "病棟10-1"]
        );
    }

    #[test]
    fn leading_zeros_and_plain_text() {
        assert_eq!(natural_cmp("第02病棟", "第2病棟"), Ordering::Greater);
        assert_eq!(natural_cmp("第02病棟", "第3病棟"), Ordering::Less);
        assert_eq!(natural_cmp("医事課", "医事課"), Ordering::Equal);
        assert_eq!(natural_cmp("", "医事課"), Ordering::Less);
        assert_eq!(
            sorted(&["薬剤部", "医事課", "看護部"]),
            ["医事課", "看護部", "薬剤部"]
        );
        // A number longer than any integer type still compares.
        assert_eq!(
            natural_cmp("99999999999999999999999", "100000000000000000000000"),
            Ordering::Less
        );
    }
}
