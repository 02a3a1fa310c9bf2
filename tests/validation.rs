//! Validation in one round (the screens issue): an empty or partly filled form shows every error at
//! once — type, DB, 医療機関 and the §5 fields together — and nothing is registered.

mod common;
#[path = "common/people.rs"]
mod people;

use common::*;
use people::*;
use rocket::http::Status;

fn empty_registration<'a>(csrf: &'a str, user_type: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("user_type", user_type),
        ("db", ""),
        ("institution", ""),
        ("profile.department", ""),
        ("profile.family_name", ""),
        ("profile.given_name", ""),
        ("profile.family_kana", ""),
        ("profile.given_kana", ""),
        ("profile.medical_reg_no", ""),
        ("profile.email", "not-an-address"),
        ("profile.phone", ""),
        ("profile.expires_on", ""),
        ("profile.remarks", ""),
    ]
}

/// The messages of the error summary at the top of the form.
fn summary(page: &str) -> Vec<String> {
    let Some(start) = page.find("id=\"error-summary\"") else {
        return Vec::new();
    };
    let end = page[start..].find("</ul>").unwrap() + start;
    page[start..end]
        .split("<li>")
        .skip(1)
        .map(|li| {
            let text = li.split('>').nth(1).unwrap_or_default();
            text.split('<').next().unwrap_or_default().to_string()
        })
        .collect()
}

#[rocket::async_test]
async fn an_officers_empty_form_shows_every_error_at_once() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.officer).await;
    let before = s.count("SELECT COUNT(*) FROM users").await;
    let csrf = s.page_csrf("/users/new").await;
    let res = s
        .post_form("/users/new", &empty_registration(&csrf, ""))
        .await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    let errors = summary(&page);
    for field in [
        "ユーザ種別",
        "医療機関",
        "部署",
        "氏名（姓）",
        "氏名（名）",
        "フリガナ（セイ）",
        "フリガナ（メイ）",
        "医籍登録番号",
        "メールアドレス",
    ] {
        assert!(
            errors.iter().any(|e| e.contains(field)),
            "{field} missing from {errors:?}"
        );
    }
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, before);
}

#[rocket::async_test]
async fn a_responsibles_form_with_a_type_shows_the_rest_at_once() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users/new").await;
    let res = s
        .post_form("/users/new", &empty_registration(&csrf, "clerk"))
        .await;
    assert_eq!(res.status(), Status::Ok);
    let errors = summary(&res.into_string().await.unwrap());
    assert_eq!(errors.len(), 6, "{errors:?}");
    assert!(
        !errors.iter().any(|e| e.contains("医籍登録番号")),
        "{errors:?}"
    );
    // An unknown type and the fields together.
    let res = s
        .post_form("/users/new", &empty_registration(&csrf, "no-such-type"))
        .await;
    let errors = summary(&res.into_string().await.unwrap());
    assert!(
        errors.iter().any(|e| e.contains("ユーザ種別")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|e| e.contains("部署")), "{errors:?}");
}
