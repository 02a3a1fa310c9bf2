//! A user's personal fields as one validated value (DESIGN §5), shared by the registration form, the
//! [変更] form, the CSV import and the console's `bootstrap`.

use time::Date;

use super::fields::{
    optional, Department, Email, FieldError, Kana, MedicalRegistrationNumber, PersonName, Phone,
    Remarks,
};
use super::fold::fold;
use super::time::parse_date;

/// The fields as typed, before validation. Field names match the forms.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawProfile {
    pub department: String,
    pub family_name: String,
    pub given_name: String,
    pub family_kana: String,
    pub given_kana: String,
    pub medical_reg_no: String,
    pub email: String,
    pub phone: String,
    pub expires_on: String,
    pub remarks: String,
}

/// The longest value of each free-text field, in characters, by form field name: the forms'
/// `maxlength`, the [変更] form, the import and the store all follow these (one source; the import
/// and the console validate through [`Profile::parse`], which uses the same constants).
pub const TEXT_LIMITS: [(&str, usize); 8] = [
    ("department", Department::MAX),
    ("family_name", PersonName::MAX),
    ("given_name", PersonName::MAX),
    ("family_kana", Kana::MAX),
    ("given_kana", Kana::MAX),
    ("email", Email::MAX),
    ("phone", Phone::MAX),
    ("remarks", Remarks::MAX),
];

/// The validated fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub department: Department,
    pub family_name: PersonName,
    pub given_name: PersonName,
    pub family_kana: Kana,
    pub given_kana: Kana,
    pub medical_reg_no: Option<MedicalRegistrationNumber>,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub expires_on: Option<Date>,
    pub remarks: Option<Remarks>,
}

/// One problem, with the form field it belongs to (the HTML name, for linking the error summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    pub name: &'static str,
    pub error: FieldError,
}

fn take<T>(
    errors: &mut Vec<ProfileError>,
    name: &'static str,
    r: Result<T, FieldError>,
) -> Option<T> {
    r.map_err(|error| errors.push(ProfileError { name, error }))
        .ok()
}

impl Profile {
    /// Validates every field and reports every problem at once. `doctor` makes 医籍登録番号 required.
    pub fn parse(raw: &RawProfile, doctor: bool) -> Result<Profile, Vec<ProfileError>> {
        let mut errors = Vec::new();
        let department = take(
            &mut errors,
            "department",
            Department::parse(&raw.department),
        );
        let family_name = take(
            &mut errors,
            "family_name",
            PersonName::parse("氏名（姓）", &raw.family_name),
        );
        let given_name = take(
            &mut errors,
            "given_name",
            PersonName::parse("氏名（名）", &raw.given_name),
        );
        let family_kana = take(
            &mut errors,
            "family_kana",
            Kana::parse("フリガナ（セイ）", &raw.family_kana),
        );
        let given_kana = take(
            &mut errors,
            "given_kana",
            Kana::parse("フリガナ（メイ）", &raw.given_kana),
        );
        let medical_reg_no = if doctor {
            take(
                &mut errors,
                "medical_reg_no",
                MedicalRegistrationNumber::parse(&raw.medical_reg_no).map(Some),
            )
        } else {
            // Only 指定医 carry the number; a clerk's form does not show the field.
            Some(None)
        };
        let email = take(&mut errors, "email", optional(&raw.email, Email::parse));
        let phone = take(&mut errors, "phone", optional(&raw.phone, Phone::parse));
        let expires_on = take(
            &mut errors,
            "expires_on",
            optional(&raw.expires_on, |s| parse_date("有効期限", s)),
        );
        let remarks = take(
            &mut errors,
            "remarks",
            optional(&raw.remarks, Remarks::parse),
        );
        match (
            department,
            family_name,
            given_name,
            family_kana,
            given_kana,
            medical_reg_no,
            email,
            phone,
            expires_on,
            remarks,
        ) {
            (
                Some(department),
                Some(family_name),
                Some(given_name),
                Some(family_kana),
                Some(given_kana),
                Some(medical_reg_no),
                Some(email),
                Some(phone),
                Some(expires_on),
                Some(remarks),
            ) if errors.is_empty() => Ok(Profile {
                department,
                family_name,
                given_name,
                family_kana,
                given_kana,
                medical_reg_no,
                email,
                phone,
                expires_on,
                remarks,
            }),
            _ => Err(errors),
        }
    }

    /// 氏名 as shown: 姓 and 名 with a full-width space.
    pub fn full_name(&self) -> String {
        format!(
            "{}\u{3000}{}",
            self.family_name.as_str(),
            self.given_name.as_str()
        )
    }

    /// The search keys stored beside the fields (DESIGN §5 folding).
    pub fn name_fold(&self) -> String {
        fold(&format!(
            "{}{}",
            self.family_name.as_str(),
            self.given_name.as_str()
        ))
    }

    pub fn kana_fold(&self) -> String {
        fold(&format!(
            "{}{}",
            self.family_kana.as_str(),
            self.given_kana.as_str()
        ))
    }

    /// The strings a chosen password must not contain.
    pub fn name_parts(&self) -> [&str; 4] {
        [
            self.family_name.as_str(),
            self.given_name.as_str(),
            self.family_kana.as_str(),
            self.given_kana.as_str(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawProfile {
        RawProfile {
            department: "医事課".into(),
            family_name: "髙橋".into(),
            given_name: "美咲".into(),
            family_kana: "ﾀｶﾊｼ".into(),
            given_kana: "みさき".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_clerk_profile_parses_and_folds() {
        let p = Profile::parse(&raw(), false).unwrap();
        assert_eq!(p.family_kana.as_str(), "タカハシ");
        assert_eq!(p.given_kana.as_str(), "ミサキ");
        assert_eq!(p.full_name(), "髙橋\u{3000}美咲");
        assert_eq!(p.name_fold(), "高橋美咲");
        assert_eq!(p.medical_reg_no, None);
    }

    #[test]
    fn every_problem_is_reported_with_its_field() {
        let bad = RawProfile {
            department: " ".into(),
            given_kana: "Misaki".into(),
            phone: "312345678".into(),
            ..raw()
        };
        let errors = Profile::parse(&bad, true).unwrap_err();
        let names: Vec<_> = errors.iter().map(|e| e.name).collect();
        assert_eq!(
            names,
            vec!["department", "given_kana", "medical_reg_no", "phone"]
        );
        assert_eq!(errors[0].error.to_string(), "部署を入力してください。");
        assert_eq!(
            errors[2].error.to_string(),
            "医籍登録番号を入力してください。"
        );
    }
}
