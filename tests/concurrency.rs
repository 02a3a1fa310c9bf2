//! Rules the database keeps under concurrency (DESIGN §3, §6; the PostgreSQL issue): requests sent at
//! the same moment are decided one after another on what is stored, never on a value read earlier.
//! These run in one process; `tests/cluster/` runs the same rules across two server processes.

mod common;
#[path = "common/people.rs"]
mod people;

use std::net::SocketAddr;

use common::*;
use futures_util::future::join_all;
use nanbyo_accounts::domain::audit::Action;
use nanbyo_accounts::domain::credentials::temp_password_stamp;
use nanbyo_accounts::domain::{AccountState, Db};
use people::{cast, register};
use rocket::http::{ContentType, Status};

const METHOD: &str = "対面で職員証・身分証明書を確認";

fn addr(n: u8) -> SocketAddr {
    format!("192.0.2.{n}:50000").parse().unwrap()
}

/// Audit entries of `action` on `user_id`.
async fn entries(s: &TestServer, action: Action, user_id: i64) -> usize {
    s.audit()
        .await
        .iter()
        .filter(|e| {
            e.content.action == action.as_str() && e.content.target_user_id == Some(user_id)
        })
        .count()
}

/// `n` wrong-password logins for `login_id` sent at once, each from its own address.
async fn wrong_logins_at_once(s: &TestServer, login_id: &str, n: u8, first_addr: u8) {
    // One login form for all of them: every GET of /login draws a new pre-session cookie.
    let csrf = s.login_csrf().await;
    let body = form(&[
        ("csrf", &csrf),
        ("login_id", login_id),
        ("password", "Wrong-password-1"),
    ]);
    let requests = (0..n).map(|i| {
        s.client
            .post("/login")
            .remote(addr(first_addr + i))
            .header(ContentType::Form)
            .body(body.clone())
            .dispatch()
    });
    for res in join_all(requests).await {
        assert_eq!(res.status(), Status::Ok);
        let html = res.into_string().await.unwrap();
        assert!(login_error(&html).is_some_and(|e| e.contains("正しくありません")));
    }
}

#[rocket::async_test]
async fn wrong_passwords_sent_at_once_lock_exactly_at_the_threshold() {
    let s = server().await;
    let c = cast(&s).await;
    let policy = s.app().settings.lockout();
    for trial in 0..5u8 {
        let clerk = register(
            &s,
            &c.responsible,
            "clerk",
            "",
            &format!("並行{trial}"),
            "ヘイコウ",
            "外来",
            "",
        )
        .await;
        // A temporary password exists, so wrong ones are counted (an account without one cannot
        // log in at all).
        s.app()
            .console_reset(&clerk.login_id, "テスト")
            .await
            .unwrap();
        // Four at once: counted four times, not locked.
        wrong_logins_at_once(&s, &clerk.login_id, 4, 10).await;
        let u = s.reload(&clerk).await;
        assert_eq!(u.lockout().failures, 4, "trial {trial}");
        assert!(!u.lockout().is_locked(&policy, s.app().now()));
        s.app()
            .console_unlock(&clerk.login_id)
            .await
            .expect_err("not locked");
        // Reset the count as a good login would, then five at once: locked, with one lock entry.
        nanbyo_accounts::store::users::save_lockout(
            s.app().store.pool(),
            clerk.id,
            Default::default(),
        )
        .await
        .unwrap();
        wrong_logins_at_once(&s, &clerk.login_id, 5, 20).await;
        let u = s.reload(&clerk).await;
        assert!(
            u.lockout().is_locked(&policy, s.app().now()),
            "trial {trial}: five failures at once must lock"
        );
        assert_eq!(u.lockout().failures, 5);
        assert_eq!(entries(&s, Action::AccountLocked, clerk.id).await, 1);
        // Failures after the lock are not counted as the 6th in a row.
        wrong_logins_at_once(&s, &clerk.login_id, 2, 30).await;
        assert_eq!(s.reload(&clerk).await.lockout().failures, 5);
        let after_lock = s
            .audit()
            .await
            .iter()
            .filter(|e| {
                e.content.target_user_id == Some(clerk.id) && e.content.details.contains("ロック中")
            })
            .count();
        assert_eq!(after_lock, 2);
    }
}

#[rocket::async_test]
async fn the_throttle_counts_parallel_attempts_before_checking_them() {
    let s = server_with(|st| st.throttle_max_failures = 20).await;
    let csrf = s.login_csrf().await;
    let requests = (0..30).map(|i| {
        s.client
            .post("/login")
            .remote(addr(99))
            .header(ContentType::Form)
            .body(form(&[
                ("csrf", &csrf),
                ("login_id", &format!("NOONE{i:03}")),
                ("password", "Wrong-password-1"),
            ]))
            .dispatch()
    });
    let statuses: Vec<Status> = join_all(requests)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    let throttled = statuses
        .iter()
        .filter(|s| **s == Status::TooManyRequests)
        .count();
    assert_eq!(throttled, 10, "{statuses:?}");
    let checked = s
        .audit()
        .await
        .iter()
        .filter(|e| e.content.details == "存在しないログインID")
        .count();
    assert_eq!(checked, 20, "only 20 attempts may reach the password check");
    // Another address is not affected.
    let res = s.post_login("NOONE999", "Wrong-password-1").await;
    assert_eq!(res.status(), Status::Ok);
}

/// The same form posted three times at once (a double-clicked button, a retried request).
async fn three_at_once(s: &TestServer, path: &str, body: &str) -> Vec<Status> {
    let sent = (0..3).map(|_| {
        s.client
            .post(path.to_string())
            .remote(peer())
            .header(ContentType::Form)
            .body(body)
            .dispatch()
    });
    join_all(sent).await.iter().map(|r| r.status()).collect()
}

#[rocket::async_test]
async fn a_double_submitted_operation_is_applied_once() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users").await;

    // Three deletes of one clerk at once: one deletion, one audit entry; the others are told.
    let path = format!("/users/{}/delete", c.other_clerk.id);
    let body = form(&[("csrf", &csrf)]);
    let statuses = three_at_once(&s, &path, &body).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == Status::SeeOther).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses
        .iter()
        .all(|s| [Status::SeeOther, Status::NotFound, Status::Conflict].contains(s)));
    assert_eq!(entries(&s, Action::Delete, c.other_clerk.id).await, 1);

    // Three unlocks of one locked clerk at once: one unlock entry.
    s.lock(&c.clerk).await;
    let path = format!("/users/{}/unlock", c.clerk.id);
    let statuses = three_at_once(&s, &path, &body).await;
    assert_eq!(
        entries(&s, Action::Unlock, c.clerk.id).await,
        1,
        "{statuses:?}"
    );

    // Three resets at once of a clerk with a password: one reset; the account waits for its notice.
    let (_, issued) = s
        .app()
        .console_reset(&c.clerk.login_id, "テスト")
        .await
        .unwrap();
    let resets_before = entries(&s, Action::PasswordReset, c.clerk.id).await;
    let path = format!("/users/{}/reset", c.clerk.id);
    let body = form(&[("csrf", &csrf), ("method", METHOD), ("detail", "")]);
    let statuses = three_at_once(&s, &path, &body).await;
    assert_eq!(
        entries(&s, Action::PasswordReset, c.clerk.id).await - resets_before,
        1,
        "{statuses:?}"
    );
    let u = s.reload(&c.clerk).await;
    assert_eq!(
        u.facts().state(&s.app().settings.lockout(), s.app().now()),
        AccountState::NoticePending
    );
    assert!(u.temp_password_mac.is_none(), "{}", issued.login_id);

    // Three notices at once, as the row's button sends them (the stamp of no password): one
    // password issued, one entry, one PDF; the others are told the notice was just issued.
    let path = format!("/users/{}/notice", c.clerk.id);
    let notices_before = entries(&s, Action::NoticeIssue, c.clerk.id).await;
    let body = form(&[("csrf", &csrf), ("seen", "none")]);
    let statuses = three_at_once(&s, &path, &body).await;
    assert_eq!(
        entries(&s, Action::NoticeIssue, c.clerk.id).await - notices_before,
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == Status::Ok).count(),
        1,
        "{statuses:?}"
    );
    // Sent again later from the same (now stale) page: refused in Japanese, nothing issued.
    let res = s
        .post_form(&path, &[("csrf", &csrf), ("seen", "none")])
        .await;
    assert_eq!(res.status(), Status::Conflict);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("この画面を表示した後に"), "{page}");
    assert_eq!(
        entries(&s, Action::NoticeIssue, c.clerk.id).await - notices_before,
        1
    );

    // The same batch three times at once: one password each, one batch entry each.
    let second = register(
        &s,
        &c.responsible,
        "clerk",
        "",
        "齋藤",
        "サイトウ",
        "外来",
        "",
    )
    .await;
    let (a, b) = (c.clerk.id, second.id);
    let batch_before = entries(&s, Action::NoticeBatch, b).await;
    let stamp_a = temp_password_stamp(s.reload(&c.clerk).await.temp_password_mac.as_deref());
    let stamp_b = temp_password_stamp(second.temp_password_mac.as_deref());
    let body = form(&[
        ("csrf", &csrf),
        ("ids", &a.to_string()),
        ("ids", &b.to_string()),
        (&format!("seen[{a}]"), &stamp_a),
        (&format!("seen[{b}]"), &stamp_b),
    ]);
    let statuses = three_at_once(&s, "/users/notices", &body).await;
    assert_eq!(
        entries(&s, Action::NoticeBatch, b).await - batch_before,
        1,
        "{statuses:?}"
    );

    // Three identical [変更] at once: the change is made once and recorded once; the others find
    // nothing to change and record nothing.
    let target = s.reload(&c.clerk).await;
    let path = format!("/users/{}/edit", target.id);
    let body = form(&[
        ("csrf", &csrf),
        ("department", "第2病棟（異動後）"),
        ("family_name", &target.family_name),
        ("given_name", &target.given_name),
        ("family_kana", &target.family_kana),
        ("given_kana", &target.given_kana),
        ("medical_reg_no", ""),
        ("email", ""),
        ("phone", ""),
        ("remarks", ""),
        ("expires_on", ""),
    ]);
    let edits_before = entries(&s, Action::Edit, target.id).await;
    let statuses = three_at_once(&s, &path, &body).await;
    assert!(
        statuses.iter().all(|s| *s == Status::SeeOther),
        "{statuses:?}"
    );
    assert_eq!(
        entries(&s, Action::Edit, target.id).await - edits_before,
        1,
        "{statuses:?}"
    );
    assert_eq!(s.reload(&target).await.department, "第2病棟（異動後）");
}

#[rocket::async_test]
async fn two_responsibles_deleting_each_other_at_once_leave_one() {
    for trial in 0..3 {
        let s = server().await;
        let (first, _) = s.bootstrap(Db::Nanbyo, "責任").await;
        let second = register(
            &s,
            &first,
            "responsible",
            "",
            "副責任",
            "フクセキニン",
            "医事課",
            "",
        )
        .await;
        let app = s.app();
        let (pa, _) = app
            .authorize(&first, second.id, Action::Delete, None)
            .await
            .unwrap();
        let (pb, _) = app
            .authorize(&second, first.id, Action::Delete, None)
            .await
            .unwrap();
        let (a, b) = futures_util::join!(
            app.delete(&first, &pa, None),
            app.delete(&second, &pb, None)
        );
        assert!(
            a.is_ok() != b.is_ok(),
            "trial {trial}: exactly one deletion ({a:?}, {b:?})"
        );
        let active = s
            .count(
                "SELECT COUNT(*) FROM users WHERE user_type = 'responsible' AND deleted_at IS NULL",
            )
            .await;
        assert_eq!(active, 1, "trial {trial}");
    }
}

#[rocket::async_test]
async fn one_active_medical_registration_number_per_db() {
    let s = server().await;
    let c = cast(&s).await;
    // Two registrations of one number at once: one account.
    let reg = |family: &str| nanbyo_accounts::service::users::Registration {
        user_type: "nanbyo_doctor".into(),
        db: String::new(),
        institution_code: HOSPITAL.into(),
        profile: people::profile(family, "イシ", "内科"),
    };
    let mut a = reg("医師甲");
    a.profile.medical_reg_no = "777777".into();
    let mut b = reg("医師乙");
    b.profile.medical_reg_no = "777777".into();
    let app = s.app();
    let (ra, rb) = futures_util::join!(
        app.register(&c.officer, &a, None),
        app.register(&c.officer, &b, None)
    );
    assert!(ra.is_ok() != rb.is_ok(), "{ra:?} {rb:?}");
    let holder = ra.or(rb).unwrap();
    // The holder expires; registering the number again tombstones it in the same transaction.
    sqlx::query("UPDATE users SET expires_on = '2026-01-31' WHERE id = $1")
        .bind(holder.id)
        .execute(app.store.pool())
        .await
        .unwrap();
    let mut again = reg("医師丙");
    again.profile.medical_reg_no = "777777".into();
    let new = app.register(&c.officer, &again, None).await.unwrap();
    assert!(s.reload(&holder).await.deleted_at.is_some());
    assert_eq!(entries(&s, Action::Delete, holder.id).await, 1);
    assert_eq!(new.medical_reg_no.as_deref(), Some("777777"));
    // The database itself refuses a second non-deleted holder, whatever the code above does.
    let forged = sqlx::query("UPDATE users SET medical_reg_no = '777777' WHERE id = $1")
        .bind(c.nanbyo_doctor.id)
        .execute(app.store.pool())
        .await;
    assert!(forged.is_err(), "the unique index must refuse");
}

#[rocket::async_test]
async fn another_instance_with_other_keys_is_refused() {
    let s = server().await;
    let mut settings = s.app().settings.clone();
    settings.data_dir = s.dir.path().to_path_buf();
    let mut keys = s.app().keys.clone();
    keys.audit = nanbyo_accounts::domain::credentials::SecretKey::generate();
    let clock = std::sync::Arc::new(nanbyo_accounts::domain::time::ManualClock::new(START));
    let err = match nanbyo_accounts::service::App::open(settings.clone(), keys, clock.clone()).await
    {
        Ok(_) => panic!("an instance with another audit key must not start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("audit.key") && err.contains("keys/"), "{err}");
    // The same keys are accepted.
    nanbyo_accounts::service::App::open(settings, s.app().keys.clone(), clock)
        .await
        .unwrap();
}
