//! `/login` and `/logout` (DESIGN §6): one answer for every failure, a new session id at login.

use rocket::form::FromForm;
use rocket::http::{CookieJar, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};

use crate::domain::credentials;
use crate::service::auth::LoginOutcome;
use crate::service::App;
use crate::store::sessions;

use super::session::{AnyUser, ClientAddr, CookiePolicy, CsrfForm, CsrfOnly, MaybeUser};
use super::view::{Notice, Page};
use super::WebError;

#[derive(Debug, FromForm)]
pub struct LoginForm {
    login_id: String,
    password: String,
}

fn failure_message(app: &App) -> String {
    format!(
        "ログインIDまたはパスワードが正しくありません。{}回続けて誤るとロックされます。",
        app.settings.lockout_threshold
    )
}

/// Whom to ask follows who manages the account (DESIGN §3); the page does not know who is trying, so it
/// names every route.
const ASK_RESPONSIBLE: &str =
    "ロックされた場合やパスワードがわからない場合は、責任者・医療クラーク等の方は所属医療機関の責任者（医療クラーク等の方は指定医も可）に、指定医の方は管轄の自治体の担当者に、自治体担当者の方はシステム管理者にお問い合わせください。";

fn login_page(flash: Option<FlashMessage<'_>>) -> Page {
    Page::new("login.html")
        .with("hint", ASK_RESPONSIBLE)
        .notice(Notice::from_flash(flash))
}

#[get("/login")]
fn show(user: MaybeUser, flash: Option<FlashMessage<'_>>) -> Either<Redirect, Page> {
    match user.0 {
        Some(auth) if auth.is_temporary() => Either::Left(Redirect::to("/password")),
        Some(_) => Either::Left(Redirect::to("/")),
        None => Either::Right(login_page(flash)),
    }
}

#[post("/login", data = "<form>")]
async fn submit(
    form: CsrfForm<'_, LoginForm>,
    addr: ClientAddr,
    jar: &CookieJar<'_>,
    app: &State<App>,
    policy: &State<CookiePolicy>,
) -> Result<Either<Redirect, Page>, WebError> {
    let typed_id = form
        .0
        .context
        .field_value("login_id")
        .unwrap_or("")
        .to_string();
    let Some(values) = form.0.value else {
        return Ok(Either::Right(
            login_page(None)
                .with("error", failure_message(app))
                .with("login_id", typed_id),
        ));
    };
    match app.login(&values.login_id, &values.password, addr.0).await? {
        LoginOutcome::Success { token, temporary, .. } => {
            // A new session id at every login: whatever session the browser had is ended.
            if let Some(old) = session_token_of(jar, policy) {
                if let Some(s) = sessions::by_token_hash(app.store.pool(), &credentials::session_token_hash(&old))
                    .await
                    .map_err(WebError::from_store)?
                {
                    sessions::delete(app.store.pool(), s.id).await.map_err(WebError::from_store)?;
                }
            }
            jar.add(policy.cookie(policy.session_name(), token));
            jar.remove(policy.cookie(policy.pre_session_name(), String::new()));
            Ok(Either::Left(Redirect::to(if temporary { "/password" } else { "/" })))
        }
        LoginOutcome::Failed => Ok(Either::Right(
            login_page(None).with("error", failure_message(app)).with("login_id", typed_id),
        )),
        LoginOutcome::Throttled => Ok(Either::Right(
            login_page(None)
                .status(Status::TooManyRequests)
                .with(
                    "error",
                    "この端末からのログインの失敗が続いたため、一時的にログインを制限しています。しばらく時間をおいてから再度お試しください。",
                )
                .with("login_id", typed_id),
        )),
    }
}

fn session_token_of(jar: &CookieJar<'_>, policy: &CookiePolicy) -> Option<String> {
    jar.get(policy.session_name())
        .map(|c| c.value().to_string())
}

#[post("/logout", data = "<form>")]
async fn logout(
    form: CsrfForm<'_, CsrfOnly>,
    user: AnyUser,
    addr: ClientAddr,
    jar: &CookieJar<'_>,
    app: &State<App>,
    policy: &State<CookiePolicy>,
) -> Result<Flash<Redirect>, WebError> {
    let _ = form;
    app.logout(&user.0, addr.0).await?;
    jar.remove(policy.cookie(policy.session_name(), String::new()));
    Ok(Flash::success(
        Redirect::to("/login"),
        "ログアウトしました。",
    ))
}

pub fn routes() -> Vec<Route> {
    routes![show, submit, logout]
}
