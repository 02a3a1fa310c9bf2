//! Login, lockout, throttling, sessions, cookies, CSRF and stored credentials over HTTP (DESIGN §6,
//! §11). Every test has its own server, database and clock.

mod common;

use common::*;
use nanbyo_accounts::domain::Db;
use nanbyo_accounts::store::users::UserRecord;
use rocket::http::{ContentType, Cookie, Header, Method, Status};

/// A password that meets the default policy.
const CHOSEN: &str = "Kumo-no-ue7Sora";
/// Another one, for changes.
const CHOSEN_2: &str = "Hoshi=Zora4Mori";
/// The one answer to every failed login (DESIGN §6).
const FAILED: &str =
    "ログインIDまたはパスワードが正しくありません。5回続けて誤るとロックされます。";

/// A 責任者 who has set `CHOSEN` as password and logged out again.
async fn responsible_with_password(s: &TestServer) -> UserRecord {
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    s.login_and_set_password(&user.login_id, &temp, CHOSEN)
        .await;
    s.logout().await;
    user
}

/// Logs in with `CHOSEN` and checks the browser lands on the menu; returns the session token.
async fn log_in(s: &TestServer, user: &UserRecord) -> String {
    let res = s.post_login(&user.login_id, CHOSEN).await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/"));
    s.session_token().expect("session cookie set")
}

/// A refused login: the login page again (200) with the error box; returns the box's text.
async fn refused(res: rocket::local::asynchronous::LocalResponse<'_>) -> String {
    assert_eq!(res.status(), Status::Ok);
    assert!(
        !set_cookies(&res)
            .iter()
            .any(|c| c.starts_with("nanbyo_session=")),
        "a refused login sets no session cookie"
    );
    let html = res.into_string().await.unwrap();
    login_error(&html).unwrap_or_else(|| panic!("no error box on the page: {html}"))
}

fn redirects_to(res: &rocket::local::asynchronous::LocalResponse<'_>, to: &str) -> bool {
    res.status() == Status::SeeOther && res.headers().get_one("Location") == Some(to)
}

// ---- 1. Login -------------------------------------------------------------------------------

#[rocket::async_test]
async fn responsible_logs_in_with_the_password_they_chose() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;

    let res = s.post_login(&user.login_id, &temp).await;
    assert!(
        redirects_to(&res, "/password"),
        "temporary password leads to /password"
    );
    let csrf = s.page_csrf("/password").await;
    let res = s
        .post_form(
            "/password",
            &[
                ("csrf", &csrf),
                ("current", &temp),
                ("new", CHOSEN),
                ("confirm", CHOSEN),
            ],
        )
        .await;
    assert!(redirects_to(&res, "/"));
    s.logout().await;

    // A fresh login with the chosen password lands on the menu.
    let res = s.post_login(&user.login_id.to_lowercase(), CHOSEN).await;
    assert!(redirects_to(&res, "/"));
    let res = s.get("/").await;
    assert_eq!(res.status(), Status::Ok);
    let html = res.into_string().await.unwrap();
    assert!(html.contains("髙橋　美咲 様"), "{html}");
    assert!(html.contains("メニュー"));
    let last = s.audit().await.pop().unwrap().content;
    assert_eq!(last.action, "login_success");
    assert_eq!(last.target_user_id, Some(user.id));
    assert_eq!(last.details, "");
}

// ---- 2. One message for every failure -------------------------------------------------------

#[rocket::async_test]
async fn wrong_password_unknown_id_and_locked_account_get_the_same_message() {
    let s = server().await;
    let user = responsible_with_password(&s).await;

    let wrong_password = refused(s.post_login(&user.login_id, "Wrong-password9").await).await;
    let unknown_id = refused(s.post_login("ZZZZZZZZ", CHOSEN).await).await;
    let malformed_id = refused(s.post_login("nobody", CHOSEN).await).await;
    for _ in 0..5 {
        refused(s.post_login(&user.login_id, "Wrong-password9").await).await;
    }
    assert!(s.user(user.id).await.locked_at.is_some());
    let locked = refused(s.post_login(&user.login_id, CHOSEN).await).await;

    assert!(wrong_password.starts_with(FAILED), "{wrong_password}");
    assert_eq!(unknown_id, wrong_password);
    assert_eq!(malformed_id, wrong_password);
    assert_eq!(locked, wrong_password);
    assert!(
        wrong_password.contains("責任者"),
        "hint to ask a 責任者: {wrong_password}"
    );
}

// ---- 3. Lockout -----------------------------------------------------------------------------

#[rocket::async_test]
async fn fifth_consecutive_failure_locks_until_thirty_minutes_pass() {
    let s = server().await;
    let user = responsible_with_password(&s).await;

    for n in 1..=4 {
        refused(s.post_login(&user.login_id, "Wrong-password9").await).await;
        let u = s.user(user.id).await;
        assert_eq!(u.failed_logins, n);
        assert_eq!(u.locked_at, None, "not locked after {n} failures");
    }
    assert!(!s
        .audit()
        .await
        .iter()
        .any(|e| e.content.action == "account_locked"));

    refused(s.post_login(&user.login_id, "Wrong-password9").await).await;
    let locked_at = START;
    assert_eq!(s.user(user.id).await.locked_at, Some(locked_at));
    let locks: Vec<_> = s
        .audit()
        .await
        .into_iter()
        .filter(|e| e.content.action == "account_locked")
        .collect();
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].content.target_user_id, Some(user.id));
    assert_eq!(locks[0].content.client_addr.as_deref(), Some("192.0.2.10"));

    // The right password does not open a locked account, and says nothing different.
    assert!(refused(s.post_login(&user.login_id, CHOSEN).await)
        .await
        .starts_with(FAILED));
    assert_eq!(s.sessions_of(user.id).await, 0);

    s.clock.advance(29 * 60);
    assert!(refused(s.post_login(&user.login_id, CHOSEN).await)
        .await
        .starts_with(FAILED));

    // 30 minutes after the lock it releases itself.
    s.clock.advance(60);
    log_in(&s, &user).await;
    let u = s.user(user.id).await;
    assert_eq!((u.failed_logins, u.locked_at), (0, None));
}

#[rocket::async_test]
async fn with_release_minutes_zero_only_the_console_unlocks() {
    let s = server_with(|c| c.lockout_release_minutes = 0).await;
    let user = responsible_with_password(&s).await;
    for _ in 0..5 {
        refused(s.post_login(&user.login_id, "Wrong-password9").await).await;
    }
    assert!(s.user(user.id).await.locked_at.is_some());

    s.clock.advance(7 * 86_400);
    assert!(refused(s.post_login(&user.login_id, CHOSEN).await)
        .await
        .starts_with(FAILED));
    assert!(
        s.user(user.id).await.locked_at.is_some(),
        "still locked a week later"
    );

    let unlocked = s.app().console_unlock(&user.login_id).await.unwrap();
    assert_eq!((unlocked.failed_logins, unlocked.locked_at), (0, None));
    let last = s.audit().await.pop().unwrap().content;
    assert_eq!(
        (last.action.as_str(), last.actor_label.as_str()),
        ("unlock", "console")
    );
    log_in(&s, &user).await;
}

// ---- 4. Throttling by client address --------------------------------------------------------

#[rocket::async_test]
async fn failures_from_one_address_throttle_that_address_only() {
    let s = server_with(|c| c.throttle_max_failures = 3).await;
    let user = responsible_with_password(&s).await;

    for id in ["ZZZZZZZZ", "YYYYYYYY", "XXXXXXXX"] {
        refused(s.post_login(id, "whatever-Pass1").await).await;
    }

    // The right password for a real account, from the same machine: refused with 429.
    let res = s.post_login(&user.login_id, CHOSEN).await;
    assert_eq!(res.status(), Status::TooManyRequests);
    assert!(!set_cookies(&res)
        .iter()
        .any(|c| c.starts_with("nanbyo_session=")));
    let html = res.into_string().await.unwrap();
    assert!(html.contains("一時的にログインを制限しています"), "{html}");
    assert_eq!(s.sessions_of(user.id).await, 0);
    assert_eq!(
        s.user(user.id).await.failed_logins,
        0,
        "the account is not blamed"
    );
    let last = s.audit().await.pop().unwrap().content;
    assert_eq!(
        (last.action.as_str(), last.result.as_str()),
        ("login_failure", "denied")
    );

    // Another machine is not affected.
    let res = s
        .post_login_from("192.0.2.99:1".parse().unwrap(), &user.login_id, CHOSEN)
        .await;
    assert!(redirects_to(&res, "/"));
    assert_eq!(s.sessions_of(user.id).await, 1);
}

// ---- 5. A temporary-password session -------------------------------------------------------

#[rocket::async_test]
async fn temporary_password_session_reaches_only_the_password_screen() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    let res = s.post_login(&user.login_id, &temp).await;
    assert!(redirects_to(&res, "/password"));
    let audit_before = s.audit().await.len();

    let res = s.get("/").await;
    assert!(
        redirects_to(&res, "/password"),
        "GET / → {:?}",
        res.status()
    );
    let res = s.get("/login").await;
    assert!(redirects_to(&res, "/password"));

    // Every other screen, present or future, sends it to /password too.
    let csrf = s.page_csrf("/password").await;
    let routes: Vec<(Method, String)> = s
        .client
        .rocket()
        .routes()
        .map(|r| {
            let path = r
                .uri
                .path()
                .split('/')
                .map(|seg| if seg.starts_with('<') { "1" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            (r.method, path)
        })
        .collect();
    let open = ["/login", "/logout", "/password", "/health", "/favicon.ico"];
    let mut checked = 0;
    for (method, path) in &routes {
        if open.contains(&path.as_str()) || path.starts_with("/static/") {
            continue;
        }
        let res = match *method {
            Method::Get => s.get(path).await,
            Method::Post => s.post_form(path, &[("csrf", &csrf)]).await,
            _ => continue,
        };
        let status = res.status();
        assert!(
            redirects_to(&res, "/password") || status == Status::Forbidden,
            "{method} {path} with a temporary session gave {status}"
        );
        checked += 1;
    }
    assert!(checked >= 1, "at least / was checked");
    assert_eq!(s.audit().await.len(), audit_before, "nothing was done");

    // After the change, the temporary password no longer logs in.
    let res = s
        .post_form(
            "/password",
            &[
                ("csrf", &csrf),
                ("current", &temp),
                ("new", CHOSEN),
                ("confirm", CHOSEN),
            ],
        )
        .await;
    assert!(redirects_to(&res, "/"));
    assert_eq!(s.get("/").await.status(), Status::Ok);
    s.logout().await;
    assert!(refused(s.post_login(&user.login_id, &temp).await)
        .await
        .starts_with(FAILED));
    log_in(&s, &user).await;
}

#[rocket::async_test]
async fn temporary_password_stops_working_after_fourteen_days() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    s.clock.advance(14 * 86_400);
    assert!(refused(s.post_login(&user.login_id, &temp).await)
        .await
        .starts_with(FAILED));
    assert_eq!(s.sessions_of(user.id).await, 0);
}

// ---- 6. Only the latest temporary password works -------------------------------------------

#[rocket::async_test]
async fn second_console_reset_voids_the_first_temporary_password() {
    let s = server().await;
    let user = responsible_with_password(&s).await;

    let (_, first) = s
        .app()
        .console_reset(&user.login_id, "職員証で確認")
        .await
        .unwrap();
    let (after, second) = s
        .app()
        .console_reset(&user.login_id, "職員証で確認")
        .await
        .unwrap();
    assert_ne!(first.password, second.password);
    assert_eq!(after.password_hash, None, "the chosen password is voided");

    assert!(refused(s.post_login(&user.login_id, &first.password).await)
        .await
        .starts_with(FAILED));
    assert!(refused(s.post_login(&user.login_id, CHOSEN).await)
        .await
        .starts_with(FAILED));
    let res = s.post_login(&user.login_id, &second.password).await;
    assert!(redirects_to(&res, "/password"));
}

// ---- 7. Cookie attributes -------------------------------------------------------------------

fn attributes(cookie: &str) -> Vec<String> {
    cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_string())
        .collect()
}

#[rocket::async_test]
async fn session_cookie_is_httponly_samesite_strict_path_root_and_not_secure_without_tls() {
    let s = server().await;
    let user = responsible_with_password(&s).await;
    let res = s.post_login(&user.login_id, CHOSEN).await;
    assert!(redirects_to(&res, "/"));
    let cookies = set_cookies(&res);
    let session = cookies
        .iter()
        .find(|c| c.starts_with("nanbyo_session="))
        .unwrap_or_else(|| panic!("no session cookie in {cookies:?}"));
    let attrs = attributes(session);
    assert!(attrs.contains(&"HttpOnly".to_string()), "{session}");
    assert!(attrs.contains(&"SameSite=Strict".to_string()), "{session}");
    assert!(attrs.contains(&"Path=/".to_string()), "{session}");
    assert!(
        !attrs.iter().any(|a| a.eq_ignore_ascii_case("Secure")),
        "{session}"
    );
    assert!(!attrs.iter().any(|a| a.starts_with("Domain")), "{session}");
    assert!(res.headers().get_one("Strict-Transport-Security").is_none());
}

#[rocket::async_test]
async fn under_tls_the_session_cookie_is_secure_and_host_prefixed() {
    let s = secure_server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;

    let res = s.get("/login").await;
    let pre = set_cookies(&res);
    assert!(
        pre.iter().any(|c| c.starts_with("__Host-nanbyo_pre=")
            && attributes(c).contains(&"Secure".to_string())),
        "{pre:?}"
    );

    let res = s.post_login(&user.login_id, &temp).await;
    assert!(redirects_to(&res, "/password"));
    let cookies = set_cookies(&res);
    assert!(
        !cookies.iter().any(|c| c.starts_with("nanbyo_session=")),
        "{cookies:?}"
    );
    let session = cookies
        .iter()
        .find(|c| c.starts_with("__Host-nanbyo_session="))
        .unwrap_or_else(|| panic!("no __Host- session cookie in {cookies:?}"));
    let attrs = attributes(session);
    for a in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attrs.contains(&a.to_string()), "{a} missing: {session}");
    }
    assert!(
        !attrs.iter().any(|a| a.starts_with("Domain")),
        "__Host- forbids Domain"
    );
    assert!(res.headers().get_one("Strict-Transport-Security").is_some());
    // The pre-session cookie is dropped at login, with the attributes a browser needs to drop it.
    let pre = cookies
        .iter()
        .find(|c| c.starts_with("__Host-nanbyo_pre="))
        .unwrap_or_else(|| panic!("pre-session cookie not removed: {cookies:?}"));
    assert!(attributes(pre).contains(&"Secure".to_string()), "{pre}");

    // The prefixed cookie is the one the server reads.
    let csrf = s.page_csrf("/password").await;
    // Logout removes it with Secure and Path=/ (a browser ignores a __Host- removal without them).
    let res = s.post_form("/logout", &[("csrf", &csrf)]).await;
    assert!(redirects_to(&res, "/login"));
    let cookies = set_cookies(&res);
    let removal = cookies
        .iter()
        .find(|c| c.starts_with("__Host-nanbyo_session="))
        .unwrap_or_else(|| panic!("session cookie not removed: {cookies:?}"));
    let attrs = attributes(removal);
    assert!(attrs.contains(&"Secure".to_string()), "{removal}");
    assert!(attrs.contains(&"Path=/".to_string()), "{removal}");
    assert_eq!(s.sessions_of(user.id).await, 0);
}

// ---- 8. A new session id at login -----------------------------------------------------------

#[rocket::async_test]
async fn logging_in_again_replaces_the_browsers_session() {
    let s = server().await;
    let user = responsible_with_password(&s).await;
    let first = log_in(&s, &user).await;
    assert_eq!(s.sessions_of(user.id).await, 1);

    // The same browser logs in again (the login form carries the session's CSRF token).
    let csrf = s.page_csrf("/").await;
    let res = s
        .post_form(
            "/login",
            &[
                ("csrf", &csrf),
                ("login_id", &user.login_id),
                ("password", CHOSEN),
            ],
        )
        .await;
    assert!(redirects_to(&res, "/"));
    let second = s.session_token().unwrap();
    assert_ne!(first, second, "a new session id at login");

    let res = s.get_with_session("/", &first).await;
    assert!(redirects_to(&res, "/login"), "the old token is dead");
    assert_eq!(s.get_with_session("/", &second).await.status(), Status::Ok);
    assert_eq!(
        s.sessions_of(user.id).await,
        1,
        "the previous session ended"
    );
}

// ---- 9. Logout and timeouts -----------------------------------------------------------------

#[rocket::async_test]
async fn logout_ends_the_session_on_the_server() {
    let s = server().await;
    let user = responsible_with_password(&s).await;
    let token = log_in(&s, &user).await;

    let csrf = s.page_csrf("/").await;
    let res = s.post_form("/logout", &[("csrf", &csrf)]).await;
    assert!(redirects_to(&res, "/login"));
    assert_eq!(s.session_token(), None, "the browser dropped the cookie");

    let res = s.get_with_session("/", &token).await;
    assert!(
        redirects_to(&res, "/login"),
        "a replayed cookie opens nothing"
    );
    assert_eq!(s.sessions_of(user.id).await, 0);
    let last = s.audit().await.pop().unwrap().content;
    assert_eq!(
        (last.action.as_str(), last.actor_user_id),
        ("logout", Some(user.id))
    );
}

#[rocket::async_test]
async fn session_ends_after_thirty_idle_minutes() {
    let s = server().await;
    let user = responsible_with_password(&s).await;
    let token = log_in(&s, &user).await;

    s.clock.advance(29 * 60);
    assert_eq!(
        s.get("/").await.status(),
        Status::Ok,
        "activity keeps it alive"
    );
    s.clock.advance(31 * 60);
    let res = s.get_with_session("/", &token).await;
    assert!(redirects_to(&res, "/login"));
    assert_eq!(s.sessions_of(user.id).await, 0, "the row is gone");
}

#[rocket::async_test]
async fn session_ends_eight_hours_after_login_even_when_busy() {
    let s = server().await;
    let user = responsible_with_password(&s).await;
    let token = log_in(&s, &user).await;

    for i in 1..=23 {
        s.clock.advance(20 * 60);
        let res = s.get_with_session("/", &token).await;
        assert_eq!(res.status(), Status::Ok, "{} minutes after login", i * 20);
    }
    s.clock.advance(20 * 60);
    let res = s.get_with_session("/", &token).await;
    assert!(redirects_to(&res, "/login"), "8 hours after login");
    assert_eq!(s.sessions_of(user.id).await, 0, "the row is gone");
}

// ---- 10. CSRF -------------------------------------------------------------------------------

async fn password_changes(s: &TestServer) -> usize {
    s.audit()
        .await
        .iter()
        .filter(|e| e.content.action == "password_change")
        .count()
}

#[rocket::async_test]
async fn password_change_and_logout_without_a_valid_csrf_token_are_refused() {
    let s = server().await;
    let user = responsible_with_password(&s).await;
    let token = log_in(&s, &user).await;
    let hash_before = s.user(user.id).await.password_hash;
    let changes_before = password_changes(&s).await;
    let good = s.page_csrf("/password").await;
    let wrong = format!("{}A", &good[..good.len() - 1]);
    let wrong = if wrong == good {
        format!("{}B", &good[..good.len() - 1])
    } else {
        wrong
    };

    let change = [
        ("current", CHOSEN),
        ("new", CHOSEN_2),
        ("confirm", CHOSEN_2),
    ];
    let res = s.post_form("/password", &change).await;
    assert_eq!(res.status(), Status::Forbidden, "no csrf field");
    let with_wrong: Vec<(&str, &str)> = [("csrf", wrong.as_str())]
        .into_iter()
        .chain(change)
        .collect();
    let res = s.post_form("/password", &with_wrong).await;
    assert_eq!(res.status(), Status::Forbidden, "wrong csrf");
    assert_eq!(
        s.user(user.id).await.password_hash,
        hash_before,
        "password unchanged"
    );

    let res = s.post_form("/logout", &[]).await;
    assert_eq!(res.status(), Status::Forbidden, "logout without csrf");
    let res = s.post_form("/logout", &[("csrf", &wrong)]).await;
    assert_eq!(res.status(), Status::Forbidden, "logout with a wrong csrf");

    assert_eq!(s.session_token().as_deref(), Some(token.as_str()));
    assert_eq!(s.get("/").await.status(), Status::Ok, "still logged in");
    assert_eq!(s.sessions_of(user.id).await, 1);
    assert_eq!(
        password_changes(&s).await,
        changes_before,
        "no password_change entry"
    );

    // With the right token the same change goes through.
    let with_good: Vec<(&str, &str)> = [("csrf", good.as_str())]
        .into_iter()
        .chain(change)
        .collect();
    let res = s.post_form("/password", &with_good).await;
    assert!(redirects_to(&res, "/"));
    assert_ne!(s.user(user.id).await.password_hash, hash_before);
}

#[rocket::async_test]
async fn login_without_the_pre_session_token_is_refused() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    let creds = [
        ("login_id", user.login_id.as_str()),
        ("password", temp.as_str()),
    ];

    // A browser that never opened /login.
    let res = s.post_form("/login", &creds).await;
    assert_eq!(res.status(), Status::Forbidden);
    assert!(!set_cookies(&res)
        .iter()
        .any(|c| c.starts_with("nanbyo_session=")));

    // The token of the form, but another pre-session cookie (a forged cross-site post).
    let csrf = s.login_csrf().await;
    let res = s
        .client
        .post("/login")
        .remote(peer())
        .header(ContentType::Form)
        .cookie(Cookie::new("nanbyo_pre", "A".repeat(43)))
        .body(form(&[
            ("csrf", &csrf),
            ("login_id", &user.login_id),
            ("password", &temp),
        ]))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);

    assert_eq!(s.sessions_of(user.id).await, 0);
    assert!(!s
        .audit()
        .await
        .iter()
        .any(|e| e.content.action.starts_with("login")));
    assert_eq!(s.user(user.id).await.failed_logins, 0);
    // The genuine form still works.
    assert!(redirects_to(
        &s.post_login(&user.login_id, &temp).await,
        "/password"
    ));
}

// ---- 11. Client address ---------------------------------------------------------------------

async fn login_with_real_ip_header(s: &TestServer, login_id: &str, password: &str) {
    let csrf = s.login_csrf().await;
    let res = s
        .client
        .post("/login")
        .remote(peer())
        .header(ContentType::Form)
        .header(Header::new("X-Real-IP", "203.0.113.5"))
        .body(form(&[
            ("csrf", &csrf),
            ("login_id", login_id),
            ("password", password),
        ]))
        .dispatch()
        .await;
    assert!(redirects_to(&res, "/password"));
}

async fn login_success_addr(s: &TestServer) -> Option<String> {
    s.audit()
        .await
        .into_iter()
        .rev()
        .find(|e| e.content.action == "login_success")
        .expect("a login_success entry")
        .content
        .client_addr
}

#[rocket::async_test]
async fn x_real_ip_is_ignored_by_default() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    login_with_real_ip_header(&s, &user.login_id, &temp).await;
    assert_eq!(login_success_addr(&s).await.as_deref(), Some("192.0.2.10"));
}

#[rocket::async_test]
async fn configured_ip_header_is_trusted_for_the_audit_address_from_a_trusted_proxy() {
    // The local client's peer (192.0.2.10) plays the proxy.
    let s = server_with_figment(
        |st| st.trusted_proxies = vec![peer().ip()],
        |f| f.merge(("ip_header", "X-Real-IP")),
    )
    .await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    login_with_real_ip_header(&s, &user.login_id, &temp).await;
    assert_eq!(login_success_addr(&s).await.as_deref(), Some("203.0.113.5"));
}

#[rocket::async_test]
async fn a_client_that_is_not_a_trusted_proxy_cannot_forge_its_address() {
    // ip_header is configured, but 192.0.2.10 is not among the trusted proxies (default: loopback):
    // its X-Real-IP is ignored, in the audit log and for the throttle.
    let s = server_with_figment(|_| {}, |f| f.merge(("ip_header", "X-Real-IP"))).await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    login_with_real_ip_header(&s, &user.login_id, &temp).await;
    assert_eq!(login_success_addr(&s).await.as_deref(), Some("192.0.2.10"));
}

// ---- 12. Stored credentials -----------------------------------------------------------------

/// Everything the database holds. SQLite: every byte of its files (main database, WAL, shared memory)
/// in the test's data folder. PostgreSQL (whose files are the server's): every value of every column
/// of every table, as text (BYTEA with its printable bytes as they are).
async fn database_bytes(s: &TestServer) -> Vec<u8> {
    if database::on_postgres() {
        return postgres_values(s).await;
    }
    let mut all = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(s.dir.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().starts_with("nanbyo.db") {
            all.extend(std::fs::read(entry.path()).unwrap());
            files += 1;
        }
    }
    assert!(files >= 1 && !all.is_empty(), "database files found");
    all
}

async fn postgres_values(s: &TestServer) -> Vec<u8> {
    use sqlx::Row;
    let pool = s.app().store.pool();
    let columns = sqlx::query(
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT), CAST(data_type AS TEXT) \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(columns.len() > 10, "the tables' columns found");
    let mut all = Vec::new();
    for c in &columns {
        let (table, column, kind): (String, String, String) = (c.get(0), c.get(1), c.get(2));
        let value = if kind == "bytea" {
            format!("encode(\"{column}\", 'escape')")
        } else {
            format!("CAST(\"{column}\" AS TEXT)")
        };
        let sql = format!("SELECT {value} FROM \"{table}\"");
        for row in sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(pool)
            .await
            .unwrap()
        {
            if let Some(v) = row.get::<Option<String>, _>(0) {
                all.extend(v.into_bytes());
                all.push(b'\n');
            }
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[rocket::async_test]
async fn chosen_password_is_stored_as_argon2id_with_the_designed_parameters() {
    let s = server().await;
    let user = responsible_with_password(&s).await;
    let hash = s.user(user.id).await.password_hash.unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert_eq!(s.user(user.id).await.temp_password_mac, None);
}

#[rocket::async_test]
async fn no_password_or_session_token_is_stored_in_plain_text() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    let mac = s.user(user.id).await.temp_password_mac.unwrap();
    assert_eq!(mac.len(), 64, "{mac}");
    assert!(mac.bytes().all(|b| b.is_ascii_hexdigit()), "{mac}");

    let bytes = database_bytes(&s).await;
    assert!(
        contains(&bytes, &user.login_id),
        "the scan sees what is stored"
    );
    assert!(contains(&bytes, &mac), "the scan sees the MAC");
    assert!(
        !contains(&bytes, &temp),
        "temporary password stored in plain text"
    );

    // Use it, change it, and look again.
    let res = s.post_login(&user.login_id, &temp).await;
    assert!(redirects_to(&res, "/password"));
    let temp_session = s.session_token().unwrap();
    let csrf = s.page_csrf("/password").await;
    let res = s
        .post_form(
            "/password",
            &[
                ("csrf", &csrf),
                ("current", &temp),
                ("new", CHOSEN),
                ("confirm", CHOSEN),
            ],
        )
        .await;
    assert!(redirects_to(&res, "/"));
    let session = s.session_token().unwrap();

    let bytes = database_bytes(&s).await;
    assert!(
        !contains(&bytes, &temp),
        "temporary password in the database files"
    );
    assert!(
        !contains(&bytes, CHOSEN),
        "chosen password in the database files"
    );
    assert!(
        !contains(&bytes, &temp_session),
        "session token in the database files"
    );
    assert!(
        !contains(&bytes, &session),
        "session token in the database files"
    );
    for e in s.audit().await {
        assert!(!e.content.details.contains(&temp) && !e.content.details.contains(CHOSEN));
    }
}

// ---- Lockout under concurrent guessing ------------------------------------------------------

#[rocket::async_test]
async fn concurrent_wrong_passwords_all_count_toward_the_lock() {
    let s = server().await;
    let user = responsible_with_password(&s).await;
    let app = s.app();

    // Eight guesses at once (each waits for argon2 while the others run).
    let guesses = (0..8).map(|i| {
        let addr = Some(format!("192.0.2.{}", 100 + i));
        let login_id = user.login_id.clone();
        async move { app.login(&login_id, "Wrong-password9", addr).await.unwrap() }
    });
    futures_util::future::join_all(guesses).await;

    let u = s.user(user.id).await;
    assert!(
        u.locked_at.is_some(),
        "8 concurrent failures must lock the account (failed_logins = {})",
        u.failed_logins
    );
    let locks = s
        .audit()
        .await
        .iter()
        .filter(|e| e.content.action == "account_locked")
        .count();
    assert_eq!(locks, 1, "locked exactly once");
    assert!(refused(s.post_login(&user.login_id, CHOSEN).await)
        .await
        .starts_with(FAILED));
}
