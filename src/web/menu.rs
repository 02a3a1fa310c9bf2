//! The header every screen shows, and the menu (`/`) with only what this person may do.

use rocket::request::FlashMessage;
use rocket::{get, routes, Route};
use serde::Serialize;

use crate::service::auth::Authenticated;

use super::session::CurrentUser;
use super::view::{Notice, Page};

#[derive(Debug, Clone, Serialize)]
pub struct MenuItem {
    pub href: &'static str,
    pub label: &'static str,
    pub description: &'static str,
}

/// Who is logged in, as the header bar shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    pub name: String,
    pub user_type: &'static str,
    pub login_id: String,
    /// 医療機関名 (or the municipality of a 自治体担当者).
    pub organisation: String,
    pub db: Option<&'static str>,
    pub temporary: bool,
    pub menu: Vec<MenuItem>,
}

impl Header {
    pub fn of(auth: &Authenticated) -> Header {
        let u = &auth.user;
        Header {
            name: u.full_name(),
            user_type: u.user_type.label(),
            login_id: u.login_id.clone(),
            organisation: u
                .institution_name
                .clone()
                .unwrap_or_else(|| u.municipality_name.clone()),
            db: u.db.map(|d| d.label()),
            temporary: auth.is_temporary(),
            menu: if auth.is_temporary() {
                Vec::new()
            } else {
                menu(auth)
            },
        }
    }
}

/// The screens this person may use.
pub fn menu(_auth: &Authenticated) -> Vec<MenuItem> {
    vec![MenuItem {
        href: "/password",
        label: "パスワード変更",
        description: "ご自身のログインパスワードを変更します。",
    }]
}

#[get("/")]
fn index(user: CurrentUser, flash: Option<FlashMessage<'_>>) -> Page {
    Page::new("menu.html")
        .with("items", menu(&user.0))
        .notice(Notice::from_flash(flash))
}

pub fn routes() -> Vec<Route> {
    routes![index]
}
