//! The visibility rule of DESIGN §3 as a filter: what the search screen and the audit screen may list
//! for an actor. The store compiles a [`View`] into one SQL condition; the tests below check that it
//! agrees with [`may_see`](super::roles::may_see) on every kind of account.

use super::kinds::{Db, UserType};
use super::roles::{Actor, Scope, Target};

/// The accounts an actor may list (besides itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// 責任者: every account of its institution + DB.
    InstitutionDb { institution_id: i64, db: Db },
    /// 指定医: the 医療クラーク等 of its institution + DB.
    ClerksOf { institution_id: i64, db: Db },
    /// 自治体担当者: the 指定医 and 責任者 of the institutions of its municipality.
    Municipality { municipality_id: i64 },
    /// 医療クラーク等: only itself.
    OnlySelf { user_id: i64 },
}

/// The types a 自治体担当者 sees.
pub const MUNICIPALITY_SEES: [UserType; 4] = [
    UserType::Responsible,
    UserType::NanbyoDoctor,
    UserType::CooperatingDoctor,
    UserType::ShomanDoctor,
];

impl View {
    pub fn of(actor: &Actor) -> View {
        match (actor.user_type, actor.scope) {
            (UserType::Responsible, Scope::Institution { institution, db }) => {
                View::InstitutionDb {
                    institution_id: institution.id,
                    db,
                }
            }
            (
                t @ (UserType::NanbyoDoctor | UserType::CooperatingDoctor | UserType::ShomanDoctor),
                Scope::Institution { institution, db },
            ) => View::ClerksOf {
                institution_id: institution.id,
                db: t.implied_db().unwrap_or(db),
            },
            (UserType::MunicipalOfficer, Scope::Municipality { municipality_id }) => {
                View::Municipality { municipality_id }
            }
            _ => View::OnlySelf {
                user_id: actor.user_id,
            },
        }
    }

    /// Whether an existing account is listed. Mirrors the SQL the store builds from this view.
    pub fn contains(&self, target: &Target) -> bool {
        if !target.user_type.fits_db(target.db) {
            return false;
        }
        match *self {
            View::InstitutionDb { institution_id, db } => {
                target.institution.id == institution_id && target.db == db
            }
            View::ClerksOf { institution_id, db } => {
                target.user_type == UserType::Clerk
                    && target.institution.id == institution_id
                    && target.db == db
            }
            View::Municipality { municipality_id } => {
                MUNICIPALITY_SEES.contains(&target.user_type)
                    && target.institution.municipality_id == municipality_id
            }
            View::OnlySelf { user_id } => target.user_id == Some(user_id),
        }
    }

    /// Whether the actor gets a search screen at all (a 医療クラーク等 does not).
    pub fn has_search(&self) -> bool {
        !matches!(self, View::OnlySelf { .. })
    }

    /// Whether the view spans institutions (a 自治体担当者's): the search then shows and filters by
    /// 医療機関.
    pub fn spans_institutions(&self) -> bool {
        matches!(self, View::Municipality { .. })
    }

    /// The account types this view can list: the search's ユーザ種別 condition offers these only
    /// (a 自治体担当者 sees no 医療クラーク等, a 指定医 only its clerks).
    pub fn listed_types(&self) -> Vec<UserType> {
        match self {
            View::InstitutionDb { .. } => UserType::ALL
                .into_iter()
                .filter(|t| t.is_institution_account())
                .collect(),
            View::ClerksOf { .. } => vec![UserType::Clerk],
            View::Municipality { .. } => MUNICIPALITY_SEES.to_vec(),
            View::OnlySelf { .. } => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_type_condition_offers_only_what_the_view_lists() {
        let officer = View::Municipality { municipality_id: 1 };
        assert!(!officer.listed_types().contains(&UserType::Clerk));
        assert!(officer.listed_types().contains(&UserType::Responsible));
        let doctor = View::ClerksOf {
            institution_id: 1,
            db: crate::domain::Db::Nanbyo,
        };
        assert_eq!(doctor.listed_types(), vec![UserType::Clerk]);
        let responsible = View::InstitutionDb {
            institution_id: 1,
            db: crate::domain::Db::Nanbyo,
        };
        assert!(!responsible
            .listed_types()
            .contains(&UserType::MunicipalOfficer));
    }
    use super::super::roles::{may_see, InstitutionRef};
    use super::*;

    #[test]
    fn the_view_agrees_with_may_see_on_every_account() {
        let own = InstitutionRef {
            id: 1,
            municipality_id: 100,
        };
        let neighbour = InstitutionRef {
            id: 2,
            municipality_id: 100,
        };
        let far = InstitutionRef {
            id: 3,
            municipality_id: 200,
        };
        let mut actors = Vec::new();
        for t in UserType::ALL {
            for db in Db::ALL {
                let scope = if t == UserType::MunicipalOfficer {
                    Scope::Municipality {
                        municipality_id: 100,
                    }
                } else {
                    Scope::Institution {
                        institution: own,
                        db,
                    }
                };
                actors.push(Actor {
                    user_id: 1,
                    user_type: t,
                    scope,
                });
            }
        }
        let mut checked = 0;
        for actor in &actors {
            let view = View::of(actor);
            for user_type in UserType::ALL {
                for db in Db::ALL {
                    for institution in [own, neighbour, far] {
                        for user_id in [1, 2] {
                            let target = Target {
                                user_id: Some(user_id),
                                user_type,
                                db,
                                institution,
                            };
                            let listed =
                                view.contains(&target) || target.user_id == Some(actor.user_id);
                            assert_eq!(listed, may_see(actor, &target), "{actor:?} {target:?}");
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(checked, 12 * 6 * 2 * 3 * 2);
    }

    #[test]
    fn clerks_have_no_search_screen() {
        let clerk = Actor {
            user_id: 5,
            user_type: UserType::Clerk,
            scope: Scope::Institution {
                institution: InstitutionRef {
                    id: 1,
                    municipality_id: 1,
                },
                db: Db::Nanbyo,
            },
        };
        assert!(!View::of(&clerk).has_search());
    }
}
