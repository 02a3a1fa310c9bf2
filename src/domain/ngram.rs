//! The n-grams behind partial 氏名・フリガナ・部署 search (DESIGN §5, §7): every character and every
//! pair of adjacent characters of the folded texts. A 1- or 2-character query is one of these grams
//! exactly, so the gram alone finds every match; a longer query contains each of its own bigrams, so a
//! gram narrows the candidates and the substring match (LIKE) decides.
//!
//! Japanese names are short and a 1–2 character query is the common case (高, 高橋, タカ), which a
//! trigram index (pg_trgm) does not serve; hence uni- and bigrams.

use std::collections::BTreeSet;

/// Which search condition a gram serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GramField {
    /// 氏名 or フリガナ (one condition searches both, so their grams are one set per account).
    Name,
    /// 部署.
    Department,
}

impl GramField {
    pub fn as_str(self) -> &'static str {
        match self {
            GramField::Name => "n",
            GramField::Department => "d",
        }
    }
}

/// The uni- and bigrams of one folded text, characters counted as Unicode scalar values (what
/// SQLite's and PostgreSQL's `substr` count, so the migration's back-fill makes the same grams).
fn grams_into(folded: &str, out: &mut BTreeSet<String>) {
    let chars: Vec<char> = folded.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        out.insert(c.to_string());
        if let Some(next) = chars.get(i + 1) {
            out.insert([*c, *next].iter().collect());
        }
    }
}

/// The grams of an account's search keys (the folded 氏名, フリガナ and 部署 as stored), per field,
/// without duplicates. A bigram never spans 氏名 and フリガナ: they are separate texts.
pub fn account_grams(
    name_fold: &str,
    kana_fold: &str,
    department_fold: &str,
) -> Vec<(GramField, String)> {
    let mut name = BTreeSet::new();
    grams_into(name_fold, &mut name);
    grams_into(kana_fold, &mut name);
    let mut department = BTreeSet::new();
    grams_into(department_fold, &mut department);
    name.into_iter()
        .map(|g| (GramField::Name, g))
        .chain(department.into_iter().map(|g| (GramField::Department, g)))
        .collect()
}

/// The grams a folded query's matches must all have: the query itself when it is one or two
/// characters long (then having the gram *is* matching), otherwise its distinct bigrams.
pub fn query_grams(folded: &str) -> Vec<String> {
    let chars: Vec<char> = folded.chars().collect();
    if chars.len() <= 2 {
        return if chars.is_empty() {
            Vec::new()
        } else {
            vec![folded.to_string()]
        };
    }
    let mut seen = BTreeSet::new();
    chars
        .windows(2)
        .map(|w| w.iter().collect::<String>())
        .filter(|g| seen.insert(g.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fold::fold;

    #[test]
    fn every_character_and_pair_once_per_field() {
        let g = account_grams(&fold("髙橋美咲"), &fold("タカハシミサキ"), &fold("外来"));
        let name: Vec<&str> = g
            .iter()
            .filter(|(f, _)| *f == GramField::Name)
            .map(|(_, g)| g.as_str())
            .collect();
        for want in ["高", "高橋", "橋美", "咲", "タカ", "カハ", "サキ", "キ"] {
            assert!(name.contains(&want), "{want} in {name:?}");
        }
        // No bigram across the 氏名 and the フリガナ, nor across fields.
        assert!(!name.contains(&"咲タ") && !name.contains(&"外"));
        assert_eq!(
            g.iter()
                .filter(|(f, _)| *f == GramField::Department)
                .count(),
            3
        );
        // ササキ: サ twice, one gram.
        let g = account_grams("佐々木", "ササキ", "");
        assert_eq!(g.iter().filter(|(_, g)| g == "サ").count(), 1);
    }

    #[test]
    fn a_query_needs_itself_when_short_and_its_bigrams_when_long() {
        assert_eq!(query_grams(""), Vec::<String>::new());
        assert_eq!(query_grams("高"), vec!["高"]);
        assert_eq!(query_grams("高橋"), vec!["高橋"]);
        assert_eq!(query_grams("ササササ"), vec!["ササ"]);
        assert_eq!(query_grams("タカハ"), vec!["タカ", "カハ"]);
        // A query's grams are among the grams of every text that contains it.
        for (text, query) in [
            ("タカハシミサキ", "カハシ"),
            ("外来17", "来1"),
            ("a%_b", "%_"),
        ] {
            let grams: Vec<String> = account_grams(text, "", "")
                .into_iter()
                .map(|(_, g)| g)
                .collect();
            for q in query_grams(query) {
                assert!(grams.contains(&q), "{q} of {query} in {text}");
            }
        }
    }
}
