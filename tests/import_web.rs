//! `/imports` over HTTP: upload (multipart) → preview with every problem as 行 / 列 / 理由 → confirm →
//! result whose button issues the batch's notices as one PDF.

mod common;
#[path = "common/people.rs"]
mod people;
#[path = "common/upload.rs"]
mod upload;

use common::*;
use people::*;
use rocket::http::{ContentType, Status};
use upload::*;

const HEADER: &str = "ユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,メールアドレス,電話番号,有効期限,備考\n";

#[rocket::async_test]
async fn upload_preview_confirm_and_issue_the_batch() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let menu = s.html("/").await;
    assert!(menu.contains("CSV一括登録"));
    let template = s
        .get("/imports/template.csv")
        .await
        .into_bytes()
        .await
        .unwrap();
    assert_eq!(&template[..3], &[0xEF, 0xBB, 0xBF]);

    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    let file = sjis(&format!("{HEADER}医療クラーク等,外来,髙橋,美咲,ﾀｶﾊｼ,ﾐｻｷ,,,,\n医療クラーク等,病棟,山﨑,花子,やまざき,はなこ,,,,\n"));
    let (status, html) = upload(&s, "新人.csv", &file).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("登録するユーザ（2件）"), "{html}");
    assert!(
        html.contains("髙橋　美咲") && html.contains("山﨑　花子") && html.contains("タカハシ")
    );
    assert!(html.contains("Shift_JIS"));
    assert_eq!(
        s.count("SELECT COUNT(*) FROM users").await,
        users_before,
        "the preview registers nobody"
    );
    let staging = html
        .split("name=\"staging_id\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let csrf = csrf_of(&html);
    let res = s
        .post_form(
            "/imports/confirm",
            &[("csrf", &csrf), ("staging_id", &staging)],
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let done = res.into_string().await.unwrap();
    assert!(
        done.contains("2件のユーザを登録しました（取込番号 1）"),
        "{done}"
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM users").await,
        users_before + 2
    );
    assert_eq!(
        s.count("SELECT COUNT(*) FROM import_staging").await,
        0,
        "the staged file is gone"
    );
    // The result's button issues both notices as one PDF (with the 交付管理表).
    let ids: Vec<String> = done
        .split("name=\"ids\" value=\"")
        .skip(1)
        .map(|p| p.split('"').next().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2);
    let csrf = csrf_of(&done);
    let mut fields = vec![
        ("csrf", csrf.as_str()),
        ("confirmed", "true"),
        ("receipt_list", "true"),
    ];
    fields.extend(ids.iter().map(|i| ("ids", i.as_str())));
    let res = s.post_form("/users/notices", &fields).await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(ContentType::PDF));
    let pdf = res.into_bytes().await.unwrap();
    assert_eq!(
        lopdf::Document::load_mem(&pdf).unwrap().get_pages().len(),
        3
    );
    // The same file again is refused, pointing at the earlier import.
    let (_, html) = upload(&s, "新人.csv", &file).await;
    assert!(html.contains("取り込み済みです（取込番号 1"), "{html}");
    assert!(!html.contains("name=\"staging_id\""));
    // The history lists the import.
    let page = s.html("/imports").await;
    assert!(page.contains("新人.csv") && page.contains("2件"));
}

#[rocket::async_test]
async fn every_problem_is_listed_and_nothing_is_registered() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    let file = format!(
        "\u{feff}{HEADER}医療クラーク等,外来,佐藤,一郎,サトウ,イチロウ,,,,\n難病指定医,内科,鈴木,次郎,スズキ,ジロウ,,,,\n医療クラーク等,,田中,三郎,Tanaka,サブロウ,,312345678,,\n"
    );
    let (status, html) = upload(&s, "bad.csv", file.as_bytes()).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("入力内容に誤りがあります。"));
    assert!(
        html.contains("<td>3</td><td>ユーザ種別</td>"),
        "a 責任者 may not register a 指定医: {html}"
    );
    assert!(html.contains("<td>4</td><td>部署</td>"));
    assert!(html.contains("<td>4</td><td>フリガナ（セイ）</td>"));
    assert!(html.contains("先頭の0がありません"));
    assert!(
        !html.contains("name=\"staging_id\""),
        "no way to register a file with errors"
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);
    // An image renamed .csv.
    let (_, html) = upload(&s, "photo.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").await;
    assert!(html.contains("<td>—</td>"), "a file-level problem: {html}");
    // A clerk has no import screen.
    s.act_as(&c.other_clerk).await;
    let res = s.get("/imports").await;
    assert_eq!(res.status(), Status::Forbidden);
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("CSV一括登録は、医療クラーク等のアカウントでは利用できません。"),
        "{page}"
    );
}

#[rocket::async_test]
async fn a_municipal_officers_file_and_an_active_doctors_number() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.officer).await;
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    // 100001 is the active 難病指定医 of the cast; a second 難病DB account with it is an error.
    let header = "医療機関コード,ユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,医籍登録番号,メールアドレス,電話番号,有効期限,備考\n";
    let file = format!("{header}{HOSPITAL},協力難病指定医,内科,重複,医師,ジュウフク,イシ,100001,,,,\n{HOSPITAL},小児慢性特定疾病指定医,小児科,新人,医師,シンジン,イシ,100001,,,,\n");
    let (_, html) = upload(&s, "doctors.csv", file.as_bytes()).await;
    assert!(html.contains("<td>2</td><td>医籍登録番号</td>"), "{html}");
    assert!(html.contains(&format!(
        "有効なアカウント（ログインID {}）が同じ対象DBに既にあります",
        c.nanbyo_doctor.login_id
    )));
    assert!(!html.contains("name=\"staging_id\""));
    // The same number in 小慢DB alone is fine: the doctor may have one account per DB.
    let file = format!(
        "{header}{HOSPITAL},小児慢性特定疾病指定医,小児科,新人,医師,シンジン,イシ,100001,,,,\n"
    );
    let (_, html) = upload(&s, "shoman.csv", file.as_bytes()).await;
    assert!(html.contains("登録するユーザ（1件）"), "{html}");
    // The preview shows every value the row will store, the 医療機関 by name and code among them.
    assert!(
        html.contains(&format!("<td>小児慢性特定疾病指定医</td><td>小慢DB</td><td>東京中央病院（{HOSPITAL}）</td><td>小児科</td><td>新人　医師</td><td>シンジン　イシ</td><td>100001</td>")),
        "{html}"
    );
    // Without the 医療機関コード column, a 自治体担当者's file is refused as a whole.
    let (_, html) = upload(&s, "nocode.csv", "ユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,医籍登録番号\n難病指定医,内科,山田,一郎,ヤマダ,イチロウ,200001\n".as_bytes()).await;
    assert!(html.contains("医療機関コード"), "{html}");
    assert!(!html.contains("name=\"staging_id\""));
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);
}

#[rocket::async_test]
async fn a_file_over_the_size_limit_is_refused_not_truncated() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let users_before = s.count("SELECT COUNT(*) FROM users").await;
    let mut big = HEADER.to_string();
    while big.len() <= 5 * 1024 * 1024 + 10 {
        big.push_str("医療クラーク等,外来,髙橋,美咲,タカハシ,ミサキ,,,,\n");
    }
    let (status, html) = upload(&s, "big.csv", big.as_bytes()).await;
    assert!(
        status == Status::Ok || status == Status::PayloadTooLarge,
        "{status}"
    );
    assert!(
        html.contains("ファイルが大きすぎます") || html.contains("送信されたデータが大きすぎます"),
        "{}",
        &html[..html.len().min(800)]
    );
    assert!(!html.contains("name=\"staging_id\""));
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, users_before);
}

/// The import history an administrator can work from: each import opens a detail page with the
/// accounts as they are now, the notices still pending issued from there days later, a CSV of the
/// login IDs; refused previews are listed with why; another institution's 責任者 cannot open it.
#[rocket::async_test]
async fn the_import_detail_page_reissues_what_is_still_pending() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let (_, refused) = upload(
        &s,
        "間違い.csv",
        format!("\u{feff}{HEADER}医療クラーク等,,田中,三郎,タナカ,サブロウ,,,,\n").as_bytes(),
    )
    .await;
    assert!(refused.contains("入力内容に誤りがあります。"));
    let file = sjis(&format!("{HEADER}医療クラーク等,外来,髙橋,美咲,ﾀｶﾊｼ,ﾐｻｷ,,,,\n医療クラーク等,病棟,山﨑,花子,やまざき,はなこ,,,,\n"));
    let (_, html) = upload(&s, "新人.csv", &file).await;
    let res = s
        .post_form(
            "/imports/confirm",
            &[
                ("csrf", &csrf_of(&html)),
                ("staging_id", &staging_id(&html).unwrap()),
            ],
        )
        .await;
    let done = res.into_string().await.unwrap();
    let id = done
        .split("（取込番号 ")
        .nth(1)
        .and_then(|t| t.split('）').next())
        .unwrap()
        .to_string();
    let history = s.html("/imports").await;
    assert!(
        history.contains(&format!("<a href=\"/imports/{id}\">{id}</a>")),
        "{history}"
    );
    assert!(
        history.contains("間違い.csv")
            && history.contains("未登録（エラー）")
            && history.contains("2行 部署: 部署を入力してください。"),
        "a refused preview is listed with why: {history}"
    );
    assert!(history.contains("画面からのアップロード"));

    let page = s.html(&format!("/imports/{id}")).await;
    assert!(
        page.contains(&format!("取込番号 {id}（一括登録）")),
        "{page}"
    );
    assert!(
        page.contains("新人.csv")
            && page.contains("画面からのアップロード")
            && page.contains("登録済")
    );
    assert!(
        page.contains("髙橋　美咲") && page.contains("山﨑　花子") && page.contains("通知書未発行")
    );
    assert!(
        page.contains("通知書一括発行（通知書未発行の2件・PDF）"),
        "{page}"
    );
    // Days later, from the detail page: one PDF, and the button is gone.
    let ids: Vec<String> = page
        .split("name=\"ids\" value=\"")
        .skip(1)
        .map(|p| p.split('"').next().unwrap().to_string())
        .collect();
    let seen: Vec<(String, String)> = ids
        .iter()
        .map(|i| (format!("seen[{i}]"), "none".to_string()))
        .collect();
    let csrf = csrf_of(&page);
    let mut fields = vec![("csrf", csrf.as_str()), ("confirmed", "true")];
    fields.extend(ids.iter().map(|i| ("ids", i.as_str())));
    fields.extend(seen.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let res = s.post_form("/users/notices", &fields).await;
    assert_eq!(res.content_type(), Some(ContentType::PDF));
    let page = s.html(&format!("/imports/{id}")).await;
    assert!(
        !page.contains("通知書一括発行（"),
        "nothing pending any more: {page}"
    );
    let csv = s.get(&format!("/imports/{id}/accounts.csv")).await;
    assert_eq!(csv.status(), Status::Ok);
    let text = String::from_utf8(csv.into_bytes().await.unwrap()).unwrap();
    assert!(
        text.starts_with("\u{feff}行,ログインID,氏名,フリガナ,ユーザ種別,部署,状態\r\n"),
        "{text}"
    );
    assert!(text.contains("髙橋　美咲"));
    // Search gets a 取込番号 condition: the import's accounts, nobody else.
    let found = s.html(&format!("/users?import={id}")).await;
    assert!(
        found.contains("髙橋　美咲") && found.contains("山﨑　花子"),
        "{found}"
    );
    assert!(found.contains("検索結果 2件"), "{found}");
    assert!(!found.contains(&c.other_clerk.login_id), "{found}");
    let bad = s.html("/users?import=%E4%B8%80").await;
    assert!(
        bad.contains("取込番号は半角数字で入力してください。"),
        "{bad}"
    );
    // Not another institution's.
    s.act_as(&c.other_hospital_responsible).await;
    assert_eq!(
        s.get(&format!("/imports/{id}")).await.status(),
        Status::NotFound
    );
}

#[rocket::async_test]
async fn confirming_without_ticking_the_warning_says_so_at_the_checkbox() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    // The same person as the cast's clerk: a warning.
    let file = sjis(&format!(
        "{HEADER}医療クラーク等,医事課,山﨑,花子,ヤマザキ,ハナコ,,,,\n"
    ));
    let (_, html) = upload(&s, "同姓同名.csv", &file).await;
    assert!(html.contains("警告を確認しました"));
    assert!(!html.contains("id=\"accept-error\""));
    let res = s
        .post_form(
            "/imports/confirm",
            &[
                ("csrf", &csrf_of(&html)),
                ("staging_id", &staging_id(&html).unwrap()),
            ],
        )
        .await;
    let again = res.into_string().await.unwrap();
    assert!(
        again.contains("<p class=\"error-text\" id=\"accept-error\" role=\"alert\">警告があるため、まだ登録していません。"),
        "{again}"
    );
    assert!(again.contains("aria-describedby=\"accept-error\""));
}
