//! `serve` refuses to listen beyond this machine without TLS (DESIGN §6, Transport), and the binary is
//! self-contained: started from another working directory it serves the same pages.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common/database.rs"]
mod database;

/// The binary, on the test's database when that is not the default (PostgreSQL).
fn binary(database: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nanbyo-accounts"));
    if let Some(url) = database {
        cmd.env("ROCKET_DATABASES", database::rocket_databases(url));
    }
    cmd
}

#[test]
fn a_non_loopback_address_without_tls_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let database = database::test_database_url(dir.path());
    let out = binary(database.as_deref())
        .arg("serve")
        .env("NANBYO_DATA_DIR", dir.path())
        .env("ROCKET_CONFIG", dir.path().join("none.toml"))
        .env("ROCKET_ADDRESS", "0.0.0.0")
        .env("ROCKET_PORT", "0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TLSが必要です"), "{err}");
}

/// Kills the server when the test ends, however it ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn the_binary_serves_its_embedded_pages_from_any_working_directory() {
    let data = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let database = database::test_database_url(data.path());
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = Server(
        binary(database.as_deref())
            .arg("serve")
            .current_dir(elsewhere.path())
            .env("NANBYO_DATA_DIR", data.path())
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_LOG_LEVEL", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let login = get(port, "/login");
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    assert!(login.contains("<html lang=\"ja\">") && login.contains("ログイン"));
    let css = get(port, "/static/app.css");
    assert!(css.starts_with("HTTP/1.1 200") && css.contains("Hiragino Sans"));
    let health = get(port, "/health");
    assert!(health.contains("\"status\":\"ok\""), "{health}");
    // Keys were generated on first start, private.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("keys/audit.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The database was created and migrated at start: in the data folder by default, else the
    // configured one.
    if database.is_none() {
        assert!(data.path().join("nanbyo.db").exists());
    }
    let url = database::effective_url(database.as_deref(), data.path());
    let migrations =
        database::query_value_blocking(&url, "SELECT COUNT(*) FROM _sqlx_migrations WHERE success");
    assert_ne!(migrations, "0", "migrations ran");
}
