//! Search conditions of the 医療機関ユーザ検索 screen as a small enum (the store compiles a list of
//! them, with the actor's [`View`](super::visibility::View), into one SQL query).

use time::Date;

use super::fold::{fold, to_ascii_digits};
use super::kinds::{Db, UserType};
use super::state::AccountState;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// ログインID, partial match (case-insensitive).
    LoginId(String),
    /// 氏名 or フリガナ, partial match after folding (高橋 finds 髙橋, ﾀｶ finds タカハシ).
    Name(String),
    Type(UserType),
    Db(Db),
    /// 部署, partial match after folding.
    Department(String),
    State(AccountState),
    /// 医療機関: a partial name, or (when the input is digits) also a partial 医療機関コード. For a
    /// 自治体担当者, whose view spans institutions.
    Institution {
        /// Digits as typed (full-width ones made ASCII), when the input is only digits.
        code: Option<String>,
        /// The trimmed input, matched against the institution's name as registered.
        name: String,
    },
    /// 取込番号: the accounts an import registered or changed.
    Import(i64),
    /// 登録日 from (inclusive, JST).
    RegisteredFrom(Date),
    /// 登録日 to (inclusive, JST).
    RegisteredTo(Date),
}

impl Filter {
    /// The name condition, folded the same way as the stored search keys.
    pub fn name(input: &str) -> Option<Filter> {
        let f = fold(input);
        (!f.is_empty()).then_some(Filter::Name(f))
    }

    pub fn department(input: &str) -> Option<Filter> {
        let f = fold(input);
        (!f.is_empty()).then_some(Filter::Department(f))
    }

    /// The 医療機関 condition: 「1311234567」 and 「131123」 match codes, 「中央」 names.
    pub fn institution(input: &str) -> Option<Filter> {
        let name = input.trim();
        if name.is_empty() {
            return None;
        }
        let digits = to_ascii_digits(name);
        let code = digits.bytes().all(|b| b.is_ascii_digit()).then_some(digits);
        Some(Filter::Institution {
            code,
            name: name.to_string(),
        })
    }

    pub fn login_id(input: &str) -> Option<Filter> {
        let s: String = input.trim().to_ascii_uppercase();
        (!s.is_empty()).then_some(Filter::LoginId(s))
    }
}

/// Sortable columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    LoginId,
    #[default]
    Kana,
    Department,
    UserType,
    Registered,
    /// 最終ログイン (never logged in sorts as the oldest).
    LastLogin,
}

impl SortKey {
    pub const ALL: [SortKey; 6] = [
        SortKey::LoginId,
        SortKey::Kana,
        SortKey::Department,
        SortKey::UserType,
        SortKey::Registered,
        SortKey::LastLogin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::LoginId => "login_id",
            SortKey::Kana => "kana",
            SortKey::Department => "department",
            SortKey::UserType => "type",
            SortKey::Registered => "registered",
            SortKey::LastLogin => "last_login",
        }
    }

    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserQuery {
    pub filters: Vec<Filter>,
    pub sort: SortKey,
    pub descending: bool,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl Default for UserQuery {
    fn default() -> Self {
        UserQuery {
            filters: Vec::new(),
            sort: SortKey::default(),
            descending: false,
            page: 1,
            per_page: 50,
        }
    }
}

impl UserQuery {
    pub fn offset(&self) -> u64 {
        u64::from(self.page.max(1) - 1) * u64::from(self.per_page)
    }

    /// Whether deleted accounts are asked for (otherwise they are hidden).
    pub fn wants_deleted(&self) -> bool {
        self.filters.contains(&Filter::State(AccountState::Deleted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_conditions_are_folded_like_the_stored_keys() {
        assert_eq!(Filter::name("髙橋"), Some(Filter::Name("高橋".into())));
        assert_eq!(Filter::name("ﾀｶﾊｼ"), Some(Filter::Name("タカハシ".into())));
        assert_eq!(Filter::name("  "), None);
        assert_eq!(
            Filter::login_id(" ab12 "),
            Some(Filter::LoginId("AB12".into()))
        );
    }

    #[test]
    fn an_institution_condition_is_a_code_when_it_is_digits() {
        assert_eq!(Filter::institution(" "), None);
        assert_eq!(
            Filter::institution(" 東京中央 "),
            Some(Filter::Institution {
                code: None,
                name: "東京中央".into()
            })
        );
        assert_eq!(
            Filter::institution("１３１１２"),
            Some(Filter::Institution {
                code: Some("13112".into()),
                name: "１３１１２".into()
            })
        );
    }

    #[test]
    fn paging() {
        let q = UserQuery {
            page: 3,
            ..UserQuery::default()
        };
        assert_eq!(q.offset(), 100);
        assert_eq!(
            UserQuery {
                page: 0,
                ..UserQuery::default()
            }
            .offset(),
            0
        );
    }
}
