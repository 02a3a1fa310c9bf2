//! Folding for search (DESIGN §5): both the stored value and the query are folded, so 高橋 finds 髙橋,
//! ﾀｶﾊｼ finds タカハシ, and たかはし finds タカハシ.

use unicode_normalization::UnicodeNormalization;

/// Common 異体字 of Japanese names, each mapped to the form most people type.
const ITAIJI: &[(char, char)] = &[
    ('髙', '高'),
    ('﨑', '崎'),
    ('嵜', '崎'),
    ('碕', '崎'),
    ('邊', '辺'),
    ('邉', '辺'),
    ('齋', '斎'),
    ('齊', '斎'),
    ('濱', '浜'),
    ('濵', '浜'),
    ('德', '徳'),
    ('澤', '沢'),
    ('國', '国'),
    ('櫻', '桜'),
    ('廣', '広'),
    ('嶋', '島'),
    ('嶌', '島'),
    ('槇', '槙'),
    ('冨', '富'),
    ('眞', '真'),
    ('惠', '恵'),
    ('瀨', '瀬'),
    ('龍', '竜'),
    ('藪', '薮'),
    ('籠', '篭'),
    ('曾', '曽'),
    ('𠮷', '吉'),
    ('團', '団'),
    ('圓', '円'),
    ('實', '実'),
    ('會', '会'),
    ('增', '増'),
    ('靜', '静'),
    ('淸', '清'),
    ('條', '条'),
    ('壽', '寿'),
    ('榮', '栄'),
    ('舩', '船'),
];

/// Folds width, case, hiragana/katakana, the wave dashes, white space and the common 異体字.
pub fn fold(input: &str) -> String {
    input
        .nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'ぁ'..='ゖ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            '\u{301C}' | '\u{FF5E}' | '~' => '~',
            _ => ITAIJI
                .iter()
                .find(|(variant, _)| *variant == c)
                .map_or(c, |(_, common)| *common),
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Full-width digits typed by an IME become ASCII; anything else is left for the caller to refuse.
pub fn to_ascii_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn itaiji_fold_to_the_common_form() {
        assert_eq!(fold("髙橋"), fold("高橋"));
        assert_eq!(fold("山﨑"), fold("山崎"));
        assert_eq!(fold("山嵜"), fold("山崎"));
        assert_eq!(fold("渡邊"), fold("渡辺"));
        assert_eq!(fold("渡邉"), fold("渡辺"));
        assert_eq!(fold("齋藤"), fold("斎藤"));
        assert_eq!(fold("齊藤"), fold("斎藤"));
        assert_eq!(fold("濵田"), fold("浜田"));
        assert_eq!(fold("德永"), fold("徳永"));
        assert_eq!(fold("櫻井"), fold("桜井"));
        assert!(fold("髙橋美咲").contains(&fold("高橋")));
        assert_ne!(fold("高橋"), fold("高木"));
    }

    #[test]
    fn width_kana_case_and_wave_dash() {
        assert_eq!(fold("ﾀｶﾊｼ"), "タカハシ");
        assert_eq!(fold("たかはし"), "タカハシ");
        assert_eq!(fold("ＡＢＣ"), "abc");
        assert_eq!(fold("1〜3"), fold("1～3"));
        assert_eq!(fold("高橋　美咲"), "高橋美咲");
    }
}
