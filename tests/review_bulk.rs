//! アカウント棚卸し's bulk actions over HTTP (DESIGN §3, §13): a confirmation screen naming every
//! person, the role rules deciding every row, the confirmed rows applied in one transaction (or none),
//! one audit entry per account.

mod common;
#[path = "common/people.rs"]
mod people;
#[path = "common/review.rs"]
mod review;

use nanbyo_accounts::domain::audit::Action;
use people::*;
use review::*;
use rocket::http::Status;

#[rocket::async_test]
async fn bulk_delete_names_every_person_and_audits_each() {
    let s = review_server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let before = s.audit().await.len();
    let (confirm, status) = bulk(&s, &[c.clerk.id, c.other_clerk.id], "delete", "").await;
    assert!(
        confirm.contains(&format!("{} 様", c.clerk.full_name())),
        "{confirm}"
    );
    assert!(confirm.contains(&format!("{} 様", c.other_clerk.full_name())));
    assert!(confirm.contains("次の2名のアカウントを削除します"));
    assert!(confirm.contains("削除する"));
    assert_eq!(status, Status::SeeOther);
    assert!(s.reload(&c.clerk).await.deleted_at.is_some());
    assert!(s.reload(&c.other_clerk).await.deleted_at.is_some());
    let new: Vec<_> = s.audit().await[before..].to_vec();
    let deletes: Vec<_> = new
        .iter()
        .filter(|e| e.content.action == "delete")
        .collect();
    assert_eq!(deletes.len(), 2, "one entry per account");
    for e in &deletes {
        assert_eq!(e.content.actor_user_id, Some(c.responsible.id));
        assert!(e.content.details.contains("アカウント棚卸し"));
    }
    let page = review_page(&s).await;
    assert!(page.contains("2件のアカウントを削除しました。"));
}

#[rocket::async_test]
async fn bulk_refusals_follow_the_role_rules_and_change_nothing() {
    let s = review_server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    // Itself and a 指定医 (seen, managed by the 自治体), plus one it cannot see at all.
    let ids = [c.responsible.id, c.nanbyo_doctor.id, c.shoman_doctor.id];
    let before = s.audit().await.len();
    let (confirm, status) = bulk(&s, &ids, "delete", "").await;
    assert!(confirm.contains("実行できないユーザ（3名）"), "{confirm}");
    assert!(confirm.contains("ご自身のアカウントはこの操作の対象にできません。"));
    assert!(confirm.contains("このユーザ種別のユーザを登録・管理する権限がありません。"));
    assert!(confirm.contains("指定されたユーザが見つからないか、棚卸しの対象外です。"));
    assert!(
        !confirm.contains(&c.shoman_doctor.login_id),
        "an account it cannot see is not named"
    );
    assert!(!confirm.contains(">削除する<"), "nothing to confirm");
    assert_eq!(status, Status::Conflict, "a forged apply is refused whole");
    for u in [&c.responsible, &c.nanbyo_doctor, &c.shoman_doctor] {
        assert!(s.reload(u).await.deleted_at.is_none());
    }
    let new: Vec<_> = s.audit().await[before..].to_vec();
    assert!(new.iter().all(|e| e.content.action != "delete"));
    assert!(
        new.iter().any(|e| e.content.action == "denied"),
        "the unseen id is recorded as refused"
    );
    // One allowed and one refused together: the confirmation offers the allowed one only; an apply
    // that still carries the refused one changes nothing.
    let (confirm, status) = bulk(&s, &[c.clerk.id, c.nanbyo_doctor.id], "delete", "").await;
    assert!(confirm.contains("次の1名のアカウントを削除します"));
    assert!(confirm.contains("実行できないユーザ（1名）"));
    assert_eq!(status, Status::Conflict);
    assert!(s.reload(&c.clerk).await.deleted_at.is_none());
    // A 自治体担当者 may set a 指定医's 有効期限, not a 責任者's.
    s.act_as(&c.officer).await;
    let (confirm, status) = bulk(
        &s,
        &[c.nanbyo_doctor.id, c.responsible.id],
        "expire",
        "2027-03-31",
    )
    .await;
    assert!(confirm.contains("このユーザ種別のユーザを登録・管理する権限がありません。"));
    assert_eq!(status, Status::Conflict);
    let (_, status) = bulk(&s, &[c.nanbyo_doctor.id], "expire", "2027-03-31").await;
    assert_eq!(status, Status::SeeOther);
    assert_eq!(
        s.reload(&c.nanbyo_doctor)
            .await
            .expires_on
            .unwrap()
            .to_string(),
        "2027-03-31"
    );
    assert!(s.reload(&c.responsible).await.expires_on.is_none());
    // A date in the past is refused with its reason.
    let csrf = s.page_csrf("/review").await;
    let id = c.nanbyo_doctor.id.to_string();
    let res = s
        .post_form(
            "/review/confirm",
            &[
                ("csrf", &csrf),
                ("action", "expire"),
                ("expires_on", "2026-11-23"),
                ("ids", &id),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::Conflict);
    assert!(res.into_string().await.unwrap().contains("今日以降の日付"));
}

#[rocket::async_test]
async fn an_apply_after_the_accounts_changed_is_refused_whole() {
    let s = review_server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/review").await;
    let (a, b) = (c.clerk.id.to_string(), c.other_clerk.id.to_string());
    let fields = [
        ("csrf", csrf.as_str()),
        ("action", "delete"),
        ("ids", a.as_str()),
        ("ids", b.as_str()),
    ];
    assert_eq!(
        s.post_form("/review/confirm", &fields).await.status(),
        Status::Ok
    );
    // Someone else deletes one of them meanwhile.
    let (permit, _) = s
        .app()
        .authorize(&c.responsible, c.other_clerk.id, Action::Delete, None)
        .await
        .unwrap();
    s.app().delete(&c.responsible, &permit, None).await.unwrap();
    let res = s.post_form("/review/apply", &fields).await;
    assert_eq!(res.status(), Status::Conflict);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("処理を中止しました（変更は行われていません）"));
    assert!(page.contains("このアカウントは既に削除されています。"));
    assert!(
        s.reload(&c.clerk).await.deleted_at.is_none(),
        "all or nothing"
    );
}

#[rocket::async_test]
async fn a_form_without_people_or_date_is_sent_back_with_the_reason() {
    let s = review_server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/review").await;
    let res = s
        .post_form("/review/confirm", &[("csrf", &csrf), ("action", "delete")])
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert!(review_page(&s)
        .await
        .contains("対象のユーザを選択してください。"));
    let id = c.clerk.id.to_string();
    let res = s
        .post_form(
            "/review/confirm",
            &[
                ("csrf", &csrf),
                ("action", "expire"),
                ("expires_on", ""),
                ("ids", &id),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert!(review_page(&s)
        .await
        .contains("有効期限を入力してください。"));
    // Without the CSRF token nothing is even checked.
    let res = s
        .post_form("/review/apply", &[("action", "delete"), ("ids", &id)])
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(s.reload(&c.clerk).await.deleted_at.is_none());
}
