//! The n-gram side table of partial search (migration 0004): kept consistent by every write of the
//! search keys, and a search through it finds exactly what the LIKE alone finds, in the same order;
//! the count stops at 1,000 and the screen says so. Runs on SQLite, and on PostgreSQL with
//! NANBYO_TEST_POSTGRES.

mod common;
#[path = "common/people.rs"]
mod people;

use std::collections::BTreeSet;

use common::*;
use nanbyo_accounts::domain::account::{Profile, RawProfile};
use nanbyo_accounts::domain::audit::Action;
use nanbyo_accounts::domain::ngram::account_grams;
use nanbyo_accounts::domain::search::{Filter, SortKey, UserQuery};
use nanbyo_accounts::domain::visibility::View;
use nanbyo_accounts::domain::{Db, UserType};
use nanbyo_accounts::service::imports::{ImportFile, ImportOutcome};
use nanbyo_accounts::store::search::{self, Plan};
use nanbyo_accounts::store::users::{self, Home, UserRecord};
use people::*;
use sqlx::Row;

type Gram = (String, String, i64, String, String, i64);

/// The grams the store keeps, as rows.
async fn stored(s: &TestServer) -> BTreeSet<Gram> {
    sqlx::query("SELECT field, gram, institution_id, db, kana_fold, user_id FROM user_ngrams")
        .fetch_all(s.app().store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get("field").unwrap(),
                r.try_get("gram").unwrap(),
                r.try_get("institution_id").unwrap(),
                r.try_get("db").unwrap(),
                r.try_get("kana_fold").unwrap(),
                r.try_get("user_id").unwrap(),
            )
        })
        .collect()
}

/// The grams every institution account's stored search keys call for.
async fn expected(s: &TestServer) -> BTreeSet<Gram> {
    let rows = sqlx::query(
        "SELECT id, institution_id, db, name_fold, kana_fold, department_fold FROM users \
         WHERE institution_id IS NOT NULL",
    )
    .fetch_all(s.app().store.pool())
    .await
    .unwrap();
    let mut out = BTreeSet::new();
    for r in rows {
        let kana: String = r.try_get("kana_fold").unwrap();
        for (field, gram) in account_grams(
            &r.try_get::<String, _>("name_fold").unwrap(),
            &kana,
            &r.try_get::<String, _>("department_fold").unwrap(),
        ) {
            out.insert((
                field.as_str().to_string(),
                gram,
                r.try_get("institution_id").unwrap(),
                r.try_get("db").unwrap(),
                kana.clone(),
                r.try_get("id").unwrap(),
            ));
        }
    }
    out
}

async fn assert_consistent(s: &TestServer, step: &str) {
    let (have, want) = (stored(s).await, expected(s).await);
    assert!(!want.is_empty());
    let extra: Vec<_> = have.difference(&want).take(5).collect();
    let missing: Vec<_> = want.difference(&have).take(5).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "after {step}: extra {extra:?}, missing {missing:?}"
    );
}

/// The back-fill statement of migration 0004 for the test's dialect (its one INSERT).
fn backfill_sql(s: &TestServer) -> String {
    let dialect = match s.app().store.dialect() {
        nanbyo_accounts::store::Dialect::Sqlite => "sqlite",
        nanbyo_accounts::store::Dialect::Postgres => "postgres",
    };
    let path = format!(
        "{}/src/store/migrations/{dialect}/0004_search_ngrams.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("INSERT").expect("an INSERT");
    let end = start + text[start..].find(';').expect("its end");
    text[start..end].to_string()
}

#[rocket::async_test]
async fn the_grams_follow_every_write_of_the_search_keys() {
    let s = server().await;
    let c = cast(&s).await;
    assert_consistent(&s, "bootstrap and registration").await;
    // A 自治体担当者 is in no search view but its own: no grams.
    let officer_grams: i64 = sqlx::query("SELECT COUNT(*) FROM user_ngrams WHERE user_id = $1")
        .bind(c.officer.id)
        .fetch_one(s.app().store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(officer_grams, 0);

    // CSV一括登録 (the bulk insert).
    let csv = "ユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,メールアドレス,電話番号,有効期限,備考\r\n\
               医療クラーク等,第2病棟,渡邊,一郎,ワタナベ,イチロウ,,,,\r\n\
               医療クラーク等,第10病棟,齋藤,次郎,ｻｲﾄｳ,じろう,,,,\r\n\
               責任者,医事課,濵田,三郎,ハマダ,サブロウ,,,,\r\n";
    let outcome = s
        .app()
        .import_commit(
            &c.responsible,
            &ImportFile {
                bytes: csv.as_bytes(),
                name: "名簿.csv",
                origin: "web",
            },
            false,
            None,
            &|_, _| (),
        )
        .await
        .unwrap();
    let ImportOutcome::Committed { created, .. } = outcome else {
        panic!("not committed: {outcome:?}");
    };
    assert_eq!(created.len(), 3);
    assert_consistent(&s, "import").await;

    // The migration's back-fill (its SQL, run again on an emptied table) makes the same grams.
    let pool = s.app().store.pool();
    sqlx::query("DELETE FROM user_ngrams")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(backfill_sql(&s)))
        .execute(pool)
        .await
        .unwrap();
    assert_consistent(&s, "the migration's back-fill").await;

    // [変更] of 氏名, フリガナ and 部署: the old grams go, the new ones come.
    let (permit, target) = s
        .app()
        .authorize(&c.responsible, c.clerk.id, Action::Edit, None)
        .await
        .unwrap();
    let raw = RawProfile {
        department: "検査部".into(),
        family_name: "髙木".into(),
        given_name: "健".into(),
        family_kana: "タカギ".into(),
        given_kana: "ケン".into(),
        ..RawProfile::default()
    };
    s.app()
        .edit(&c.responsible, &permit, &target, &raw, None)
        .await
        .unwrap();
    assert_consistent(&s, "edit").await;
    let r = &c.responsible;
    assert_eq!(
        ids(&s, r, vec![Filter::name("高木").unwrap()]).await,
        vec![c.clerk.id]
    );
    assert!(
        ids(&s, r, vec![Filter::name(&c.clerk.family_name).unwrap()])
            .await
            .iter()
            .all(|id| *id != c.clerk.id)
    );

    // [変更] of the 部署 alone (the same フリガナ): only the grams that differ are replaced.
    let (permit, target) = s
        .app()
        .authorize(&c.responsible, c.clerk.id, Action::Edit, None)
        .await
        .unwrap();
    let moved = RawProfile {
        department: "検査部第2".into(),
        ..raw.clone()
    };
    s.app()
        .edit(&c.responsible, &permit, &target, &moved, None)
        .await
        .unwrap();
    assert_consistent(&s, "edit of the 部署 alone").await;
    assert_eq!(
        ids(&s, r, vec![Filter::department("部第2").unwrap()]).await,
        vec![c.clerk.id]
    );

    // アカウント削除: the tombstone keeps its grams (削除済 is searchable).
    let (permit, _) = s
        .app()
        .authorize(&c.responsible, c.other_clerk.id, Action::Delete, None)
        .await
        .unwrap();
    s.app().delete(&c.responsible, &permit, None).await.unwrap();
    assert_consistent(&s, "delete").await;
    let deleted = ids(
        &s,
        r,
        vec![
            Filter::name(&c.other_clerk.family_kana).unwrap(),
            Filter::State(nanbyo_accounts::domain::AccountState::Deleted),
        ],
    )
    .await;
    assert_eq!(deleted, vec![c.other_clerk.id]);
}

fn query(filters: Vec<Filter>, sort: SortKey, descending: bool, per_page: u32) -> UserQuery {
    UserQuery {
        filters,
        sort,
        descending,
        page: 1,
        per_page,
    }
}

async fn ids(s: &TestServer, actor: &UserRecord, filters: Vec<Filter>) -> Vec<i64> {
    let mut v: Vec<i64> = s
        .app()
        .search(actor, &query(filters, SortKey::Kana, false, 1000))
        .await
        .unwrap()
        .rows
        .iter()
        .map(|u| u.id)
        .collect();
    v.sort();
    v
}

/// Every page of `q` along `plan`: the ids in order, and the count of each page.
async fn pages_along(
    s: &TestServer,
    view: &View,
    q: &UserQuery,
    plan: &Plan,
) -> (Vec<i64>, Vec<(u64, bool)>) {
    let app = s.app();
    let mut out = Vec::new();
    let mut counts = Vec::new();
    for page in 1.. {
        let q = UserQuery { page, ..q.clone() };
        let p = search::search_with(
            app.store.pool(),
            view,
            &q,
            plan,
            app.now(),
            &app.settings.lockout(),
        )
        .await
        .unwrap();
        out.extend(p.rows.iter().map(|u| u.id));
        counts.push((p.total, p.capped));
        if !p.has_next {
            break;
        }
    }
    (out, counts)
}

/// Adds `n` clerks to the 責任者's institution through the import's bulk insert.
async fn add_clerks(s: &TestServer, institution_id: i64, people: &[(String, String, String)]) {
    let profiles: Vec<Profile> = people
        .iter()
        .map(|(name, kana, department)| {
            Profile::parse(
                &RawProfile {
                    department: department.clone(),
                    family_name: name.clone(),
                    given_name: "子".into(),
                    family_kana: kana.clone(),
                    given_kana: "コ".into(),
                    ..RawProfile::default()
                },
                false,
            )
            .unwrap_or_else(|e| panic!("{name} {kana} {department}: {e:?}"))
        })
        .collect();
    let home = Home::Institution {
        institution_id,
        db: Db::Nanbyo,
    };
    let accounts: Vec<(Home, UserType, &Profile)> = profiles
        .iter()
        .map(|p| (home, UserType::Clerk, p))
        .collect();
    let mut tx = s.app().store.begin_write().await.unwrap();
    users::create_many(&mut tx, &accounts, None, s.app().now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

#[rocket::async_test]
async fn a_search_through_the_grams_finds_what_the_like_alone_finds() {
    let s = server().await;
    let c = cast(&s).await;
    let institution_id = c.responsible.institution_id.unwrap();
    // Names with 異体字, half-width and hiragana kana, LIKE's own metacharacters, repeats; and a
    // common surname (1,100 タカハシ) so that the count passes the cap and a gram is common.
    let mut people: Vec<(String, String, String)> = [
        ("髙橋", "ﾀｶﾊｼ", "外来"),
        ("高橋", "たかはし", "外来1"),
        ("山﨑", "ヤマザキ", "第2病棟"),
        ("渡邊", "ワタナベ", "第10病棟"),
        ("齋藤", "サイトウ", "100%病棟"),
        ("佐々木", "ササキ", "検査_部"),
        ("林", "ハヤシ", "薬剤\\部"),
        ("ＡＢＣ", "エービーシー", "Ｉ　Ｃ　Ｕ"),
        ("濵田", "ハマダ", "医事課〜外来"),
        ("長谷川", "ハセガワ", "医事課～外来"),
    ]
    .iter()
    .map(|(a, b, d)| (a.to_string(), b.to_string(), d.to_string()))
    .collect();
    for i in 0..1_100 {
        people.push((
            ["髙橋", "高橋", "田中"][i % 3].into(),
            ["タカハシ", "タカハシ", "タナカ"][i % 3].into(),
            format!("病棟{}", i % 40),
        ));
    }
    add_clerks(&s, institution_id, &people).await;

    let actor = &c.responsible;
    let view = View::of(&actor.actor());
    let inputs = [
        "高",
        "髙",
        "橋",
        "タ",
        "た",
        "ﾀ",
        "カ",
        "サ",
        "崎",
        "﨑",
        "辺",
        "邊",
        "斎",
        "齋",
        "浜",
        "濵",
        "高橋",
        "髙橋",
        "タカ",
        "ﾀｶ",
        "たか",
        "ササ",
        "佐々",
        "タカハシ",
        "ﾀｶﾊｼ",
        "たかはし",
        "カハシ",
        "ヤマザキ",
        "山崎",
        "渡辺",
        "ワタナベ",
        "ササキ",
        "ハヤシ",
        "ハシタ",
        "abc",
        "ａｂｃ",
        "ABC",
        "b",
        "%",
        "_",
        "\\",
        "100%",
        "%病",
        "_部",
        "\\部",
        "検査_部",
        "病棟1",
        "病棟10",
        "第2",
        "第10病棟",
        "icu",
        "i c u",
        "〜",
        "～",
        "事課~外",
        "医事課〜外来",
        "ン",
        "存在しない名前",
        "タカハシタカハシタカハシ",
    ];
    let mut gram_plans = 0;
    for input in inputs {
        for (make, label) in [
            (Filter::name as fn(&str) -> Option<Filter>, "name"),
            (
                Filter::department as fn(&str) -> Option<Filter>,
                "department",
            ),
        ] {
            let Some(filter) = make(input) else { continue };
            // Pages of 400 in the default order (ordered by the gram index), whole results in
            // the others (the gram's accounts sorted, or the view read in order).
            for (sort, descending, per_page) in [
                (SortKey::Kana, false, 400),
                (SortKey::Kana, true, 1200),
                (SortKey::LoginId, false, 1200),
                (SortKey::Department, true, 1200),
            ] {
                let q = query(vec![filter.clone()], sort, descending, per_page);
                let app = s.app();
                let plan = search::choose_plan(app.store.pool(), &view, &q)
                    .await
                    .unwrap();
                if matches!(plan, Plan::Gram { .. }) {
                    gram_plans += 1;
                }
                let (got, got_counts) = pages_along(&s, &view, &q, &plan).await;
                let (want, want_counts) = pages_along(&s, &view, &q, &Plan::Scan).await;
                assert_eq!(
                    got, want,
                    "{label} {input:?} sorted {sort:?} desc={descending}: {plan:?}"
                );
                assert_eq!(got_counts, want_counts, "{label} {input:?}: {plan:?}");
            }
        }
    }
    assert!(gram_plans > 100, "the grams drove {gram_plans} searches");
    // The plans taken: a 2-character query in the default order is read in the gram index's order,
    // a gram nobody has ends the search at once, a common gram in another order reads the view.
    let app = s.app();
    let plan_of = |f: Filter, sort| {
        let q = query(vec![f], sort, false, 50);
        async move {
            search::choose_plan(app.store.pool(), &view, &q)
                .await
                .unwrap()
        }
    };
    assert!(matches!(
        plan_of(Filter::name("高橋").unwrap(), SortKey::Kana).await,
        Plan::Gram { ordered: true, .. }
    ));
    assert_eq!(
        plan_of(Filter::name("存在しない").unwrap(), SortKey::Kana).await,
        Plan::Empty
    );
    assert_eq!(
        plan_of(Filter::name("タ").unwrap(), SortKey::LoginId).await,
        Plan::Scan
    );
    assert!(matches!(
        plan_of(Filter::name("ハマダ").unwrap(), SortKey::LoginId).await,
        Plan::Gram { ordered: false, .. }
    ));
}

#[rocket::async_test]
async fn more_than_1000_results_are_shown_as_1000_or_more_and_every_page_is_reachable() {
    let s = server().await;
    let c = cast(&s).await;
    let institution_id = c.responsible.institution_id.unwrap();
    let people: Vec<(String, String, String)> = (0..1_020)
        .map(|i| {
            (
                "高橋".to_string(),
                "タカハシ".to_string(),
                format!("外来{}", i % 7),
            )
        })
        .collect();
    add_clerks(&s, institution_id, &people).await;
    s.act_as(&c.responsible).await;
    let body = |path: &'static str| {
        let s = &s;
        async move { s.get(path).await.into_string().await.unwrap() }
    };
    // The count line, the hint and the pager say 「1,000件以上」.
    let page1 = body("/users?name=%E9%AB%98%E6%A9%8B").await;
    assert!(
        page1.contains("検索結果 1,000件以上のうち 1〜50件"),
        "{}",
        &page1[page1.find("検索結果").unwrap_or(0)..][..200]
    );
    assert!(page1.contains("件数は1,000件までしか数えていません"));
    assert!(page1.contains("（全20ページ以上）"));
    // Page 21 (results 1,001–1,020) is reached by 次へ from page 20.
    let page20 = body("/users?name=%E9%AB%98%E6%A9%8B&sort=kana&dir=asc&page=20").await;
    assert!(page20.contains("のうち 951〜1,000件"), "page 20");
    assert!(page20.contains("page=21\" rel=\"next\""), "次へ on page 20");
    let page21 = body("/users?name=%E9%AB%98%E6%A9%8B&sort=kana&dir=asc&page=21").await;
    assert!(page21.contains("のうち 1,001〜1,020件"), "page 21");
    assert!(page21.contains("<span class=\"disabled\">次へ</span>"));
    assert_eq!(page21.matches("<tr>").count() - 1, 20);
    // A page past the end shows the last page, found by an exact count.
    let page99 = body("/users?name=%E9%AB%98%E6%A9%8B&page=99").await;
    assert!(page99.contains("のうち 1,001〜1,020件"), "page 99 → 21");
    // Under the cap the count stays exact.
    let few = body("/users?department=%E5%A4%96%E6%9D%A50").await;
    assert!(
        few.contains("検索結果 146件中 1〜50件"),
        "1,020 / 7 in 外来0"
    );
    assert!(!few.contains("件以上"));
}
