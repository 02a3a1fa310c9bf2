//! `remind` (DESIGN §13, issue 12): the monthly アカウント棚卸し summary to each active 責任者 /
//! 自治体担当者 with an email address and the notice before a 有効期限, written to the mail outbox in
//! Japanese, with no password and no other person's data, and sent once per period however often it
//! runs.

mod common;
#[path = "common/console.rs"]
mod console;
#[path = "common/people.rs"]
mod people;

use std::path::Path;

use common::*;
use nanbyo_accounts::domain::audit::Action;
use nanbyo_accounts::domain::Db;
use nanbyo_accounts::service::console::BootstrapHome;
use nanbyo_accounts::store::users::UserRecord;
use people::*;

const DAY: i64 = 86_400;

struct Received {
    to: String,
    subject: String,
    body: String,
}

fn outbox(s: &TestServer) -> Vec<Received> {
    let dir = nanbyo_accounts::mail::outbox_dir(s.dir.path());
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files.iter().map(|f| parse(f)).collect()
}

fn parse(file: &Path) -> Received {
    let raw = std::fs::read(file).unwrap();
    let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
    Received {
        to: m
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
        subject: m.subject().unwrap_or_default().to_string(),
        body: m.body_text(0).unwrap_or_default().replace("\r\n", "\n"),
    }
}

async fn with_email(s: &TestServer, u: &UserRecord, email: &str) {
    sqlx::query("UPDATE users SET email = $1 WHERE id = $2")
        .bind(email.to_string())
        .bind(u.id)
        .execute(s.app().store.pool())
        .await
        .unwrap();
}

#[rocket::async_test]
async fn summaries_once_a_month_and_expiry_notices_once_per_date() {
    let s = server().await;
    let c = cast(&s).await;
    with_email(&s, &c.responsible, "sekinin@hospital.example").await;
    with_email(&s, &c.officer, "ku@city.example").await;
    with_email(&s, &c.clerk, "clerk@hospital.example").await;
    let (permit, clerk) = s
        .app()
        .authorize(&c.responsible, c.clerk.id, Action::Edit, None)
        .await
        .unwrap();
    let mut raw = profile(&clerk.family_name, &clerk.family_kana, &clerk.department);
    raw.given_name = clerk.given_name.clone();
    raw.given_kana = clerk.given_kana.clone();
    raw.email = "clerk@hospital.example".into();
    // The first run is on 2026-12-08: 15 days before.
    raw.expires_on = "2026-12-23".into();
    s.app()
        .edit(&c.responsible, &permit, &clerk, &raw, None)
        .await
        .unwrap();
    let before = outbox(&s).len();
    s.clock.advance(14 * DAY);
    let report = s.app().remind().await.unwrap();
    assert_eq!(report.summaries, 2, "{:?}", report.lines);
    assert_eq!(report.expiry_notices, 0, "the 有効期限 is 15 days away");
    let all = outbox(&s);
    let mails: Vec<&Received> = all[before..].iter().collect();
    assert_eq!(mails.len(), 2);
    let to_responsible = mails
        .iter()
        .find(|m| m.to == "sekinin@hospital.example")
        .expect("the 責任者's summary");
    assert!(to_responsible
        .subject
        .contains("アカウント棚卸しの状況のお知らせ"));
    assert!(to_responsible
        .body
        .starts_with(&format!("{} 様", c.responsible.full_name())));
    assert!(to_responsible.body.contains("東京中央病院（難病DB）"));
    assert!(
        to_responsible
            .body
            .contains("通知書未発行のまま14日以上（初期パスワードの期限切れを含む）：3件"),
        "{}",
        to_responsible.body
    );
    assert!(to_responsible.body.contains("http://127.0.0.1:8000/review"));
    for m in mails.iter() {
        assert!(!m.body.contains("パスワード："), "no password");
        for other in [&c.clerk, &c.other_clerk, &c.nanbyo_doctor] {
            assert!(!m.body.contains(&other.login_id), "no login ID");
            assert!(
                !m.body.contains(&other.family_name),
                "no other person's name"
            );
        }
    }
    let to_officer = mails.iter().find(|m| m.to == "ku@city.example").unwrap();
    assert!(to_officer.body.contains("新宿区"));
    assert!(
        !to_officer.body.contains("医療クラーク等："),
        "a 自治体担当者 sees no clerks"
    );

    // The same day again, and later that month: nothing new.
    let again = s.app().remind().await.unwrap();
    assert_eq!((again.summaries, again.expiry_notices), (0, 0));
    // The next day the clerk's 有効期限 is 14 days away: one notice, once.
    s.clock.advance(DAY);
    let report = s.app().remind().await.unwrap();
    assert_eq!((report.summaries, report.expiry_notices), (0, 1));
    let notice = outbox(&s).pop().unwrap();
    assert_eq!(notice.to, "clerk@hospital.example");
    assert!(notice.subject.contains("アカウントの有効期限のお知らせ"));
    assert!(notice
        .body
        .contains("2026/12/23（令和8年12月23日）まで利用できます"));
    assert!(notice
        .body
        .contains("東京中央病院の責任者または指定医に有効期限の延長を依頼してください"));
    assert!(!notice.body.contains(&c.clerk.login_id));
    let report = s.app().remind().await.unwrap();
    assert_eq!((report.summaries, report.expiry_notices), (0, 0));
    // A new month (2027-01-08): a new summary.
    s.clock.advance(30 * DAY);
    let report = s.app().remind().await.unwrap();
    assert_eq!(report.summaries, 2);
    assert_eq!(report.expiry_notices, 0);
}

#[rocket::async_test]
async fn nobody_without_an_email_or_out_of_office_is_mailed() {
    let s = server().await;
    let responsible = bootstrap(
        &s,
        BootstrapHome::Institution {
            code: HOSPITAL.into(),
            db: Db::Nanbyo,
        },
        "責任",
    )
    .await;
    let report = s.app().remind().await.unwrap();
    assert_eq!(report.summaries, 0, "no email address");
    with_email(&s, &responsible, "r@hospital.example").await;
    sqlx::query("UPDATE users SET expires_on = '2026-11-01' WHERE id = $1")
        .bind(responsible.id)
        .execute(s.app().store.pool())
        .await
        .unwrap();
    let report = s.app().remind().await.unwrap();
    assert_eq!(
        (report.summaries, report.expiry_notices),
        (0, 0),
        "expired: no summary, and no notice for a past date"
    );
    assert!(outbox(&s).is_empty());
}

#[test]
fn the_console_command_sends_once_per_day() {
    let c = console::Console::new();
    c.add_hospital();
    let (ok, _, err) = c.bootstrap(
        ["髙橋", "美咲", "タカハシ", "ミサキ"],
        &["--email", "takahashi@hospital.example"],
    );
    assert!(ok, "{err}");
    let outbox = nanbyo_accounts::mail::outbox_dir(c.dir.path());
    let count = || {
        std::fs::read_dir(&outbox)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                    .count()
            })
            .unwrap_or(0)
    };
    let before = count();
    let (ok, out, err) = c.run(&["remind"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("棚卸しのお知らせ: 髙橋\u{3000}美咲 様（東京中央病院（難病DB））"),
        "{out}"
    );
    assert!(
        out.contains("棚卸しの月次のお知らせ 1件、有効期限のお知らせ 0件"),
        "{out}"
    );
    assert!(!out.contains("初期パスワード"), "never a password: {out}");
    assert_eq!(count(), before + 1);
    let (ok, out, _) = c.run(&["remind"]);
    assert!(ok);
    assert!(
        out.contains("棚卸しの月次のお知らせ 0件、有効期限のお知らせ 0件"),
        "{out}"
    );
    assert_eq!(
        count(),
        before + 1,
        "a second run the same day sends nothing"
    );
}

/// aiosmtpd on 127.0.0.1, storing what it receives in a Maildir (as tests/mail.rs runs it).
struct SmtpServer(std::process::Child);

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Aborts the delivery task when the test ends.
struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Without aiosmtpd the test is skipped, unless `NANBYO_TEST_REQUIRE_SMTP=1` (CI).
fn smtp_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("NANBYO_TEST_REQUIRE_SMTP").is_ok_and(|v| v == "1") {
        panic!("NANBYO_TEST_REQUIRE_SMTP=1, but aiosmtpd is not installed");
    }
    ok
}

fn maildir_messages(dir: &Path) -> Vec<Received> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .map(|p| parse(&p))
        .collect()
}

#[rocket::async_test]
async fn reminders_are_delivered_over_smtp_once() {
    if !smtp_available() {
        eprintln!("skipped: aiosmtpd not installed (pip install aiosmtpd)");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spool = tempfile::tempdir().unwrap();
    let maildir = spool.path().join("maildir");
    let _smtp = SmtpServer(
        std::process::Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m aiosmtpd"),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "aiosmtpd did not listen"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let s = server_with(|st| {
        st.smtp_host = Some("127.0.0.1".into());
        st.smtp_port = port;
        st.smtp_tls = "none".into();
        st.mail_from = Some("難病・小慢DB ユーザ管理 <nanbyo@hospital.example.jp>".into());
        st.mail_retry_seconds = 1;
    })
    .await;
    let delivery = nanbyo_accounts::mail::Delivery::from_settings(&s.app().settings)
        .unwrap()
        .expect("SMTP is configured");
    let _task = Task(delivery.spawn());
    let c = cast(&s).await;
    with_email(&s, &c.responsible, "sekinin@hospital.example.jp").await;
    let report = s.app().remind().await.unwrap();
    assert_eq!(report.summaries, 1);
    let new = maildir.join("new");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while maildir_messages(&new).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let received = maildir_messages(&new);
    assert_eq!(received.len(), 1, "the summary did not arrive");
    let m = &received[0];
    assert_eq!(m.to, "sekinin@hospital.example.jp");
    assert_eq!(
        m.subject,
        "【難病・小慢DB 医療機関ユーザ管理】アカウント棚卸しの状況のお知らせ"
    );
    assert!(m
        .body
        .contains("東京中央病院（難病DB）のアカウント棚卸しの状況"));
    assert!(!m.body.contains(&c.clerk.login_id));
    // Run again: nothing more arrives.
    let again = s.app().remind().await.unwrap();
    assert_eq!(again.summaries, 0);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(maildir_messages(&new).len(), 1);
}
