//! 操作履歴 (DESIGN §11): the screen, its filters and pages, who sees which entries (§3), the CSV export,
//! and the chain (`store::audit::verify` and `nanbyo-accounts audit verify`).

mod common;

use common::*;
use nanbyo_accounts::domain::audit::{Action, Outcome};
use nanbyo_accounts::domain::Db;
use nanbyo_accounts::service::console::BootstrapHome;
use nanbyo_accounts::store::audit::{self, AuditActor, AuditEntry, AuditTarget};
use rocket::http::Status;

/// 2026-11-25 00:00:00 JST: the first second of the day after START's.
const NEXT_DAY: i64 = START + 15 * 3600;

/// One row of the results table: its 連番 and its cells' text
/// (日時, 操作者, 操作, 対象, 結果, 端末, 詳細).
#[derive(Debug)]
struct Row {
    seq: i64,
    cells: Vec<String>,
}

impl Row {
    fn actor(&self) -> &str {
        &self.cells[1]
    }
    fn action(&self) -> &str {
        &self.cells[2]
    }
    fn target(&self) -> &str {
        &self.cells[3]
    }
    fn outcome(&self) -> &str {
        &self.cells[4]
    }
}

/// Tera's HTML escapes, undone.
fn unescape(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    unescape(out.trim())
}

fn rows(html: &str) -> Vec<Row> {
    html.split("<tr data-seq=\"")
        .skip(1)
        .map(|part| {
            let seq = part[..part.find('"').unwrap()].parse().unwrap();
            let body = &part[..part.find("</tr>").unwrap()];
            let cells = body
                .split("<td")
                .skip(1)
                .map(|c| {
                    let start = c.find('>').unwrap() + 1;
                    let end = c.find("</td>").unwrap();
                    strip_tags(&c[start..end])
                })
                .collect::<Vec<_>>();
            assert_eq!(cells.len(), 7, "{body}");
            Row { seq, cells }
        })
        .collect()
}

/// 「全N件中 a〜b件」.
fn count_line(html: &str) -> String {
    let marker = "id=\"result-count\">";
    let start = html.find(marker).expect("a result count") + marker.len();
    let end = start + html[start..].find('<').unwrap();
    html[start..end].to_string()
}

/// The href of the first link marked `rel="…"`.
fn link(html: &str, rel: &str) -> Option<String> {
    let end = html.find(&format!("\" rel=\"{rel}\""))?;
    let start = html[..end].rfind("href=\"")? + "href=\"".len();
    Some(unescape(&html[start..end]))
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn page(s: &TestServer, path: &str) -> String {
    let res = s.get(path).await;
    assert_eq!(res.status(), Status::Ok, "GET {path}");
    res.into_string().await.unwrap()
}

fn actions(rows: &[Row]) -> Vec<&str> {
    rows.iter().map(Row::action).collect()
}

/// Logs in with the temporary password, sets `new`, and logs out again.
async fn first_login(s: &TestServer, login_id: &str, temp: &str, new: &str) {
    s.login_and_set_password(login_id, temp, new).await;
    s.logout().await;
}

#[rocket::async_test]
async fn the_responsible_sees_its_history_in_japanese_and_filters_it() {
    let s = server().await;
    let res = s.get("/audit").await;
    assert_eq!(res.status(), Status::SeeOther, "not logged in");
    assert_eq!(res.headers().get_one("Location"), Some("/login"));

    // 11/24 09:00 bootstrap, 11/24 23:59:59 a wrong password, 11/25 00:00 first login, 11/25 00:10 logout,
    // 11/26 10:00 login again.
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    s.clock.set(NEXT_DAY - 1);
    let res = s.post_login(&user.login_id, "Machigai-desu1").await;
    assert_eq!(res.status(), Status::Ok);
    s.clock.set(NEXT_DAY);
    s.login_and_set_password(&user.login_id, &temp, "Kumo-no-ue7Sora")
        .await;
    s.clock.advance(600);
    s.logout().await;
    s.clock.set(NEXT_DAY + 86_400 + 10 * 3600);
    let res = s.post_login(&user.login_id, "Kumo-no-ue7Sora").await;
    assert_eq!(res.status(), Status::SeeOther);

    let menu = page(&s, "/").await;
    assert!(menu.contains("操作履歴"), "the menu offers 操作履歴");

    let html = page(&s, "/audit").await;
    assert!(html.contains("<h1>操作履歴</h1>"));
    assert!(html.contains("この画面でできること："));
    let all = rows(&html);
    assert_eq!(
        actions(&all),
        vec![
            "ログイン",
            "ログアウト",
            "パスワード変更",
            "ログイン",
            "ログイン失敗",
            "通知書発行",
            "初期ユーザ登録"
        ]
    );
    assert_eq!(count_line(&html), "全7件中 1〜7件");
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
    let bootstrap = all.last().unwrap();
    assert_eq!(bootstrap.actor(), "システム管理者（コンソール）");
    assert!(bootstrap.target().contains(&user.login_id));
    assert!(bootstrap.target().contains("髙橋"));
    assert_eq!(bootstrap.outcome(), "成功");
    assert_eq!(bootstrap.cells[0], "2026/11/24 09:00");
    let failure = &all[4];
    assert_eq!(failure.actor(), "（未認証）");
    assert_eq!(failure.outcome(), "失敗");
    assert_eq!(failure.cells[0], "2026/11/24 23:59");
    assert_eq!(failure.cells[5], "192.0.2.10");
    assert!(all[0].actor().contains(&user.login_id));
    assert_eq!(all[0].cells[0], "2026/11/26 10:00");
    // The seeded municipalities and institutions concern nobody's account.
    assert!(!all
        .iter()
        .any(|r| r.action() == "自治体登録" || r.action() == "医療機関登録"));

    // By period: JST days, both ends included.
    let day = rows(&page(&s, "/audit?from=2026-11-24&to=2026-11-24").await);
    assert_eq!(
        actions(&day),
        vec!["ログイン失敗", "通知書発行", "初期ユーザ登録"]
    );
    let day = rows(&page(&s, "/audit?from=2026-11-25&to=2026-11-25").await);
    assert_eq!(
        actions(&day),
        vec!["ログアウト", "パスワード変更", "ログイン"]
    );
    let since = rows(&page(&s, "/audit?from=2026%2F11%2F26").await);
    assert_eq!(actions(&since), vec!["ログイン"]);
    let until = rows(&page(&s, "/audit?to=2026-11-25").await);
    assert_eq!(until.len(), 6);

    // By action, alone and with a period.
    let logins = rows(&page(&s, "/audit?action=login_success").await);
    assert_eq!(actions(&logins), vec!["ログイン", "ログイン"]);
    let html = page(&s, "/audit?action=login_success&from=2026-11-26").await;
    assert_eq!(rows(&html).len(), 1);
    assert!(html.contains("<option value=\"login_success\" selected>ログイン</option>"));
    assert!(
        html.contains("value=\"2026-11-26\""),
        "the form keeps the date"
    );

    // By 操作者 (login ID or name, words in any spacing; the console by its shown name) and 対象.
    let by_actor = rows(&page(&s, &format!("/audit?actor={}", user.login_id)).await);
    assert_eq!(
        actions(&by_actor),
        vec!["ログイン", "ログアウト", "パスワード変更", "ログイン"]
    );
    let by_name = rows(&page(&s, &format!("/audit?actor={}", enc("髙橋 美咲"))).await);
    assert_eq!(by_name.len(), 4, "「髙橋 美咲」 finds 「髙橋　美咲」");
    let console = rows(&page(&s, &format!("/audit?actor={}", enc("コンソール"))).await);
    assert_eq!(actions(&console), vec!["通知書発行", "初期ユーザ登録"]);
    let by_target = rows(&page(&s, &format!("/audit?target={}", enc("髙橋"))).await);
    assert!(by_target.len() >= 3);
    assert!(by_target.iter().all(|r| r.target().contains("髙橋")));
    let html = page(&s, &format!("/audit?target={}", enc("存在しない"))).await;
    assert!(rows(&html).is_empty());
    assert_eq!(count_line(&html), "全0件");
    assert!(html.contains("条件に合う操作履歴はありません。"));

    // Conditions that cannot be read are explained, not guessed at.
    let html = page(&s, "/audit?from=2026-13-40").await;
    assert!(html.contains("検索条件に誤りがあります。"));
    assert!(
        html.contains("期間（開始日）が正しくありません。"),
        "{html}"
    );
    assert!(rows(&html).is_empty());
    let html = page(&s, "/audit?from=2026-11-26&to=2026-11-25").await;
    assert!(html.contains(
        "期間（終了日）は期間（開始日）と同じ日か、それより後の日付を入力してください。"
    ));
}

#[rocket::async_test]
async fn pages_hold_fifty_entries_and_keep_the_filters() {
    let s = server_with(|c| {
        c.lockout_threshold = 1000;
        c.throttle_max_failures = 1000;
    })
    .await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    for _ in 0..50 {
        let res = s.post_login(&user.login_id, "Machigai-desu1").await;
        assert_eq!(res.status(), Status::Ok);
    }
    s.login_and_set_password(&user.login_id, &temp, "Kumo-no-ue7Sora")
        .await;
    // bootstrap + its notice, 50 failures, the login and the password change.
    let total = 2 + 50 + 2;

    let html = page(&s, "/audit").await;
    assert_eq!(count_line(&html), format!("全{total}件中 1〜50件"));
    let first = rows(&html);
    assert_eq!(first.len(), 50);
    assert!(first.windows(2).all(|w| w[0].seq > w[1].seq));
    assert_eq!(link(&html, "prev"), None);
    assert!(html.contains("1 / 2 ページ"));
    let next = link(&html, "next").expect("a link to page 2");
    assert_eq!(next, "/audit?page=2");

    let html = page(&s, &next).await;
    assert_eq!(count_line(&html), format!("全{total}件中 51〜{total}件"));
    let second = rows(&html);
    assert_eq!(second.len(), total - 50);
    assert!(second[0].seq < first[49].seq, "page 2 continues page 1");
    assert_eq!(second.last().unwrap().action(), "初期ユーザ登録");
    assert_eq!(link(&html, "next"), None);
    assert_eq!(link(&html, "prev").as_deref(), Some("/audit?page=1"));

    // Exactly 50 matches: one full page, no page 2; a page past the end shows the last one.
    let html = page(&s, "/audit?action=login_failure").await;
    assert_eq!(count_line(&html), "全50件中 1〜50件");
    assert!(rows(&html).iter().all(|r| r.action() == "ログイン失敗"));
    assert_eq!(link(&html, "next"), None);
    let html = page(&s, "/audit?action=login_failure&page=2").await;
    assert_eq!(count_line(&html), "全50件中 1〜50件");
    let html = page(&s, "/audit?page=99").await;
    assert_eq!(count_line(&html), format!("全{total}件中 51〜{total}件"));

    // The page links keep the conditions (and the CSV link carries them too).
    let html = page(&s, "/audit?to=2026-11-24&actor=").await;
    assert_eq!(count_line(&html), format!("全{total}件中 1〜50件"));
    let next = link(&html, "next").unwrap();
    assert_eq!(next, "/audit?to=2026-11-24&page=2");
    let html = page(&s, &next).await;
    assert_eq!(
        link(&html, "prev").as_deref(),
        Some("/audit?to=2026-11-24&page=1")
    );
    assert!(html.contains("href=\"&#x2F;audit&#x2F;export.csv?to=2026-11-24\""));
}

#[rocket::async_test]
async fn each_person_sees_only_the_entries_its_role_allows() {
    let s = server().await;
    let sapporo_hospital = "0111234567";
    s.app()
        .add_institution(sapporo_hospital, "札幌北病院", SAPPORO)
        .await
        .unwrap();
    let (nanbyo, nanbyo_temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    let (shoman, shoman_temp) = s.bootstrap(Db::Shoman, "佐藤").await;
    let inst = |code: &str| BootstrapHome::Institution {
        code: code.into(),
        db: Db::Nanbyo,
    };
    let (other, other_temp) = s
        .bootstrap_home(inst(OTHER_HOSPITAL), "鈴木", "スズキ")
        .await;
    let (far, far_temp) = s
        .bootstrap_home(inst(sapporo_hospital), "田中", "タナカ")
        .await;
    let (officer, officer_temp) = s
        .bootstrap_home(
            BootstrapHome::Municipality {
                code: SHINJUKU.into(),
            },
            "山本",
            "ヤマモト",
        )
        .await;
    first_login(&s, &nanbyo.login_id, &nanbyo_temp, "Kumo-no-ue7Sora").await;
    first_login(&s, &other.login_id, &other_temp, "Umi-no-soko8Ao").await;
    first_login(&s, &far.login_id, &far_temp, "Yama-no-ue9Midori").await;
    // A failed login against the 難病DB 責任者 (nobody identified; read through the target).
    s.post_login(&nanbyo.login_id, "Machigai-desu1").await;

    // The 小慢DB 責任者 of the same hospital: only its own account's entries.
    s.login_and_set_password(&shoman.login_id, &shoman_temp, "Hoshi-no-sora6Ki")
        .await;
    let mine = rows(&page(&s, "/audit").await);
    assert_eq!(
        actions(&mine),
        vec!["パスワード変更", "ログイン", "通知書発行", "初期ユーザ登録"]
    );
    for r in &mine {
        assert!(
            r.actor().contains(&shoman.login_id) || r.target().contains(&shoman.login_id),
            "{r:?}"
        );
    }
    let res = s.get("/audit/export.csv").await;
    assert_eq!(res.status(), Status::Ok);
    let csv = String::from_utf8(res.into_bytes().await.unwrap()).unwrap();
    assert!(csv.contains(&shoman.login_id));
    for stranger in [&nanbyo, &other, &far, &officer] {
        assert!(!csv.contains(&stranger.login_id), "{}", stranger.login_id);
    }
    s.logout().await;

    // The 難病DB 責任者 sees its own entries, including the failure, and nobody else's.
    s.post_login(&nanbyo.login_id, "Kumo-no-ue7Sora").await;
    let mine = rows(&page(&s, "/audit").await);
    assert!(mine
        .iter()
        .any(|r| r.action() == "ログイン失敗" && r.actor() == "（未認証）"));
    for r in &mine {
        let text = r.cells.join(" ");
        for stranger in [&shoman, &other, &far, &officer] {
            assert!(!text.contains(&stranger.login_id), "{r:?}");
        }
    }
    s.logout().await;

    // The 自治体担当者 of 新宿区 sees the 責任者 of both 新宿区 hospitals, not 札幌's.
    s.login_and_set_password(&officer.login_id, &officer_temp, "Kaze-no-oto5Tori")
        .await;
    let html = page(&s, "/audit?action=bootstrap").await;
    let boots = rows(&html);
    let targets: Vec<&str> = boots.iter().map(Row::target).collect();
    for seen in [&nanbyo, &shoman, &other, &officer] {
        assert!(
            targets.iter().any(|t| t.contains(&seen.login_id)),
            "{} in {targets:?}",
            seen.login_id
        );
    }
    assert_eq!(boots.len(), 4);
    let all = page(&s, "/audit").await;
    assert!(
        !all.contains(&far.login_id),
        "札幌市's hospital is not 新宿区's"
    );
}

#[rocket::async_test]
async fn the_chain_verifies_and_names_an_edited_entry() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    s.login_and_set_password(&user.login_id, &temp, "Kumo-no-ue7Sora")
        .await;
    let app = s.app();
    let n = audit::verify(&app.store, &app.keys.audit)
        .await
        .unwrap()
        .expect("an untouched chain verifies");
    assert_eq!(n, s.audit().await.len() as u64);
    assert!(n >= 8);

    sqlx::query("UPDATE audit_log SET details = 'x' WHERE seq = 2")
        .execute(app.store.pool())
        .await
        .unwrap();
    let broken = audit::verify(&app.store, &app.keys.audit)
        .await
        .unwrap()
        .expect_err("an edited entry is found");
    assert_eq!(broken.seq, 2);
}

#[rocket::async_test]
async fn the_chain_names_a_removed_entry() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    s.login_and_set_password(&user.login_id, &temp, "Kumo-no-ue7Sora")
        .await;
    let app = s.app();
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(app.store.pool())
        .await
        .unwrap();
    let broken = audit::verify(&app.store, &app.keys.audit)
        .await
        .unwrap()
        .expect_err("a gap is found");
    assert_eq!(broken.seq, 3);
    assert!(broken.reason.contains("gap"), "{}", broken.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_keep_one_chain() {
    let s = server().await;
    let (user, _) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    let app = s.app();
    let before = audit::verify(&app.store, &app.keys.audit)
        .await
        .unwrap()
        .unwrap();
    let writer = |name: &'static str| {
        let store = app.store.clone();
        let key = app.keys.audit.clone();
        let user = user.clone();
        tokio::spawn(async move {
            let calls = (0..25).map(|n| {
                let entry =
                    AuditEntry::new(AuditActor::user(&user), Action::Edit, Outcome::Success)
                        .target(AuditTarget::user(&user))
                        .details(format!("{name} {n}"));
                let store = store.clone();
                let key = key.clone();
                async move { audit::record(&store, &key, &entry, START + n).await }
            });
            for r in futures_util::future::join_all(calls).await {
                r.unwrap();
            }
        })
    };
    let (a, b) = tokio::join!(writer("writer-a"), writer("writer-b"));
    a.unwrap();
    b.unwrap();

    let after = audit::verify(&app.store, &app.keys.audit)
        .await
        .unwrap()
        .expect("concurrent appends never fork the chain");
    assert_eq!(after, before + 50);
    let entries = s.audit().await;
    assert_eq!(entries.len() as u64, after);
    for name in ["writer-a", "writer-b"] {
        let mine = entries
            .iter()
            .filter(|e| e.content.details.starts_with(name))
            .count();
        assert_eq!(mine, 25, "{name}");
    }
    assert!(entries
        .iter()
        .enumerate()
        .all(|(i, e)| e.content.seq == i as i64 + 1));
}

#[rocket::async_test]
async fn the_csv_export_is_for_excel_and_is_itself_recorded() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    s.login_and_set_password(&user.login_id, &temp, "Kumo-no-ue7Sora")
        .await;
    let app = s.app();
    let planted = AuditEntry::new(AuditActor::user(&user), Action::Edit, Outcome::Success)
        .target(AuditTarget {
            label: "=HYPERLINK(\"http://x\")".into(),
            ..AuditTarget::user(&user)
        })
        .details("=cmd()");
    audit::record(&app.store, &app.keys.audit, &planted, app.now())
        .await
        .unwrap();
    let planted = AuditEntry::new(AuditActor::user(&user), Action::Edit, Outcome::Failure)
        .target(AuditTarget::user(&user))
        .details("@SUM(A1)");
    audit::record(&app.store, &app.keys.audit, &planted, app.now())
        .await
        .unwrap();

    let res = s.get("/audit/export.csv").await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(
        res.headers().get_one("Content-Type"),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        res.headers().get_one("Content-Disposition"),
        Some("attachment; filename=\"audit.csv\"")
    );
    assert_eq!(res.headers().get_one("Cache-Control"), Some("no-store"));
    let bytes = res.into_bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 with BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(text.ends_with("\r\n"));
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "CRLF only"
    );
    let lines: Vec<&str> = text.trim_end_matches("\r\n").split("\r\n").collect();
    assert_eq!(
        lines[0],
        "\"連番\",\"日時\",\"操作者\",\"操作\",\"対象\",\"結果\",\"端末\",\"詳細\""
    );
    let data = &lines[1..];
    // bootstrap + notice, login, password change, the two planted entries.
    assert_eq!(data.len(), 6);
    assert!(
        data[0].ends_with(",\"失敗\",\"\",\"'@SUM(A1)\""),
        "{}",
        data[0]
    );
    assert!(
        data[1].contains(",\"'=HYPERLINK(\"\"http://x\"\")\","),
        "{}",
        data[1]
    );
    assert!(data[1].ends_with(",\"'=cmd()\""), "{}", data[1]);
    assert!(!text.contains("\"=cmd()\""));
    assert!(data[5].contains("\"システム管理者（コンソール）\",\"初期ユーザ登録\""));
    assert!(data[5].contains("\"2026/11/24 09:00:00\""));

    // The export is in the chain, with who and how many.
    let entries = s.audit().await;
    let last = entries.last().unwrap();
    assert_eq!(last.content.action, "csv_export");
    assert_eq!(last.content.actor_user_id, Some(user.id));
    assert_eq!(last.content.details, "操作履歴CSV出力 6件");
    assert_eq!(last.content.client_addr.as_deref(), Some("192.0.2.10"));
    assert!(audit::verify(&app.store, &app.keys.audit)
        .await
        .unwrap()
        .is_ok());

    // The same conditions as the screen; the entry names them.
    let res = s.get("/audit/export.csv?action=login_success").await;
    let text = String::from_utf8(res.into_bytes().await.unwrap()[3..].to_vec()).unwrap();
    let data: Vec<&str> = text
        .trim_end_matches("\r\n")
        .split("\r\n")
        .skip(1)
        .collect();
    assert_eq!(data.len(), 1);
    assert!(data[0].contains(",\"ログイン\","));
    let last = s.audit().await.pop().unwrap();
    assert_eq!(
        last.content.details,
        "操作履歴CSV出力 1件（操作: ログイン）"
    );

    // And the screen shows both exports.
    let exports = rows(&page(&s, "/audit?action=csv_export").await);
    assert_eq!(exports.len(), 2);
    assert!(exports[0].cells[6].starts_with("操作履歴CSV出力 1件"));

    // Unreadable conditions give the screen with the explanation, not a file.
    let res = s.get("/audit/export.csv?to=yesterday").await;
    assert_eq!(res.status(), Status::Ok);
    assert_eq!(res.content_type(), Some(rocket::http::ContentType::HTML));
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("期間（終了日）は西暦の日付"));
}

/// The binary with its data folder in `dir`, on the test's database when not the default.
fn cli_on(dir: &std::path::Path, database: Option<&str>, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nanbyo-accounts"));
    cmd.args(args)
        .current_dir(dir)
        .env("NANBYO_DATA_DIR", dir)
        .env_remove("ROCKET_PROFILE")
        .env_remove("ROCKET_CONFIG");
    if let Some(url) = database {
        cmd.env("ROCKET_DATABASES", database::rocket_databases(url));
    }
    cmd.output().unwrap()
}

#[tokio::test]
async fn the_verify_command_reports_success_and_names_a_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let database = database::test_database_url(dir.path());
    let cli = |dir: &std::path::Path, args: &[&str]| cli_on(dir, database.as_deref(), args);
    let out = cli(
        dir.path(),
        &[
            "municipality",
            "add",
            "--code",
            SHINJUKU,
            "--name",
            "新宿区",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(
        dir.path(),
        &[
            "institution",
            "add",
            "--code",
            HOSPITAL,
            "--name",
            "東京中央病院",
            "--municipality",
            SHINJUKU,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = cli(dir.path(), &["audit", "verify"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("検証に成功"), "{stdout}");
    assert!(stdout.contains("（2件）"), "{stdout}");

    let url = database::effective_url(database.as_deref(), dir.path());
    let pool = database::connect(&url).await;
    let changed = sqlx::query("UPDATE audit_log SET details = 'x' WHERE seq = 2")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    pool.close().await;

    let out = cli(dir.path(), &["audit", "verify"]);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success());
    assert!(stderr.contains("連番 2"), "{stderr}");
    assert!(!String::from_utf8(out.stdout)
        .unwrap()
        .contains("検証に成功"));
}

#[rocket::async_test]
async fn entries_are_read_through_the_actor_or_the_target_in_view() {
    use nanbyo_accounts::domain::account::RawProfile;
    use nanbyo_accounts::domain::audit::AuditQuery;
    use nanbyo_accounts::domain::visibility::View;
    use nanbyo_accounts::service::users::Registration;
    use nanbyo_accounts::store::users::UserRecord;

    let s = server().await;
    let (responsible, _) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    let (shoman, _) = s.bootstrap(Db::Shoman, "佐藤").await;
    let (officer, _) = s
        .bootstrap_home(
            BootstrapHome::Municipality {
                code: SHINJUKU.into(),
            },
            "山本",
            "ヤマモト",
        )
        .await;
    let reg = Registration {
        user_type: "clerk".into(),
        db: String::new(),
        institution_code: String::new(),
        profile: RawProfile {
            department: "医事課".into(),
            family_name: "中村".into(),
            given_name: "花子".into(),
            family_kana: "ナカムラ".into(),
            given_kana: "ハナコ".into(),
            ..RawProfile::default()
        },
    };
    let clerk = s.app().register(&responsible, &reg, None).await.unwrap();

    // A failed login against the clerk: nobody identified, read through the target only.
    s.post_login(&clerk.login_id, "Machigai-desu1").await;

    let app = s.app();
    let seen = |viewer: UserRecord| async move {
        let view = View::of(&viewer.actor());
        audit::list_visible(
            app.store.pool(),
            viewer.id,
            &view,
            &AuditQuery::default(),
            None,
        )
        .await
        .unwrap()
    };
    let is_registration = |e: &audit::StoredEntry| {
        e.content.action == "register" && e.content.target_user_id == Some(clerk.id)
    };

    let is_failure = |e: &audit::StoredEntry| {
        e.content.action == "login_failure" && e.content.target_user_id == Some(clerk.id)
    };

    // The 責任者 who registered the clerk, and the clerk itself, see the registration and the failure.
    let responsibles = seen(responsible.clone()).await;
    assert!(responsibles.iter().any(is_registration));
    assert!(responsibles.iter().any(is_failure));
    let clerks = seen(clerk.clone()).await;
    assert!(clerks.iter().any(is_registration));
    assert!(clerks.iter().any(is_failure));
    assert!(clerks
        .iter()
        .all(|e| e.content.actor_user_id == Some(clerk.id)
            || e.content.target_user_id == Some(clerk.id)));
    // The 小慢DB 責任者 of the same hospital does not.
    let shomans = seen(shoman.clone()).await;
    assert!(!shomans.iter().any(is_registration));
    assert!(!shomans.iter().any(is_failure));
    // The 自治体担当者 does not see the clerk's own entries, but does see what a 責任者 of its
    // municipality did (read through the actor).
    let officers = seen(officer.clone()).await;
    assert!(officers.iter().any(is_registration));
    assert!(!officers.iter().any(is_failure));
}
