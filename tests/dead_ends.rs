//! No dead ends (the screens issue): a refusal from a search row returns to that search with its
//! conditions and a message; the return address is only ever a relative `/users` one; error pages
//! are Japanese with a way back, whatever the body was; a notice fetched by the page's script leaves
//! 「通知書を発行しました」 for the page shown next.

mod common;
#[path = "common/people.rs"]
mod people;

use common::*;
use people::*;
use rocket::http::{ContentType, Header, Status};

const BACK: &str = "/users?name=%E5%B1%B1%E5%B4%8E&page=1";

#[rocket::async_test]
async fn a_batch_with_nothing_ticked_returns_to_the_search_with_a_message() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf(BACK).await;
    let res = s
        .post_form("/users/notices", &[("csrf", &csrf), ("back", BACK)])
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some(BACK));
    let page = s.get(BACK).await.into_string().await.unwrap();
    assert!(
        page.contains("通知書を発行するユーザを、検索結果のチェックボックスで選択してください。"),
        "{page}"
    );
    // The conditions are still in the form.
    assert!(
        page.contains("value=\"山崎\"") || page.contains("value=\"山﨑\""),
        "{page}"
    );
}

#[rocket::async_test]
async fn the_return_address_is_never_another_site() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users").await;
    for evil in [
        "//evil.example/users",
        "https://evil.example/users",
        "/login",
    ] {
        let res = s
            .post_form("/users/notices", &[("csrf", &csrf), ("back", evil)])
            .await;
        assert_ne!(res.status(), Status::SeeOther, "{evil}");
        assert!(res.headers().get_one("Location").is_none(), "{evil}");
        let page = res.into_string().await.unwrap();
        assert!(page.contains("メニューへ戻る"), "{page}");
    }
}

#[rocket::async_test]
async fn a_refused_unlock_returns_to_the_search() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf(BACK).await;
    // The clerk is not locked: the unlock is refused, back on the search with the reason.
    let res = s
        .post_form(
            &format!("/users/{}/unlock", c.clerk.id),
            &[("csrf", &csrf), ("back", BACK)],
        )
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some(BACK));
    let page = s.get(BACK).await.into_string().await.unwrap();
    assert!(page.contains("class=\"message error\""), "{page}");
    // A locked one is unlocked, and the same search is shown with the result.
    s.lock(&c.clerk).await;
    let res = s
        .post_form(
            &format!("/users/{}/unlock", c.clerk.id),
            &[("csrf", &csrf), ("back", BACK)],
        )
        .await;
    assert_eq!(res.headers().get_one("Location"), Some(BACK));
    let page = s.get(BACK).await.into_string().await.unwrap();
    assert!(
        page.contains("様のアカウントロックを解除しました。"),
        "{page}"
    );
}

#[rocket::async_test]
async fn a_refused_row_notice_returns_to_the_search() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf(BACK).await;
    let path = format!("/users/{}/notice", c.clerk.id);
    let res = s
        .post_form(&path, &[("csrf", &csrf), ("seen", "none"), ("back", BACK)])
        .await;
    assert_eq!(res.status(), Status::Ok, "the first one is issued");
    // The same button again: refused, back to the search with the reason.
    let res = s
        .post_form(&path, &[("csrf", &csrf), ("seen", "none"), ("back", BACK)])
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some(BACK));
    let page = s.get(BACK).await.into_string().await.unwrap();
    assert!(page.contains("この画面を表示した後に"), "{page}");
}

#[rocket::async_test]
async fn a_notice_fetched_by_the_script_leaves_its_message_for_the_next_page() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users").await;
    let form_body = form(&[("csrf", &csrf), ("seen", "none")]);
    // A plain form post: the PDF, and no message left for some later page.
    let other = register(
        &s,
        &c.responsible,
        "clerk",
        "",
        "髙田",
        "タカダ",
        "外来",
        "",
    )
    .await;
    let res = s
        .client
        .post(format!("/users/{}/notice", other.id))
        .remote(peer())
        .header(ContentType::Form)
        .body(&form_body)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(ContentType::PDF));
    let page = s.get("/users").await.into_string().await.unwrap();
    assert!(!page.contains("通知書を発行しました"), "{page}");
    // Fetched by the script: the PDF, and the message on the page it shows next.
    let res = s
        .client
        .post(format!("/users/{}/notice", c.clerk.id))
        .remote(peer())
        .header(ContentType::Form)
        .header(Header::new("X-Requested-With", "fetch"))
        .body(&form_body)
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(ContentType::PDF));
    let page = s.get("/users").await.into_string().await.unwrap();
    assert!(
        page.contains("山﨑") && page.contains("様のIDパスワード通知書を発行しました。"),
        "{page}"
    );
}

#[rocket::async_test]
async fn error_pages_are_japanese_with_a_way_back_whatever_the_body() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users").await;
    let cases: Vec<(&str, ContentType, String)> = vec![
        (
            "JSON",
            ContentType::JSON,
            format!("{{\"csrf\":\"{csrf}\"}}"),
        ),
        ("text", ContentType::Plain, format!("csrf={csrf}")),
        (
            "multipart without a boundary",
            ContentType::new("multipart", "form-data"),
            format!("csrf={csrf}"),
        ),
    ];
    for (what, ct, body) in cases {
        let res = s
            .client
            .post("/users/notices")
            .remote(peer())
            .header(ct)
            .body(body)
            .dispatch()
            .await;
        let status = res.status();
        assert!(status.code >= 400 && status.code < 500, "{what}: {status}");
        assert_eq!(res.content_type(), Some(ContentType::HTML), "{what}");
        let page = res.into_string().await.unwrap();
        assert!(page.contains("メニューへ戻る"), "{what}: {page}");
        assert!(
            page.contains(&format!("エラー（{}）", status.code)),
            "{what}: {page}"
        );
        for english in ["Rocket", "Unsupported", "Bad Request", "could not"] {
            assert!(!page.contains(english), "{what}: {english} in {page}");
        }
    }
    // A method no route answers, and a page that does not exist.
    for (path, expect) in [("/users/notices", 404), ("/no-such-page", 404)] {
        let res = s.get(path).await;
        assert_eq!(res.status().code, expect, "{path}");
        let page = res.into_string().await.unwrap();
        assert!(
            page.contains("メニューへ戻る") && page.contains("ログアウト"),
            "{path}: {page}"
        );
    }
}
