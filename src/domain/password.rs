//! The policy for passwords people choose (DESIGN §6): by default at least 13 characters mixing
//! letters, digits and symbols (the MHLW security guideline 6.0 Q&A pattern), at most 128, not
//! containing the login ID or the name, and not a well-known password.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
    /// Require letters, digits and symbols together.
    pub require_mix: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy {
            min_length: 13,
            max_length: 128,
            require_mix: true,
        }
    }
}

/// What is wrong with a chosen password; `Display` is the Japanese message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort {
        min: usize,
    },
    TooLong {
        max: usize,
    },
    /// Letters, digits and symbols are not all present.
    NotMixed,
    /// Spaces, control characters or characters outside printable ASCII.
    UnusableCharacter,
    ContainsLoginId,
    ContainsName,
    Common,
    /// The new password is the current one.
    Unchanged,
    /// The two entries differ.
    ConfirmationMismatch,
}

impl fmt::Display for PasswordProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasswordProblem::TooShort { min } => write!(f, "パスワードは{min}文字以上で入力してください。"),
            PasswordProblem::TooLong { max } => write!(f, "パスワードは{max}文字以内で入力してください。"),
            PasswordProblem::NotMixed => {
                f.write_str("パスワードには英字・数字・記号をそれぞれ1文字以上含めてください。")
            }
            PasswordProblem::UnusableCharacter => f.write_str(
                "パスワードに使用できない文字が含まれています。半角の英字・数字・記号で入力してください（空白は使えません）。",
            ),
            PasswordProblem::ContainsLoginId => f.write_str("パスワードにログインIDを含めることはできません。"),
            PasswordProblem::ContainsName => f.write_str("パスワードに氏名やフリガナを含めることはできません。"),
            PasswordProblem::Common => f.write_str(
                "このパスワードはよく使われていて推測されやすいため使用できません。別のパスワードにしてください。",
            ),
            PasswordProblem::Unchanged => f.write_str("現在のパスワードとは異なるパスワードを入力してください。"),
            PasswordProblem::ConfirmationMismatch => {
                f.write_str("新しいパスワード（確認）が一致しません。もう一度入力してください。")
            }
        }
    }
}

/// Passwords that meet the length and mix rules yet are the first ones an attacker tries.
/// Compared after lower-casing, so `Password1234!` is caught as well.
const COMMON: &[&str] = &[
    "password1234!",
    "password123!!",
    "password12345!",
    "p@ssw0rd1234!",
    "p@ssw0rd12345",
    "p@ssword1234!",
    "passw0rd1234!",
    "qwerty123456!",
    "qwertyuiop123!",
    "qwerty12345!@",
    "1qaz2wsx3edc!",
    "1qaz@wsx3edc4",
    "1qaz!qaz1qaz!",
    "!qaz2wsx#edc4",
    "zaq12wsxcde3!",
    "abc123456789!",
    "abcd1234!@#$",
    "abcd1234abcd!",
    "admin1234567!",
    "administrator1!",
    "welcome12345!",
    "welcome@12345",
    "letmein12345!",
    "iloveyou1234!",
    "changeme1234!",
    "changeme123!!",
    "hospital1234!",
    "hospital@1234",
    "nanbyo123456!",
    "shoman123456!",
    "tokyo12345678!",
    "japan1234567!",
    "sakura123456!",
    "summer2026!!!",
    "winter2026!!!",
    "spring2026!!!",
    "autumn2026!!!",
    "december2026!",
    "november2026!",
    "password2026!",
    "password2025!",
    "password2027!",
    "p@ssw0rd2026!",
    "qwe123!@#qwe1",
    "asdf1234!@#$",
    "1234qwer!@#$",
    "!@#$1234qwer",
    "!@#$qwer1234",
    "a1b2c3d4e5f6!",
    "aa123456789!!",
    "test12345678!",
    "guest12345678!",
    "user123456789!",
    "root123456789!",
    "master1234567!",
    "dragon1234567!",
    "monkey1234567!",
    "football12345!",
    "baseball12345!",
    "superman1234!",
    "trustno1trust!",
    "sunshine12345!",
    "princess12345!",
    "shadow1234567!",
    "michael123456!",
    "computer1234!",
];

impl PasswordPolicy {
    /// Every problem at once, so the form can say all that needs fixing. `names` are the person's
    /// 氏名 and フリガナ parts.
    pub fn check(
        &self,
        candidate: &str,
        login_id: &str,
        names: &[&str],
    ) -> Result<(), Vec<PasswordProblem>> {
        let mut problems = Vec::new();
        let len = candidate.chars().count();
        if len < self.min_length {
            problems.push(PasswordProblem::TooShort {
                min: self.min_length,
            });
        }
        if len > self.max_length {
            problems.push(PasswordProblem::TooLong {
                max: self.max_length,
            });
        }
        if !candidate.chars().all(|c| c.is_ascii_graphic()) {
            problems.push(PasswordProblem::UnusableCharacter);
        }
        if self.require_mix {
            let letters = candidate.chars().any(|c| c.is_ascii_alphabetic());
            let digits = candidate.chars().any(|c| c.is_ascii_digit());
            let symbols = candidate.chars().any(|c| c.is_ascii_punctuation());
            if !(letters && digits && symbols) {
                problems.push(PasswordProblem::NotMixed);
            }
        }
        let lower = candidate.to_lowercase();
        if !login_id.is_empty() && lower.contains(&login_id.to_lowercase()) {
            problems.push(PasswordProblem::ContainsLoginId);
        }
        let folded: String = candidate.nfkc().collect::<String>().to_lowercase();
        if names
            .iter()
            .map(|n| n.nfkc().collect::<String>().to_lowercase())
            .any(|n| n.chars().count() >= 2 && folded.contains(&n))
        {
            problems.push(PasswordProblem::ContainsName);
        }
        if COMMON.contains(&lower.as_str()) {
            problems.push(PasswordProblem::Common);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(p: &str) -> Vec<PasswordProblem> {
        PasswordPolicy::default()
            .check(p, "K7MPQ2XR", &["山田", "太郎", "ヤマダ", "taro"])
            .err()
            .unwrap_or_default()
    }

    #[test]
    fn a_good_password_passes() {
        assert!(problems("Kumo-no-ue7Sora").is_empty());
    }

    #[test]
    fn each_rule_is_reported() {
        assert!(problems("Ab1!").contains(&PasswordProblem::TooShort { min: 13 }));
        assert!(problems(&format!("A1!{}", "a".repeat(126)))
            .contains(&PasswordProblem::TooLong { max: 128 }));
        assert!(problems("abcdefghijklmn").contains(&PasswordProblem::NotMixed));
        assert!(problems("abcdefghijk123").contains(&PasswordProblem::NotMixed));
        assert!(problems("Kumo no ue7Sora!").contains(&PasswordProblem::UnusableCharacter));
        assert!(problems("Kumoのue7Sora!").contains(&PasswordProblem::UnusableCharacter));
        assert!(problems("xk7mpq2xr-Sora!1").contains(&PasswordProblem::ContainsLoginId));
        assert!(problems("Taro-2026-kumo!").contains(&PasswordProblem::ContainsName));
        assert!(problems("Password1234!").contains(&PasswordProblem::Common));
        assert_eq!(problems("Password1234!").len(), 1);
    }

    #[test]
    fn messages_are_japanese() {
        assert_eq!(
            PasswordProblem::TooShort { min: 13 }.to_string(),
            "パスワードは13文字以上で入力してください。"
        );
    }
}
