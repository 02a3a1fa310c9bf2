//! The menu of each actor (DESIGN §3, §7): only what the role rules allow, the 新規登録 card naming
//! what this actor may register; a 医療クラーク等 gets a menu of what it may do (its own password, its
//! own history), every link it is shown opens, and an address it may not open explains why in a
//! page with the header and a way back.

mod common;
#[path = "common/people.rs"]
mod people;

use common::*;
use nanbyo_accounts::store::users::UserRecord;
use people::*;
use rocket::http::Status;

/// The `href`s of the page's links (the header's, the menu's and the content's).
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        // Tera escapes the slashes of a value it writes.
        .map(|h| h.replace("&#x2F;", "/").replace("&amp;", "&"))
        .filter(|h| h.starts_with('/') && !h.starts_with("/static/"))
        .collect()
}

/// The menu cards' labels, in order.
fn cards(html: &str) -> Vec<String> {
    html.split("<span class=\"label\">")
        .skip(1)
        .filter_map(|rest| rest.split("</span>").next())
        .map(str::to_string)
        .collect()
}

async fn menu_of(s: &TestServer, u: &UserRecord) -> String {
    s.act_as(u).await;
    let res = s.get("/").await;
    assert_eq!(res.status(), Status::Ok);
    res.into_string().await.unwrap()
}

#[rocket::async_test]
async fn each_menu_lists_only_what_the_role_rules_allow() {
    let s = server().await;
    let c = cast(&s).await;
    let all = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let page = menu_of(&s, &c.responsible).await;
    assert_eq!(
        cards(&page),
        all(&[
            "医療機関ユーザ新規登録",
            "CSV一括登録",
            "医療機関ユーザ検索",
            "アカウント棚卸し",
            "パスワード変更",
            "操作履歴"
        ])
    );
    assert!(
        page.contains("責任者・医療クラーク等のユーザを新規登録します。"),
        "{page}"
    );
    let page = menu_of(&s, &c.nanbyo_doctor).await;
    assert_eq!(
        cards(&page),
        all(&[
            "医療機関ユーザ新規登録",
            "CSV一括登録",
            "医療機関ユーザ検索",
            "パスワード変更",
            "操作履歴"
        ])
    );
    assert!(
        page.contains(">医療クラーク等のユーザを新規登録します。"),
        "{page}"
    );
    assert!(page.contains("医療機関を管轄する自治体の担当者に依頼してください"));
    let page = menu_of(&s, &c.officer).await;
    assert!(
        page.contains("管轄の医療機関の難病指定医・協力難病指定医・小児慢性特定疾病指定医のユーザを登録します。"),
        "{page}"
    );
    assert!(page.contains("システム管理者に依頼してください"));
    let page = menu_of(&s, &c.clerk).await;
    assert_eq!(cards(&page), all(&["パスワード変更", "操作履歴"]));
    assert!(page.contains("ご自身のアカウントのログインや操作の記録を確認します。"));
    assert!(page.contains("所属医療機関の責任者または指定医に依頼してください"));
}

#[rocket::async_test]
async fn a_clerk_never_meets_a_raw_403_from_a_link_it_is_shown() {
    let s = server().await;
    let c = cast(&s).await;
    let menu = menu_of(&s, &c.clerk).await;
    let shown = links(&menu);
    assert!(shown.contains(&"/password".to_string()), "{shown:?}");
    assert!(shown.contains(&"/audit".to_string()), "{shown:?}");
    assert!(!shown
        .iter()
        .any(|h| h.starts_with("/users") || h.starts_with("/imports") || h.starts_with("/review")));
    // Every link of the menu, and every link of the pages those lead to, opens.
    let mut seen = std::collections::BTreeSet::new();
    let mut queue = shown;
    while let Some(href) = queue.pop() {
        if !seen.insert(href.clone()) || seen.len() > 40 {
            continue;
        }
        let res = s.get(&href).await;
        assert_eq!(res.status(), Status::Ok, "{href} from a clerk's screens");
        let ct = res
            .content_type()
            .map(|c| c.to_string())
            .unwrap_or_default();
        if ct.starts_with("text/html") {
            queue.extend(links(&res.into_string().await.unwrap()));
        }
    }
    assert!(seen.len() >= 3, "{seen:?}");
    // Its own password, changed from the menu's link.
    let csrf = s.page_csrf("/password").await;
    let res = s
        .post_form(
            "/password",
            &[
                ("csrf", &csrf),
                ("current", "Kumo-no-ue7Sora"),
                ("new", "Umi-no-soko8Kai"),
                ("confirm", "Umi-no-soko8Kai"),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/"));
}

#[rocket::async_test]
async fn an_address_a_clerk_may_not_open_explains_itself_with_a_way_back() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.clerk).await;
    for (path, screen) in [
        ("/users", "医療機関ユーザ検索"),
        ("/users/new", "医療機関ユーザ新規登録"),
    ] {
        let res = s.get(path).await;
        assert_eq!(res.status(), Status::Forbidden, "{path}");
        let page = res.into_string().await.unwrap();
        assert!(
            page.contains(&format!(
                "{screen}は、医療クラーク等のアカウントでは利用できません。"
            )),
            "{page}"
        );
        assert!(page.contains("所属医療機関の責任者または指定医に依頼してください"));
        assert!(page.contains("href=\"/\""), "a way back: {page}");
        assert!(page.contains("山﨑"), "the header names who is logged in");
    }
}
