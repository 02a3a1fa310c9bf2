//! Static files, embedded in the binary and served from this server (the LAN has no internet).

use rocket::http::{ContentType, Header};
use rocket::response::Responder;
use rocket::{get, routes, Route};

#[derive(Responder)]
pub struct Asset {
    body: &'static str,
    content_type: ContentType,
    cache: Header<'static>,
}

fn asset(body: &'static str, content_type: ContentType) -> Asset {
    Asset {
        body,
        content_type,
        cache: Header::new("Cache-Control", "public, max-age=3600"),
    }
}

#[get("/static/app.css")]
fn css() -> Asset {
    asset(include_str!("../../static/app.css"), ContentType::CSS)
}

#[get("/static/app.js")]
fn js() -> Asset {
    asset(include_str!("../../static/app.js"), ContentType::JavaScript)
}

/// Browsers ask for a favicon on every visit; there is none, and a 404 would only fill the log.
#[get("/favicon.ico")]
fn favicon() -> rocket::http::Status {
    rocket::http::Status::NoContent
}

pub fn routes() -> Vec<Route> {
    routes![css, js, favicon]
}
