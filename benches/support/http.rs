//! A plain HTTP GET with the session cookie, and the search page's count line: what the search and
//! wrk benchmarks read from the release server.

use std::io::{Read, Write};
use std::net::TcpStream;

/// The response's status and text.
pub fn get_body(port: u16, path: &str, cookie: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: nanbyo_session={cookie}\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// The page's 「検索結果 N件…」 line.
pub fn result_count(body: &str) -> String {
    body.find("検索結果 ")
        .map(|at| body[at..].chars().take_while(|c| *c != '<').collect())
        .unwrap_or_default()
}
