//! What the account forms share: the §5 fields as a Rocket form, and errors shaped for the templates
//! (a summary at the top linking to each field, and the message under the field).

use std::collections::BTreeMap;

use rocket::form::FromForm;
use serde::Serialize;

use crate::domain::account::{ProfileError, RawProfile};
use crate::domain::time::iso_date;
use crate::service::ServiceError;
use crate::store::users::UserRecord;

use super::WebError;

/// The §5 fields as the forms send them (every input is always present, possibly empty).
#[derive(Debug, Clone, Default, FromForm, Serialize)]
pub struct ProfileForm {
    #[field(default = String::new())]
    pub department: String,
    #[field(default = String::new())]
    pub family_name: String,
    #[field(default = String::new())]
    pub given_name: String,
    #[field(default = String::new())]
    pub family_kana: String,
    #[field(default = String::new())]
    pub given_kana: String,
    #[field(default = String::new())]
    pub medical_reg_no: String,
    #[field(default = String::new())]
    pub email: String,
    #[field(default = String::new())]
    pub phone: String,
    #[field(default = String::new())]
    pub expires_on: String,
    #[field(default = String::new())]
    pub remarks: String,
}

impl ProfileForm {
    pub fn raw(&self) -> RawProfile {
        RawProfile {
            department: self.department.clone(),
            family_name: self.family_name.clone(),
            given_name: self.given_name.clone(),
            family_kana: self.family_kana.clone(),
            given_kana: self.given_kana.clone(),
            medical_reg_no: self.medical_reg_no.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            expires_on: self.expires_on.clone(),
            remarks: self.remarks.clone(),
        }
    }

    /// The stored values, to pre-fill [変更].
    pub fn of(u: &UserRecord) -> ProfileForm {
        ProfileForm {
            department: u.department.clone(),
            family_name: u.family_name.clone(),
            given_name: u.given_name.clone(),
            family_kana: u.family_kana.clone(),
            given_kana: u.given_kana.clone(),
            medical_reg_no: u.medical_reg_no.clone().unwrap_or_default(),
            email: u.email.clone().unwrap_or_default(),
            phone: u.phone.clone().unwrap_or_default(),
            expires_on: u.expires_on.map(iso_date).unwrap_or_default(),
            remarks: u.remarks.clone().unwrap_or_default(),
        }
    }
}

/// One error in the summary: the field's id and the message.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryItem {
    pub field: &'static str,
    pub message: String,
}

/// Errors for a template: `summary` in order, `by_field` for the message under each field.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FormErrors {
    pub summary: Vec<SummaryItem>,
    pub by_field: BTreeMap<&'static str, Vec<String>>,
}

impl FormErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        let message = message.into();
        self.by_field
            .entry(field)
            .or_default()
            .push(message.clone());
        self.summary.push(SummaryItem { field, message });
    }

    pub fn from_profile(errors: &[ProfileError]) -> FormErrors {
        let mut out = FormErrors::default();
        for e in errors {
            out.add(e.name, e.error.to_string());
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.summary.is_empty()
    }
}

/// Where a search row's button returns to: the search with its conditions and page, so a refusal
/// or a result does not lose the user's place. Only a relative `/users` address is accepted — the
/// value comes from a form, and must not become an open redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchReturn(String);

impl SearchReturn {
    pub fn parse(s: &str) -> Option<SearchReturn> {
        let ok = (s == "/users" || s.starts_with("/users?"))
            && s.len() <= 2048
            && s.chars().all(|c| c.is_ascii_graphic())
            && !s.contains(['\\', '#']);
        ok.then(|| SearchReturn(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn redirect(&self) -> rocket::response::Redirect {
        rocket::response::Redirect::to(self.0.clone())
    }

    /// A refusal the user can act on (the rules, the account's state, a conflict) goes back to the
    /// search it came from with the reason; without a search to return to, or for a failure of the
    /// system, the error page.
    pub fn refusal(
        back: Option<&SearchReturn>,
        e: ServiceError,
    ) -> Result<rocket::response::Flash<rocket::response::Redirect>, WebError> {
        match (back, &e) {
            (
                Some(back),
                ServiceError::Denied(_)
                | ServiceError::NotFound
                | ServiceError::WrongState(_)
                | ServiceError::Conflict(_)
                | ServiceError::Invalid(_),
            ) => Ok(rocket::response::Flash::error(
                back.redirect(),
                e.to_string(),
            )),
            _ => Err(WebError(e)),
        }
    }
}

#[cfg(test)]
mod search_return_tests {
    use super::SearchReturn;

    #[test]
    fn only_relative_search_addresses() {
        for good in ["/users", "/users?name=%E9%AB%99&page=2", "/users?state="] {
            assert!(SearchReturn::parse(good).is_some(), "{good}");
        }
        for bad in [
            "",
            "//evil.example/users",
            "https://evil.example/users",
            "/usersx",
            "/users/../login",
            "/users?\r\nSet-Cookie: x",
            "/users?a=\\",
            "/ users",
            "/login",
        ] {
            assert!(SearchReturn::parse(bad).is_none(), "{bad}");
        }
    }
}
