//! The system administrator's console (DESIGN §3, §10, §11): institutions, municipalities, the first
//! accounts, break-glass recovery, and the audit chain — through the service and the real binary.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use common::*;
use nanbyo_accounts::config::Keys;
use nanbyo_accounts::domain::account::RawProfile;
use nanbyo_accounts::domain::time::SystemClock;
use nanbyo_accounts::domain::{Db, UserType};
use nanbyo_accounts::service::auth::LoginOutcome;
use nanbyo_accounts::service::console::BootstrapHome;
use nanbyo_accounts::service::{App, ServiceError};
use nanbyo_accounts::store::audit;
use rocket::http::Status;

fn profile(family: &str) -> RawProfile {
    RawProfile {
        department: "医事課".into(),
        family_name: family.into(),
        given_name: "一郎".into(),
        family_kana: "スズキ".into(),
        given_kana: "イチロウ".into(),
        ..RawProfile::default()
    }
}

fn institution(db: Db) -> BootstrapHome {
    BootstrapHome::Institution {
        code: HOSPITAL.into(),
        db,
    }
}

/// The Japanese message of a refused console operation.
fn conflict<T: std::fmt::Debug>(r: Result<T, ServiceError>) -> String {
    match r {
        Err(ServiceError::Conflict(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn is_japanese(s: &str) -> bool {
    s.chars()
        .any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}'))
}

#[rocket::async_test]
async fn bootstrap_is_refused_while_an_active_responsible_exists_in_that_institution_and_db() {
    let s = server().await;
    let (first, _) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    assert_eq!(first.user_type, UserType::Responsible);
    assert_eq!(first.db, Some(Db::Nanbyo));

    let msg = conflict(
        s.app()
            .bootstrap(&institution(Db::Nanbyo), &profile("鈴木"))
            .await,
    );
    assert!(msg.contains("有効な責任者が既に登録されています"), "{msg}");
    assert!(msg.contains("東京中央病院"), "{msg}");
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, 1);

    // The other DB of the same institution has no 責任者 yet.
    let (shoman, issued) = s
        .app()
        .bootstrap(&institution(Db::Shoman), &profile("鈴木"))
        .await
        .unwrap();
    assert_eq!(shoman.db, Some(Db::Shoman));
    assert_eq!(shoman.institution_code.as_deref(), Some(HOSPITAL));
    assert_eq!(issued.login_id, shoman.login_id);
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, 2);
    let msg = conflict(
        s.app()
            .bootstrap(&institution(Db::Shoman), &profile("佐藤"))
            .await,
    );
    assert!(msg.contains("小慢DB"), "{msg}");
}

#[rocket::async_test]
async fn municipal_officer_bootstrap_works_once_per_municipality() {
    let s = server().await;
    let home = BootstrapHome::Municipality {
        code: SHINJUKU.into(),
    };
    let (officer, issued) = s.app().bootstrap(&home, &profile("鈴木")).await.unwrap();
    assert_eq!(officer.user_type, UserType::MunicipalOfficer);
    assert_eq!((officer.institution_id, officer.db), (None, None));
    assert_eq!(officer.municipality_name, "新宿区");

    let msg = conflict(s.app().bootstrap(&home, &profile("佐藤")).await);
    assert!(
        msg.contains("新宿区には有効な自治体担当者が既に登録されています"),
        "{msg}"
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM users").await, 1);

    // Its temporary password opens the password screen.
    let res = s.post_login(&officer.login_id, &issued.password).await;
    assert_eq!(res.status(), Status::SeeOther);
    assert_eq!(res.headers().get_one("Location"), Some("/password"));
}

#[rocket::async_test]
async fn municipality_with_a_bad_check_digit_is_refused_in_japanese() {
    let s = server().await;
    let msg = conflict(s.app().add_municipality("131042", "新宿区もどき").await);
    assert!(msg.contains("地方公共団体コード"), "{msg}");
    assert!(msg.contains("検査数字"), "{msg}");
    let msg = conflict(s.app().add_municipality("13104", "短い").await);
    assert!(msg.contains("6桁"), "{msg}");
    assert_eq!(s.app().list_municipalities().await.unwrap().len(), 2);
    // 大阪市: a valid code is accepted.
    s.app().add_municipality("271004", "大阪市").await.unwrap();
}

#[rocket::async_test]
async fn institution_of_an_unknown_municipality_is_refused() {
    let s = server().await;
    // 271004 (大阪市) is a valid code, but not registered here.
    let msg = conflict(
        s.app()
            .add_institution("2711234567", "大阪中央病院", "271004")
            .await,
    );
    assert!(msg.contains("271004"), "{msg}");
    assert!(msg.contains("登録されていません"), "{msg}");
    assert!(is_japanese(&msg));
    assert_eq!(s.app().list_institutions().await.unwrap().len(), 2);
    let msg = conflict(
        s.app()
            .add_institution(HOSPITAL, "二重登録", SHINJUKU)
            .await,
    );
    assert!(msg.contains("登録済み"), "{msg}");
}

#[rocket::async_test]
async fn console_actions_are_audited_as_console_and_the_chain_verifies() {
    let s = server().await;
    let app = s.app();
    // The harness added 2 municipalities and 2 institutions.
    let (responsible, _) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    app.bootstrap(&institution(Db::Nanbyo), &profile("鈴木"))
        .await
        .unwrap_err();
    app.bootstrap(
        &BootstrapHome::Municipality {
            code: SAPPORO.into(),
        },
        &profile("鈴木"),
    )
    .await
    .unwrap();
    app.add_municipality("131042", "x").await.unwrap_err();
    app.add_institution("2711234567", "x", "271004")
        .await
        .unwrap_err();
    app.rename_institution(HOSPITAL, "東京中央医療センター")
        .await
        .unwrap();
    let (_, issued) = app
        .console_reset(&responsible.login_id, "電話で本人に確認")
        .await
        .unwrap();
    for _ in 0..5 {
        let r = app
            .login(&responsible.login_id, "Wrong-password9", None)
            .await
            .unwrap();
        assert!(matches!(r, LoginOutcome::Failed));
    }
    app.console_unlock(&responsible.login_id).await.unwrap();
    assert!(matches!(
        app.login(&responsible.login_id, &issued.password, None)
            .await
            .unwrap(),
        LoginOutcome::Success {
            temporary: true,
            ..
        }
    ));

    let entries = s.audit().await;
    let actions: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.content.action.as_str(), e.content.actor_label.as_str()))
        .collect();
    let mut expected = vec![
        ("municipality_add", "console"),
        ("municipality_add", "console"),
        ("institution_add", "console"),
        ("institution_add", "console"),
        ("bootstrap", "console"),
        ("notice_issue", "console"),
        ("bootstrap", "console"),
        ("notice_issue", "console"),
        ("institution_rename", "console"),
        ("password_reset", "console"),
        ("notice_issue", "console"),
    ];
    expected.extend([("login_failure", "-"); 5]);
    expected.push(("account_locked", "-"));
    expected.push(("unlock", "console"));
    let login_label = format!("{} 髙橋　美咲", responsible.login_id);
    expected.push(("login_success", login_label.as_str()));
    assert_eq!(actions, expected);

    let reset = &entries[9].content;
    assert_eq!(reset.target_user_id, Some(responsible.id));
    assert!(
        reset.details.contains("電話で本人に確認"),
        "{}",
        reset.details
    );
    assert!(entries
        .iter()
        .filter(|e| e.content.actor_label == "console")
        .all(|e| e.content.actor_user_id.is_none() && e.content.result == "success"));

    let n = expected.len() as u64;
    assert_eq!(
        audit::verify(&app.store, &app.keys.audit).await.unwrap(),
        Ok(n)
    );
    assert_eq!(s.count("SELECT COUNT(*) FROM audit_log").await, n as i64);
}

#[rocket::async_test]
async fn audit_verify_names_the_first_tampered_entry() {
    let s = server().await;
    s.bootstrap(Db::Nanbyo, "髙橋").await;
    let app = s.app();
    assert_eq!(
        audit::verify(&app.store, &app.keys.audit).await.unwrap(),
        Ok(6)
    );
    sqlx::query("UPDATE audit_log SET details = 'edited' WHERE seq = 3")
        .execute(app.store.pool())
        .await
        .unwrap();
    let broken = audit::verify(&app.store, &app.keys.audit)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.seq, 3);
}

// ---- The real binary ------------------------------------------------------------------------

/// Runs the binary with its data folder in `dir`, no configuration file, and the default database
/// unless `database` names the test's own.
fn run_in(dir: &Path, database: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nanbyo-accounts"));
    cmd.args(args)
        .current_dir(dir)
        .env("NANBYO_DATA_DIR", dir.join("data"))
        .env("ROCKET_CONFIG", dir.join("absent.toml"))
        .env_remove("ROCKET_PROFILE")
        .env_remove("ROCKET_DATABASE_URL")
        .env_remove("ROCKET_DATABASES");
    if let Some(url) = database {
        cmd.env("ROCKET_DATABASES", database::rocket_databases(url));
    }
    cmd.output().expect("binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 output")
}

fn succeeded(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

const BOOTSTRAP: &[&str] = &[
    "bootstrap",
    "--institution",
    "1311234567",
    "--db",
    "nanbyo",
    "--family",
    "髙橋",
    "--given",
    "美咲",
    "--family-kana",
    "タカハシ",
    "--given-kana",
    "ミサキ",
    "--department",
    "医事課",
];

#[rocket::async_test]
async fn the_binary_registers_bootstraps_refuses_a_second_bootstrap_and_verifies() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let settings = test_settings(&dir.join("data"));
    let run = |args: &[&str]| run_in(dir, settings.database_url.as_deref(), args);

    let out = run(&[
        "municipality",
        "add",
        "--code",
        "131041",
        "--name",
        "新宿区",
    ]);
    assert!(succeeded(&out, "municipality add").contains("131041 新宿区"));
    let out = run(&["municipality", "add", "--code", "131042", "--name", "誤り"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("検査数字"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&[
        "institution",
        "add",
        "--code",
        "1311234567",
        "--name",
        "東京中央病院",
        "--municipality",
        "131041",
    ]);
    succeeded(&out, "institution add");

    let out = run(BOOTSTRAP);
    let stdout = succeeded(&out, "bootstrap");
    let lines: Vec<&str> = stdout.lines().collect();
    let login_id = lines
        .iter()
        .find_map(|l| l.strip_prefix("ログインID: "))
        .unwrap_or_else(|| panic!("no ログインID line: {stdout}"));
    let password = lines
        .iter()
        .find_map(|l| l.strip_prefix("初期パスワード: "))
        .unwrap_or_else(|| panic!("no 初期パスワード line: {stdout}"));
    assert_eq!(login_id.len(), 8, "{login_id}");
    assert!(login_id
        .bytes()
        .all(|b| b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789".contains(&b)));
    assert!(password.len() >= 16, "{password}");

    let out = run(BOOTSTRAP);
    assert!(!out.status.success(), "a second bootstrap is refused");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("有効な責任者が既に登録されています"),
        "{stderr}"
    );
    assert!(!text(&out.stdout).contains("初期パスワード"));

    let out = run(&["audit", "verify"]);
    let stdout = succeeded(&out, "audit verify");
    assert!(stdout.contains("（4件）"), "{stdout}");

    // The printed password is the one the server accepts.
    let keys = Keys::load(&settings).unwrap();
    let app = App::open(settings, keys, Arc::new(SystemClock))
        .await
        .unwrap();
    let outcome = app.login(login_id, password, None).await.unwrap();
    assert!(
        matches!(
            outcome,
            LoginOutcome::Success {
                temporary: true,
                ..
            }
        ),
        "{outcome:?}"
    );
    let entries = audit::all(app.store.pool()).await.unwrap();
    assert!(entries[..4]
        .iter()
        .all(|e| e.content.actor_label == "console"));
    app.store.close().await;
}
