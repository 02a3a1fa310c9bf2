//! 対象DB and ユーザ種別 (DESIGN §2).

use std::fmt;

/// 対象DB: which national database an account belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Db {
    /// 難病DB
    Nanbyo,
    /// 小慢DB
    Shoman,
}

impl Db {
    pub const ALL: [Db; 2] = [Db::Nanbyo, Db::Shoman];

    /// The value stored in the database and sent in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Db::Nanbyo => "nanbyo",
            Db::Shoman => "shoman",
        }
    }

    pub fn parse(s: &str) -> Option<Db> {
        match s.trim() {
            "nanbyo" | "難病DB" | "難病" => Some(Db::Nanbyo),
            "shoman" | "小慢DB" | "小慢" => Some(Db::Shoman),
            _ => None,
        }
    }

    /// The screen label.
    pub fn label(self) -> &'static str {
        match self {
            Db::Nanbyo => "難病DB",
            Db::Shoman => "小慢DB",
        }
    }
}

impl fmt::Display for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// ユーザ種別.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserType {
    /// 責任者
    Responsible,
    /// 難病指定医
    NanbyoDoctor,
    /// 協力難病指定医
    CooperatingDoctor,
    /// 小児慢性特定疾病指定医
    ShomanDoctor,
    /// 医療クラーク等
    Clerk,
    /// 自治体担当者 (belongs to a municipality, not an institution)
    MunicipalOfficer,
}

impl UserType {
    pub const ALL: [UserType; 6] = [
        UserType::Responsible,
        UserType::NanbyoDoctor,
        UserType::CooperatingDoctor,
        UserType::ShomanDoctor,
        UserType::Clerk,
        UserType::MunicipalOfficer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Responsible => "responsible",
            UserType::NanbyoDoctor => "nanbyo_doctor",
            UserType::CooperatingDoctor => "cooperating_doctor",
            UserType::ShomanDoctor => "shoman_doctor",
            UserType::Clerk => "clerk",
            UserType::MunicipalOfficer => "municipal",
        }
    }

    /// Accepts the stored value or the screen label (CSV files carry the label).
    pub fn parse(s: &str) -> Option<UserType> {
        let s = s.trim();
        UserType::ALL
            .into_iter()
            .find(|t| t.as_str() == s || t.label() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            UserType::Responsible => "責任者",
            UserType::NanbyoDoctor => "難病指定医",
            UserType::CooperatingDoctor => "協力難病指定医",
            UserType::ShomanDoctor => "小児慢性特定疾病指定医",
            UserType::Clerk => "医療クラーク等",
            UserType::MunicipalOfficer => "自治体担当者",
        }
    }

    /// One of the three 指定医 types.
    pub fn is_doctor(self) -> bool {
        matches!(
            self,
            UserType::NanbyoDoctor | UserType::CooperatingDoctor | UserType::ShomanDoctor
        )
    }

    /// Institution accounts belong to an institution; the 自治体担当者 to a municipality.
    pub fn is_institution_account(self) -> bool {
        self != UserType::MunicipalOfficer
    }

    /// Whether an account of this type may exist in `db` (DESIGN §2: types per DB).
    pub fn fits_db(self, db: Db) -> bool {
        match self {
            UserType::Responsible | UserType::Clerk => true,
            UserType::NanbyoDoctor | UserType::CooperatingDoctor => db == Db::Nanbyo,
            UserType::ShomanDoctor => db == Db::Shoman,
            UserType::MunicipalOfficer => false,
        }
    }

    /// The DB a type implies, where it implies one (the 指定医 types).
    pub fn implied_db(self) -> Option<Db> {
        match self {
            UserType::NanbyoDoctor | UserType::CooperatingDoctor => Some(Db::Nanbyo),
            UserType::ShomanDoctor => Some(Db::Shoman),
            _ => None,
        }
    }
}

impl fmt::Display for UserType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_and_labels_round_trip() {
        for t in UserType::ALL {
            assert_eq!(UserType::parse(t.as_str()), Some(t));
            assert_eq!(UserType::parse(t.label()), Some(t));
        }
        for d in Db::ALL {
            assert_eq!(Db::parse(d.as_str()), Some(d));
            assert_eq!(Db::parse(d.label()), Some(d));
        }
        assert_eq!(UserType::parse("doctor"), None);
        assert_eq!(Db::parse(""), None);
    }

    #[test]
    fn types_per_db_follow_design_section_2() {
        use UserType::*;
        let nanbyo: Vec<_> = UserType::ALL
            .into_iter()
            .filter(|t| t.fits_db(Db::Nanbyo))
            .collect();
        let shoman: Vec<_> = UserType::ALL
            .into_iter()
            .filter(|t| t.fits_db(Db::Shoman))
            .collect();
        assert_eq!(
            nanbyo,
            vec![Responsible, NanbyoDoctor, CooperatingDoctor, Clerk]
        );
        assert_eq!(shoman, vec![Responsible, ShomanDoctor, Clerk]);
    }
}
