//! Table-driven tests of the role rules against DESIGN §3.
//!
//! The expected results are written out literally below (never computed from the code under test), so
//! a change to `roles.rs` that departs from the design shows up as a failing row.

use std::collections::HashSet;

use super::super::kinds::Db::{self, *};
use super::super::kinds::UserType::{self, *};
use super::*;

// ---------------------------------------------------------------------------------------------------
// The world: three institutions and two municipalities.
// ---------------------------------------------------------------------------------------------------

const MUNICIPALITY: i64 = 100;
const OTHER_MUNICIPALITY: i64 = 200;

/// The actors' own institution.
const HOME: InstitutionRef = InstitutionRef {
    id: 10,
    municipality_id: MUNICIPALITY,
};
/// Another institution in the same municipality.
const NEIGHBOUR: InstitutionRef = InstitutionRef {
    id: 11,
    municipality_id: MUNICIPALITY,
};
/// An institution in another municipality.
const FAR: InstitutionRef = InstitutionRef {
    id: 12,
    municipality_id: OTHER_MUNICIPALITY,
};

/// The target's institution, in the order of the three columns of the tables:
/// `[HOME, NEIGHBOUR, FAR]`. For institution actors that reads as "same institution, other institution,
/// other institution"; for the 自治体担当者 (whose municipality is `MUNICIPALITY`) as "in its municipality,
/// in its municipality, outside it".
const PLACES: [InstitutionRef; 3] = [HOME, NEIGHBOUR, FAR];

/// The id of every target account; no actor has it.
const TARGET_ID: i64 = 500;

/// Every kind of actor of DESIGN §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Who {
    /// 責任者 of 難病DB
    RespNanbyo,
    /// 責任者 of 小慢DB
    RespShoman,
    /// 難病指定医
    DrNanbyo,
    /// 協力難病指定医
    DrCooperating,
    /// 小児慢性特定疾病指定医
    DrShoman,
    /// 医療クラーク等 of 難病DB
    ClerkNanbyo,
    /// 医療クラーク等 of 小慢DB
    ClerkShoman,
    /// 自治体担当者 of `MUNICIPALITY`
    Officer,
}
use Who::*;

const EVERY_ACTOR: [Who; 8] = [
    RespNanbyo,
    RespShoman,
    DrNanbyo,
    DrCooperating,
    DrShoman,
    ClerkNanbyo,
    ClerkShoman,
    Officer,
];

fn at(user_id: i64, user_type: UserType, db: Db) -> Actor {
    Actor {
        user_id,
        user_type,
        scope: Scope::Institution {
            institution: HOME,
            db,
        },
    }
}

fn actor(who: Who) -> Actor {
    match who {
        RespNanbyo => at(1, Responsible, Nanbyo),
        RespShoman => at(2, Responsible, Shoman),
        DrNanbyo => at(3, NanbyoDoctor, Nanbyo),
        DrCooperating => at(4, CooperatingDoctor, Nanbyo),
        DrShoman => at(5, ShomanDoctor, Shoman),
        ClerkNanbyo => at(6, Clerk, Nanbyo),
        ClerkShoman => at(7, Clerk, Shoman),
        Officer => Actor {
            user_id: 8,
            user_type: MunicipalOfficer,
            scope: Scope::Municipality {
                municipality_id: MUNICIPALITY,
            },
        },
    }
}

fn target(
    user_id: Option<i64>,
    user_type: UserType,
    db: Db,
    institution: InstitutionRef,
) -> Target {
    Target {
        user_id,
        user_type,
        db,
        institution,
    }
}

/// Asserts that `rows` has exactly one row per (actor, target type, target DB).
fn assert_full_coverage<T>(rows: &[(Who, UserType, Db, [T; 3])]) {
    assert_eq!(
        rows.len(),
        EVERY_ACTOR.len() * UserType::ALL.len() * Db::ALL.len()
    );
    assert_eq!(rows.len(), 96);
    let keys: HashSet<(Who, UserType, Db)> = rows.iter().map(|r| (r.0, r.1, r.2)).collect();
    assert_eq!(keys.len(), rows.len(), "a combination appears twice");
    for who in EVERY_ACTOR {
        for user_type in UserType::ALL {
            for db in Db::ALL {
                assert!(
                    keys.contains(&(who, user_type, db)),
                    "missing row {who:?} {user_type:?} {db:?}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// 1. may_manage
// ---------------------------------------------------------------------------------------------------

type Expect = Result<(), Denied>;
const OK: Expect = Ok(());
/// The actor may not register or manage this type at all.
const TYPE: Expect = Err(Denied::TypeNotAllowed);
/// The type does not exist in that DB (checked before anything about the actor).
const FIT: Expect = Err(Denied::TypeDoesNotFitDb);
const INST: Expect = Err(Denied::OtherInstitution);
const DB: Expect = Err(Denied::OtherDb);
const MUNI: Expect = Err(Denied::OtherMunicipality);

/// (actor, target type, target DB, [target in HOME, in NEIGHBOUR, in FAR]).
/// Check order in `may_manage`: self → type fits DB → type allowed → institution/municipality → DB.
#[rustfmt::skip]
const MANAGE: [(Who, UserType, Db, [Expect; 3]); 96] = [
    // 責任者 of 難病DB: 責任者 and 医療クラーク等 of own institution + 難病DB.
    (RespNanbyo, Responsible,       Nanbyo, [OK,   INST, INST]),
    (RespNanbyo, Responsible,       Shoman, [DB,   INST, INST]),
    (RespNanbyo, NanbyoDoctor,      Nanbyo, [TYPE, TYPE, TYPE]),
    (RespNanbyo, NanbyoDoctor,      Shoman, [FIT,  FIT,  FIT ]),
    (RespNanbyo, CooperatingDoctor, Nanbyo, [TYPE, TYPE, TYPE]),
    (RespNanbyo, CooperatingDoctor, Shoman, [FIT,  FIT,  FIT ]),
    (RespNanbyo, ShomanDoctor,      Nanbyo, [FIT,  FIT,  FIT ]),
    (RespNanbyo, ShomanDoctor,      Shoman, [TYPE, TYPE, TYPE]),
    (RespNanbyo, Clerk,             Nanbyo, [OK,   INST, INST]),
    (RespNanbyo, Clerk,             Shoman, [DB,   INST, INST]),
    (RespNanbyo, MunicipalOfficer,  Nanbyo, [FIT,  FIT,  FIT ]),
    (RespNanbyo, MunicipalOfficer,  Shoman, [FIT,  FIT,  FIT ]),
    // 責任者 of 小慢DB: 責任者 and 医療クラーク等 of own institution + 小慢DB.
    (RespShoman, Responsible,       Nanbyo, [DB,   INST, INST]),
    (RespShoman, Responsible,       Shoman, [OK,   INST, INST]),
    (RespShoman, NanbyoDoctor,      Nanbyo, [TYPE, TYPE, TYPE]),
    (RespShoman, NanbyoDoctor,      Shoman, [FIT,  FIT,  FIT ]),
    (RespShoman, CooperatingDoctor, Nanbyo, [TYPE, TYPE, TYPE]),
    (RespShoman, CooperatingDoctor, Shoman, [FIT,  FIT,  FIT ]),
    (RespShoman, ShomanDoctor,      Nanbyo, [FIT,  FIT,  FIT ]),
    (RespShoman, ShomanDoctor,      Shoman, [TYPE, TYPE, TYPE]),
    (RespShoman, Clerk,             Nanbyo, [DB,   INST, INST]),
    (RespShoman, Clerk,             Shoman, [OK,   INST, INST]),
    (RespShoman, MunicipalOfficer,  Nanbyo, [FIT,  FIT,  FIT ]),
    (RespShoman, MunicipalOfficer,  Shoman, [FIT,  FIT,  FIT ]),
    // 難病指定医: 医療クラーク等 of own institution, 難病DB.
    (DrNanbyo, Responsible,       Nanbyo, [TYPE, TYPE, TYPE]),
    (DrNanbyo, Responsible,       Shoman, [TYPE, TYPE, TYPE]),
    (DrNanbyo, NanbyoDoctor,      Nanbyo, [TYPE, TYPE, TYPE]),
    (DrNanbyo, NanbyoDoctor,      Shoman, [FIT,  FIT,  FIT ]),
    (DrNanbyo, CooperatingDoctor, Nanbyo, [TYPE, TYPE, TYPE]),
    (DrNanbyo, CooperatingDoctor, Shoman, [FIT,  FIT,  FIT ]),
    (DrNanbyo, ShomanDoctor,      Nanbyo, [FIT,  FIT,  FIT ]),
    (DrNanbyo, ShomanDoctor,      Shoman, [TYPE, TYPE, TYPE]),
    (DrNanbyo, Clerk,             Nanbyo, [OK,   INST, INST]),
    (DrNanbyo, Clerk,             Shoman, [DB,   INST, INST]),
    (DrNanbyo, MunicipalOfficer,  Nanbyo, [FIT,  FIT,  FIT ]),
    (DrNanbyo, MunicipalOfficer,  Shoman, [FIT,  FIT,  FIT ]),
    // 協力難病指定医: 医療クラーク等 of own institution, 難病DB.
    (DrCooperating, Responsible,       Nanbyo, [TYPE, TYPE, TYPE]),
    (DrCooperating, Responsible,       Shoman, [TYPE, TYPE, TYPE]),
    (DrCooperating, NanbyoDoctor,      Nanbyo, [TYPE, TYPE, TYPE]),
    (DrCooperating, NanbyoDoctor,      Shoman, [FIT,  FIT,  FIT ]),
    (DrCooperating, CooperatingDoctor, Nanbyo, [TYPE, TYPE, TYPE]),
    (DrCooperating, CooperatingDoctor, Shoman, [FIT,  FIT,  FIT ]),
    (DrCooperating, ShomanDoctor,      Nanbyo, [FIT,  FIT,  FIT ]),
    (DrCooperating, ShomanDoctor,      Shoman, [TYPE, TYPE, TYPE]),
    (DrCooperating, Clerk,             Nanbyo, [OK,   INST, INST]),
    (DrCooperating, Clerk,             Shoman, [DB,   INST, INST]),
    (DrCooperating, MunicipalOfficer,  Nanbyo, [FIT,  FIT,  FIT ]),
    (DrCooperating, MunicipalOfficer,  Shoman, [FIT,  FIT,  FIT ]),
    // 小児慢性特定疾病指定医: 医療クラーク等 of own institution, 小慢DB.
    (DrShoman, Responsible,       Nanbyo, [TYPE, TYPE, TYPE]),
    (DrShoman, Responsible,       Shoman, [TYPE, TYPE, TYPE]),
    (DrShoman, NanbyoDoctor,      Nanbyo, [TYPE, TYPE, TYPE]),
    (DrShoman, NanbyoDoctor,      Shoman, [FIT,  FIT,  FIT ]),
    (DrShoman, CooperatingDoctor, Nanbyo, [TYPE, TYPE, TYPE]),
    (DrShoman, CooperatingDoctor, Shoman, [FIT,  FIT,  FIT ]),
    (DrShoman, ShomanDoctor,      Nanbyo, [FIT,  FIT,  FIT ]),
    (DrShoman, ShomanDoctor,      Shoman, [TYPE, TYPE, TYPE]),
    (DrShoman, Clerk,             Nanbyo, [DB,   INST, INST]),
    (DrShoman, Clerk,             Shoman, [OK,   INST, INST]),
    (DrShoman, MunicipalOfficer,  Nanbyo, [FIT,  FIT,  FIT ]),
    (DrShoman, MunicipalOfficer,  Shoman, [FIT,  FIT,  FIT ]),
    // 医療クラーク等 of 難病DB: nobody.
    (ClerkNanbyo, Responsible,       Nanbyo, [TYPE, TYPE, TYPE]),
    (ClerkNanbyo, Responsible,       Shoman, [TYPE, TYPE, TYPE]),
    (ClerkNanbyo, NanbyoDoctor,      Nanbyo, [TYPE, TYPE, TYPE]),
    (ClerkNanbyo, NanbyoDoctor,      Shoman, [FIT,  FIT,  FIT ]),
    (ClerkNanbyo, CooperatingDoctor, Nanbyo, [TYPE, TYPE, TYPE]),
    (ClerkNanbyo, CooperatingDoctor, Shoman, [FIT,  FIT,  FIT ]),
    (ClerkNanbyo, ShomanDoctor,      Nanbyo, [FIT,  FIT,  FIT ]),
    (ClerkNanbyo, ShomanDoctor,      Shoman, [TYPE, TYPE, TYPE]),
    (ClerkNanbyo, Clerk,             Nanbyo, [TYPE, TYPE, TYPE]),
    (ClerkNanbyo, Clerk,             Shoman, [TYPE, TYPE, TYPE]),
    (ClerkNanbyo, MunicipalOfficer,  Nanbyo, [FIT,  FIT,  FIT ]),
    (ClerkNanbyo, MunicipalOfficer,  Shoman, [FIT,  FIT,  FIT ]),
    // 医療クラーク等 of 小慢DB: nobody.
    (ClerkShoman, Responsible,       Nanbyo, [TYPE, TYPE, TYPE]),
    (ClerkShoman, Responsible,       Shoman, [TYPE, TYPE, TYPE]),
    (ClerkShoman, NanbyoDoctor,      Nanbyo, [TYPE, TYPE, TYPE]),
    (ClerkShoman, NanbyoDoctor,      Shoman, [FIT,  FIT,  FIT ]),
    (ClerkShoman, CooperatingDoctor, Nanbyo, [TYPE, TYPE, TYPE]),
    (ClerkShoman, CooperatingDoctor, Shoman, [FIT,  FIT,  FIT ]),
    (ClerkShoman, ShomanDoctor,      Nanbyo, [FIT,  FIT,  FIT ]),
    (ClerkShoman, ShomanDoctor,      Shoman, [TYPE, TYPE, TYPE]),
    (ClerkShoman, Clerk,             Nanbyo, [TYPE, TYPE, TYPE]),
    (ClerkShoman, Clerk,             Shoman, [TYPE, TYPE, TYPE]),
    (ClerkShoman, MunicipalOfficer,  Nanbyo, [FIT,  FIT,  FIT ]),
    (ClerkShoman, MunicipalOfficer,  Shoman, [FIT,  FIT,  FIT ]),
    // 自治体担当者: the three 指定医 types in institutions of its municipality, DB fitting the type.
    (Officer, Responsible,       Nanbyo, [TYPE, TYPE, TYPE]),
    (Officer, Responsible,       Shoman, [TYPE, TYPE, TYPE]),
    (Officer, NanbyoDoctor,      Nanbyo, [OK,   OK,   MUNI]),
    (Officer, NanbyoDoctor,      Shoman, [FIT,  FIT,  FIT ]),
    (Officer, CooperatingDoctor, Nanbyo, [OK,   OK,   MUNI]),
    (Officer, CooperatingDoctor, Shoman, [FIT,  FIT,  FIT ]),
    (Officer, ShomanDoctor,      Nanbyo, [FIT,  FIT,  FIT ]),
    (Officer, ShomanDoctor,      Shoman, [OK,   OK,   MUNI]),
    (Officer, Clerk,             Nanbyo, [TYPE, TYPE, TYPE]),
    (Officer, Clerk,             Shoman, [TYPE, TYPE, TYPE]),
    (Officer, MunicipalOfficer,  Nanbyo, [FIT,  FIT,  FIT ]),
    (Officer, MunicipalOfficer,  Shoman, [FIT,  FIT,  FIT ]),
];

#[test]
fn manage_table_covers_every_combination() {
    assert_full_coverage(&MANAGE);
    let cases = MANAGE.len() * PLACES.len();
    assert_eq!(cases, 288);
    let allowed = MANAGE
        .iter()
        .flat_map(|r| r.3)
        .filter(|e| e.is_ok())
        .count();
    // 責任者 ×2: 2 each; 指定医 ×3: 1 each; 自治体担当者: 3 types × 2 institutions.
    assert_eq!(allowed, 4 + 3 + 6);
}

#[test]
fn may_manage_follows_the_table() {
    for (who, user_type, db, expected) in MANAGE {
        let a = actor(who);
        for (place, want) in PLACES.into_iter().zip(expected) {
            // Registering (no id yet) and managing an existing account are decided alike.
            for user_id in [None, Some(TARGET_ID)] {
                let t = target(user_id, user_type, db, place);
                assert_eq!(
                    may_manage(&a, &t),
                    want,
                    "{who:?} → {user_type:?} {db:?} in institution {} (id {user_id:?})",
                    place.id
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// 2. may_see
// ---------------------------------------------------------------------------------------------------

const Y: bool = true;
const N: bool = false;

/// (viewer, target type, target DB, [target in HOME, in NEIGHBOUR, in FAR]). The target is never the
/// viewer (see `everybody_sees_itself`). Accounts that cannot exist (a type in a DB it does not fit,
/// or a 自治体担当者, which belongs to no institution) are seen by nobody else.
#[rustfmt::skip]
const SEE: [(Who, UserType, Db, [bool; 3]); 96] = [
    // 責任者 of 難病DB: every account of own institution + 難病DB.
    (RespNanbyo, Responsible,       Nanbyo, [Y, N, N]),
    (RespNanbyo, Responsible,       Shoman, [N, N, N]),
    (RespNanbyo, NanbyoDoctor,      Nanbyo, [Y, N, N]),
    (RespNanbyo, NanbyoDoctor,      Shoman, [N, N, N]),
    (RespNanbyo, CooperatingDoctor, Nanbyo, [Y, N, N]),
    (RespNanbyo, CooperatingDoctor, Shoman, [N, N, N]),
    (RespNanbyo, ShomanDoctor,      Nanbyo, [N, N, N]),
    (RespNanbyo, ShomanDoctor,      Shoman, [N, N, N]),
    (RespNanbyo, Clerk,             Nanbyo, [Y, N, N]),
    (RespNanbyo, Clerk,             Shoman, [N, N, N]),
    (RespNanbyo, MunicipalOfficer,  Nanbyo, [N, N, N]),
    (RespNanbyo, MunicipalOfficer,  Shoman, [N, N, N]),
    // 責任者 of 小慢DB: every account of own institution + 小慢DB.
    (RespShoman, Responsible,       Nanbyo, [N, N, N]),
    (RespShoman, Responsible,       Shoman, [Y, N, N]),
    (RespShoman, NanbyoDoctor,      Nanbyo, [N, N, N]),
    (RespShoman, NanbyoDoctor,      Shoman, [N, N, N]),
    (RespShoman, CooperatingDoctor, Nanbyo, [N, N, N]),
    (RespShoman, CooperatingDoctor, Shoman, [N, N, N]),
    (RespShoman, ShomanDoctor,      Nanbyo, [N, N, N]),
    (RespShoman, ShomanDoctor,      Shoman, [Y, N, N]),
    (RespShoman, Clerk,             Nanbyo, [N, N, N]),
    (RespShoman, Clerk,             Shoman, [Y, N, N]),
    (RespShoman, MunicipalOfficer,  Nanbyo, [N, N, N]),
    (RespShoman, MunicipalOfficer,  Shoman, [N, N, N]),
    // 難病指定医: the 医療クラーク等 it manages (own institution, 難病DB).
    (DrNanbyo, Responsible,       Nanbyo, [N, N, N]),
    (DrNanbyo, Responsible,       Shoman, [N, N, N]),
    (DrNanbyo, NanbyoDoctor,      Nanbyo, [N, N, N]),
    (DrNanbyo, NanbyoDoctor,      Shoman, [N, N, N]),
    (DrNanbyo, CooperatingDoctor, Nanbyo, [N, N, N]),
    (DrNanbyo, CooperatingDoctor, Shoman, [N, N, N]),
    (DrNanbyo, ShomanDoctor,      Nanbyo, [N, N, N]),
    (DrNanbyo, ShomanDoctor,      Shoman, [N, N, N]),
    (DrNanbyo, Clerk,             Nanbyo, [Y, N, N]),
    (DrNanbyo, Clerk,             Shoman, [N, N, N]),
    (DrNanbyo, MunicipalOfficer,  Nanbyo, [N, N, N]),
    (DrNanbyo, MunicipalOfficer,  Shoman, [N, N, N]),
    // 協力難病指定医: the 医療クラーク等 it manages (own institution, 難病DB).
    (DrCooperating, Responsible,       Nanbyo, [N, N, N]),
    (DrCooperating, Responsible,       Shoman, [N, N, N]),
    (DrCooperating, NanbyoDoctor,      Nanbyo, [N, N, N]),
    (DrCooperating, NanbyoDoctor,      Shoman, [N, N, N]),
    (DrCooperating, CooperatingDoctor, Nanbyo, [N, N, N]),
    (DrCooperating, CooperatingDoctor, Shoman, [N, N, N]),
    (DrCooperating, ShomanDoctor,      Nanbyo, [N, N, N]),
    (DrCooperating, ShomanDoctor,      Shoman, [N, N, N]),
    (DrCooperating, Clerk,             Nanbyo, [Y, N, N]),
    (DrCooperating, Clerk,             Shoman, [N, N, N]),
    (DrCooperating, MunicipalOfficer,  Nanbyo, [N, N, N]),
    (DrCooperating, MunicipalOfficer,  Shoman, [N, N, N]),
    // 小児慢性特定疾病指定医: the 医療クラーク等 it manages (own institution, 小慢DB).
    (DrShoman, Responsible,       Nanbyo, [N, N, N]),
    (DrShoman, Responsible,       Shoman, [N, N, N]),
    (DrShoman, NanbyoDoctor,      Nanbyo, [N, N, N]),
    (DrShoman, NanbyoDoctor,      Shoman, [N, N, N]),
    (DrShoman, CooperatingDoctor, Nanbyo, [N, N, N]),
    (DrShoman, CooperatingDoctor, Shoman, [N, N, N]),
    (DrShoman, ShomanDoctor,      Nanbyo, [N, N, N]),
    (DrShoman, ShomanDoctor,      Shoman, [N, N, N]),
    (DrShoman, Clerk,             Nanbyo, [N, N, N]),
    (DrShoman, Clerk,             Shoman, [Y, N, N]),
    (DrShoman, MunicipalOfficer,  Nanbyo, [N, N, N]),
    (DrShoman, MunicipalOfficer,  Shoman, [N, N, N]),
    // 医療クラーク等 of 難病DB: only itself.
    (ClerkNanbyo, Responsible,       Nanbyo, [N, N, N]),
    (ClerkNanbyo, Responsible,       Shoman, [N, N, N]),
    (ClerkNanbyo, NanbyoDoctor,      Nanbyo, [N, N, N]),
    (ClerkNanbyo, NanbyoDoctor,      Shoman, [N, N, N]),
    (ClerkNanbyo, CooperatingDoctor, Nanbyo, [N, N, N]),
    (ClerkNanbyo, CooperatingDoctor, Shoman, [N, N, N]),
    (ClerkNanbyo, ShomanDoctor,      Nanbyo, [N, N, N]),
    (ClerkNanbyo, ShomanDoctor,      Shoman, [N, N, N]),
    (ClerkNanbyo, Clerk,             Nanbyo, [N, N, N]),
    (ClerkNanbyo, Clerk,             Shoman, [N, N, N]),
    (ClerkNanbyo, MunicipalOfficer,  Nanbyo, [N, N, N]),
    (ClerkNanbyo, MunicipalOfficer,  Shoman, [N, N, N]),
    // 医療クラーク等 of 小慢DB: only itself.
    (ClerkShoman, Responsible,       Nanbyo, [N, N, N]),
    (ClerkShoman, Responsible,       Shoman, [N, N, N]),
    (ClerkShoman, NanbyoDoctor,      Nanbyo, [N, N, N]),
    (ClerkShoman, NanbyoDoctor,      Shoman, [N, N, N]),
    (ClerkShoman, CooperatingDoctor, Nanbyo, [N, N, N]),
    (ClerkShoman, CooperatingDoctor, Shoman, [N, N, N]),
    (ClerkShoman, ShomanDoctor,      Nanbyo, [N, N, N]),
    (ClerkShoman, ShomanDoctor,      Shoman, [N, N, N]),
    (ClerkShoman, Clerk,             Nanbyo, [N, N, N]),
    (ClerkShoman, Clerk,             Shoman, [N, N, N]),
    (ClerkShoman, MunicipalOfficer,  Nanbyo, [N, N, N]),
    (ClerkShoman, MunicipalOfficer,  Shoman, [N, N, N]),
    // 自治体担当者: 指定医 and 責任者 of the institutions of its municipality, in either DB.
    (Officer, Responsible,       Nanbyo, [Y, Y, N]),
    (Officer, Responsible,       Shoman, [Y, Y, N]),
    (Officer, NanbyoDoctor,      Nanbyo, [Y, Y, N]),
    (Officer, NanbyoDoctor,      Shoman, [N, N, N]),
    (Officer, CooperatingDoctor, Nanbyo, [Y, Y, N]),
    (Officer, CooperatingDoctor, Shoman, [N, N, N]),
    (Officer, ShomanDoctor,      Nanbyo, [N, N, N]),
    (Officer, ShomanDoctor,      Shoman, [Y, Y, N]),
    (Officer, Clerk,             Nanbyo, [N, N, N]),
    (Officer, Clerk,             Shoman, [N, N, N]),
    (Officer, MunicipalOfficer,  Nanbyo, [N, N, N]),
    (Officer, MunicipalOfficer,  Shoman, [N, N, N]),
];

#[test]
fn see_table_covers_every_combination() {
    assert_full_coverage(&SEE);
    assert_eq!(SEE.len() * PLACES.len(), 288);
    let seen = SEE.iter().flat_map(|r| r.3).filter(|&y| y).count();
    // 責任者 of 難病DB: 4 (type, DB) pairs, of 小慢DB: 3; 指定医 ×3: 1 each;
    // 自治体担当者: 5 (type, DB) pairs × 2 institutions.
    assert_eq!(seen, 4 + 3 + 3 + 10);
}

#[test]
fn may_see_follows_the_table() {
    for (who, user_type, db, expected) in SEE {
        let a = actor(who);
        for (place, want) in PLACES.into_iter().zip(expected) {
            let t = target(Some(TARGET_ID), user_type, db, place);
            assert_eq!(
                may_see(&a, &t),
                want,
                "{who:?} sees {user_type:?} {db:?} in institution {}?",
                place.id
            );
        }
    }
}

/// The target for an actor acting on its own account: its own type, DB and institution.
fn itself(who: Who) -> Target {
    let a = actor(who);
    let (institution, db) = match a.scope {
        Scope::Institution { institution, db } => (institution, db),
        // A 自治体担当者 has no institution; any will do, the id decides.
        Scope::Municipality { .. } => (HOME, Nanbyo),
    };
    target(Some(a.user_id), a.user_type, db, institution)
}

#[test]
fn everybody_sees_itself() {
    for who in EVERY_ACTOR {
        assert!(
            may_see(&actor(who), &itself(who)),
            "{who:?} does not see itself"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// 3. Self-management
// ---------------------------------------------------------------------------------------------------

#[test]
fn nobody_manages_itself() {
    for who in EVERY_ACTOR {
        let a = actor(who);
        let me = itself(who);
        assert_eq!(may_manage(&a, &me), Err(Denied::SelfManagement), "{who:?}");
        assert_eq!(
            Permit::check(&a, a.user_id, &me),
            Err(Denied::SelfManagement),
            "{who:?}"
        );
        // The id alone decides, checked before anything else: even a target the actor could
        // otherwise manage (or one that cannot exist) is refused as self-management.
        for user_type in UserType::ALL {
            for db in Db::ALL {
                for place in PLACES {
                    let t = target(None, user_type, db, place);
                    assert_eq!(
                        Permit::check(&a, a.user_id, &t),
                        Err(Denied::SelfManagement),
                        "{who:?} on itself as {user_type:?} {db:?}"
                    );
                    let t = target(Some(a.user_id), user_type, db, place);
                    assert_eq!(may_manage(&a, &t), Err(Denied::SelfManagement));
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// 4. The last active 責任者
// ---------------------------------------------------------------------------------------------------

#[test]
fn last_active_responsible_is_protected() {
    // (target type, DB, other active 責任者 in its institution + DB, expected)
    #[rustfmt::skip]
    let table: [(UserType, Db, u64, Expect); 16] = [
        (Responsible,       Nanbyo, 0, Err(Denied::LastResponsible)),
        (Responsible,       Nanbyo, 1, OK),
        (Responsible,       Nanbyo, 2, OK),
        (Responsible,       Shoman, 0, Err(Denied::LastResponsible)),
        (Responsible,       Shoman, 1, OK),
        (Responsible,       Shoman, 2, OK),
        (NanbyoDoctor,      Nanbyo, 0, OK),
        (NanbyoDoctor,      Nanbyo, 1, OK),
        (CooperatingDoctor, Nanbyo, 0, OK),
        (CooperatingDoctor, Nanbyo, 1, OK),
        (ShomanDoctor,      Shoman, 0, OK),
        (ShomanDoctor,      Shoman, 1, OK),
        (Clerk,             Nanbyo, 0, OK),
        (Clerk,             Nanbyo, 1, OK),
        (Clerk,             Shoman, 0, OK),
        (Clerk,             Shoman, 1, OK),
    ];
    for (user_type, db, others, want) in table {
        let t = target(Some(TARGET_ID), user_type, db, HOME);
        assert_eq!(
            may_remove(&t, others),
            want,
            "{user_type:?} {db:?} with {others} others"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// 5. registrable
// ---------------------------------------------------------------------------------------------------

/// A (type, DB) pair offered on the registration form.
type Pair = (UserType, Db);

#[test]
fn registrable_lists_exactly_the_allowed_pairs() {
    #[rustfmt::skip]
    let table: [(Who, InstitutionRef, Vec<Pair>); 11] = [
        (RespNanbyo,    HOME, vec![(Responsible, Nanbyo), (Clerk, Nanbyo)]),
        (RespShoman,    HOME, vec![(Responsible, Shoman), (Clerk, Shoman)]),
        (DrNanbyo,      HOME, vec![(Clerk, Nanbyo)]),
        (DrCooperating, HOME, vec![(Clerk, Nanbyo)]),
        (DrShoman,      HOME, vec![(Clerk, Shoman)]),
        (ClerkNanbyo,   HOME, vec![]),
        (ClerkShoman,   HOME, vec![]),
        // For a 自治体担当者, "own" is an institution of its municipality.
        (Officer,       HOME,      vec![(NanbyoDoctor, Nanbyo), (CooperatingDoctor, Nanbyo), (ShomanDoctor, Shoman)]),
        (Officer,       NEIGHBOUR, vec![(NanbyoDoctor, Nanbyo), (CooperatingDoctor, Nanbyo), (ShomanDoctor, Shoman)]),
        (Officer,       FAR,       vec![]),
        // Nobody registers in another institution.
        (RespNanbyo,    NEIGHBOUR, vec![]),
    ];
    for (who, institution, want) in table {
        assert_eq!(
            registrable(&actor(who), institution),
            want,
            "{who:?} in institution {}",
            institution.id
        );
    }
    // Institution actors offer nothing outside their own institution.
    for who in EVERY_ACTOR.into_iter().filter(|&w| w != Officer) {
        for place in [NEIGHBOUR, FAR] {
            assert_eq!(registrable(&actor(who), place), vec![], "{who:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------------
// 6. Permit
// ---------------------------------------------------------------------------------------------------

#[test]
fn permit_check_follows_the_manage_table() {
    for (who, user_type, db, expected) in MANAGE {
        let a = actor(who);
        for (place, want) in PLACES.into_iter().zip(expected) {
            // The id passed to `check` is the one that counts, whatever the target carries.
            for carried in [None, Some(TARGET_ID), Some(TARGET_ID + 1)] {
                let t = target(carried, user_type, db, place);
                let got = Permit::check(&a, TARGET_ID, &t);
                match want {
                    Ok(()) => {
                        let permit =
                            got.unwrap_or_else(|e| panic!("{who:?} → {user_type:?} {db:?}: {e:?}"));
                        assert_eq!(permit.target_user_id(), TARGET_ID);
                        assert_eq!(permit.by(), By::User(a.user_id));
                    }
                    Err(denied) => assert_eq!(
                        got,
                        Err(denied),
                        "{who:?} → {user_type:?} {db:?} in institution {}",
                        place.id
                    ),
                }
            }
        }
    }
}

#[test]
fn console_permit_is_marked_as_console() {
    let permit = Permit::console(TARGET_ID);
    assert_eq!(permit.target_user_id(), TARGET_ID);
    assert_eq!(permit.by(), By::Console);
}

// ---------------------------------------------------------------------------------------------------
// Edge cases of the actor itself
// ---------------------------------------------------------------------------------------------------

#[test]
fn a_doctors_db_follows_its_type() {
    // A 難病指定医 whose account row claims 小慢DB still manages only 難病DB clerks, and vice versa.
    let odd_nanbyo = at(3, NanbyoDoctor, Shoman);
    let odd_shoman = at(5, ShomanDoctor, Nanbyo);
    assert_eq!(
        may_manage(&odd_nanbyo, &target(None, Clerk, Nanbyo, HOME)),
        OK
    );
    assert_eq!(
        may_manage(&odd_nanbyo, &target(None, Clerk, Shoman, HOME)),
        DB
    );
    assert_eq!(
        may_manage(&odd_shoman, &target(None, Clerk, Shoman, HOME)),
        OK
    );
    assert_eq!(
        may_manage(&odd_shoman, &target(None, Clerk, Nanbyo, HOME)),
        DB
    );
}

#[test]
fn an_actor_with_a_mismatched_scope_is_refused() {
    let responsible_of_a_municipality = Actor {
        user_id: 1,
        user_type: Responsible,
        scope: Scope::Municipality {
            municipality_id: MUNICIPALITY,
        },
    };
    let officer_of_an_institution = at(8, MunicipalOfficer, Nanbyo);
    for user_type in UserType::ALL {
        for db in Db::ALL {
            if !user_type.fits_db(db) {
                continue;
            }
            let t = target(Some(TARGET_ID), user_type, db, HOME);
            assert_eq!(may_manage(&responsible_of_a_municipality, &t), TYPE);
            assert_eq!(may_manage(&officer_of_an_institution, &t), TYPE);
            assert!(!may_see(&responsible_of_a_municipality, &t));
            assert!(!may_see(&officer_of_an_institution, &t));
        }
    }
}

#[test]
fn the_manager_follows_the_rules() {
    for (t, m) in [
        (Clerk, Manager::Institution),
        (Responsible, Manager::Institution),
        (NanbyoDoctor, Manager::Municipality),
        (CooperatingDoctor, Manager::Municipality),
        (ShomanDoctor, Manager::Municipality),
        (MunicipalOfficer, Manager::SystemAdministrator),
    ] {
        assert_eq!(manager_of(t), m, "{t:?}");
    }
}

#[test]
fn registrable_types_name_what_each_actor_may_register() {
    for (who, want) in [
        (RespNanbyo, vec![Responsible, Clerk]),
        (RespShoman, vec![Responsible, Clerk]),
        (DrNanbyo, vec![Clerk]),
        (DrCooperating, vec![Clerk]),
        (DrShoman, vec![Clerk]),
        (ClerkNanbyo, vec![]),
        (ClerkShoman, vec![]),
        (Officer, vec![NanbyoDoctor, CooperatingDoctor, ShomanDoctor]),
    ] {
        assert_eq!(registrable_types(&actor(who)), want, "{who:?}");
    }
}
