//! The order of a batch of notices (DESIGN §8): by 部署 in natural order (第2病棟 before 第10病棟),
//! then フリガナ; a 自治体担当者's batch by 医療機関 first, and its 交付管理表 with a 医療機関 column.

mod common;
#[path = "common/pdf.rs"]
mod pdf;
#[path = "common/people.rs"]
mod people;

use common::*;
use nanbyo_accounts::store::users::UserRecord;
use pdf::pages;
use people::*;
use rocket::http::Status;

/// Issues the notices of `users` as one confirmed batch; returns the pages' text.
async fn batch(s: &TestServer, users: &[&UserRecord], receipt_list: bool) -> Vec<String> {
    let csrf = s.page_csrf("/users").await;
    let ids: Vec<String> = users.iter().map(|u| u.id.to_string()).collect();
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("confirmed", "true")];
    if receipt_list {
        fields.push(("receipt_list", "true"));
    }
    fields.extend(ids.iter().map(|i| ("ids", i.as_str())));
    let res = s.post_form("/users/notices", &fields).await;
    assert_eq!(res.status(), Status::Ok);
    pages(&res.into_bytes().await.unwrap())
}

/// The index of the notice page that shows `u`'s login ID (the 交付管理表 pages excluded).
fn page_of(text: &[String], u: &UserRecord) -> usize {
    text.iter()
        .position(|p| p.contains(&u.login_id) && !p.contains("交付管理表"))
        .unwrap_or_else(|| panic!("no notice page for {}", u.login_id))
}

#[rocket::async_test]
async fn wards_print_in_natural_order_then_by_kana() {
    let s = server().await;
    let c = cast(&s).await;
    let r = &c.responsible;
    let ten = register(&s, r, "clerk", "", "青木", "アオキ", "第10病棟", "").await;
    let two_b = register(&s, r, "clerk", "", "馬場", "ババ", "第2病棟", "").await;
    let two_a = register(&s, r, "clerk", "", "井上", "イノウエ", "第２病棟", "").await;
    let one = register(&s, r, "clerk", "", "渡邊", "ワタナベ", "第1病棟", "").await;
    s.act_as(r).await;
    let text = batch(&s, &[&ten, &two_b, &two_a, &one], false).await;
    assert_eq!(text.len(), 4);
    // 第1病棟, then 第2病棟 (第２病棟 is the same ward: イノウエ before ババ by フリガナ), then
    // 第10病棟 — plain text order would put 第10病棟 before 第1病棟.
    let order: Vec<usize> = [&one, &two_a, &two_b, &ten]
        .iter()
        .map(|u| page_of(&text, u))
        .collect();
    assert_eq!(order, vec![0, 1, 2, 3]);
}

#[rocket::async_test]
async fn an_officers_batch_goes_by_institution_and_its_receipt_list_names_them() {
    let s = server().await;
    let c = cast(&s).await;
    let o = &c.officer;
    // Registered in the other order: 新宿西クリニック (…568) first.
    let west = register(
        &s,
        o,
        "nanbyo_doctor",
        OTHER_HOSPITAL,
        "髙田",
        "アイダ",
        "内科",
        "300001",
    )
    .await;
    let central_10 = register(
        &s,
        o,
        "nanbyo_doctor",
        HOSPITAL,
        "齋藤",
        "サイトウ",
        "第10内科",
        "300002",
    )
    .await;
    let central_2 = register(
        &s,
        o,
        "nanbyo_doctor",
        HOSPITAL,
        "渡邊",
        "ワタナベ",
        "第2内科",
        "300003",
    )
    .await;
    s.act_as(o).await;
    let text = batch(&s, &[&west, &central_10, &central_2], true).await;
    assert_eq!(text.len(), 1 + 3);
    let list = &text[0];
    assert!(list.contains("交付管理表"), "{list}");
    // The column and each person's institution (name and code), under the municipality's line.
    assert!(list.contains("医療機関"), "{list}");
    assert!(list.contains("新宿区（医療機関 2か所）"), "{list}");
    for needle in ["東京中央病院", HOSPITAL, "新宿西クリニック", OTHER_HOSPITAL] {
        assert!(list.contains(needle), "{needle} missing from {list}");
    }
    // 東京中央病院 (1311234567) first, its wards in natural order, then 新宿西クリニック.
    let (a, b, w) = (
        page_of(&text, &central_2),
        page_of(&text, &central_10),
        page_of(&text, &west),
    );
    assert!(a < b && b < w, "pages {a} {b} {w}");
    let rows: Vec<usize> = [&central_2, &central_10, &west]
        .iter()
        .map(|u| list.find(&u.login_id).unwrap())
        .collect();
    assert!(
        rows[0] < rows[1] && rows[1] < rows[2],
        "the list in the same order"
    );
}

#[rocket::async_test]
async fn a_receipt_list_of_one_institution_has_no_institution_column() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let text = batch(&s, &[&c.clerk, &c.other_clerk], true).await;
    assert!(text[0].contains("交付管理表"));
    assert!(text[0].contains("東京中央病院（"), "{}", text[0]);
    assert!(!text[0].contains("か所"), "{}", text[0]);
    assert!(!text[0].contains("医療機関 "), "{}", text[0]);
}
