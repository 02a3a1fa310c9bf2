use time::macros::date;

use super::super::lockout::Lockout;
use super::*;

const NOW: Instant = 1_795_478_400; // 2026-11-24 09:00 JST

fn base() -> ReviewFacts {
    ReviewFacts {
        user_type: UserType::Clerk,
        facts: AccountFacts {
            has_chosen_password: true,
            ..AccountFacts::default()
        },
        last_login_at: Some(NOW - DAY),
        temp_password_issued_at: None,
        notice_pending_since: None,
        registrar: None,
    }
}

fn of(f: &ReviewFacts) -> Vec<Group> {
    groups(f, &ReviewPolicy::default(), &LockoutPolicy::default(), NOW)
}

#[test]
fn an_account_in_use_is_in_no_group() {
    assert!(of(&base()).is_empty());
}

#[test]
fn inactive_from_the_ninetieth_day() {
    let mut f = base();
    f.last_login_at = Some(NOW - 90 * DAY + 1);
    assert!(of(&f).is_empty());
    f.last_login_at = Some(NOW - 90 * DAY);
    assert_eq!(of(&f), vec![Group::Inactive]);
    f.last_login_at = None;
    assert_eq!(of(&f), vec![Group::Inactive], "no login recorded");
}

#[test]
fn a_notice_nobody_used() {
    let mut f = base();
    f.facts.has_chosen_password = false;
    f.facts.temp_password_expires_at = Some(NOW + DAY);
    f.temp_password_issued_at = Some(NOW - 3 * DAY);
    f.last_login_at = None;
    assert_eq!(of(&f), vec![Group::NeverLoggedIn]);
    f.last_login_at = Some(NOW - 4 * DAY);
    assert_eq!(
        of(&f),
        vec![Group::NeverLoggedIn],
        "logged in before the notice only"
    );
    f.last_login_at = Some(NOW - 2 * DAY);
    assert!(of(&f).is_empty(), "logged in with the notice");
}

#[test]
fn pending_from_the_configured_day() {
    let mut f = base();
    f.facts.has_chosen_password = false;
    f.last_login_at = None;
    f.notice_pending_since = Some(NOW - 14 * DAY + 1);
    assert!(of(&f).is_empty());
    f.notice_pending_since = Some(NOW - 14 * DAY);
    assert_eq!(of(&f), vec![Group::NoticePending]);
}

#[test]
fn expiry_within_thirty_days_or_past() {
    let mut f = base();
    f.facts.expires_on = Some(date!(2026 - 12 - 25));
    assert!(of(&f).is_empty());
    f.facts.expires_on = Some(date!(2026 - 12 - 24));
    assert_eq!(of(&f), vec![Group::Expiring]);
    f.facts.expires_on = Some(date!(2026 - 01 - 01));
    assert_eq!(of(&f), vec![Group::Expiring], "expired long ago");
    f.facts.deleted_at = Some(NOW);
    assert!(of(&f).is_empty(), "deleted accounts are in no group");
}

#[test]
fn locked_for_more_than_seven_days() {
    let mut f = base();
    let by_hand = LockoutPolicy {
        auto_release_secs: 0,
        ..LockoutPolicy::default()
    };
    f.facts.lockout = Lockout {
        failures: 5,
        locked_at: Some(NOW - 7 * DAY),
    };
    let p = ReviewPolicy::default();
    assert!(groups(&f, &p, &by_hand, NOW).is_empty());
    f.facts.lockout.locked_at = Some(NOW - 7 * DAY - 1);
    assert_eq!(groups(&f, &p, &by_hand, NOW), vec![Group::LockedLong]);
    // Released automatically long ago: not locked at all.
    assert!(groups(&f, &p, &LockoutPolicy::default(), NOW).is_empty());
}

#[test]
fn clerks_of_a_gone_doctor() {
    let mut f = base();
    f.registrar = Some(Registrar {
        user_type: UserType::NanbyoDoctor,
        active: true,
    });
    assert!(of(&f).is_empty());
    f.registrar = Some(Registrar {
        user_type: UserType::NanbyoDoctor,
        active: false,
    });
    assert_eq!(of(&f), vec![Group::OrphanClerk]);
    f.registrar = Some(Registrar {
        user_type: UserType::Responsible,
        active: false,
    });
    assert!(of(&f).is_empty(), "only a registering 指定医 counts");
    f.user_type = UserType::Responsible;
    f.registrar = Some(Registrar {
        user_type: UserType::NanbyoDoctor,
        active: false,
    });
    assert!(of(&f).is_empty(), "only clerks");
}

#[test]
fn counts_round_trip_and_reviews_fall_due() {
    let counts = vec![(Group::Inactive, 3), (Group::OrphanClerk, 0)];
    assert_eq!(encode_counts(&counts), "inactive=3;orphan_clerk=0");
    assert_eq!(decode_counts("inactive=3;orphan_clerk=0;future=1"), counts);
    assert_eq!(
        describe_counts(&counts),
        "長期間ログインなし 3件、登録した指定医が無効な医療クラーク等 0件"
    );
    let p = ReviewPolicy::default();
    assert!(review_due(None, &p, NOW));
    assert!(!review_due(Some(NOW - 180 * DAY + 1), &p, NOW));
    assert!(review_due(Some(NOW - 180 * DAY), &p, NOW));
    for g in Group::ALL {
        assert_eq!(Group::parse(g.as_str()), Some(g));
    }
}
