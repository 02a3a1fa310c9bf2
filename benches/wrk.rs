//! The search screen under load (not a test): the release server on 127.0.0.1 with N accounts
//! (default 10,000) in one 責任者's view, and `wrk -c 50 -d 20s` (Debian: `apt-get install wrk`) with
//! that 責任者's session cookie against a partial フリガナ search and against the unconditioned list.
//! Prints requests/s and wrk's count of non-2xx/3xx answers; each URL is checked to answer 200 with
//! its result line before and after (a lost session would answer 303, which wrk counts as success).
//! wrk runs on the same 2 cores as the server, so the figure is what is left to the server.
//!
//!     cargo bench --bench wrk [-- N] [--postgres URL]     (or NANBYO_TEST_POSTGRES=…)
//!     WRK_DURATION=20s WRK_CONNECTIONS=50 WRK_THREADS=2  (the defaults)
//!
//! Goal (issue 9): ≥ 1,500 searches/s with no non-2xx.

#[path = "support/http.rs"]
mod http;
#[path = "support/seed.rs"]
mod seed;

use http::{get_body, result_count};

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The line of wrk's output starting with `prefix`, after it.
fn wrk_field<'a>(out: &'a str, prefix: &str) -> Option<&'a str> {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .map(str::trim)
}

#[rocket::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let admin = seed::postgres_admin_url();
    let data = tempfile::tempdir().unwrap();
    let url = seed::fresh_database(admin.as_deref()).await;
    let (app, _) = seed::open(data.path(), url.clone()).await;
    let (token, _) = seed::seed(&app, n).await;
    let db = seed::label(&app);
    app.store.close().await;
    drop(app);

    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nanbyo-accounts"));
    cmd.arg("serve")
        .current_dir(data.path())
        .env("NANBYO_DATA_DIR", data.path())
        .env("ROCKET_CONFIG", data.path().join("none.toml"))
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "off")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = &url {
        cmd.env("ROCKET_DATABASES", format!("{{nanbyo={{url=\"{url}\"}}}}"));
    }
    let server = Server(cmd.spawn().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (duration, connections, threads) = (
        env_or("WRK_DURATION", "20s"),
        env_or("WRK_CONNECTIONS", "50"),
        env_or("WRK_THREADS", "2"),
    );
    println!(
        "wrk -t {threads} -c {connections} -d {duration}: release server (pid {}), {db}, {n} accounts in one view",
        server.0.id()
    );
    let targets = [
        ("partial フリガナ (タカ)", "/users?name=%E3%82%BF%E3%82%AB"),
        ("unconditioned list", "/users"),
    ];
    for (label, path) in targets {
        let (status, body) = get_body(port, path, &token);
        assert_eq!(status, 200, "{path} before");
        let line = result_count(&body);
        assert!(!line.is_empty(), "{path}: no result line");
        let out = Command::new("wrk")
            .args(["-t", &threads, "-c", &connections, "-d", &duration])
            .args(["-H", &format!("Cookie: nanbyo_session={token}")])
            .arg(format!("http://127.0.0.1:{port}{path}"))
            .output()
            .expect("wrk (apt-get install wrk)");
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (status, body) = get_body(port, path, &token);
        assert_eq!(status, 200, "{path} after");
        assert_eq!(result_count(&body), line, "{path}: the same page after");
        println!(
            "{label:<24} {:>9} requests/s   non-2xx/3xx: {:>6}   latency avg {}   ({}; {} bytes a page)",
            wrk_field(&text, "Requests/sec:").unwrap_or("?"),
            wrk_field(&text, "Non-2xx or 3xx responses:").unwrap_or("0"),
            wrk_field(&text, "Latency")
                .and_then(|l| l.split_whitespace().next())
                .unwrap_or("?"),
            line,
            body.len()
        );
        if std::env::var("WRK_VERBOSE").is_ok() {
            println!("{text}");
        }
    }
    drop(server);
    seed::drop_database(admin.as_deref(), url.as_deref()).await;
}
