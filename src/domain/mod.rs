//! The ground floor: the vocabulary of DESIGN §2, the field rules of §5, the role rules of §3, the
//! account states of §4 and the credential policies of §6.
//!
//! Nothing here knows about Rocket or sqlx, and nothing here reads the clock: the current time is always
//! a parameter (`now`), so lockout, expiry and session timeouts are tested without sleeping. Inside this
//! module siblings are named through `super::`, so the module also builds on its own.

pub mod account;
pub mod audit;
pub mod codes;
pub mod credentials;
pub mod fields;
pub mod fold;
pub mod kinds;
pub mod lockout;
pub mod natural;
pub mod ngram;
pub mod numbers;
pub mod operations;
pub mod password;
pub mod review;
pub mod roles;
pub mod search;
pub mod session;
pub mod spreadsheet;
pub mod state;
pub mod time;
pub mod totp;
pub mod twofactor;
pub mod visibility;

pub use codes::{InstitutionCode, MunicipalityCode};
pub use fields::{
    Department, Email, FieldError, Kana, MedicalRegistrationNumber, PersonName, Phone, Remarks,
};
pub use kinds::{Db, UserType};
pub use roles::{may_manage, may_see, Actor, Denied, Target};
pub use state::{AccountFacts, AccountState};
