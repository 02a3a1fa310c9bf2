//! 医療機関ユーザ検索 for a 自治体担当者, whose view spans institutions: the 医療機関 column (name and
//! code) tells two 髙田 誠 apart, and the 医療機関 condition (code or partial name) finds each, on the
//! screen and in the CSV, along every plan of the search (the n-gram one too).

mod common;
#[path = "common/people.rs"]
mod people;

use common::*;
use nanbyo_accounts::domain::search::{Filter, UserQuery};
use nanbyo_accounts::domain::visibility::View;
use nanbyo_accounts::store::search::{self, Plan};
use nanbyo_accounts::store::users::UserRecord;
use people::*;
use rocket::http::Status;

/// Two 髙田 誠, 難病指定医 of 東京中央病院 and of 新宿西クリニック.
async fn two_takadas(s: &TestServer, officer: &UserRecord) -> (UserRecord, UserRecord) {
    let a = register(
        s,
        officer,
        "nanbyo_doctor",
        HOSPITAL,
        "髙田",
        "タカダ",
        "内科",
        "200001",
    )
    .await;
    let b = register(
        s,
        officer,
        "nanbyo_doctor",
        OTHER_HOSPITAL,
        "髙田",
        "タカダ",
        "内科",
        "200002",
    )
    .await;
    (a, b)
}

async fn ids(s: &TestServer, actor: &UserRecord, filters: Vec<Filter>) -> Vec<i64> {
    let q = UserQuery {
        filters,
        per_page: 1000,
        ..UserQuery::default()
    };
    let mut v: Vec<i64> = s
        .app()
        .search(actor, &q)
        .await
        .unwrap()
        .rows
        .iter()
        .map(|u| u.id)
        .collect();
    v.sort();
    v
}

#[rocket::async_test]
async fn the_institution_condition_matches_a_code_or_part_of_a_name() {
    let s = server().await;
    let c = cast(&s).await;
    let (a, b) = two_takadas(&s, &c.officer).await;
    let o = &c.officer;
    let name = Filter::name("高田").unwrap();
    let mut both = vec![a.id, b.id];
    both.sort();
    assert_eq!(ids(&s, o, vec![name.clone()]).await, both);
    for (condition, want) in [
        ("中央", vec![a.id]),
        ("新宿西", vec![b.id]),
        ("1311234567", vec![a.id]),
        ("１３１１２３４５６８", vec![b.id]),
        ("131123456", both.clone()),
        ("クリニック", vec![b.id]),
        ("大阪", vec![]),
        ("%", vec![]),
    ] {
        let f = Filter::institution(condition).unwrap();
        assert_eq!(
            ids(&s, o, vec![name.clone(), f]).await,
            want,
            "医療機関={condition}"
        );
    }
    // Alone, the condition lists every account the officer sees at that institution (the 責任者
    // and the doctors), and never one of another municipality's or a clerk.
    let central = ids(&s, o, vec![Filter::institution("東京中央病院").unwrap()]).await;
    assert!(central.contains(&c.responsible.id) && central.contains(&c.nanbyo_doctor.id));
    assert!(!central.contains(&b.id) && !central.contains(&c.clerk.id));
    assert!(!central.contains(&c.other_hospital_responsible.id));
}

#[rocket::async_test]
async fn the_institution_condition_gives_the_same_rows_along_every_plan() {
    let s = server().await;
    let c = cast(&s).await;
    let (a, _) = two_takadas(&s, &c.officer).await;
    let view = View::of(&c.officer.actor());
    let q = UserQuery {
        filters: vec![
            Filter::name("タカ").unwrap(),
            Filter::institution("中央").unwrap(),
        ],
        ..UserQuery::default()
    };
    let pool = s.app().store.pool();
    let now = s.app().now();
    let lockout = s.app().settings.lockout();
    let plan = search::choose_plan(pool, &view, &q).await.unwrap();
    assert!(matches!(plan, Plan::Gram { .. }), "{plan:?}");
    let mut along = Vec::new();
    for p in [plan, Plan::Scan] {
        let page = search::search_with(pool, &view, &q, &p, now, &lockout)
            .await
            .unwrap();
        along.push(page.rows.iter().map(|u| u.id).collect::<Vec<_>>());
    }
    assert_eq!(along[0], vec![a.id], "along the grams");
    assert_eq!(along[1], along[0], "the LIKE alone");
}

#[rocket::async_test]
async fn an_officer_sees_the_institution_column_and_condition_on_screen_and_in_the_csv() {
    let s = server().await;
    let c = cast(&s).await;
    let (a, b) = two_takadas(&s, &c.officer).await;
    s.act_as(&c.officer).await;
    let res = s.get("/users?name=%E9%AB%98%E7%94%B0").await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("<label for=\"institution\">医療機関</label>"));
    assert!(page.contains(">医療機関</th>"), "{page}");
    // Both rows, each with its institution's name and code.
    for (u, name, code) in [
        (&a, "東京中央病院", HOSPITAL),
        (&b, "新宿西クリニック", OTHER_HOSPITAL),
    ] {
        let row = page
            .split("<tr>")
            .find(|r| r.contains(&u.login_id))
            .unwrap_or_else(|| panic!("a row for {}", u.login_id));
        assert!(row.contains(name) && row.contains(code), "{row}");
    }
    // 医療機関=中央: only 東京中央病院's 髙田, and the condition stays in the box and the links.
    let res = s
        .get("/users?name=%E9%AB%98%E7%94%B0&institution=%E4%B8%AD%E5%A4%AE")
        .await;
    let page = res.into_string().await.unwrap();
    assert!(page.contains(&a.login_id) && !page.contains(&b.login_id));
    assert!(
        page.contains("name=\"institution\" value=\"中央\""),
        "{page}"
    );
    assert!(page.contains("institution=%E4%B8%AD%E5%A4%AE"));
    // The CSV of the same conditions: the one row, with its 医療機関コード and 医療機関名.
    let res = s
        .get("/users/export.csv?name=%E9%AB%98%E7%94%B0&institution=1311234568")
        .await;
    assert_eq!(res.status(), Status::Ok);
    let text = res.into_string().await.unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("医療機関コード,医療機関名"));
    assert!(lines[1].contains(&b.login_id));
    assert!(lines[1].contains(&format!("{OTHER_HOSPITAL},新宿西クリニック")));
    let details = s
        .audit()
        .await
        .into_iter()
        .rev()
        .find(|e| e.content.action == "csv_export")
        .map(|e| e.content.details)
        .unwrap();
    assert!(
        details.contains("医療機関=1311234568"),
        "the audit names the condition: {details}"
    );
}

#[rocket::async_test]
async fn a_responsible_of_one_institution_gets_no_institution_column() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let page = s.get("/users").await.into_string().await.unwrap();
    assert!(!page.contains("name=\"institution\""));
    assert!(!page.contains(">医療機関</th>"));
}
