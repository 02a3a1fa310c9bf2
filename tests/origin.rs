//! Login CSRF and cross-site requests (DESIGN §6, the appliance issue): a pre-session cookie planted
//! in the browser never gets a working token, and a browser that says a form comes from another site
//! is refused before anything is read or changed.

mod common;
#[path = "common/people.rs"]
mod people;

use common::*;
use nanbyo_accounts::domain::credentials;
use people::cast;
use rocket::http::{ContentType, Cookie, Header, Status};

const PLANTED: &str = "planted-by-another-host-of-the-domain-0123456789";

#[rocket::async_test]
async fn every_get_of_the_login_page_draws_a_new_pre_session() {
    let s = server().await;
    let planted_token = credentials::csrf_token(&s.app().keys.csrf, &format!("pre:{PLANTED}"));
    let res = s
        .client
        .get("/login")
        .remote(peer())
        .cookie(Cookie::new("nanbyo_pre", PLANTED))
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    let cookies = set_cookies(&res);
    let renewed = cookies
        .iter()
        .find(|c| c.starts_with("nanbyo_pre="))
        .expect("a new pre-session cookie");
    assert!(!renewed.contains(PLANTED), "{renewed}");
    let html = res.into_string().await.unwrap();
    assert_ne!(
        csrf_of(&html),
        planted_token,
        "no token for the planted value"
    );
    // Two visits, two different pre-sessions.
    let a = s.login_csrf().await;
    let b = s.login_csrf().await;
    assert_ne!(a, b);
}

#[rocket::async_test]
async fn a_form_from_another_site_is_refused_and_changes_nothing() {
    let s = server().await;
    let (user, password) = s
        .bootstrap(nanbyo_accounts::domain::Db::Nanbyo, "髙橋")
        .await;
    let cases: [(&str, &str); 4] = [
        ("Sec-Fetch-Site", "cross-site"),
        ("Sec-Fetch-Site", "same-site"),
        ("Origin", "http://evil.example"),
        ("Origin", "http://127.0.0.1.evil.example"),
    ];
    for (name, value) in cases {
        let csrf = s.login_csrf().await;
        let res = s
            .client
            .post("/login")
            .remote(peer())
            .header(ContentType::Form)
            .header(Header::new("Host", "127.0.0.1:8000"))
            .header(Header::new(name, value))
            .body(form(&[
                ("csrf", &csrf),
                ("login_id", &user.login_id),
                ("password", &password),
            ]))
            .dispatch()
            .await;
        assert_eq!(res.status(), Status::Forbidden, "{name}: {value}");
        let html = res.into_string().await.unwrap();
        assert!(html.contains("lang=\"ja\""), "a Japanese error page");
        assert_eq!(s.session_token(), None, "{name}: {value} logged in");
    }
    assert_eq!(
        s.count("SELECT COUNT(*) FROM sessions").await,
        0,
        "no session was opened"
    );
    // The server's own origin, a `null` origin (Chromium under no-referrer) and no header at all
    // are decided by the token.
    for origin in [Some("http://127.0.0.1:8000"), Some("null"), None] {
        let csrf = s.login_csrf().await;
        let mut req = s
            .client
            .post("/login")
            .remote(peer())
            .header(ContentType::Form)
            .header(Header::new("Host", "127.0.0.1:8000"))
            .header(Header::new("Sec-Fetch-Site", "same-origin"))
            .body(form(&[
                ("csrf", &csrf),
                ("login_id", &user.login_id),
                ("password", &password),
            ]));
        if let Some(o) = origin {
            req = req.header(Header::new("Origin", o));
        }
        let res = req.dispatch().await;
        assert_eq!(res.status(), Status::SeeOther, "{origin:?}");
        s.logout().await;
    }
}

#[rocket::async_test]
async fn a_lan_server_without_login_url_issues_no_notice() {
    let s = server_with(|st| {
        st.login_url = None;
        st.address = "192.168.10.5".parse().unwrap();
    })
    .await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users").await;
    let before = s.reload(&c.clerk).await;
    let res = s
        .post_form(&format!("/users/{}/notice", c.clerk.id), &[("csrf", &csrf)])
        .await;
    assert_ne!(res.status(), Status::Ok);
    let html = res.into_string().await.unwrap();
    assert!(html.contains("login_url"), "names the key: {html}");
    let after = s.reload(&c.clerk).await;
    assert_eq!(
        before.temp_password_mac, after.temp_password_mac,
        "nothing issued"
    );
    // On this machine only, the server's own address is printed; configured, the configured one.
    let local = nanbyo_accounts::config::Settings::default();
    assert_eq!(
        local.notice_login_url().unwrap(),
        "http://127.0.0.1:8000/login"
    );
    let configured = nanbyo_accounts::config::Settings {
        login_url: Some("https://nanbyo.hospital.local/login".into()),
        address: "0.0.0.0".parse().unwrap(),
        ..Default::default()
    };
    assert_eq!(
        configured.notice_login_url().unwrap(),
        "https://nanbyo.hospital.local/login"
    );
}
