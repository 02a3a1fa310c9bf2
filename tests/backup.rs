//! `backup` and `restore` (DESIGN §10), through the real binary: a backup taken while accounts keep
//! being registered holds every account committed before it began, restores into a fresh data
//! folder (with the keys copied apart), verifies, and restore is refused while a server runs.

#[path = "common/console.rs"]
mod console;

use std::net::TcpListener;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use console::{database, login_id, Console};
use nanbyo_accounts::config::{Keys, Settings};
use nanbyo_accounts::domain::time::SystemClock;
use nanbyo_accounts::service::users::Registration;
use nanbyo_accounts::service::App;

/// Kills a server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn on_postgresql_backup_names_the_postgresql_tools() {
    let c = Console::new();
    if !database::on_postgres() {
        // On SQLite the same command writes the file (the test below); here: a path it refuses.
        let (ok, _, err) = c.run(&["backup", "--to", c.dir.path().to_str().unwrap()]);
        assert!(!ok);
        assert!(err.contains("既に存在します"), "{err}");
        return;
    }
    let to = c.dir.path().join("b.db");
    let (ok, _, err) = c.run(&["backup", "--to", to.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("pg_dump") && err.contains("keys/"), "{err}");
    let (ok, _, err) = c.run(&["restore", "--from", to.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("pg_restore"), "{err}");
}

#[test]
fn a_backup_taken_during_registrations_restores_whole_and_verifies() {
    if database::on_postgres() {
        return; // SQLite's own backup; PostgreSQL's is pg_dump (the test above).
    }
    let c = Console::new();
    c.add_hospital();
    let (ok, out, err) = c.bootstrap(["髙橋", "美咲", "タカハシ", "ミサキ"], &[]);
    assert!(ok, "{err}");
    let responsible = login_id(&out);

    // Another task keeps registering 医療クラーク等 while the backup runs (the same data folder and
    // keys, as a running server would).
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let settings = Settings {
        data_dir: c.dir.path().to_path_buf(),
        ..Settings::default()
    };
    let keys = Keys::load(&settings).unwrap();
    let app = Arc::new(
        runtime
            .block_on(App::open(settings, keys, Arc::new(SystemClock)))
            .unwrap(),
    );
    let actor = runtime
        .block_on(app.user_by_login_id(&responsible))
        .unwrap();
    let committed: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (app, committed, stop) = (app.clone(), committed.clone(), stop.clone());
        runtime.spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let mut reg = Registration {
                    user_type: "clerk".into(),
                    ..Registration::default()
                };
                reg.profile.department = format!("第{n}病棟");
                reg.profile.family_name = "齋藤".into();
                reg.profile.given_name = format!("花子{n}");
                reg.profile.family_kana = "サイトウ".into();
                reg.profile.given_kana = "ハナコ".into();
                let user = app.register(&actor, &reg, None).await.unwrap();
                committed.lock().unwrap().push(user.login_id);
            }
            n
        })
    };
    std::thread::sleep(Duration::from_millis(400));
    let before: Vec<String> = committed.lock().unwrap().clone();
    let backup = c.dir.path().join("backups/nanbyo-1.db");
    let (ok, out, err) = c.run(&["backup", "--to", backup.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let registered = runtime.block_on(writer).unwrap();
    assert!(ok, "{err}");
    assert!(
        out.contains("バックアップを作成しました") && out.contains("keys/"),
        "{out}"
    );
    assert!(
        !before.is_empty() && registered > before.len(),
        "registrations ran throughout"
    );

    // A fresh data folder with the keys copied apart (they are never in the backup).
    let fresh = Console {
        dir: tempfile::tempdir().unwrap(),
        database: None,
    };
    let (ok, _, err) = fresh.run(&["restore", "--from", backup.to_str().unwrap()]);
    assert!(!ok, "restore without the keys must be refused");
    assert!(err.contains("keys/"), "{err}");
    copy_dir(&c.dir.path().join("keys"), &fresh.dir.path().join("keys"));
    let (ok, out, err) = fresh.run(&["restore", "--from", backup.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("改ざん検証済み"), "{out}");
    assert_eq!(fresh.query_one("PRAGMA integrity_check"), "ok");
    let restored = database::blocking(async {
        use sqlx::Row;
        let pool = database::connect(&fresh.database_url()).await;
        let ids: Vec<String> = sqlx::query("SELECT login_id FROM users")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>(0).unwrap())
            .collect();
        pool.close().await;
        ids
    });
    for id in &before {
        assert!(
            restored.contains(id),
            "{id} was committed before the backup began"
        );
    }
    let (ok, out, err) = fresh.run(&["audit", "verify"]);
    assert!(ok, "{out}{err}");

    // Restore is refused while a server uses the folder.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = fresh.command(&["serve"]);
    cmd.env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let _server = Server(cmd.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (ok, _, err) = fresh.run(&["restore", "--from", backup.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("サーバがこのデータフォルダを使用中"), "{err}");
}

#[test]
fn a_damaged_or_foreign_file_is_refused_and_nothing_changes() {
    if database::on_postgres() {
        return;
    }
    let c = Console::new();
    c.add_hospital();
    let not_a_db = c.write("notes.db", "これはデータベースではありません".as_bytes());
    let (ok, _, err) = c.run(&["restore", "--from", &not_a_db]);
    assert!(!ok);
    assert!(err.starts_with("エラー: "), "{err}");
    assert_eq!(
        c.query_one("SELECT COUNT(*) FROM institutions"),
        "1",
        "the database in place is untouched"
    );
}
