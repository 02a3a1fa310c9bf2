//! Memory under a login flood (the appliance issue): the release server, 3 rounds of N parallel
//! logins with the right password, its RSS sampled during the rounds and 30 s after them.
//!
//!     cargo bench --bench flood [-- N]        (default N = 200; goal: ≤ 200 MiB during and after)
//!
//! Every login comes from its own client address (the server trusts `X-Real-IP` here, as behind a
//! proxy), so the per-address throttle does not stop the flood before it reaches argon2.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "Kumo-no-ue7Sora#";

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn http(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).to_string()
}

/// The value of cookie `name` set by a response (header names are case-insensitive).
fn set_cookie(res: &str, name: &str) -> Option<String> {
    res.lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(h, _)| h.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, v)| v.trim().strip_prefix(&format!("{name}=")))
        .and_then(|c| c.split(';').next())
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// GET /login then POST it from client address `addr`; returns the POST's status line.
fn login(port: u16, addr: &str, login_id: &str, password: &str) -> (String, Option<String>) {
    let page = http(
        port,
        &format!("GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Real-IP: {addr}\r\nConnection: close\r\n\r\n"),
    );
    let cookie = set_cookie(&page, "nanbyo_pre").unwrap_or_default();
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("csrf") + marker.len();
    let csrf = &page[start..start + page[start..].find('"').unwrap()];
    let body = format!(
        "csrf={}&login_id={}&password={}",
        urlencode(csrf),
        urlencode(login_id),
        urlencode(password)
    );
    let res = http(
        port,
        &format!(
            "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Real-IP: {addr}\r\nCookie: nanbyo_pre={cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    let session = set_cookie(&res, "nanbyo_session");
    (res.lines().next().unwrap_or("").to_string(), session)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200);
    let bin = env!("CARGO_BIN_EXE_nanbyo-accounts");
    let data = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let console = |args: &[&str]| {
        let out = Command::new(bin)
            .args(args)
            .current_dir(elsewhere.path())
            .env("NANBYO_DATA_DIR", data.path())
            .env("ROCKET_CONFIG", data.path().join("none.toml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    console(&[
        "municipality",
        "add",
        "--code",
        "131041",
        "--name",
        "新宿区",
    ]);
    console(&[
        "institution",
        "add",
        "--code",
        "1311234567",
        "--name",
        "東京中央病院",
        "--municipality",
        "131041",
    ]);
    let out = console(&[
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
    ]);
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap()
            .trim()
            .to_string()
    };
    let (login_id, temp) = (field("ログインID:"), field("初期パスワード:"));
    let server = Server(
        Command::new(bin)
            .arg("serve")
            .current_dir(elsewhere.path())
            .env("NANBYO_DATA_DIR", data.path())
            .env("ROCKET_CONFIG", data.path().join("none.toml"))
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_IP_HEADER", "X-Real-IP")
            .env("ROCKET_LOG_LEVEL", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pid = server.0.id();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The temporary password only reaches /password: set the person's own one first.
    let (status, session) = login(port, "10.9.9.9", &login_id, &temp);
    assert!(status.contains("303"), "{status}");
    let session = session.unwrap();
    let page = http(
        port,
        &format!("GET /password HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: nanbyo_session={session}\r\nConnection: close\r\n\r\n"),
    );
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let csrf = &page[start..start + page[start..].find('"').unwrap()];
    let body = format!(
        "csrf={}&current={}&new={}&confirm={}",
        urlencode(csrf),
        urlencode(&temp),
        urlencode(PASSWORD),
        urlencode(PASSWORD)
    );
    let res = http(
        port,
        &format!(
            "POST /password HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: nanbyo_session={session}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(res.starts_with("HTTP/1.1 303"), "{res}");

    let idle = rss_kib(pid);
    let peak = Arc::new(AtomicU64::new(idle));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        std::thread::spawn(move || {
            while sampling.load(Ordering::SeqCst) {
                peak.fetch_max(rss_kib(pid), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    println!("flood: {n} parallel logins × 3 rounds against the release server (pid {pid})");
    println!("  RSS before:            {:6.1} MiB", idle as f64 / 1024.0);
    for round in 1..=3 {
        let started = Instant::now();
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let login_id = login_id.clone();
                std::thread::spawn(move || {
                    let addr = format!("10.{round}.{}.{}", i / 250, i % 250 + 1);
                    login(port, &addr, &login_id, PASSWORD).0
                })
            })
            .collect();
        let ok = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|s| s.contains("303"))
            .count();
        println!(
            "  round {round}: {ok}/{n} logged in in {:.2} s, RSS now {:6.1} MiB, peak so far {:6.1} MiB",
            started.elapsed().as_secs_f64(),
            rss_kib(pid) as f64 / 1024.0,
            peak.load(Ordering::SeqCst) as f64 / 1024.0
        );
    }
    sampling.store(false, Ordering::SeqCst);
    sampler.join().unwrap();
    let during = peak.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(30));
    let after = rss_kib(pid);
    println!(
        "  RSS peak during:       {:6.1} MiB",
        during as f64 / 1024.0
    );
    println!("  RSS 30 s after:        {:6.1} MiB", after as f64 / 1024.0);
    let goal = 200 * 1024;
    println!(
        "  goal ≤ 200 MiB during and after: {}",
        if during <= goal && after <= goal {
            "met"
        } else {
            "NOT met"
        }
    );
}
