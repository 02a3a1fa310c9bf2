//! The fields of a user (DESIGN §5), each a small type that can only hold a valid value.
//!
//! Every parser trims, refuses control characters and too-long input, and explains in Japanese what to
//! type instead, naming the field.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use super::fold::to_ascii_digits;

/// Why a field's value was refused. `Display` is the message shown under the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    Required {
        field: &'static str,
    },
    TooLong {
        field: &'static str,
        max: usize,
    },
    /// The value has the wrong shape; `hint` says what shape (「半角数字6桁」).
    Format {
        field: &'static str,
        hint: &'static str,
    },
    /// The value has the right shape but cannot be right.
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    ControlCharacter {
        field: &'static str,
    },
    /// A character the notice font cannot draw (so a notice would print a box).
    Unprintable {
        field: &'static str,
        character: char,
    },
}

impl FieldError {
    pub fn field(&self) -> &'static str {
        match self {
            FieldError::Required { field }
            | FieldError::TooLong { field, .. }
            | FieldError::Format { field, .. }
            | FieldError::Invalid { field, .. }
            | FieldError::ControlCharacter { field }
            | FieldError::Unprintable { field, .. } => field,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldError::Required { field } => write!(f, "{field}を入力してください。"),
            FieldError::TooLong { field, max } => {
                write!(f, "{field}は{max}文字以内で入力してください。")
            }
            FieldError::Format { field, hint } => write!(f, "{field}は{hint}で入力してください。"),
            FieldError::Invalid { field, reason } => write!(f, "{field}が正しくありません。{reason}。"),
            FieldError::ControlCharacter { field } => {
                write!(f, "{field}に使用できない文字（制御文字）が含まれています。")
            }
            FieldError::Unprintable { field, character } => write!(
                f,
                "{field}の「{character}」(U+{:04X}) は通知書に印字できない文字です。別の字体で入力してください。",
                *character as u32
            ),
        }
    }
}

impl std::error::Error for FieldError {}

/// Trims (including the full-width space) and checks emptiness, length and control characters.
fn clean(
    field: &'static str,
    input: &str,
    max: usize,
    allow_newlines: bool,
) -> Result<String, FieldError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(FieldError::Required { field });
    }
    if s.chars().any(|c| is_forbidden_control(c, allow_newlines)) {
        return Err(FieldError::ControlCharacter { field });
    }
    if s.chars().count() > max {
        return Err(FieldError::TooLong { field, max });
    }
    Ok(s.to_string())
}

/// Control and invisible format characters (bidi overrides, zero-width joiners) never belong in a
/// name: they hide what is really stored.
fn is_forbidden_control(c: char, allow_newlines: bool) -> bool {
    if allow_newlines && matches!(c, '\n' | '\r' | '\t') {
        return false;
    }
    c.is_control()
        || matches!(c as u32,
            0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB)
}

/// Parses an optional field: blank means absent.
pub fn optional<T>(
    input: &str,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<Option<T>, FieldError> {
    if input.trim().is_empty() {
        Ok(None)
    } else {
        parse(input).map(Some)
    }
}

/// 氏名 (姓 or 名): any printable character, 異体字 kept exactly as typed (no normalisation, which would
/// turn some compatibility ideographs into their common form).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX: usize = 50;

    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        clean(field, input, Self::MAX, false).map(PersonName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// フリガナ (セイ or メイ): full-width katakana, ー and spaces.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Kana(String);

impl Kana {
    pub const MAX: usize = 50;

    /// NFKC turns half-width kana into full-width (ｶﾞ → ガ) and the full-width space into a space;
    /// hiragana then become katakana.
    pub fn parse(field: &'static str, input: &str) -> Result<Self, FieldError> {
        let normalised: String = input.nfkc().map(hiragana_to_katakana).collect();
        let s = clean(field, &normalised, Self::MAX, false)?;
        let mut out = String::with_capacity(s.len());
        let mut last_space = false;
        for c in s.chars() {
            if c == ' ' {
                if !last_space {
                    out.push(' ');
                }
                last_space = true;
                continue;
            }
            last_space = false;
            if !is_katakana(c) {
                return Err(FieldError::Format {
                    field,
                    hint: "全角カタカナ",
                });
            }
            out.push(c);
        }
        Ok(Kana(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hiragana_to_katakana(c: char) -> char {
    match c {
        'ぁ'..='ゖ' | 'ゝ' | 'ゞ' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
        _ => c,
    }
}

fn is_katakana(c: char) -> bool {
    matches!(c, 'ァ'..='ヺ' | 'ー' | 'ヽ' | 'ヾ' | '・')
}

/// 部署.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Department(String);

impl Department {
    pub const MAX: usize = 100;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        clean("部署", input, Self::MAX, false).map(Department)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 医籍登録番号: digits; leading zeros are not part of the number, so 012345 and 12345 are one doctor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MedicalRegistrationNumber(String);

impl MedicalRegistrationNumber {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let field = "医籍登録番号";
        let s = to_ascii_digits(input.trim());
        if s.is_empty() {
            return Err(FieldError::Required { field });
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::Format {
                field,
                hint: "半角数字",
            });
        }
        let canonical = s.trim_start_matches('0');
        if canonical.is_empty() {
            return Err(FieldError::Invalid {
                field,
                reason: "0は登録番号ではありません",
            });
        }
        if canonical.len() > 8 {
            return Err(FieldError::TooLong { field, max: 8 });
        }
        Ok(MedicalRegistrationNumber(canonical.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// メールアドレス. Full-width characters typed through an IME are folded to ASCII first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let field = "メールアドレス";
        let folded: String = input.nfkc().collect();
        let s = clean(field, &folded, Self::MAX, false)?;
        let hint = "半角英数字の正しい形式（例: taro@example.jp）";
        let (local, domain) = s
            .split_once('@')
            .ok_or(FieldError::Format { field, hint })?;
        let ok_chars = |p: &str, extra: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c) || extra.contains(c))
        };
        if !ok_chars(local, "+!#$%&'*/=?^`{|}~")
            || !ok_chars(domain, "")
            || !domain.contains('.')
            || domain.starts_with(['.', '-'])
            || domain.ends_with(['.', '-'])
            || domain.contains("..")
        {
            return Err(FieldError::Format { field, hint });
        }
        Ok(Email(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 電話番号: Japanese numbers start with 0 and have 10 or 11 digits; hyphens and brackets allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub const MAX: usize = 20;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let field = "電話番号";
        let folded: String = input
            .nfkc()
            .map(|c| if c == 'ー' || c == '−' { '-' } else { c })
            .collect();
        let s = clean(field, &folded, Self::MAX, false)?;
        let hint = "半角数字とハイフン（例: 03-1234-5678）";
        if !s.chars().all(|c| c.is_ascii_digit() || "-()".contains(c)) {
            return Err(FieldError::Format { field, hint });
        }
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        if !digits.starts_with('0') {
            return Err(FieldError::Invalid {
                field,
                reason: "先頭の0がありません（Excelで保存すると先頭の0が消えることがあります）",
            });
        }
        if !(10..=11).contains(&digits.len()) {
            return Err(FieldError::Invalid {
                field,
                reason: "市外局番から10桁または11桁で入力してください",
            });
        }
        Ok(Phone(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 備考: free text, line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Remarks(String);

impl Remarks {
    pub const MAX: usize = 500;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        clean("備考", input, Self::MAX, true).map(|s| Remarks(s.replace("\r\n", "\n")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kana_normalises_half_width_and_hiragana() {
        assert_eq!(
            Kana::parse("フリガナ（セイ）", "ﾀｶﾊｼ").unwrap().as_str(),
            "タカハシ"
        );
        assert_eq!(
            Kana::parse("フリガナ（セイ）", "ｶﾞｯｺｳ").unwrap().as_str(),
            "ガッコウ"
        );
        assert_eq!(
            Kana::parse("フリガナ（セイ）", "たかはし")
                .unwrap()
                .as_str(),
            "タカハシ"
        );
        assert_eq!(
            Kana::parse("フリガナ（メイ）", "　ミサキ　")
                .unwrap()
                .as_str(),
            "ミサキ"
        );
        assert_eq!(
            Kana::parse("フリガナ（メイ）", "メアリー　アン")
                .unwrap()
                .as_str(),
            "メアリー アン"
        );
        assert_eq!(
            Kana::parse("フリガナ（メイ）", "ヴァン・ダイク")
                .unwrap()
                .as_str(),
            "ヴァン・ダイク"
        );
    }

    #[test]
    fn kana_refuses_what_is_not_katakana() {
        let e = Kana::parse("フリガナ（セイ）", "高橋").unwrap_err();
        assert_eq!(
            e.to_string(),
            "フリガナ（セイ）は全角カタカナで入力してください。"
        );
        assert!(matches!(
            Kana::parse("フリガナ（セイ）", "Takahashi"),
            Err(FieldError::Format { .. })
        ));
        assert!(matches!(
            Kana::parse("フリガナ（セイ）", ""),
            Err(FieldError::Required { .. })
        ));
        assert!(matches!(
            Kana::parse("フリガナ（セイ）", " 　 "),
            Err(FieldError::Required { .. })
        ));
        assert!(matches!(
            Kana::parse("フリガナ（セイ）", "タカ\u{7}ハシ"),
            Err(FieldError::ControlCharacter { .. })
        ));
        let long = "ア".repeat(Kana::MAX + 1);
        assert!(matches!(
            Kana::parse("フリガナ（セイ）", &long),
            Err(FieldError::TooLong { max: 50, .. })
        ));
    }

    #[test]
    fn names_keep_itaiji_and_refuse_controls() {
        for name in ["髙橋", "山﨑", "渡邊", "齋藤", "濵田", "德永"] {
            assert_eq!(
                PersonName::parse("氏名（姓）", name).unwrap().as_str(),
                name
            );
        }
        assert_eq!(
            PersonName::parse("氏名（姓）", "　髙橋 ").unwrap().as_str(),
            "髙橋"
        );
        assert!(matches!(
            PersonName::parse("氏名（姓）", ""),
            Err(FieldError::Required { .. })
        ));
        assert!(matches!(
            PersonName::parse("氏名（姓）", "\u{3000}\u{3000}"),
            Err(FieldError::Required { .. })
        ));
        assert!(
            PersonName::parse(
                "氏名（姓）",
                "山田
"
            )
            .is_ok(),
            "trailing newline is trimmed"
        );
        assert!(matches!(
            PersonName::parse("氏名（姓）", "山\n田"),
            Err(FieldError::ControlCharacter { .. })
        ));
        assert!(matches!(
            PersonName::parse("氏名（姓）", "山\u{202E}田"),
            Err(FieldError::ControlCharacter { .. })
        ));
        assert!(matches!(
            PersonName::parse("氏名（姓）", "\u{0}"),
            Err(FieldError::ControlCharacter { .. })
        ));
        let long = "山".repeat(PersonName::MAX + 1);
        assert!(matches!(
            PersonName::parse("氏名（姓）", &long),
            Err(FieldError::TooLong { .. })
        ));
        assert_eq!(
            PersonName::parse("氏名（姓）", "").unwrap_err().to_string(),
            "氏名（姓）を入力してください。"
        );
    }

    #[test]
    fn medical_registration_numbers() {
        assert_eq!(
            MedicalRegistrationNumber::parse("123456").unwrap().as_str(),
            "123456"
        );
        assert_eq!(
            MedicalRegistrationNumber::parse("０１２３４５")
                .unwrap()
                .as_str(),
            "12345"
        );
        assert!(matches!(
            MedicalRegistrationNumber::parse(""),
            Err(FieldError::Required { .. })
        ));
        assert!(matches!(
            MedicalRegistrationNumber::parse("12-34"),
            Err(FieldError::Format { .. })
        ));
        assert!(matches!(
            MedicalRegistrationNumber::parse("000"),
            Err(FieldError::Invalid { .. })
        ));
        assert!(matches!(
            MedicalRegistrationNumber::parse("123456789"),
            Err(FieldError::TooLong { .. })
        ));
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" taro@example.jp ").unwrap().as_str(),
            "taro@example.jp"
        );
        assert_eq!(
            Email::parse("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ")
                .unwrap()
                .as_str(),
            "taro@example.jp"
        );
        for bad in [
            "taro",
            "taro@",
            "@example.jp",
            "taro@example",
            "ta ro@example.jp",
            "太郎@example.jp",
            "a@b..jp",
        ] {
            assert!(
                matches!(Email::parse(bad), Err(FieldError::Format { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn phones() {
        assert_eq!(
            Phone::parse("03-1234-5678").unwrap().as_str(),
            "03-1234-5678"
        );
        assert_eq!(
            Phone::parse("０９０ー１２３４ー５６７８").unwrap().as_str(),
            "090-1234-5678"
        );
        let dropped = Phone::parse("312345678").unwrap_err();
        assert!(dropped.to_string().contains("先頭の0"), "{dropped}");
        assert!(matches!(
            Phone::parse("03-1234"),
            Err(FieldError::Invalid { .. })
        ));
        assert!(matches!(
            Phone::parse("03 1234 5678"),
            Err(FieldError::Format { .. })
        ));
    }

    #[test]
    fn remarks_allow_line_breaks_only() {
        assert_eq!(
            Remarks::parse("1行目\r\n2行目").unwrap().as_str(),
            "1行目\n2行目"
        );
        assert!(matches!(
            Remarks::parse("a\u{1b}b"),
            Err(FieldError::ControlCharacter { .. })
        ));
        assert!(optional("  ", Remarks::parse).unwrap().is_none());
    }
}
