//! One maximum length per text field (the screens issue): the registration form's and the [変更]
//! form's `maxlength`, the form submission, the CSV import and the store all agree — a value of the
//! limit is accepted and kept whole, one character more is refused with the field's message.
//! Table-driven over the domain's `TEXT_LIMITS`, so a field added there is covered here.

mod common;
#[path = "common/people.rs"]
mod people;

use common::*;
use nanbyo_accounts::domain::account::TEXT_LIMITS;
use people::*;
use rocket::http::Status;

/// A value of exactly `n` characters for `field` (names with 髙/﨑/邊/齋, kana, a mail address).
fn value(field: &str, n: usize) -> String {
    match field {
        "family_name" => "髙".repeat(n),
        "given_name" => "﨑".repeat(n),
        "family_kana" | "given_kana" => "ア".repeat(n),
        "department" => "邊".repeat(n),
        "remarks" => "齋".repeat(n),
        // A local part of 64 (the most RFC 5321 allows) and labels of at most 63.
        "email" => {
            let mut domain = String::from("example.jp");
            while domain.len() + 65 < n {
                let label = (n - 65 - domain.len() - 1).min(50);
                domain = format!("{}.{domain}", "b".repeat(label.max(1)));
            }
            format!("{}@{domain}", "a".repeat(n - 1 - domain.len()))
        }
        // Digits and hyphens, ten digits: the longest a valid number can be is the limit itself.
        "phone" => format!("03-1234-5678{}", "-".repeat(n.saturating_sub(12))),
        other => panic!("no sample for {other}"),
    }
}

/// The `maxlength` of the input named `name` on `page`.
fn maxlength(page: &str, name: &str) -> Option<usize> {
    let at = page.find(&format!("name=\"{name}\""))?;
    let tag_start = page[..at].rfind('<')?;
    let tag_end = at + page[at..].find('>')?;
    let tag = &page[tag_start..tag_end];
    let m = tag.find("maxlength=\"")? + "maxlength=\"".len();
    tag[m..].split('"').next()?.parse().ok()
}

fn registration<'a>(csrf: &'a str, field: &str, v: &'a str) -> Vec<(String, String)> {
    let mut fields = vec![
        ("csrf".to_string(), csrf.to_string()),
        ("user_type".into(), "clerk".into()),
        ("db".into(), "nanbyo".into()),
        ("institution".into(), String::new()),
    ];
    for (name, default) in [
        ("department", "医事課"),
        ("family_name", "山田"),
        ("given_name", "花子"),
        ("family_kana", "ヤマダ"),
        ("given_kana", "ハナコ"),
        ("medical_reg_no", ""),
        ("email", ""),
        ("phone", ""),
        ("expires_on", ""),
        ("remarks", ""),
    ] {
        let v = if name == field { v } else { default };
        fields.push((format!("profile.{name}"), v.to_string()));
    }
    fields
}

fn stored(u: &nanbyo_accounts::store::users::UserRecord, field: &str) -> String {
    match field {
        "department" => u.department.clone(),
        "family_name" => u.family_name.clone(),
        "given_name" => u.given_name.clone(),
        "family_kana" => u.family_kana.clone(),
        "given_kana" => u.given_kana.clone(),
        "email" => u.email.clone().unwrap_or_default(),
        "phone" => u.phone.clone().unwrap_or_default(),
        "remarks" => u.remarks.clone().unwrap_or_default(),
        other => panic!("{other}"),
    }
}

/// A one-row import file with `field` set to `v`.
fn csv(field: &str, v: &str) -> Vec<u8> {
    let mut row = vec![
        "医療クラーク等".to_string(),
        "難病DB".into(),
        "医事課".into(),
        "山田".into(),
        "太郎".into(),
        "ヤマダ".into(),
        "タロウ".into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
    ];
    let column = match field {
        "department" => 2,
        "family_name" => 3,
        "given_name" => 4,
        "family_kana" => 5,
        "given_kana" => 6,
        "email" => 8,
        "phone" => 9,
        "remarks" => 11,
        other => panic!("{other}"),
    };
    row[column] = v.to_string();
    let header = "ユーザ種別,対象DB,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,医籍登録番号,メールアドレス,電話番号,有効期限,備考";
    format!("\u{feff}{header}\r\n{}\r\n", row.join(",")).into_bytes()
}

#[rocket::async_test]
async fn every_text_field_has_one_limit_on_the_forms_the_import_and_the_store() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let new_form = s.get("/users/new").await.into_string().await.unwrap();
    let edit_form = s
        .get(&format!("/users/{}/edit", c.clerk.id))
        .await
        .into_string()
        .await
        .unwrap();
    let csrf = csrf_of(&new_form);
    for (field, limit) in TEXT_LIMITS {
        // The forms say the limit.
        assert_eq!(
            maxlength(&new_form, &format!("profile.{field}")),
            Some(limit),
            "registration form, {field}"
        );
        let in_edit = maxlength(&edit_form, field)
            .or_else(|| maxlength(&edit_form, &format!("profile.{field}")));
        assert_eq!(in_edit, Some(limit), "[変更] form, {field}");

        // The limit is accepted through the form and kept whole; one more is refused.
        let longest = value(field, limit);
        assert_eq!(longest.chars().count(), limit, "{field}");
        let fields = registration(&csrf, field, &longest);
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let res = s.post_form("/users/new", &refs).await;
        assert_eq!(
            res.status(),
            Status::SeeOther,
            "{field} of {limit} characters"
        );
        let location = res.headers().get_one("Location").unwrap().to_string();
        let id: i64 = location
            .trim_start_matches("/users/")
            .trim_end_matches("/registered")
            .parse()
            .unwrap();
        let u = s.app().user_by_id(id).await.unwrap();
        assert_eq!(stored(&u, field), longest, "{field} stored whole");

        let too_long = format!("{longest}{}", longest.chars().last().unwrap());
        let fields = registration(&csrf, field, &too_long);
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let res = s.post_form("/users/new", &refs).await;
        assert_eq!(
            res.status(),
            Status::Ok,
            "{field} of {} characters",
            limit + 1
        );
        let page = res.into_string().await.unwrap();
        assert!(
            page.contains(&format!("{limit}文字以内")),
            "{field}: {page}"
        );

        // The import: the same limit, the same message.
        let mut conn = s.app().store.pool().acquire().await.unwrap();
        let ok = s
            .app()
            .import_check(&mut conn, &c.responsible, &csv(field, &longest))
            .await
            .unwrap();
        assert!(!ok.has_errors(), "{field}: {:?}", ok.problems);
        let refused = s
            .app()
            .import_check(&mut conn, &c.responsible, &csv(field, &too_long))
            .await
            .unwrap();
        assert!(
            refused
                .problems
                .iter()
                .any(|p| p.row == 2 && p.reason.contains(&format!("{limit}文字以内"))),
            "{field}: {:?}",
            refused.problems
        );
    }
}
