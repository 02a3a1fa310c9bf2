//! The 操作 column's operations over HTTP, table-driven over the actors of the role rules: the state
//! changes as DESIGN §4 says, the target's sessions end, an audit entry names actor and target — and
//! the same request by an actor the rules forbid is refused with nothing changed.

mod common;
#[path = "common/people.rs"]
mod people;

use common::*;
use nanbyo_accounts::domain::AccountState;
use nanbyo_accounts::service::auth::LoginOutcome;
use nanbyo_accounts::store::audit;
use nanbyo_accounts::store::users::UserRecord;
use people::*;
use rocket::http::Status;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Edit,
    Reset,
    Unlock,
    Delete,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Done,
    /// Visible but not manageable.
    Forbidden,
    /// Not visible: its existence is not revealed.
    NotFound,
}

fn pick(c: &Cast, who: &str) -> UserRecord {
    match who {
        "responsible" => c.responsible.clone(),
        "nanbyo_doctor" => c.nanbyo_doctor.clone(),
        "shoman_doctor" => c.shoman_doctor.clone(),
        "shoman_responsible" => c.shoman_responsible.clone(),
        "officer" => c.officer.clone(),
        "other_clerk" => c.other_clerk.clone(),
        "other_hospital_responsible" => c.other_hospital_responsible.clone(),
        "clerk" => c.clerk.clone(),
        other => panic!("{other}"),
    }
}

/// Who may operate on the 医療クラーク等 of 東京中央病院・難病DB (DESIGN §3).
const ON_CLERK: &[(&str, Expect)] = &[
    ("responsible", Expect::Done),
    ("nanbyo_doctor", Expect::Done),
    ("shoman_doctor", Expect::NotFound),
    ("shoman_responsible", Expect::NotFound),
    ("officer", Expect::NotFound),
    ("other_clerk", Expect::NotFound),
    ("other_hospital_responsible", Expect::NotFound),
    ("clerk", Expect::Forbidden),
];

async fn session_for(s: &TestServer, u: &UserRecord) {
    let (_, issued) = s.app().console_reset(&u.login_id, "テスト").await.unwrap();
    let outcome = s
        .app()
        .login(&u.login_id, &issued.password, None)
        .await
        .unwrap();
    assert!(matches!(outcome, LoginOutcome::Success { .. }));
}

async fn sessions_of(s: &TestServer, u: &UserRecord) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) FROM sessions WHERE user_id = $1")
        .bind(u.id)
        .fetch_one(s.app().store.pool())
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

async fn perform(s: &TestServer, op: Op, target: &UserRecord) -> Status {
    let csrf = s.page_csrf("/").await;
    let id = target.id;
    let res = match op {
        Op::Edit => {
            s.post_form(
                &format!("/users/{id}/edit"),
                &[
                    ("csrf", &csrf),
                    ("department", "地域医療連携室"),
                    ("family_name", &target.family_name),
                    ("given_name", &target.given_name),
                    ("family_kana", &target.family_kana),
                    ("given_kana", &target.given_kana),
                    ("medical_reg_no", ""),
                    ("email", ""),
                    ("phone", ""),
                    ("expires_on", ""),
                    ("remarks", ""),
                ],
            )
            .await
        }
        Op::Reset => {
            s.post_form(
                &format!("/users/{id}/reset"),
                &[
                    ("csrf", &csrf),
                    ("method", "対面で職員証・身分証明書を確認"),
                    ("detail", ""),
                ],
            )
            .await
        }
        Op::Unlock => {
            s.post_form(&format!("/users/{id}/unlock"), &[("csrf", &csrf)])
                .await
        }
        Op::Delete => {
            s.post_form(&format!("/users/{id}/delete"), &[("csrf", &csrf)])
                .await
        }
    };
    res.status()
}

#[rocket::async_test]
async fn every_operation_follows_the_role_rules() {
    for op in [Op::Edit, Op::Reset, Op::Unlock, Op::Delete] {
        for (who, expect) in ON_CLERK {
            let s = server().await;
            let c = cast(&s).await;
            let actor = pick(&c, who);
            // The clerk has a password of its own and a session (in another browser).
            session_for(&s, &c.clerk).await;
            let pw = "Hoshi-zora9-Yoru";
            {
                let phc = s.app().hash_password(pw.to_string()).await;
                let mut tx = s.app().store.begin_write().await.unwrap();
                nanbyo_accounts::store::users::set_chosen_password(
                    &mut tx,
                    c.clerk.id,
                    &phc,
                    s.app().now(),
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
            session_for_chosen(&s, &c.clerk, pw).await;
            if actor.id == c.clerk.id {
                assert_eq!(
                    s.post_login(&actor.login_id, pw).await.status(),
                    Status::SeeOther
                );
            } else {
                s.act_as(&actor).await;
            }
            if op == Op::Unlock {
                s.lock(&c.clerk).await;
            }
            let before = s.reload(&c.clerk).await;
            let audit_before = audit::all(s.app().store.pool()).await.unwrap().len();
            let status = perform(&s, op, &before).await;
            let after = s.reload(&c.clerk).await;
            let entries = audit::all(s.app().store.pool()).await.unwrap();
            let new: Vec<_> = entries[audit_before..].to_vec();
            let now = s.app().now();
            let state = after.facts().state(&s.app().settings.lockout(), now);
            match expect {
                Expect::Done => {
                    assert_eq!(status, Status::SeeOther, "{op:?} by {who}");
                    let e = new
                        .iter()
                        .find(|e| e.content.result == "success")
                        .unwrap_or_else(|| panic!("{op:?} by {who}: no audit"));
                    assert_eq!(e.content.actor_user_id, Some(actor.id), "{op:?} by {who}");
                    assert_eq!(e.content.target_user_id, Some(c.clerk.id));
                    match op {
                        Op::Edit => {
                            assert_eq!(after.department, "地域医療連携室");
                            assert_eq!(e.content.action, "edit");
                            assert!(e.content.details.contains("部署"), "{}", e.content.details);
                        }
                        Op::Reset => {
                            assert_eq!(state, AccountState::NoticePending);
                            assert_eq!(after.password_hash, None);
                            assert_eq!(
                                sessions_of(&s, &c.clerk).await,
                                0,
                                "reset ends the sessions"
                            );
                            assert_eq!(e.content.action, "password_reset");
                            assert!(
                                e.content.details.contains("職員証"),
                                "本人確認の方法 is recorded"
                            );
                        }
                        Op::Unlock => {
                            assert_eq!(state, AccountState::Active);
                            assert_eq!(e.content.action, "unlock");
                        }
                        Op::Delete => {
                            assert_eq!(state, AccountState::Deleted);
                            assert_eq!(
                                sessions_of(&s, &c.clerk).await,
                                0,
                                "deletion ends the sessions"
                            );
                            assert_eq!(e.content.action, "delete");
                            assert!(s
                                .app()
                                .login(&c.clerk.login_id, pw, None)
                                .await
                                .is_ok_and(|o| matches!(o, LoginOutcome::Failed)));
                        }
                    }
                }
                Expect::Forbidden | Expect::NotFound => {
                    let want = if *expect == Expect::Forbidden {
                        Status::Forbidden
                    } else {
                        Status::NotFound
                    };
                    assert_eq!(status, want, "{op:?} by {who}");
                    assert_eq!(after, before, "{op:?} by {who} changed nothing");
                    assert!(sessions_of(&s, &c.clerk).await > 0);
                    assert!(
                        new.iter().any(|e| e.content.action == "denied"
                            && e.content.actor_user_id == Some(actor.id)),
                        "{op:?} by {who}: the refusal is logged"
                    );
                }
            }
        }
    }
}

async fn session_for_chosen(s: &TestServer, u: &UserRecord, pw: &str) {
    let outcome = s.app().login(&u.login_id, pw, None).await.unwrap();
    assert!(matches!(outcome, LoginOutcome::Success { .. }));
}

#[rocket::async_test]
async fn the_last_active_responsible_cannot_be_deleted_or_expired() {
    let s = server().await;
    let c = cast(&s).await;
    // A second 責任者 registers; the first may then be deleted, the second (now last) may not.
    let second = register(
        &s,
        &c.responsible,
        "responsible",
        "",
        "二番",
        "ニバン",
        "医事課",
        "",
    )
    .await;
    s.act_as(&second).await;
    let csrf = s.page_csrf("/").await;
    let res = s
        .post_form(
            &format!("/users/{}/delete", c.responsible.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    // Now `second` is the last: another 責任者 would be needed to remove it, and it cannot remove itself.
    let res = s
        .post_form(&format!("/users/{}/delete", second.id), &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), Status::Forbidden, "self-deletion");
    let third = register(
        &s,
        &second,
        "responsible",
        "",
        "三番",
        "サンバン",
        "医事課",
        "",
    )
    .await;
    s.act_as(&third).await;
    // Expiring `second` leaves `third`: allowed. Then `third` cannot be expired by anybody.
    let csrf = s.page_csrf("/").await;
    let edit = |target: &UserRecord, csrf: &str, expires: &str| {
        let mut fields = vec![
            ("csrf".to_string(), csrf.to_string()),
            ("department".into(), target.department.clone()),
            ("family_name".into(), target.family_name.clone()),
            ("given_name".into(), target.given_name.clone()),
            ("family_kana".into(), target.family_kana.clone()),
            ("given_kana".into(), target.given_kana.clone()),
            ("medical_reg_no".into(), String::new()),
            ("email".into(), String::new()),
            ("phone".into(), String::new()),
            ("remarks".into(), String::new()),
        ];
        fields.push(("expires_on".into(), expires.to_string()));
        fields
    };
    let fields = edit(&second, &csrf, "2026-11-01");
    let refs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let res = s
        .post_form(&format!("/users/{}/edit", second.id), &refs)
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(
        s.reload(&second)
            .await
            .facts()
            .state(&s.app().settings.lockout(), s.app().now()),
        AccountState::Expired
    );
    // A clerk of the institution is no 責任者: the last-責任者 rule does not stop its deletion.
    let res = s
        .post_form(&format!("/users/{}/delete", c.clerk.id), &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    // `third` is the last active 責任者; a new one is registered, then `third` deleted by it works,
    // but deleting the new (last) one by nobody else is refused at the rules level.
    let res = s
        .post_form(&format!("/users/{}/delete", third.id), &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(s.reload(&third).await.deleted_at, None);
}

#[rocket::async_test]
async fn a_forged_type_or_foreign_institution_is_refused_and_logged() {
    let s = server().await;
    let c = cast(&s).await;
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    // A 責任者 forges ユーザ種別 = 難病指定医.
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users/new").await;
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("user_type", "nanbyo_doctor"),
        ("db", "nanbyo"),
        ("institution", ""),
        ("profile.department", "内科"),
        ("profile.family_name", "偽"),
        ("profile.given_name", "医師"),
        ("profile.family_kana", "ニセ"),
        ("profile.given_kana", "イシ"),
        ("profile.medical_reg_no", "123456"),
        ("profile.email", ""),
        ("profile.phone", ""),
        ("profile.expires_on", ""),
        ("profile.remarks", ""),
    ];
    let res = s.post_form("/users/new", &fields).await;
    assert_eq!(res.status(), Status::Forbidden);
    // …or a clerk of the other DB.
    fields[1] = ("user_type", "clerk");
    fields[2] = ("db", "shoman");
    let res = s.post_form("/users/new", &fields).await;
    assert_eq!(res.status(), Status::Forbidden);
    // A clerk has no registration screen at all.
    s.act_as(&c.other_clerk).await;
    assert_eq!(s.get("/users/new").await.status(), Status::Forbidden);
    assert_eq!(s.get("/users").await.status(), Status::Forbidden);
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);
    let denied = s
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'denied'")
        .await;
    assert!(denied >= 2, "refusals are logged ({denied})");
}

#[rocket::async_test]
async fn registration_form_offers_only_allowed_types_and_explains_errors() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let html = s.get("/users/new").await.into_string().await.unwrap();
    assert!(html.contains("医療クラーク等（難病DB）") && html.contains("責任者（難病DB）"));
    assert!(
        !html.contains("難病指定医（"),
        "a 責任者 is not offered doctor types"
    );
    s.act_as(&c.nanbyo_doctor).await;
    let html = s.get("/users/new").await.into_string().await.unwrap();
    assert!(html.contains("医療クラーク等（難病DB）"));
    assert!(!html.contains("責任者（"), "a 指定医 registers only clerks");
    let csrf = csrf_of(&html);
    let res = s
        .post_form(
            "/users/new",
            &[
                ("csrf", &csrf),
                ("user_type", "clerk"),
                ("db", "nanbyo"),
                ("institution", ""),
                ("profile.department", "　"),
                ("profile.family_name", "髙橋"),
                ("profile.given_name", "美咲"),
                ("profile.family_kana", "Takahashi"),
                ("profile.given_kana", "ﾐｻｷ"),
                ("profile.medical_reg_no", ""),
                ("profile.email", "misaki@"),
                ("profile.phone", "312345678"),
                ("profile.expires_on", ""),
                ("profile.remarks", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let html = res.into_string().await.unwrap();
    assert!(html.contains("入力内容に誤りがあります。"));
    assert!(html.contains("部署を入力してください。"));
    assert!(html.contains("フリガナ（セイ）は全角カタカナで入力してください。"));
    assert!(html.contains("先頭の0がありません"));
    assert!(html.contains("メールアドレスは半角英数字の正しい形式"));
    assert!(
        html.contains("value=\"髙橋\""),
        "the form keeps what was typed"
    );
    assert!(
        html.contains("href=\"#family_kana\""),
        "the summary links to the field"
    );
    // The officer registers doctors for institutions of its municipality; 医籍登録番号 unique per DB.
    s.act_as(&c.officer).await;
    let html = s.get("/users/new").await.into_string().await.unwrap();
    assert!(html.contains("小児慢性特定疾病指定医") && !html.contains("医療クラーク等（"));
    let csrf = csrf_of(&html);
    let doctor = |reg: &'static str, t: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("user_type", t.to_string()),
            ("db", String::new()),
            ("institution", HOSPITAL.to_string()),
            ("profile.department", "内科".to_string()),
            ("profile.family_name", "齋藤".to_string()),
            ("profile.given_name", "一郎".to_string()),
            ("profile.family_kana", "サイトウ".to_string()),
            ("profile.given_kana", "イチロウ".to_string()),
            ("profile.medical_reg_no", reg.to_string()),
            ("profile.email", String::new()),
            ("profile.phone", String::new()),
            ("profile.expires_on", String::new()),
            ("profile.remarks", String::new()),
        ]
    };
    let post = |f: Vec<(&'static str, String)>| {
        let s = &s;
        async move {
            let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (*a, b.as_str())).collect();
            s.post_form("/users/new", &refs).await
        }
    };
    let res = post(doctor("100001", "cooperating_doctor")).await;
    assert_eq!(
        res.status(),
        Status::Ok,
        "100001 is already an active 難病DB doctor"
    );
    assert!(res.into_string().await.unwrap().contains("医籍登録番号が正しくありません。この医籍登録番号の有効なアカウントが同じ対象DBに既にあります"));
    let res = post(doctor("100001", "shoman_doctor")).await;
    assert_eq!(
        res.status(),
        Status::SeeOther,
        "the same doctor may have a 小慢DB account"
    );
    let location = res.headers().get_one("Location").unwrap().to_string();
    let done = s.get(&location).await.into_string().await.unwrap();
    assert!(done.contains("小児慢性特定疾病指定医のユーザを登録しました。"));
    assert!(done.contains("通知書未発行"));
}
