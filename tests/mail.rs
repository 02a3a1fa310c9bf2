//! Email (DESIGN §12): the registration mail (web form and CSV import) and the lock mail to the
//! managers, as .eml files in `<data_dir>/mail/outbox/` (the default: no SMTP server), and the
//! delivery over a real SMTP server on 127.0.0.1 (aiosmtpd), including a server that is down for a
//! while. Never a password, never the login ID in a registration mail.

mod common;
#[path = "common/people.rs"]
mod people;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use futures_util::future::join_all;
use nanbyo_accounts::domain::account::RawProfile;
use nanbyo_accounts::domain::Db;
use nanbyo_accounts::mail::{self, Delivery};
use nanbyo_accounts::service::console::BootstrapHome;
use nanbyo_accounts::service::imports::{ImportFile, ImportOutcome};
use nanbyo_accounts::service::users::Registration;
use nanbyo_accounts::store::users::UserRecord;
use people::{cast, profile};
use rocket::http::{ContentType, Status};

/// One message as a mail client shows it.
#[derive(Debug)]
struct Received {
    to: String,
    subject: String,
    body: String,
    raw: String,
    file: PathBuf,
}

fn parse(file: &Path) -> Received {
    let raw = std::fs::read(file).unwrap();
    let m = mail_parser::MessageParser::default()
        .parse(&raw)
        .unwrap_or_else(|| panic!("{} is not a message", file.display()));
    Received {
        to: m
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string(),
        subject: m.subject().unwrap_or_default().to_string(),
        body: m.body_text(0).unwrap_or_default().replace("\r\n", "\n"),
        raw: String::from_utf8_lossy(&raw).into_owned(),
        file: file.to_path_buf(),
    }
}

/// The messages in a folder (the outbox, or a Maildir's `new/`), oldest first.
fn messages_in(dir: &Path) -> Vec<Received> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    files.iter().map(|f| parse(f)).collect()
}

fn outbox(s: &TestServer) -> Vec<Received> {
    messages_in(&mail::outbox_dir(s.dir.path()))
}

/// No line of a message gives a password a value, and no link is in it.
fn no_password(text: &str) {
    for marker in ["パスワード：", "パスワード:", "パスワード　："] {
        assert!(
            !text.contains(marker),
            "a password value ({marker}) in:\n{text}"
        );
    }
    assert!(!text.contains("http://") && !text.contains("https://"));
}

fn with_email(family: &str, kana: &str, department: &str, email: &str) -> RawProfile {
    RawProfile {
        email: email.into(),
        ..profile(family, kana, department)
    }
}

async fn register(
    s: &TestServer,
    actor: &UserRecord,
    user_type: &str,
    institution: &str,
    raw: RawProfile,
) -> UserRecord {
    let reg = Registration {
        user_type: user_type.into(),
        db: String::new(),
        institution_code: institution.into(),
        profile: raw,
    };
    s.app().register(actor, &reg, None).await.unwrap()
}

fn addr(n: u8) -> SocketAddr {
    format!("192.0.2.{n}:50000").parse().unwrap()
}

/// `n` wrong-password logins for `login_id` sent at once, each from its own address.
async fn wrong_logins_at_once(s: &TestServer, login_id: &str, n: u8, first_addr: u8) {
    let csrf = s.login_csrf().await;
    let body = form(&[
        ("csrf", &csrf),
        ("login_id", login_id),
        ("password", "Wrong-password-1"),
    ]);
    let requests = (0..n).map(|i| {
        s.client
            .post("/login")
            .remote(addr(first_addr + i))
            .header(ContentType::Form)
            .body(body.clone())
            .dispatch()
    });
    for res in join_all(requests).await {
        assert_eq!(res.status(), Status::Ok);
    }
}

/// Gives `user` a temporary password (so wrong passwords count) and locks it by five wrong ones
/// sent at once.
async fn lock_by_wrong_logins(s: &TestServer, user: &UserRecord, first_addr: u8) {
    s.app()
        .console_reset(&user.login_id, "テスト")
        .await
        .unwrap();
    wrong_logins_at_once(s, &user.login_id, 5, first_addr).await;
    let u = s.reload(user).await;
    assert!(
        u.lockout()
            .is_locked(&s.app().settings.lockout(), s.app().now()),
        "{} must be locked",
        user.login_id
    );
}

fn locks(messages: &[Received]) -> Vec<&Received> {
    messages
        .iter()
        .filter(|m| m.subject.contains("アカウントロックのお知らせ"))
        .collect()
}

#[rocket::async_test]
async fn registering_on_the_form_writes_one_japanese_message_to_the_outbox() {
    let s = server().await;
    let c = cast(&s).await;
    assert!(
        outbox(&s).is_empty(),
        "nobody in the cast has an email address"
    );
    s.act_as(&c.responsible).await;
    let csrf = s.page_csrf("/users/new").await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("user_type", "clerk"),
        ("db", "nanbyo"),
        ("institution", ""),
        ("profile.department", "第2病棟"),
        ("profile.family_name", "髙橋"),
        ("profile.given_name", "美咲"),
        ("profile.family_kana", "タカハシ"),
        ("profile.given_kana", "ミサキ"),
        ("profile.medical_reg_no", ""),
        ("profile.email", "takahashi@hospital.example.jp"),
        ("profile.phone", ""),
        ("profile.expires_on", ""),
        ("profile.remarks", ""),
    ];
    let res = s.post_form("/users/new", &fields).await;
    assert_eq!(res.status(), Status::SeeOther);
    let location = res.headers().get_one("Location").unwrap().to_string();
    let id: i64 = location
        .trim_start_matches("/users/")
        .trim_end_matches("/registered")
        .parse()
        .unwrap();
    let user = s.user(id).await;

    let messages = outbox(&s);
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert!(m.file.extension().is_some_and(|e| e == "eml"));
    assert_eq!(m.to, "takahashi@hospital.example.jp");
    assert_eq!(
        m.subject,
        "【難病・小慢DB 医療機関ユーザ管理】アカウント登録のお知らせ"
    );
    for part in [
        "髙橋\u{3000}美咲 様",
        "東京中央病院（医療機関コード 1311234567）",
        "対象DB　　：難病DB",
        "ユーザ種別：医療クラーク等",
        "部署　　　：第2病棟",
        "2026/11/24 09:00",
        "「IDパスワード発行通知書」により、東京中央病院の責任者または指定医からお渡しします",
        "お心当たりのない場合は、東京中央病院の責任者または指定医にお問い合わせください",
    ] {
        assert!(m.body.contains(part), "missing {part} in:\n{}", m.body);
    }
    // Neither the login ID nor any password, in the text or in the raw file.
    assert!(!m.body.contains(&user.login_id) && !m.raw.contains(&user.login_id));
    no_password(&m.body);
    // MIME-encoded: the file is ASCII, the Japanese only appears decoded.
    assert!(m.raw.is_ascii());
    assert!(m.raw.contains("Content-Type: text/plain; charset=utf-8"));

    // Issuing the notice afterwards mails nothing (the password goes on paper only), and a person
    // without an email address gets no message.
    let (_, issued) = s
        .app()
        .console_reset(&user.login_id, "テスト")
        .await
        .unwrap();
    let plain = register(
        &s,
        &c.responsible,
        "clerk",
        "",
        profile("鈴木", "スズキ", "外来"),
    )
    .await;
    assert!(plain.email.is_none());
    let messages = outbox(&s);
    assert_eq!(messages.len(), 1);
    assert!(!messages[0].raw.contains(&issued.password));
}

#[rocket::async_test]
async fn a_csv_import_mails_each_new_account_that_has_an_email_address() {
    let s = server().await;
    let c = cast(&s).await;
    let csv = "ユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,メールアドレス,電話番号,有効期限,備考\r\n\
               医療クラーク等,第2病棟,渡邊,一郎,ワタナベ,イチロウ,watanabe@hospital.example.jp,,,\r\n\
               医療クラーク等,第10病棟,齋藤,次郎,サイトウ,ジロウ,,,,\r\n\
               責任者,医事課,濵田,三郎,ハマダ,サブロウ,hamada@hospital.example.jp,,,\r\n";
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
    let messages = outbox(&s);
    let mut to: Vec<&str> = messages.iter().map(|m| m.to.as_str()).collect();
    to.sort();
    assert_eq!(
        to,
        ["hamada@hospital.example.jp", "watanabe@hospital.example.jp"]
    );
    for m in &messages {
        assert!(m.subject.ends_with("アカウント登録のお知らせ"));
        for (_, _, login_id, _) in &created {
            assert!(!m.raw.contains(login_id.as_str()));
        }
        no_password(&m.body);
    }
    let watanabe = messages
        .iter()
        .find(|m| m.to.starts_with("watanabe"))
        .unwrap();
    assert!(watanabe.body.contains("渡邊\u{3000}一郎 様"));
    assert!(watanabe
        .body
        .contains("東京中央病院の責任者または指定医からお渡しします"));
    let hamada = messages
        .iter()
        .find(|m| m.to.starts_with("hamada"))
        .unwrap();
    assert!(hamada.body.contains("ユーザ種別：責任者"));
    assert!(hamada.body.contains("東京中央病院の責任者からお渡しします"));
}

#[rocket::async_test]
async fn a_clerk_s_lock_mails_each_responsible_with_an_email_once() {
    let s = server().await;
    let home = |code: &str, db| BootstrapHome::Institution {
        code: code.into(),
        db,
    };
    let (first, _) = s
        .app()
        .bootstrap(
            &home(HOSPITAL, Db::Nanbyo),
            &with_email("責任", "セキニン", "医事課", "first@hospital.example.jp"),
        )
        .await
        .unwrap();
    let second = register(
        &s,
        &first,
        "responsible",
        "",
        with_email(
            "副責任",
            "フクセキニン",
            "医事課",
            "second@hospital.example.jp",
        ),
    )
    .await;
    // A 責任者 without an email address, and those who do not manage this clerk: the 小慢DB's 責任者,
    // another hospital's, the 自治体担当者, and a 指定医 (who manages clerks but is not told).
    register(
        &s,
        &first,
        "responsible",
        "",
        profile("無メール", "ムメール", "医事課"),
    )
    .await;
    s.app()
        .bootstrap(
            &home(HOSPITAL, Db::Shoman),
            &with_email(
                "小慢責任",
                "ショウマン",
                "医事課",
                "shoman@hospital.example.jp",
            ),
        )
        .await
        .unwrap();
    s.app()
        .bootstrap(
            &home(OTHER_HOSPITAL, Db::Nanbyo),
            &with_email("西責任", "ニシ", "医事課", "west@clinic.example.jp"),
        )
        .await
        .unwrap();
    let (officer, _) = s
        .app()
        .bootstrap(
            &BootstrapHome::Municipality {
                code: SHINJUKU.into(),
            },
            &with_email(
                "区担当",
                "クタントウ",
                "保健予防課",
                "officer@city.example.jp",
            ),
        )
        .await
        .unwrap();
    let mut doctor = with_email(
        "難病医",
        "ナンビョウイ",
        "内科",
        "doctor@hospital.example.jp",
    );
    doctor.medical_reg_no = "100001".into();
    register(&s, &officer, "nanbyo_doctor", HOSPITAL, doctor).await;
    let clerk = register(
        &s,
        &first,
        "clerk",
        "",
        profile("山﨑", "ヤマザキ", "第2病棟"),
    )
    .await;
    let before = outbox(&s).len();

    lock_by_wrong_logins(&s, &clerk, 20).await;
    // Failures after the lock send nothing more.
    wrong_logins_at_once(&s, &clerk.login_id, 3, 40).await;

    let messages = outbox(&s);
    let lock_mails = locks(&messages);
    assert_eq!(messages.len() - before, lock_mails.len());
    let mut to: Vec<&str> = lock_mails.iter().map(|m| m.to.as_str()).collect();
    to.sort();
    assert_eq!(
        to,
        ["first@hospital.example.jp", "second@hospital.example.jp"],
        "exactly one lock mail per 責任者 with an email address"
    );
    let m = lock_mails
        .iter()
        .find(|m| m.to == "second@hospital.example.jp")
        .unwrap();
    assert_eq!(
        m.subject,
        "【難病・小慢DB 医療機関ユーザ管理】アカウントロックのお知らせ（山﨑\u{3000}花子 様）"
    );
    assert!(m.body.starts_with(&format!("{} 様\n", second.full_name())));
    for part in [
        "氏名　　　：山﨑\u{3000}花子".to_string(),
        format!("ログインID：{}", clerk.login_id),
        "部署　　　：第2病棟".to_string(),
        "東京中央病院（難病DB）".to_string(),
        "ロック日時：2026/11/24 09:00（日本時間）".to_string(),
        "［アカウントロック解除］".to_string(),
        "30分後（2026/11/24 09:30頃）に自動的に解除されます".to_string(),
    ] {
        assert!(m.body.contains(&part), "missing {part} in:\n{}", m.body);
    }
    no_password(&m.body);
}

#[rocket::async_test]
async fn a_doctor_s_lock_goes_to_the_municipal_officers_with_an_email() {
    let s = server_with(|st| st.lockout_release_minutes = 0).await;
    let c = cast(&s).await;
    // The cast has no addresses: give the officer one, and the 責任者 one (a 責任者 does not manage
    // 指定医, so is not told).
    sqlx::query("UPDATE users SET email = 'resp@hospital.example.jp' WHERE id = $1")
        .bind(c.responsible.id)
        .execute(s.app().store.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE users SET email = 'officer@city.example.jp' WHERE id = $1")
        .bind(c.officer.id)
        .execute(s.app().store.pool())
        .await
        .unwrap();
    // Another municipality's officer with an address is not told either.
    s.bootstrap_home(
        BootstrapHome::Municipality {
            code: SAPPORO.into(),
        },
        "札幌担当",
        "サッポロ",
    )
    .await;
    sqlx::query("UPDATE users SET email = 'sapporo@city.example.jp' WHERE user_type = 'municipal' AND id <> $1")
        .bind(c.officer.id)
        .execute(s.app().store.pool())
        .await
        .unwrap();

    lock_by_wrong_logins(&s, &c.nanbyo_doctor, 20).await;
    let messages = outbox(&s);
    let lock_mails = locks(&messages);
    assert_eq!(lock_mails.len(), 1, "{messages:?}");
    let m = lock_mails[0];
    assert_eq!(m.to, "officer@city.example.jp");
    assert!(m.body.contains("ユーザ種別：難病指定医"));
    assert!(m.body.contains("氏名　　　：難病医\u{3000}花子"));
    assert!(m.body.contains("自動では解除されません"));
    no_password(&m.body);

    // A 自治体担当者's lock: the console's to release; nobody is mailed.
    let before = outbox(&s).len();
    lock_by_wrong_logins(&s, &c.officer, 60).await;
    assert_eq!(outbox(&s).len(), before);
}

// ---------------------------------------------------------------------------------------------
// Delivery over SMTP (aiosmtpd on 127.0.0.1).

/// `python3 -m aiosmtpd` storing every message in a Maildir; killed when dropped.
struct SmtpServer {
    child: Child,
}

impl SmtpServer {
    fn start(port: u16, maildir: &Path) -> SmtpServer {
        SmtpServer::start_with(port, maildir, &[])
    }

    /// With more options for aiosmtpd (e.g. `--tlscert`, `--tlskey`).
    fn start_with(port: u16, maildir: &Path, options: &[&std::ffi::OsStr]) -> SmtpServer {
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(options)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            // Its log (including the expected refusal of an unknown CA) beside the Maildir.
            .stderr(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(maildir.with_extension("log"))
                    .unwrap(),
            )
            .spawn()
            .expect("python3 -m aiosmtpd");
        let mut server = SmtpServer { child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                let log =
                    std::fs::read_to_string(maildir.with_extension("log")).unwrap_or_default();
                panic!("aiosmtpd exited: {status}\n{log}");
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Aborts the delivery task when the test ends, however it ends.
struct Task(tokio::task::JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn aiosmtpd_installed() -> bool {
    succeeds(Command::new("python3").args(["-c", "import aiosmtpd"]))
}

fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether an SMTP test can run here: without aiosmtpd (or `extra`, e.g. openssl) it is skipped,
/// unless `NANBYO_TEST_REQUIRE_SMTP=1` (CI), where it fails.
fn smtp_test_can_run(extra: Option<(&str, bool)>) -> bool {
    let missing = match extra {
        _ if !aiosmtpd_installed() => "aiosmtpd not installed (pip install aiosmtpd)",
        Some((what, false)) => what,
        _ => return true,
    };
    if std::env::var("NANBYO_TEST_REQUIRE_SMTP").is_ok_and(|v| v == "1") {
        panic!("NANBYO_TEST_REQUIRE_SMTP=1, but {missing}");
    }
    eprintln!("skipped: {missing} (NANBYO_TEST_REQUIRE_SMTP=1 makes this a failure)");
    false
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (up to 10 s) until `dir` holds `n` messages.
async fn wait_for(dir: &Path, n: usize) -> Vec<Received> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = messages_in(dir);
        if found.len() >= n || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[rocket::async_test]
async fn messages_are_delivered_over_smtp_and_wait_in_the_outbox_while_it_is_down() {
    if !smtp_test_can_run(None) {
        return;
    }
    let port = free_port();
    let spool = tempfile::tempdir().unwrap();
    let maildir = spool.path().join("maildir");
    let mut smtp = SmtpServer::start(port, &maildir);
    let s = server_with(|st| {
        st.smtp_host = Some("127.0.0.1".into());
        st.smtp_port = port;
        st.smtp_tls = "none".into();
        st.mail_from = Some("難病・小慢DB ユーザ管理 <nanbyo@hospital.example.jp>".into());
        st.mail_retry_seconds = 1;
    })
    .await;
    // The same delivery `serve` spawns at liftoff.
    let delivery = Delivery::from_settings(&s.app().settings)
        .unwrap()
        .expect("SMTP is configured");
    assert_eq!(delivery.server(), format!("127.0.0.1:{port}（暗号化なし）"));
    let _task = Task(delivery.spawn());
    let c = cast(&s).await;
    let outbox_dir = mail::outbox_dir(s.dir.path());
    let sent_dir = mail::sent_dir(s.dir.path());

    let first = register(
        &s,
        &c.responsible,
        "clerk",
        "",
        with_email(
            "髙橋",
            "タカハシ",
            "第2病棟",
            "takahashi@hospital.example.jp",
        ),
    )
    .await;
    let received = wait_for(&maildir.join("new"), 1).await;
    assert_eq!(received.len(), 1, "the message did not arrive");
    let m = &received[0];
    assert_eq!(m.to, "takahashi@hospital.example.jp");
    assert!(
        m.raw.contains("X-RcptTo: takahashi@hospital.example.jp"),
        "{}",
        m.raw
    );
    assert!(m.raw.contains("X-MailFrom: nanbyo@hospital.example.jp"));
    assert_eq!(
        m.subject,
        "【難病・小慢DB 医療機関ユーザ管理】アカウント登録のお知らせ"
    );
    assert!(m.body.starts_with("髙橋\u{3000}花子 様\n"), "{}", m.body);
    assert!(m
        .body
        .contains("東京中央病院の責任者または指定医からお渡しします"));
    assert!(!m.raw.contains(&first.login_id));
    no_password(&m.body);
    // Delivered: out of the outbox, into sent/.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !messages_in(&outbox_dir).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(messages_in(&outbox_dir).is_empty());
    assert_eq!(messages_in(&sent_dir).len(), 1);

    // The SMTP server goes down: registering still works, and the message waits in the outbox.
    smtp.stop();
    let second = register(
        &s,
        &c.responsible,
        "clerk",
        "",
        with_email("渡邊", "ワタナベ", "外来", "watanabe@hospital.example.jp"),
    )
    .await;
    assert!(s.reload(&second).await.deleted_at.is_none());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let waiting = messages_in(&outbox_dir);
    assert_eq!(waiting.len(), 1, "the message must wait in the outbox");
    assert_eq!(waiting[0].to, "watanabe@hospital.example.jp");
    assert_eq!(messages_in(&maildir.join("new")).len(), 1);

    // Back up on the same port: the next retry delivers it.
    let _smtp = SmtpServer::start(port, &maildir);
    let received = wait_for(&maildir.join("new"), 2).await;
    assert_eq!(received.len(), 2, "the waiting message was not delivered");
    let m = received
        .iter()
        .find(|m| m.to == "watanabe@hospital.example.jp")
        .expect("the second message");
    assert!(m.body.starts_with("渡邊\u{3000}花子 様\n"));
    assert!(!m.raw.contains(&second.login_id));
    let deadline = Instant::now() + Duration::from_secs(5);
    while !messages_in(&outbox_dir).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(messages_in(&outbox_dir).is_empty());
    assert_eq!(messages_in(&sent_dir).len(), 2);
}

/// A throw-away CA and a certificate for 127.0.0.1 signed by it (openssl), as a hospital's internal
/// CA would issue for its mail server. Returns (CA PEM, server certificate, server key).
fn hospital_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Test Hospital Internal CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[rocket::async_test]
async fn starttls_trusts_the_hospital_ca_file_and_nothing_unknown() {
    let openssl = succeeds(Command::new("openssl").arg("version"));
    if !smtp_test_can_run(Some(("openssl not installed", openssl))) {
        return;
    }
    let port = free_port();
    let spool = tempfile::tempdir().unwrap();
    let (ca, cert, key) = hospital_ca(spool.path());
    let maildir = spool.path().join("maildir");
    // STARTTLS offered and required before MAIL (aiosmtpd's default with --tlscert).
    let _smtp = SmtpServer::start_with(
        port,
        &maildir,
        &[
            "--tlscert".as_ref(),
            cert.as_os_str(),
            "--tlskey".as_ref(),
            key.as_os_str(),
        ],
    );
    let s = server_with(|st| {
        st.smtp_host = Some("127.0.0.1".into());
        st.smtp_port = port;
        st.mail_from = Some("nanbyo@hospital.example.jp".into());
    })
    .await;
    assert_eq!(s.app().settings.smtp_tls, "starttls", "the default");
    let c = cast(&s).await;
    register(
        &s,
        &c.responsible,
        "clerk",
        "",
        with_email("齋藤", "サイトウ", "外来", "saito@hospital.example.jp"),
    )
    .await;
    let outbox_dir = mail::outbox_dir(s.dir.path());
    assert_eq!(messages_in(&outbox_dir).len(), 1);

    // Without the CA file the server's certificate is unknown: nothing is sent, the mail waits.
    let untrusting = Delivery::from_settings(&s.app().settings).unwrap().unwrap();
    let report = untrusting.deliver_once().await;
    assert_eq!(report.sent, 0);
    assert_eq!(report.waiting, 1);
    assert!(report.error.is_some(), "{report:?}");
    assert_eq!(messages_in(&outbox_dir).len(), 1);
    assert!(messages_in(&maildir.join("new")).is_empty());

    // With the hospital's CA: delivered over TLS.
    let mut settings = s.app().settings.clone();
    settings.smtp_ca_file = Some(ca);
    let trusting = Delivery::from_settings(&settings).unwrap().unwrap();
    assert_eq!(trusting.server(), format!("127.0.0.1:{port}（STARTTLS）"));
    let report = trusting.deliver_once().await;
    assert_eq!((report.sent, report.waiting), (1, 0), "{report:?}");
    assert!(report.error.is_none());
    let received = messages_in(&maildir.join("new"));
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].to, "saito@hospital.example.jp");
    assert!(received[0].body.starts_with("齋藤\u{3000}花子 様\n"));
    assert!(messages_in(&outbox_dir).is_empty());
    assert_eq!(messages_in(&mail::sent_dir(s.dir.path())).len(), 1);
}
