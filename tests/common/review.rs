//! What the アカウント棚卸し tests share (tests/review.rs, tests/review_bulk.rs): a server whose
//! sessions outlive the clock's jumps, the screen read back, and the bulk action as the screens post it.

#![allow(dead_code)]

use nanbyo_accounts::domain::roles::Permit;
use nanbyo_accounts::service::auth::LoginOutcome;
use nanbyo_accounts::store::audit::AuditActor;
use nanbyo_accounts::store::users::{self, UserRecord};
use rocket::http::Status;

use super::common::{server_with, TestServer};

pub const DAY: i64 = 86_400;

/// Sessions that outlive the clock's jumps, and locks released only by hand.
pub async fn review_server() -> TestServer {
    server_with(|s| {
        s.session_idle_minutes = 10_000_000;
        s.session_absolute_hours = 1_000_000;
        s.lockout_release_minutes = 0;
    })
    .await
}

pub async fn review_page(s: &TestServer) -> String {
    let res = s.get("/review").await;
    assert_eq!(res.status(), Status::Ok);
    res.into_string().await.unwrap()
}

/// The count the summary table shows for `group`.
pub fn count(html: &str, group: &str) -> usize {
    let marker = format!("class=\"count-{group}\">");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no group {group}"))
        + marker.len();
    let end = start + html[start..].find('件').unwrap();
    html[start..end].parse().unwrap()
}

/// The section of one group.
pub fn section<'a>(html: &'a str, group: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"group-{group}\""))
        .unwrap_or_else(|| panic!("no section {group}"));
    let end = start + html[start..].find("</section>").unwrap();
    &html[start..end]
}

pub async fn listed(s: &TestServer, group: &str, u: &UserRecord) -> bool {
    let html = review_page(s).await;
    section(&html, group).contains(&u.login_id)
}

/// Gives `u` a password of its own (as if it had changed it) and logs it in once, outside the
/// test's browser; returns the password.
pub async fn with_own_password(s: &TestServer, u: &UserRecord) -> String {
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

pub async fn login_elsewhere(s: &TestServer, u: &UserRecord, pw: &str) {
    let outcome = s.app().login(&u.login_id, pw, None).await.unwrap();
    assert!(
        matches!(outcome, LoginOutcome::Success { .. }),
        "login {}",
        u.login_id
    );
}

pub async fn issue_notice(s: &TestServer, u: &UserRecord) -> String {
    s.app()
        .issue_temp_password(&Permit::console(u.id), &AuditActor::Console, None)
        .await
        .unwrap()
        .password
}

/// POSTs the confirmation and then the apply of a bulk action, as the screens do; returns the
/// confirmation page and the apply's response status.
pub async fn bulk(s: &TestServer, ids: &[i64], action: &str, date: &str) -> (String, Status) {
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

pub async fn set_expiry(s: &TestServer, ids: &[i64], date: &str) {
    let (_, status) = bulk(s, ids, "expire", date).await;
    assert_eq!(status, Status::SeeOther, "set 有効期限 {date}");
}
