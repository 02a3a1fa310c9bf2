//! The role rules (DESIGN §3): who may register and manage whom, and who sees whom.
//!
//! [`may_manage`] is the one place the rules live. The web forms, the CSV import and the CLI all call it;
//! a [`Permit`] can only be obtained through it (or through the explicit console break-glass), and the
//! store's state-changing operations take a `Permit`, so no path can skip the check.

use std::fmt;

use super::kinds::{Db, UserType};

/// The institution an account belongs to, with the municipality that issues its doctors' IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstitutionRef {
    pub id: i64,
    pub municipality_id: i64,
}

/// Where an actor belongs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// An institution account: one institution and one DB.
    Institution { institution: InstitutionRef, db: Db },
    /// A 自治体担当者: one municipality.
    Municipality { municipality_id: i64 },
}

/// A logged-in person acting through the web, the import, or the CLI's `--as`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub user_type: UserType,
    pub scope: Scope,
}

/// The account being registered (`user_id` = None) or managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    pub user_id: Option<i64>,
    pub user_type: UserType,
    pub db: Db,
    pub institution: InstitutionRef,
}

/// Why the rules refuse. `Display` is the Japanese message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// The actor may not register or manage this ユーザ種別 at all.
    TypeNotAllowed,
    /// The type does not exist in that DB (e.g. 小児慢性特定疾病指定医 in 難病DB).
    TypeDoesNotFitDb,
    OtherInstitution,
    OtherDb,
    OtherMunicipality,
    /// Nobody resets, unlocks, deletes or expires itself through these operations.
    SelfManagement,
    /// The last active 責任者 of an institution + DB cannot be deleted or expired.
    LastResponsible,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Denied::TypeNotAllowed => "このユーザ種別のユーザを登録・管理する権限がありません。",
            Denied::TypeDoesNotFitDb => "このユーザ種別はこの対象DBには登録できません。",
            Denied::OtherInstitution => "他の医療機関のユーザは登録・管理できません。",
            Denied::OtherDb => "他の対象DBのユーザは登録・管理できません。",
            Denied::OtherMunicipality => "管轄外の医療機関のユーザは登録・管理できません。",
            Denied::SelfManagement => "ご自身のアカウントはこの操作の対象にできません。",
            Denied::LastResponsible => {
                "この医療機関・対象DBで有効な責任者が他にいないため、この操作はできません。先に別の責任者を登録してください。"
            }
        })
    }
}

impl std::error::Error for Denied {}

/// May `actor` register (target.user_id = None) or manage (edit, issue the notice, reset, unlock,
/// delete) an account of `target`'s type, DB and institution?
pub fn may_manage(actor: &Actor, target: &Target) -> Result<(), Denied> {
    if target.user_id == Some(actor.user_id) {
        return Err(Denied::SelfManagement);
    }
    if !target.user_type.fits_db(target.db) {
        return Err(Denied::TypeDoesNotFitDb);
    }
    match (actor.user_type, actor.scope) {
        (UserType::MunicipalOfficer, Scope::Municipality { municipality_id }) => {
            if !target.user_type.is_doctor() {
                return Err(Denied::TypeNotAllowed);
            }
            if target.institution.municipality_id != municipality_id {
                return Err(Denied::OtherMunicipality);
            }
            Ok(())
        }
        (actor_type, Scope::Institution { institution, db }) => {
            let may_register: &[UserType] = match actor_type {
                UserType::Responsible => &[UserType::Responsible, UserType::Clerk],
                UserType::NanbyoDoctor | UserType::CooperatingDoctor | UserType::ShomanDoctor => {
                    &[UserType::Clerk]
                }
                UserType::Clerk | UserType::MunicipalOfficer => &[],
            };
            if !may_register.contains(&target.user_type) {
                return Err(Denied::TypeNotAllowed);
            }
            if target.institution.id != institution.id {
                return Err(Denied::OtherInstitution);
            }
            // A doctor's DB follows from its type, whatever its account row says.
            let own_db = actor_type.implied_db().unwrap_or(db);
            if target.db != own_db {
                return Err(Denied::OtherDb);
            }
            Ok(())
        }
        // A 自治体担当者 always has a municipality scope and institution accounts an institution scope;
        // a mismatched actor is refused rather than guessed at.
        (_, Scope::Municipality { .. }) => Err(Denied::TypeNotAllowed),
    }
}

/// Deleting or expiring a 責任者 needs another active one in the same institution + DB.
/// `other_active_responsibles` counts the active 責任者 there other than the target.
pub fn may_remove(target: &Target, other_active_responsibles: u64) -> Result<(), Denied> {
    if target.user_type == UserType::Responsible && other_active_responsibles == 0 {
        return Err(Denied::LastResponsible);
    }
    Ok(())
}

/// Who sees whom in search and in the audit log. Seeing is not managing.
pub fn may_see(viewer: &Actor, target: &Target) -> bool {
    if target.user_id == Some(viewer.user_id) {
        return true;
    }
    // An account that cannot exist (a type in a DB it does not fit, or a 自治体担当者, which belongs to
    // no institution) is nobody else's to see, as in `may_manage`.
    if !target.user_type.fits_db(target.db) {
        return false;
    }
    match (viewer.user_type, viewer.scope) {
        (UserType::Responsible, Scope::Institution { institution, db }) => {
            target.institution.id == institution.id && target.db == db
        }
        (
            UserType::NanbyoDoctor | UserType::CooperatingDoctor | UserType::ShomanDoctor,
            Scope::Institution { .. },
        ) => may_manage(viewer, target).is_ok(),
        (UserType::MunicipalOfficer, Scope::Municipality { municipality_id }) => {
            (target.user_type.is_doctor() || target.user_type == UserType::Responsible)
                && target.institution.municipality_id == municipality_id
        }
        _ => false,
    }
}

/// The (type, DB) pairs the actor may register in `institution`, derived from [`may_manage`] so that
/// a form never offers what the server would refuse.
pub fn registrable(actor: &Actor, institution: InstitutionRef) -> Vec<(UserType, Db)> {
    let mut out = Vec::new();
    for user_type in UserType::ALL {
        for db in Db::ALL {
            let target = Target {
                user_id: None,
                user_type,
                db,
                institution,
            };
            if may_manage(actor, &target).is_ok() {
                out.push((user_type, db));
            }
        }
    }
    out
}

/// The types `actor` may register anywhere in its scope — its own institution, or any institution of
/// its municipality — in the order of [`UserType::ALL`], derived from [`may_manage`] (the menu's
/// 新規登録 card names them; an actor with none gets no card).
pub fn registrable_types(actor: &Actor) -> Vec<UserType> {
    let institution = match actor.scope {
        Scope::Institution { institution, .. } => institution,
        // Any institution of the municipality: the rules look only at its municipality.
        Scope::Municipality { municipality_id } => InstitutionRef {
            id: 0,
            municipality_id,
        },
    };
    let mut types: Vec<UserType> = Vec::new();
    for (t, _) in registrable(actor, institution) {
        if !types.contains(&t) {
            types.push(t);
        }
    }
    types
}

/// Whom a person turns to for a new notice, a reset or an unlock: whoever manages the account
/// (DESIGN §3). The notice's instructions and お問い合わせ先 follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Manager {
    /// 医療クラーク等 and 責任者: the institution's 責任者 (for a clerk, its 指定医 too).
    Institution,
    /// 指定医: the 自治体 of the institution.
    Municipality,
    /// 自治体担当者: the system administrator, at the server's console.
    SystemAdministrator,
}

/// Who manages accounts of `user_type`, derived from [`may_manage`] (never a second table of the
/// rules): a 責任者 of the same institution + DB, else a 自治体担当者 of its municipality, else only
/// the console.
pub fn manager_of(user_type: UserType) -> Manager {
    let institution = InstitutionRef {
        id: 0,
        municipality_id: 0,
    };
    // Whether `actor` may manage an account of this type of `institution` in some DB.
    let manages = |actor: Actor| {
        Db::ALL.iter().any(|&db| {
            let target = Target {
                user_id: None,
                user_type,
                db,
                institution,
            };
            may_manage(&actor, &target).is_ok()
        })
    };
    let responsible_of = |db| Actor {
        user_id: -1,
        user_type: UserType::Responsible,
        scope: Scope::Institution { institution, db },
    };
    let officer = Actor {
        user_id: -1,
        user_type: UserType::MunicipalOfficer,
        scope: Scope::Municipality { municipality_id: 0 },
    };
    if Db::ALL.iter().any(|&db| manages(responsible_of(db))) {
        Manager::Institution
    } else if manages(officer) {
        Manager::Municipality
    } else {
        Manager::SystemAdministrator
    }
}

/// Proof that the role rules allowed `actor` to manage the account `target_user_id`. Only
/// [`Permit::check`] and the console's [`Permit::console`] make one; the store's operations take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    target_user_id: i64,
    by: By,
}

/// Who holds a [`Permit`]: a user, or the system administrator at the server's console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    User(i64),
    Console,
}

impl Permit {
    /// Checks the rules for an existing account and hands out the permit.
    pub fn check(actor: &Actor, target_user_id: i64, target: &Target) -> Result<Permit, Denied> {
        let target = Target {
            user_id: Some(target_user_id),
            ..*target
        };
        may_manage(actor, &target)?;
        Ok(Permit {
            target_user_id,
            by: By::User(actor.user_id),
        })
    }

    /// Break-glass from the server's console (DESIGN §3): audited as done from the console.
    pub fn console(target_user_id: i64) -> Permit {
        Permit {
            target_user_id,
            by: By::Console,
        }
    }

    pub fn target_user_id(&self) -> i64 {
        self.target_user_id
    }

    pub fn by(&self) -> By {
        self.by
    }
}

#[cfg(test)]
#[path = "roles_tests.rs"]
mod tests;
