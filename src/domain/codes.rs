//! 医療機関コード and 地方公共団体コード (DESIGN §5, Codes).

use std::fmt;

use super::fields::FieldError;
use super::fold::to_ascii_digits;

/// 医療機関コード: 10 digits = 都道府県番号 (2) + 点数表番号 (1: 医科 1, 歯科 3, 薬局 4) + 7 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstitutionCode(String);

impl InstitutionCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let field = "医療機関コード";
        let s = to_ascii_digits(input.trim());
        if s.is_empty() {
            return Err(FieldError::Required { field });
        }
        if s.len() != 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::Format {
                field,
                hint: "半角数字10桁",
            });
        }
        let prefecture: u32 = s[0..2].parse().unwrap_or(0);
        if !(1..=47).contains(&prefecture) {
            return Err(FieldError::Invalid {
                field,
                reason: "先頭2桁の都道府県番号は01〜47です",
            });
        }
        if !matches!(&s[2..3], "1" | "3" | "4") {
            return Err(FieldError::Invalid {
                field,
                reason: "3桁目の点数表番号は1（医科）・3（歯科）・4（薬局）のいずれかです",
            });
        }
        Ok(InstitutionCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstitutionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 地方公共団体コード: 6 digits whose last is a check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MunicipalityCode(String);

impl MunicipalityCode {
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let field = "地方公共団体コード";
        let s = to_ascii_digits(input.trim());
        if s.is_empty() {
            return Err(FieldError::Required { field });
        }
        if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::Format {
                field,
                hint: "半角数字6桁",
            });
        }
        let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
        if d[5] != check_digit(&d[..5]) {
            return Err(FieldError::Invalid {
                field,
                reason: "検査数字（6桁目）が正しくありません",
            });
        }
        let prefecture = d[0] * 10 + d[1];
        if !(1..=47).contains(&prefecture) {
            return Err(FieldError::Invalid {
                field,
                reason: "先頭2桁の都道府県番号は01〜47です",
            });
        }
        Ok(MunicipalityCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MunicipalityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// r = (6·d1 + 5·d2 + 4·d3 + 3·d4 + 2·d5) mod 11, check = (11 − r) mod 10.
fn check_digit(first_five: &[u32]) -> u32 {
    let r = first_five
        .iter()
        .zip([6, 5, 4, 3, 2])
        .map(|(d, w)| d * w)
        .sum::<u32>()
        % 11;
    (11 - r) % 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn municipality_codes_with_valid_check_digits() {
        for ok in ["131041", "011002", "１３１０４１"] {
            assert!(MunicipalityCode::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            MunicipalityCode::parse(" 131041 ").unwrap().as_str(),
            "131041"
        );
    }

    #[test]
    fn municipality_codes_refused() {
        assert!(matches!(
            MunicipalityCode::parse(""),
            Err(FieldError::Required { .. })
        ));
        assert!(matches!(
            MunicipalityCode::parse("   "),
            Err(FieldError::Required { .. })
        ));
        assert!(matches!(
            MunicipalityCode::parse("13104"),
            Err(FieldError::Format { .. })
        ));
        assert!(matches!(
            MunicipalityCode::parse("1310412"),
            Err(FieldError::Format { .. })
        ));
        assert!(matches!(
            MunicipalityCode::parse("13104a"),
            Err(FieldError::Format { .. })
        ));
        assert!(matches!(
            MunicipalityCode::parse("131042"),
            Err(FieldError::Invalid { .. })
        ));
        assert!(matches!(
            MunicipalityCode::parse("011001"),
            Err(FieldError::Invalid { .. })
        ));
    }

    #[test]
    fn institution_codes() {
        assert_eq!(
            InstitutionCode::parse("1311234567").unwrap().as_str(),
            "1311234567"
        );
        assert_eq!(
            InstitutionCode::parse("１３１１２３４５６７")
                .unwrap()
                .as_str(),
            "1311234567"
        );
        assert!(InstitutionCode::parse("1331234567").is_ok());
        assert!(InstitutionCode::parse("1341234567").is_ok());
        assert!(matches!(
            InstitutionCode::parse(""),
            Err(FieldError::Required { .. })
        ));
        assert!(matches!(
            InstitutionCode::parse("131123456"),
            Err(FieldError::Format { .. })
        ));
        assert!(matches!(
            InstitutionCode::parse("13112345678"),
            Err(FieldError::Format { .. })
        ));
        assert!(matches!(
            InstitutionCode::parse("1321234567"),
            Err(FieldError::Invalid { .. })
        ));
        assert!(matches!(
            InstitutionCode::parse("4811234567"),
            Err(FieldError::Invalid { .. })
        ));
        assert!(matches!(
            InstitutionCode::parse("0011234567"),
            Err(FieldError::Invalid { .. })
        ));
    }
}
