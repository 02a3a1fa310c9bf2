//! アカウント棚卸し over HTTP (DESIGN §13, issue 12), on an injected clock: every group with accounts
//! made to fall in and out of it, the bulk actions as the role rules allow and refuse them, the
//! review record in the audit chain, the menu's reminder, and the 最終ログイン column of the search.

mod common;
#[path = "common/people.rs"]
mod people;

use common::*;
use nanbyo_accounts::domain::audit::Action;
use nanbyo_accounts::domain::roles::Permit;
use nanbyo_accounts::service::auth::LoginOutcome;
use nanbyo_accounts::store::audit::{self, AuditActor};
use nanbyo_accounts::store::users::{self, UserRecord};
use people::*;
use rocket::http::Status;

const DAY: i64 = 86_400;

/// Sessions that outlive the clock's jumps, and locks released only by hand.
async fn review_server() -> TestServer {
    server_with(|s| {
        s.session_idle_minutes = 10_000_000;
        s.session_absolute_hours = 1_000_000;
        s.lockout_release_minutes = 0;
    })
    .await
}

async fn review_page(s: &TestServer) -> String {
    let res = s.get("/review").await;
    assert_eq!(res.status(), Status::Ok);
    res.into_string().await.unwrap()
}

/// The count the summary table shows for `group`.
fn count(html: &str, group: &str) -> usize {
    let marker = format!("class=\"count-{group}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no group {group}"))
        + marker.len();
    let end = start + html[start..].find('件').unwrap();
    html[start..end].parse().unwrap()
}

/// The section of one group.
fn section<'a>(html: &'a str, group: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"group-{group}\""))
        .unwrap_or_else(|| panic!("no section {group}"));
    let end = start + html[start..].find("</section>").unwrap();
    &html[start..end]
}

async fn listed(s: &TestServer, group: &str, u: &UserRecord) -> bool {
    let html = review_page(s).await;
    section(&html, group).contains(&u.login_id)
}

/// Gives `u` a password of its own (as if it had changed it) and logs it in once, outside the
/// test's browser; returns the password.
async fn with_own_password(s: &TestServer, u: &UserRecord) -> String {
    let pw = "Hoshi-zora9-Yoru";
    let phc = s.app().hash_password(pw.to_string()).await;
    let mut tx = s.app().store.begin_write().await.unwrap();
    users::set_chosen_password(&mut tx, u.id, &phc, s.app().now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    login_elsewhere(s, u, pw).await;
    pw.to_string()
}

async fn login_elsewhere(s: &TestServer, u: &UserRecord, pw: &str) {
    let outcome = s.app().login(&u.login_id, pw, None).await.unwrap();
    assert!(
        matches!(outcome, LoginOutcome::Success { .. }),
        "login {}",
        u.login_id
    );
}

async fn issue_notice(s: &TestServer, u: &UserRecord) -> String {
    s.app()
        .issue_temp_password(&Permit::console(u.id), &AuditActor::Console, None)
        .await
        .unwrap()
        .password
}

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

/// POSTs the confirmation and then the apply of a bulk action, as the screens do; returns the
/// confirmation page and the apply's response status.
async fn bulk(s: &TestServer, ids: &[i64], action: &str, date: &str) -> (String, Status) {
    let csrf = s.page_csrf("/review").await;
    let mut fields = vec![
        ("csrf", csrf.clone()),
        ("group", "notice_pending".to_string()),
        ("action", action.to_string()),
        ("expires_on", date.to_string()),
    ];
    for id in ids {
        fields.push(("ids", id.to_string()));
    }
    let refs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = s.post_form("/review/confirm", &refs).await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    let res = s.post_form("/review/apply", &refs).await;
    (page, res.status())
}

async fn set_expiry(s: &TestServer, ids: &[i64], date: &str) {
    let (_, status) = bulk(s, ids, "expire", date).await;
    assert_eq!(status, Status::SeeOther, "set 有効期限 {date}");
}

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
