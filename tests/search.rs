//! 医療機関ユーザ検索: each condition alone and combined, the folding of DESIGN §5, paging and sort
//! order, and that no result ever lies outside the actor's view.

mod common;
#[path = "common/people.rs"]
mod people;

use common::*;
use nanbyo_accounts::domain::roles::may_see;
use nanbyo_accounts::domain::search::{Filter, SortKey, UserQuery};
use nanbyo_accounts::domain::time::parse_date;
use nanbyo_accounts::domain::{AccountState, Db, UserType};
use nanbyo_accounts::store::users::UserRecord;
use people::*;
use rocket::http::Status;

fn query(filters: Vec<Filter>) -> UserQuery {
    UserQuery {
        filters,
        per_page: 1000,
        ..UserQuery::default()
    }
}

async fn ids(s: &TestServer, actor: &UserRecord, filters: Vec<Filter>) -> Vec<i64> {
    let mut v: Vec<i64> = s
        .app()
        .search(actor, &query(filters))
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
async fn each_condition_alone_and_combined() {
    let s = server().await;
    let c = cast(&s).await;
    let r = &c.responsible;
    // Registered one day apart: 髙橋 (day 0), 高橋 (day 1), たかはし-kana 田中 (day 2), 渡邊 in 病棟 (day 3).
    let takahashi_itaiji = register(&s, r, "clerk", "", "髙橋", "タカハシ", "外来", "").await;
    s.clock.advance(86_400);
    let takahashi = register(&s, r, "clerk", "", "高橋", "ﾀｶﾊｼ", "外来", "").await;
    s.clock.advance(86_400);
    let tanaka = register(&s, r, "clerk", "", "田中", "たなか", "医事課", "").await;
    s.clock.advance(86_400);
    let watanabe = register(&s, r, "responsible", "", "渡邊", "ワタナベ", "病棟", "").await;

    // 氏名: 高橋 finds 髙橋 (異体字), and the other way round.
    let both = {
        let mut v = vec![takahashi_itaiji.id, takahashi.id];
        v.sort();
        v
    };
    assert_eq!(ids(&s, r, vec![Filter::name("高橋").unwrap()]).await, both);
    assert_eq!(ids(&s, r, vec![Filter::name("髙橋").unwrap()]).await, both);
    // フリガナ partial, typed in hiragana or half-width: both find the full-width katakana.
    assert_eq!(
        ids(&s, r, vec![Filter::name("たかは").unwrap()]).await,
        both
    );
    assert_eq!(ids(&s, r, vec![Filter::name("ﾀｶﾊ").unwrap()]).await, both);
    assert_eq!(
        ids(&s, r, vec![Filter::name("渡辺").unwrap()]).await,
        vec![watanabe.id]
    );
    assert_eq!(
        ids(&s, r, vec![Filter::name("ナカ").unwrap()]).await,
        vec![tanaka.id]
    );
    // ログインID partial, case-insensitive.
    let part = takahashi.login_id[2..6].to_lowercase();
    assert!(ids(&s, r, vec![Filter::login_id(&part).unwrap()])
        .await
        .contains(&takahashi.id));
    // ユーザ種別, 部署.
    assert!(ids(&s, r, vec![Filter::Type(UserType::Responsible)])
        .await
        .contains(&watanabe.id));
    assert!(!ids(&s, r, vec![Filter::Type(UserType::Responsible)])
        .await
        .contains(&tanaka.id));
    assert_eq!(
        ids(&s, r, vec![Filter::department("病棟").unwrap()]).await,
        vec![watanabe.id]
    );
    // 登録日 range (JST days, inclusive).
    let day = |offset: i64| nanbyo_accounts::domain::time::jst_date(START + offset * 86_400);
    assert_eq!(
        ids(
            &s,
            r,
            vec![Filter::RegisteredFrom(day(1)), Filter::RegisteredTo(day(2))]
        )
        .await,
        {
            let mut v = vec![takahashi.id, tanaka.id];
            v.sort();
            v
        }
    );
    // Combined: name + 部署 + type.
    assert_eq!(
        ids(
            &s,
            r,
            vec![
                Filter::name("高橋").unwrap(),
                Filter::department("外来").unwrap(),
                Filter::Type(UserType::Clerk)
            ]
        )
        .await,
        both
    );
    assert!(ids(
        &s,
        r,
        vec![
            Filter::name("高橋").unwrap(),
            Filter::department("病棟").unwrap()
        ]
    )
    .await
    .is_empty());
    // 対象DB: a 責任者 of 難病DB sees nothing in 小慢DB.
    assert!(ids(&s, r, vec![Filter::Db(Db::Shoman)]).await.is_empty());
}

#[rocket::async_test]
async fn the_state_condition_agrees_with_the_badge() {
    let s = server().await;
    let c = cast(&s).await;
    let r = &c.responsible;
    let pending = register(&s, r, "clerk", "", "未発行", "ミハッコウ", "外来", "").await;
    let temporary = register(&s, r, "clerk", "", "仮", "カリ", "外来", "").await;
    s.app()
        .console_reset(&temporary.login_id, "テスト")
        .await
        .unwrap();
    let locked = register(&s, r, "clerk", "", "鍵", "カギ", "外来", "").await;
    s.app()
        .console_reset(&locked.login_id, "テスト")
        .await
        .unwrap();
    s.lock(&locked).await;
    let expired = register(&s, r, "clerk", "", "期限", "キゲン", "外来", "").await;
    sqlx::query("UPDATE users SET expires_on = '2026-01-01' WHERE id = $1")
        .bind(expired.id)
        .execute(s.app().store.pool())
        .await
        .unwrap();
    let deleted = register(&s, r, "clerk", "", "削除", "サクジョ", "外来", "").await;
    sqlx::query("UPDATE users SET deleted_at = $1 WHERE id = $2")
        .bind(START)
        .bind(deleted.id)
        .execute(s.app().store.pool())
        .await
        .unwrap();
    // A lock older than the automatic release is no lock.
    let released = register(&s, r, "clerk", "", "解除", "カイジョ", "外来", "").await;
    s.app()
        .console_reset(&released.login_id, "テスト")
        .await
        .unwrap();
    s.lock(&released).await;
    s.clock.advance(31 * 60);
    s.lock(&locked).await;

    let everyone = s
        .app()
        .search(r, &query(vec![Filter::State(AccountState::Deleted)]))
        .await
        .unwrap()
        .rows;
    assert_eq!(
        everyone.iter().map(|u| u.id).collect::<Vec<_>>(),
        vec![deleted.id]
    );
    let lockout = s.app().settings.lockout();
    let now = s.app().now();
    let mut all = s.app().search(r, &query(vec![])).await.unwrap().rows;
    all.extend(everyone);
    assert!(!all.is_empty());
    for state in AccountState::ALL {
        let found = ids(&s, r, vec![Filter::State(state)]).await;
        let mut expected: Vec<i64> = all
            .iter()
            .filter(|u| u.facts().state(&lockout, now) == state)
            .map(|u| u.id)
            .collect();
        expected.sort();
        assert_eq!(found, expected, "{state:?}");
    }
    assert!(ids(&s, r, vec![Filter::State(AccountState::NoticePending)])
        .await
        .contains(&pending.id));
    assert_eq!(
        ids(&s, r, vec![Filter::State(AccountState::Locked)]).await,
        vec![locked.id]
    );
    assert!(
        ids(&s, r, vec![Filter::State(AccountState::TemporaryPassword)])
            .await
            .contains(&released.id)
    );
    assert_eq!(
        ids(&s, r, vec![Filter::State(AccountState::Expired)]).await,
        vec![expired.id]
    );
    // Without a state condition, deleted accounts are hidden.
    assert!(!ids(&s, r, vec![]).await.contains(&deleted.id));
}

#[rocket::async_test]
async fn paging_and_sorting_through_the_screen() {
    let s = server().await;
    let c = cast(&s).await;
    let kana = ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ", "コ"];
    for i in 0..61 {
        let k = format!("{}{}", kana[i % 10], kana[i / 10]);
        register(
            &s,
            &c.responsible,
            "clerk",
            "",
            &format!("職員{i}"),
            &k,
            "外来",
            "",
        )
        .await;
    }
    s.act_as(&c.responsible).await;
    // 61 clerks + 2 clerks and the 難病指定医 of the cast + the 責任者 itself = 65 in the 責任者's view.
    let total = s
        .app()
        .search(&c.responsible, &query(vec![]))
        .await
        .unwrap()
        .total;
    assert_eq!(total, 65);
    let page1 = s
        .get("/users?department=%E5%A4%96%E6%9D%A5")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        page1.contains("検索結果 62件中 1〜50件"),
        "61 clerks + 佐藤 of 外来"
    );
    assert_eq!(page1.matches("<tr>").count() - 1, 50, "50 rows on page 1");
    let page2 = s
        .get("/users?department=%E5%A4%96%E6%9D%A5&sort=kana&dir=asc&page=2")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page2.contains("検索結果 62件中 51〜62件"));
    assert_eq!(page2.matches("<tr>").count() - 1, 12);
    // A page past the end shows the last page.
    let page9 = s
        .get("/users?department=%E5%A4%96%E6%9D%A5&page=9")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(page9.contains("51〜62件"));

    // Sort order: フリガナ ascending and descending, ログインID.
    let asc = s
        .app()
        .search(
            &c.responsible,
            &UserQuery {
                sort: SortKey::Kana,
                per_page: 100,
                ..UserQuery::default()
            },
        )
        .await
        .unwrap();
    let kanas: Vec<String> = asc
        .rows
        .iter()
        .map(|u| format!("{}{}", u.family_kana, u.given_kana))
        .collect();
    let mut sorted = kanas.clone();
    sorted.sort();
    assert_eq!(kanas, sorted);
    let desc = s
        .app()
        .search(
            &c.responsible,
            &UserQuery {
                sort: SortKey::Kana,
                descending: true,
                per_page: 100,
                ..UserQuery::default()
            },
        )
        .await
        .unwrap();
    let mut reversed: Vec<i64> = desc.rows.iter().map(|u| u.id).collect();
    reversed.reverse();
    assert_eq!(reversed, asc.rows.iter().map(|u| u.id).collect::<Vec<_>>());
    let by_id = s
        .app()
        .search(
            &c.responsible,
            &UserQuery {
                sort: SortKey::LoginId,
                per_page: 100,
                ..UserQuery::default()
            },
        )
        .await
        .unwrap();
    let logins: Vec<&str> = by_id.rows.iter().map(|u| u.login_id.as_str()).collect();
    let mut sorted = logins.clone();
    sorted.sort();
    assert_eq!(logins, sorted);
    // The screen shows the arrow on the sorted column.
    let html = s
        .get("/users?sort=login_id&dir=desc")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(html.contains("ログインID ▼"));
    // A bad date is explained, not ignored.
    let html = s
        .get("/users?from=2026%2F2%2F30")
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        html.contains("登録日（開始）が正しくありません。存在しない日付です。"),
        "{}",
        &html[..200]
    );
    assert!(parse_date("x", "2026/2/28").is_ok());
}

#[rocket::async_test]
async fn results_never_include_accounts_outside_the_view() {
    let s = server().await;
    let c = cast(&s).await;
    let actors = [
        &c.responsible,
        &c.shoman_responsible,
        &c.nanbyo_doctor,
        &c.shoman_doctor,
        &c.officer,
        &c.other_hospital_responsible,
    ];
    let mut all = Vec::new();
    for id in 1..=20 {
        if let Ok(u) = s.app().user_by_id(id).await {
            all.push(u);
        }
    }
    assert!(all.len() >= 8);
    for actor in actors {
        let found = ids(&s, actor, vec![]).await;
        for u in &all {
            let visible = u.target().is_some_and(|t| may_see(&actor.actor(), &t));
            // The search lists what the view lists: a 指定医 is not listed in its own results.
            if found.contains(&u.id) {
                assert!(visible, "{} sees {}", actor.full_name(), u.full_name());
            }
        }
        for id in &found {
            assert!(all.iter().any(|u| u.id == *id));
        }
    }
    // Concretely: the doctor sees only the clerks; the officer only doctors and 責任者 of its municipality.
    let doctor_sees = ids(&s, &c.nanbyo_doctor, vec![]).await;
    let mut clerks = vec![c.clerk.id, c.other_clerk.id];
    clerks.sort();
    assert_eq!(doctor_sees, clerks);
    let officer_sees = ids(&s, &c.officer, vec![]).await;
    assert!(officer_sees.contains(&c.nanbyo_doctor.id) && officer_sees.contains(&c.responsible.id));
    assert!(!officer_sees.contains(&c.clerk.id));
    assert!(
        ids(&s, &c.shoman_doctor, vec![]).await.is_empty(),
        "no 小慢DB clerks yet"
    );
    // Over HTTP too: the other hospital's 責任者 finds nobody of 東京中央病院.
    s.act_as(&c.other_hospital_responsible).await;
    let html = s
        .get(&format!("/users?login_id={}", c.clerk.login_id))
        .await;
    assert_eq!(html.status(), Status::Ok);
    assert!(html.into_string().await.unwrap().contains("検索結果 0件"));
}

#[rocket::async_test]
async fn the_result_as_csv_for_excel_is_neutralised_and_audited() {
    let s = server().await;
    let c = cast(&s).await;
    let mut raw = profile("髙橋", "タカハシ", "=HYPERLINK(\"http://x\")");
    raw.remarks = "@SUM(A1)".into();
    let reg = nanbyo_accounts::service::users::Registration {
        user_type: "clerk".into(),
        db: String::new(),
        institution_code: String::new(),
        profile: raw,
    };
    let u = s.app().register(&c.responsible, &reg, None).await.unwrap();
    s.act_as(&c.responsible).await;
    let res = s.get("/users/export.csv?name=%E9%AB%98%E6%A9%8B").await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    assert!(res
        .headers()
        .get_one("Content-Disposition")
        .unwrap()
        .starts_with("attachment;"));
    let bytes = res.into_bytes().await.unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF], "UTF-8 with BOM for Excel");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines.len(),
        2,
        "header + the one 髙橋 (高橋 finds 髙橋): {text}"
    );
    assert!(lines[0].starts_with("ログインID,氏名（姓）"));
    assert!(lines[1].contains(&u.login_id) && lines[1].contains("髙橋"));
    assert!(
        lines[1].contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "formula neutralised: {}",
        lines[1]
    );
    assert!(lines[1].contains("'@SUM(A1)"));
    assert!(!text.replace("\r\n", "").contains('\n'), "CRLF line ends");
    let exports = s
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'csv_export'")
        .await;
    assert_eq!(exports, 1, "the export of personal data is audited");
}

#[rocket::async_test]
async fn the_type_condition_offers_only_the_types_the_actor_sees() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.officer).await;
    let page = s.get("/users").await.into_string().await.unwrap();
    assert!(!page.contains("<option value=\"clerk\""), "{page}");
    assert!(page.contains("<option value=\"nanbyo_doctor\""), "{page}");
    s.act_as(&c.responsible).await;
    let page = s.get("/users").await.into_string().await.unwrap();
    assert!(page.contains("<option value=\"clerk\""), "{page}");
}
