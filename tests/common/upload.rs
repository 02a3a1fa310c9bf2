//! Files as a browser uploads them and as Japanese Excel saves them.

#![allow(dead_code)]

use rocket::http::{ContentType, Status};

use super::common::{peer, TestServer};

/// A multipart/form-data body with the CSRF field and one file.
pub fn multipart(csrf: &str, file_name: &str, content: &[u8]) -> (ContentType, Vec<u8>) {
    let boundary = "----nanbyoBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (
        ContentType::new("multipart", "form-data").with_params(("boundary", boundary)),
        body,
    )
}

/// What Japanese Excel saves as 「CSV（コンマ区切り）」: Shift_JIS (CP932) with CRLF.
pub fn sjis(text: &str) -> Vec<u8> {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let (bytes, _, errors) = encoding_rs::SHIFT_JIS.encode(&crlf);
    assert!(!errors);
    bytes.into_owned()
}

/// Uploads a file on /imports; the status and the page.
pub async fn upload(s: &TestServer, name: &str, content: &[u8]) -> (Status, String) {
    let csrf = s.page_csrf("/imports").await;
    let (ct, body) = multipart(&csrf, name, content);
    let res = s
        .client
        .post("/imports")
        .remote(peer())
        .header(ct)
        .body(body)
        .dispatch()
        .await;
    (res.status(), res.into_string().await.unwrap_or_default())
}

/// The staging id of a preview page's confirmation form, if it has one.
pub fn staging_id(html: &str) -> Option<String> {
    let marker = "name=\"staging_id\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}
