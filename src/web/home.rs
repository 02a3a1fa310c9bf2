//! メニュー (`/`): the screens this person may use, with the result of the last operation.

use rocket::request::FlashMessage;
use rocket::{get, routes, Route};

use super::menu::menu;
use super::session::CurrentUser;
use super::view::{Notice, Page};

#[get("/")]
fn index(user: CurrentUser, flash: Option<FlashMessage<'_>>) -> Page {
    Page::new("menu.html")
        .with("items", menu(&user.0))
        .notice(Notice::from_flash(flash))
}

pub fn routes() -> Vec<Route> {
    routes![index]
}
