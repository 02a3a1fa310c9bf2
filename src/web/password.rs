//! `/password`: change one's own password. Forced while logged in with a temporary password.

use rocket::form::FromForm;
use rocket::http::CookieJar;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};

use crate::service::auth::ChangeRefused;
use crate::service::App;

use super::session::{AnyUser, ClientAddr, CookiePolicy, CsrfForm};
use super::view::Page;
use super::WebError;

#[derive(Debug, FromForm)]
pub struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

fn page(app: &App, user: &AnyUser) -> Page {
    let policy = app.settings.password();
    Page::new("password.html")
        .with("temporary", user.0.is_temporary())
        .with("min_length", policy.min_length)
        .with("max_length", policy.max_length)
}

#[get("/password")]
fn show(user: AnyUser, app: &State<App>) -> Page {
    page(app, &user)
}

#[post("/password", data = "<form>")]
async fn submit(
    form: CsrfForm<'_, PasswordForm>,
    user: AnyUser,
    addr: ClientAddr,
    jar: &CookieJar<'_>,
    app: &State<App>,
    policy: &State<CookiePolicy>,
) -> Result<Either<Flash<Redirect>, Page>, WebError> {
    let Some(values) = form.0.value else {
        return Ok(Either::Right(
            page(app, &user).with("errors", vec!["すべての項目を入力してください。"]),
        ));
    };
    match app
        .change_password(
            &user.0,
            &values.current,
            &values.new,
            &values.confirm,
            addr.0,
        )
        .await?
    {
        Ok(token) => {
            jar.add(policy.cookie(policy.session_name(), token));
            Ok(Either::Left(Flash::success(
                Redirect::to("/"),
                "パスワードを変更しました。",
            )))
        }
        Err(ChangeRefused::CurrentWrong) => Ok(Either::Right(page(app, &user).with(
            "current_error",
            if user.0.is_temporary() {
                "初期パスワードが正しくありません。通知書に記載のパスワードを入力してください。"
            } else {
                "現在のパスワードが正しくありません。"
            },
        ))),
        Err(ChangeRefused::Policy(problems)) => {
            let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
            Ok(Either::Right(page(app, &user).with("new_errors", messages)))
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![show, submit]
}
