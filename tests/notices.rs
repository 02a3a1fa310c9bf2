//! IDパスワード発行通知書 end to end: the buttons are POSTs that answer with a PDF, the password read
//! back from the PDF logs in (and reaches only /password), a newer notice voids the older one, a batch
//! is ordered and optionally preceded by a 交付管理表 without passwords, and only the HMAC is stored.

mod common;
#[path = "common/console.rs"]
mod console;
#[path = "common/pdf.rs"]
mod pdf;
#[path = "common/people.rs"]
mod people;

use common::*;
use console::Console;
use nanbyo_accounts::domain::credentials::{LOGIN_ID_ALPHABET, TEMP_PASSWORD_LENGTH};
use pdf::pages;
use people::*;
use rocket::http::{ContentType, Status};

/// The temporary password printed after 初期パスワード on a notice page.
fn password_on(page: &str) -> String {
    let at = page.find("初期パスワード").expect("a password label");
    let after = &page[at..];
    // The first run of password characters of the right length after the label.
    let allowed = |c: char| c.is_ascii_alphanumeric() || "#$%&+=?@".contains(c);
    let chars: Vec<char> = after.chars().filter(|c| !c.is_whitespace()).collect();
    for start in 0..chars.len() {
        let run: String = chars[start..].iter().take_while(|c| allowed(**c)).collect();
        if run.len() >= TEMP_PASSWORD_LENGTH {
            return run[..TEMP_PASSWORD_LENGTH].to_string();
        }
    }
    panic!("no password on the page: {page}");
}

async fn post_pdf(
    s: &TestServer,
    path: &str,
    fields: &[(&str, &str)],
) -> (Status, Option<String>, Option<String>, Vec<u8>) {
    let res = s.post_form(path, fields).await;
    let status = res.status();
    let ct = res.content_type().map(|c| c.to_string());
    let cache = res.headers().get_one("Cache-Control").map(str::to_string);
    (
        status,
        ct,
        cache,
        res.into_bytes().await.unwrap_or_default(),
    )
}

#[rocket::async_test]
async fn a_notice_is_a_pdf_whose_password_logs_in_once() {
    let s = server().await;
    let c = cast(&s).await;
    let clerk = register(
        &s,
        &c.responsible,
        "clerk",
        "",
        "齋藤",
        "サイトウ",
        "外来",
        "",
    )
    .await;
    s.act_as(&c.responsible).await;
    // The completion screen offers the button, as a POST.
    let html = s
        .get(&format!("/users/{}/registered", clerk.id))
        .await
        .into_string()
        .await
        .unwrap();
    assert!(html.contains(&format!("action=\"/users/{}/notice\"", clerk.id)));
    assert!(html.contains("以前に発行した通知書は使えなくなります"));
    // GET does not issue anything.
    assert_eq!(
        s.get(&format!("/users/{}/notice", clerk.id)).await.status(),
        Status::NotFound
    );

    let csrf = s.page_csrf("/").await;
    let (status, ct, cache, pdf) = post_pdf(
        &s,
        &format!("/users/{}/notice", clerk.id),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, Status::Ok);
    assert_eq!(ct.as_deref(), Some(ContentType::PDF.to_string().as_str()));
    assert_eq!(cache.as_deref(), Some("no-store"));
    let text = pages(&pdf);
    assert_eq!(text.len(), 1);
    assert!(text[0].contains("IDパスワード発行通知書"), "{}", text[0]);
    assert!(text[0].contains("齋藤"), "{}", text[0]);
    assert!(text[0].contains(&clerk.login_id));
    assert!(text[0].contains("東京中央病院"));
    let first = password_on(&text[0]);
    assert!(first.chars().all(|c| c.is_ascii_graphic()));
    assert!(!LOGIN_ID_ALPHABET.is_empty());

    // Only the HMAC is stored.
    let stored = s.reload(&clerk).await;
    let mac = stored
        .temp_password_mac
        .clone()
        .expect("a temporary password was issued");
    assert_eq!(mac.len(), 64);
    assert!(!mac.contains(&first));
    let entry = nanbyo_accounts::store::audit::for_target(s.app().store.pool(), clerk.id)
        .await
        .unwrap();
    assert!(entry
        .iter()
        .any(|e| e.content.action == "notice_issue"
            && e.content.actor_user_id == Some(c.responsible.id)));
    assert!(
        entry.iter().all(|e| !e.content.details.contains(&first)),
        "the audit log never holds a password"
    );

    // Issuing again replaces it: the first password stops working, the second works.
    let (_, _, _, pdf2) = post_pdf(
        &s,
        &format!("/users/{}/notice", clerk.id),
        &[("csrf", &csrf)],
    )
    .await;
    let second = password_on(&pages(&pdf2)[0]);
    assert_ne!(first, second);
    s.log_out().await;
    let res = s.post_login(&clerk.login_id, &first).await;
    assert_eq!(res.status(), Status::Ok, "the older notice no longer works");
    let res = s.post_login(&clerk.login_id, &second).await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/password"));
    assert_eq!(
        s.get("/users").await.headers().get_one("Location"),
        Some("/password"),
        "only /password"
    );
}

#[rocket::async_test]
async fn a_batch_is_ordered_lists_the_ineligible_and_its_receipt_list_has_no_password() {
    let s = server().await;
    let c = cast(&s).await;
    let r = &c.responsible;
    let b = register(&s, r, "clerk", "", "馬場", "ババ", "病棟", "").await;
    let a = register(&s, r, "clerk", "", "青木", "アオキ", "病棟", "").await;
    let z = register(&s, r, "clerk", "", "渡邊", "ワタナベ", "外来", "").await;
    // An account with a password of its own is not eligible; an invisible id is listed too.
    let active = register(&s, r, "clerk", "", "有効", "ユウコウ", "外来", "").await;
    let phc = s.app().hash_password("Hoshi-zora9-Yoru".into()).await;
    let mut tx = s.app().store.begin_write().await.unwrap();
    nanbyo_accounts::store::users::set_chosen_password(&mut tx, active.id, &phc, s.app().now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    s.act_as(r).await;
    let csrf = s.page_csrf("/users").await;
    let ids = [b.id, a.id, z.id, active.id, c.shoman_doctor.id];
    let id_strings: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let mut fields: Vec<(&str, &str)> = vec![("csrf", &csrf), ("receipt_list", "true")];
    fields.extend(id_strings.iter().map(|i| ("ids", i.as_str())));
    let res = s.post_form("/users/notices", &fields).await;
    assert_eq!(res.status(), Status::Ok);
    let html = res.into_string().await.unwrap();
    assert!(
        html.contains("2件は通知書を発行できません"),
        "the ineligible are listed, not dropped"
    );
    assert!(html.contains("状態が「有効」のため発行できません"));
    assert!(html.contains("3件の通知書を発行する"));
    assert_eq!(
        s.reload(&a).await.temp_password_mac,
        None,
        "nothing issued before confirmation"
    );

    // Confirm with the eligible three.
    let keep: Vec<String> = [b.id, a.id, z.id].iter().map(|i| i.to_string()).collect();
    let mut fields: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("receipt_list", "true"),
        ("confirmed", "true"),
    ];
    fields.extend(keep.iter().map(|i| ("ids", i.as_str())));
    let (status, ct, cache, pdf) = post_pdf(&s, "/users/notices", &fields).await;
    assert_eq!(status, Status::Ok);
    assert_eq!(ct.as_deref(), Some(ContentType::PDF.to_string().as_str()));
    assert_eq!(cache.as_deref(), Some("no-store"));
    let text = pages(&pdf);
    assert_eq!(text.len(), 4, "交付管理表 + 3 notices");
    assert!(text[0].contains("交付管理表"));
    for u in [&a, &b, &z] {
        assert!(text[0].contains(&u.login_id));
    }
    // Ordered by 部署, then フリガナ: 外来 渡邊, then 病棟 青木 (アオキ), 病棟 馬場 (ババ).
    assert!(
        text[1].contains(&z.login_id)
            && text[2].contains(&a.login_id)
            && text[3].contains(&b.login_id)
    );
    for page in &text[1..] {
        let pw = password_on(page);
        assert!(
            !text[0].contains(&pw),
            "the 交付管理表 never shows a password"
        );
    }
    let batch_entries = s
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'notice_batch'")
        .await;
    assert_eq!(batch_entries, 3);
}

#[rocket::async_test]
async fn names_the_notice_font_cannot_draw_are_refused_with_the_character() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users/new").await;
    let res = s
        .post_form(
            "/users/new",
            &[
                ("csrf", &csrf),
                ("user_type", "clerk"),
                ("profile.department", "外来"),
                ("profile.family_name", "𠮷田"),
                ("profile.given_name", "花子"),
                ("profile.family_kana", "ヨシダ"),
                ("profile.given_kana", "ハナコ"),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let html = res.into_string().await.unwrap();
    assert!(
        html.contains("氏名（姓）の「𠮷」(U+20BB7) は通知書に印字できない文字です。"),
        "{}",
        &html[..400]
    );
    assert!(html.contains("value=\"𠮷田\""));
}

#[rocket::async_test]
async fn another_configured_font_accepts_what_it_can_draw() {
    let noto = std::path::Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc");
    if !noto.exists() {
        eprintln!(
            "skipped: fonts-noto-cjk is not installed ({})",
            noto.display()
        );
        return;
    }
    let s = server_with(|st| st.notice_font = Some(noto.to_path_buf())).await;
    let c = cast(&s).await;
    let u = register(
        &s,
        &c.responsible,
        "clerk",
        "",
        "𠮷田",
        "ヨシダ",
        "外来",
        "",
    )
    .await;
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/").await;
    let (status, _, _, pdf) =
        post_pdf(&s, &format!("/users/{}/notice", u.id), &[("csrf", &csrf)]).await;
    assert_eq!(status, Status::Ok);
    assert!(pages(&pdf)[0].contains(&u.login_id));
}

#[test]
fn the_console_writes_notices_with_the_same_code() {
    let c = Console::new();
    let dir = &c.dir;
    let run = |args: &[&str]| c.run(args);
    c.add_hospital();
    let first = dir.path().join("first.pdf");
    let (ok, out, err) = c.bootstrap(
        ["髙橋", "美咲", "タカハシ", "ミサキ"],
        &["--notice", first.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert!(
        !out.contains("初期パスワード:"),
        "with --notice the password is not printed"
    );
    let login_id = out
        .lines()
        .find_map(|l| l.strip_prefix("ログインID: "))
        .unwrap()
        .to_string();
    let pdf = std::fs::read(&first).unwrap();
    let text = pages(&pdf);
    assert!(text[0].contains(&login_id) && text[0].contains("髙橋"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&first).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let reset = dir.path().join("reset.pdf");
    let (ok, out, err) = run(&[
        "user",
        "reset",
        &login_id,
        "--verified-by",
        "対面",
        "--notice",
        reset.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("通知書:"));
    assert_ne!(
        password_on(&pages(&std::fs::read(&reset).unwrap())[0]),
        password_on(&text[0])
    );
    // `notices --as` applies the role rules of the acting user: a 責任者 cannot issue its own notice.
    let out_pdf = dir.path().join("batch.pdf");
    let (ok, _, err) = run(&[
        "notices",
        "--as",
        &login_id,
        "--out",
        out_pdf.to_str().unwrap(),
        &login_id,
    ]);
    assert!(!ok);
    assert!(
        err.contains("ご自身のアカウントはこの操作の対象にできません"),
        "{err}"
    );
    assert!(!out_pdf.exists());
}

/// The notice's last instruction and お問い合わせ先 follow whoever manages the account (DESIGN §3),
/// and the contact text set for the institution or the municipality replaces the default.
#[rocket::async_test]
async fn the_wording_follows_who_manages_the_account() {
    use nanbyo_accounts::service::console::ContactTarget;
    let s = server().await;
    let c = cast(&s).await;
    // The text without white space: wrapped lines come back with a space between them.
    let notice_of = |pdf: Vec<u8>| pages(&pdf).concat().replace(char::is_whitespace, "");

    // A 医療クラーク等, by its 責任者: the institution is asked.
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users").await;
    let (status, _, _, pdf) = post_pdf(
        &s,
        &format!("/users/{}/notice", c.clerk.id),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, Status::Ok);
    let text = notice_of(pdf);
    assert!(
        text.contains("所属医療機関の責任者に再発行を依頼してください"),
        "{text}"
    );
    assert!(
        text.contains("所属医療機関の責任者にお問い合わせください"),
        "{text}"
    );
    assert!(
        text.contains("医療機関ユーザ") && !text.contains("自治体ユーザ"),
        "{text}"
    );

    // A 指定医, by its 自治体担当者: the municipality is asked, never the 責任者.
    s.act_as(&c.officer).await;
    let csrf = s.page_csrf("/users").await;
    let doctor_notice = |csrf: String| {
        let path = format!("/users/{}/notice", c.nanbyo_doctor.id);
        let s = &s;
        async move {
            let (status, _, _, pdf) = post_pdf(s, &path, &[("csrf", &csrf)]).await;
            assert_eq!(status, Status::Ok);
            notice_of(pdf)
        }
    };
    let text = doctor_notice(csrf.clone()).await;
    assert!(
        text.contains("管轄の自治体の担当者に再発行を依頼してください"),
        "{text}"
    );
    assert!(
        text.contains("新宿区の担当者にお問い合わせください"),
        "{text}"
    );
    assert!(
        !text.contains("責任者"),
        "a doctor is not sent to a 責任者: {text}"
    );

    // The municipality's own text, set at the console, replaces the default (lines kept).
    s.app()
        .set_notice_contact(
            ContactTarget::Municipality(SHINJUKU),
            Some("新宿区 健康部 保健予防課\n電話 03-0000-0000（平日 9:00〜17:00）"),
        )
        .await
        .unwrap();
    let text = doctor_notice(csrf).await;
    assert!(text.contains("新宿区健康部保健予防課"), "{text}");
    assert!(text.contains("03-0000-0000"), "{text}");
    assert!(
        !text.contains("新宿区の担当者にお問い合わせください"),
        "{text}"
    );
    // …and only for the municipality's doctors: the clerk's notice keeps its institution's text.
    s.app()
        .set_notice_contact(
            ContactTarget::Institution(HOSPITAL),
            Some("医事課 内線 1234"),
        )
        .await
        .unwrap();
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users").await;
    let (_, _, _, pdf) = post_pdf(
        &s,
        &format!("/users/{}/notice", c.clerk.id),
        &[("csrf", &csrf)],
    )
    .await;
    let text = notice_of(pdf);
    assert!(
        text.contains("医事課内線1234") && !text.contains("保健予防課"),
        "{text}"
    );

    // A 自治体担当者's notice: subtitled 自治体ユーザ, the system administrator is asked.
    let (_, _, pdf) = s
        .app()
        .console_reset_with_notice(&c.officer.login_id, "テスト")
        .await
        .unwrap();
    let text = notice_of(pdf);
    assert!(text.contains("自治体ユーザ"), "{text}");
    assert!(
        text.contains("本システムの管理者に再発行を依頼してください"),
        "{text}"
    );

    // Cleared: the default again; a text the font cannot print is refused.
    s.app()
        .set_notice_contact(ContactTarget::Municipality(SHINJUKU), None)
        .await
        .unwrap();
    let err = s
        .app()
        .set_notice_contact(ContactTarget::Institution(HOSPITAL), Some("内線 𠮷"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("印刷できません"), "{err}");
    let audit = s
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'notice_contact'")
        .await;
    assert_eq!(audit, 3);
}
