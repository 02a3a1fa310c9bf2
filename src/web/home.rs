//! メニュー (`/`): the screens this person may use, with the result of the last operation and, for
//! those who review, the reminder that a アカウント棚卸し is due.

use rocket::request::FlashMessage;
use rocket::{get, routes, Route, State};
use serde::Serialize;

use crate::domain::time::format_jst;
use crate::service::App;

use super::menu::{menu, who_to_ask};
use super::session::CurrentUser;
use super::view::{Notice, Page};
use super::WebError;

/// The menu's reminder that a アカウント棚卸し is due (DESIGN §13), for those who review.
#[derive(Debug, Serialize)]
struct ReviewReminder {
    text: String,
}

#[get("/")]
async fn index(
    user: CurrentUser,
    app: &State<App>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Page, WebError> {
    let reminder = match app.review_due(&user.0.user).await? {
        Some((true, last)) => Some(ReviewReminder {
            text: match last {
                Some(at) => format!(
                    "前回のアカウント棚卸し（{}）から{}日以上経過しています。アカウント棚卸しを行ってください。",
                    format_jst(at),
                    app.settings.review().interval_days
                ),
                None => "アカウント棚卸しの記録がまだありません。アカウント棚卸しを行ってください。"
                    .to_string(),
            },
        }),
        _ => None,
    };
    Ok(Page::new("menu.html")
        .with("items", menu(&user.0))
        .with("ask", who_to_ask(user.0.user.user_type))
        .with("review_reminder", reminder)
        .notice(Notice::from_flash(flash)))
}

pub fn routes() -> Vec<Route> {
    routes![index]
}
