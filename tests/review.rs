//! アカウント棚卸し over HTTP (DESIGN §13, issue 12), on an injected clock: every group with accounts
//! made to fall in and out of it, the review record in the audit chain, the menu's reminder, the CSV of
//! a group, and the 最終ログイン column of the search (the bulk actions: tests/review_bulk.rs).

mod common;
#[path = "common/people.rs"]
mod people;
#[path = "common/review.rs"]
mod review;

use common::*;
use nanbyo_accounts::domain::audit::Action;
use nanbyo_accounts::store::audit::{self, AuditActor};
use people::*;
use review::*;
use rocket::http::Status;

#[rocket::async_test]
async fn notice_pending_and_never_logged_in_follow_the_clock() {
    let s = review_server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    // Registered at START: 通知書未発行 from then.
    assert!(!listed(&s, "notice_pending", &c.clerk).await);
    s.clock.advance(14 * DAY - 1);
    assert!(!listed(&s, "notice_pending", &c.clerk).await);
    s.clock.advance(1);
    let html = review_page(&s).await;
    assert!(section(&html, "notice_pending").contains(&c.clerk.login_id));
    assert!(section(&html, "notice_pending").contains(&c.other_clerk.login_id));
    assert!(
        !html.contains(&c.shoman_doctor.login_id),
        "小慢DB's doctor is not this 責任者's to see"
    );
    // A notice issued: no longer pending; not yet used.
    let temp = issue_notice(&s, &c.clerk).await;
    assert!(!listed(&s, "notice_pending", &c.clerk).await);
    assert!(listed(&s, "never_logged_in", &c.clerk).await);
    // Logged in with it: out of both.
    login_elsewhere(&s, &c.clerk, &temp).await;
    assert!(!listed(&s, "never_logged_in", &c.clerk).await);
    // The other clerk's notice is never used; its temporary password expires after 14 days and the
    // account is 通知書未発行 again, from that moment.
    issue_notice(&s, &c.other_clerk).await;
    assert!(listed(&s, "never_logged_in", &c.other_clerk).await);
    s.clock.advance(14 * DAY);
    let html = review_page(&s).await;
    assert!(!section(&html, "never_logged_in").contains(&c.other_clerk.login_id));
    assert!(!section(&html, "notice_pending").contains(&c.other_clerk.login_id));
    s.clock.advance(14 * DAY);
    assert!(listed(&s, "notice_pending", &c.other_clerk).await);
    // A reset account waits from its reset.
    with_own_password(&s, &c.nanbyo_doctor).await;
    let (permit, _) = s
        .app()
        .authorize(&c.officer, c.nanbyo_doctor.id, Action::PasswordReset, None)
        .await
        .unwrap();
    s.app()
        .reset_password(&permit, "対面", &AuditActor::user(&c.officer), None)
        .await
        .unwrap();
    s.clock.advance(14 * DAY - 1);
    assert!(!listed(&s, "notice_pending", &c.nanbyo_doctor).await);
    s.clock.advance(1);
    assert!(listed(&s, "notice_pending", &c.nanbyo_doctor).await);
}

#[rocket::async_test]
async fn no_login_for_ninety_days() {
    let s = review_server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let pw = with_own_password(&s, &c.clerk).await;
    assert_eq!(count(&review_page(&s).await, "inactive"), 0);
    s.clock.advance(90 * DAY - 1);
    assert!(!listed(&s, "inactive", &c.clerk).await);
    s.clock.advance(1);
    let html = review_page(&s).await;
    assert!(section(&html, "inactive").contains(&c.clerk.login_id));
    assert!(count(&html, "inactive") >= 1);
    login_elsewhere(&s, &c.clerk, &pw).await;
    assert!(!listed(&s, "inactive", &c.clerk).await);
}

#[rocket::async_test]
async fn expiry_within_thirty_days_or_past_set_by_the_bulk_action() {
    let s = review_server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    // START is 2026-11-24 (JST): 2026-12-25 is 31 days away, 2026-12-24 is 30.
    set_expiry(&s, &[c.clerk.id], "2026-12-25").await;
    assert_eq!(
        s.reload(&c.clerk).await.expires_on.unwrap().to_string(),
        "2026-12-25"
    );
    assert!(!listed(&s, "expiring", &c.clerk).await);
    set_expiry(&s, &[c.clerk.id], "2026-12-24").await;
    assert!(listed(&s, "expiring", &c.clerk).await);
    s.clock.advance(60 * DAY);
    let html = review_page(&s).await;
    assert!(
        section(&html, "expiring").contains(&c.clerk.login_id),
        "past its 有効期限"
    );
    assert!(section(&html, "expiring").contains("有効期限切れ"));
}

#[rocket::async_test]
async fn locked_for_more_than_seven_days() {
    let s = review_server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    with_own_password(&s, &c.clerk).await;
    s.lock(&c.clerk).await;
    s.clock.advance(7 * DAY);
    assert!(!listed(&s, "locked", &c.clerk).await);
    s.clock.advance(1);
    assert!(listed(&s, "locked", &c.clerk).await);
    let csrf = s.page_csrf("/review").await;
    let res = s
        .post_form(&format!("/users/{}/unlock", c.clerk.id), &[("csrf", &csrf)])
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert!(!listed(&s, "locked", &c.clerk).await);
}

#[rocket::async_test]
async fn clerks_whose_registering_doctor_is_gone() {
    let s = review_server().await;
    let c = cast(&s).await;
    let doctors_clerk = register(
        &s,
        &c.nanbyo_doctor,
        "clerk",
        "",
        "田中",
        "タナカ",
        "内科外来",
        "",
    )
    .await;
    assert_eq!(doctors_clerk.created_by, Some(c.nanbyo_doctor.id));
    s.act_as(&c.responsible).await;
    assert!(!listed(&s, "orphan_clerk", &doctors_clerk).await);
    // The 自治体 deletes the doctor's account.
    let (permit, _) = s
        .app()
        .authorize(&c.officer, c.nanbyo_doctor.id, Action::Delete, None)
        .await
        .unwrap();
    s.app().delete(&c.officer, &permit, None).await.unwrap();
    let html = review_page(&s).await;
    let orphans = section(&html, "orphan_clerk");
    assert!(orphans.contains(&doctors_clerk.login_id));
    assert!(
        !orphans.contains(&c.clerk.login_id),
        "registered by the 責任者"
    );
    // A 自治体担当者 sees no clerks: the group is not offered to it.
    s.act_as(&c.officer).await;
    let html = review_page(&s).await;
    assert!(!html.contains("id=\"group-orphan_clerk\""));
    assert!(!html.contains(&doctors_clerk.login_id));
}

#[rocket::async_test]
async fn only_responsibles_and_officers_review() {
    let s = review_server().await;
    let c = cast(&s).await;
    for u in [&c.clerk, &c.nanbyo_doctor] {
        s.act_as(u).await;
        assert_eq!(s.get("/review").await.status(), Status::Forbidden);
        let menu = s.get("/").await.into_string().await.unwrap();
        assert!(!menu.contains("/review"), "no link for {}", u.login_id);
        let csrf = s.page_csrf("/").await;
        let res = s
            .post_form("/review/complete", &[("csrf", &csrf), ("comment", "x")])
            .await;
        assert_eq!(res.status(), Status::Forbidden);
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM reviews").await, 0);
}

#[rocket::async_test]
async fn the_review_record_is_in_the_history_the_audit_chain_and_the_menu() {
    let s = review_server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let menu = s.get("/").await.into_string().await.unwrap();
    assert!(menu.contains("アカウント棚卸しの記録がまだありません。"));
    assert!(menu.contains("href=\"/review\""));
    s.clock.advance(14 * DAY);
    let csrf = s.page_csrf("/review").await;
    let res = s
        .post_form(
            "/review/complete",
            &[
                ("csrf", &csrf),
                ("comment", "退職者なし。通知書未発行の3名は来週交付。"),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    let page = review_page(&s).await;
    assert!(page.contains("アカウント棚卸しの完了を記録しました"));
    let history = &page[page.find("棚卸しの記録").unwrap()..];
    assert!(history.contains(&c.responsible.login_id));
    assert!(history.contains("通知書未発行 3件"), "{history}");
    assert!(history.contains("退職者なし。"));
    let entries = s.audit().await;
    let e = entries
        .iter()
        .rev()
        .find(|e| e.content.action == "review_complete")
        .expect("the review in the audit log");
    assert_eq!(e.content.actor_user_id, Some(c.responsible.id));
    assert!(e.content.details.contains("通知書未発行 3件"));
    assert!(e.content.details.contains("コメント: 退職者なし。"));
    assert_eq!(
        e.content.target_label.as_deref(),
        Some("東京中央病院（難病DB）")
    );
    let verified = audit::verify(&s.app().store, &s.app().keys.audit)
        .await
        .unwrap();
    assert!(verified.is_ok(), "{verified:?}");
    // The 操作履歴 screen shows it.
    let log = s.get("/audit").await.into_string().await.unwrap();
    assert!(log.contains("アカウント棚卸し完了"));
    // The menu is quiet until the interval has passed.
    let menu = s.get("/").await.into_string().await.unwrap();
    assert!(!menu.contains("review-reminder"));
    s.clock.advance(180 * DAY - 1);
    let menu = s.get("/").await.into_string().await.unwrap();
    assert!(!menu.contains("review-reminder"));
    s.clock.advance(1);
    let menu = s.get("/").await.into_string().await.unwrap();
    assert!(menu.contains("180日以上経過しています"), "{menu}");
    // Another institution's review is its own: the other 責任者's menu still asks.
    s.act_as(&c.shoman_responsible).await;
    let menu = s.get("/").await.into_string().await.unwrap();
    assert!(menu.contains("アカウント棚卸しの記録がまだありません。"));
}

#[rocket::async_test]
async fn a_group_as_csv_with_formulas_neutralised() {
    let s = review_server().await;
    let c = cast(&s).await;
    let risky = register(
        &s,
        &c.responsible,
        "clerk",
        "",
        "佐々木",
        "ササキ",
        "@外来",
        "",
    )
    .await;
    s.act_as(&c.responsible).await;
    s.clock.advance(14 * DAY);
    let res = s.get("/review/export.csv?group=notice_pending").await;
    assert_eq!(res.status(), Status::Ok);
    let body = res.into_bytes().await.unwrap();
    assert_eq!(&body[..3], &[0xEF, 0xBB, 0xBF]);
    let text = String::from_utf8(body[3..].to_vec()).unwrap();
    assert!(text.starts_with("区分,ログインID,氏名"));
    assert!(text.contains(&risky.login_id));
    assert!(text.contains(",'@外来,"), "{text}");
    assert!(text.contains("未ログイン"));
    let entries = s.audit().await;
    assert!(entries.iter().any(
        |e| e.content.action == "csv_export" && e.content.details.contains("アカウント棚卸し")
    ));
    assert_eq!(
        s.get("/review/export.csv?group=nothing").await.status(),
        Status::NotFound
    );
}

#[rocket::async_test]
async fn the_last_login_is_stored_and_shown_in_the_search() {
    let s = review_server().await;
    let c = cast(&s).await;
    assert_eq!(c.clerk.last_login_at, None);
    s.clock.advance(3600);
    with_own_password(&s, &c.clerk).await;
    assert_eq!(s.reload(&c.clerk).await.last_login_at, Some(START + 3600));
    s.act_as(&c.responsible).await;
    let html = s.get("/users").await.into_string().await.unwrap();
    assert!(html.contains("最終ログイン"));
    // 2026-11-24 10:00 JST: the date in the column, the time in its tooltip.
    assert!(
        html.contains(
            "title=\"2026&#x2F;11&#x2F;24 10:00（令和8年11月24日）\">2026&#x2F;11&#x2F;24<"
        ),
        "{html}"
    );
    assert!(html.contains("未ログイン"));
    let order = |html: &str| {
        let a = html.find(&c.clerk.login_id).unwrap();
        let b = html.find(&c.other_clerk.login_id).unwrap();
        a < b
    };
    let asc = s
        .get("/users?sort=last_login&dir=asc")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(!order(&asc), "未ログイン sorts first");
    assert!(asc.contains("最終ログイン ▲"));
    let desc = s
        .get("/users?sort=last_login&dir=desc")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(order(&desc));
}
