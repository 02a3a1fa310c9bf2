//! The web screens: one module per screen, each with a `stage()` that mounts its routes.

pub mod assets;
pub mod audit;
pub mod changes;
pub mod database;
pub mod forms;
pub mod health;
pub mod home;
pub mod import_detail;
pub mod imports;
pub mod login;
pub mod manage;
pub mod menu;
pub mod notices;
pub mod password;
pub mod problems;
pub mod register;
pub mod review;
pub mod search;
pub mod session;
pub mod view;

use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use rocket::figment::Figment;
use rocket::http::{Header, Status};
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::{catch, catchers, Build, Either, Response, Rocket};

use crate::service::{App, ServiceError};
use crate::store::StoreError;

use session::{AuthRedirect, CookiePolicy};
use view::{Page, Views};

/// The server on an application already opened (tests, tools): the screens, the error pages and
/// the security headers. `secure` marks cookies `Secure`/`__Host-` (TLS here or at a proxy in front).
pub fn build(app: App, figment: Figment, secure: bool) -> Rocket<Build> {
    screens(rocket::custom(limited(figment)).manage(app), secure)
}

/// The server as `serve` runs it: the store is opened by `rocket_db_pools`' fairing from
/// `databases.nanbyo`, and the application built on it.
pub fn build_on_database(
    figment: Figment,
    settings: crate::config::Settings,
    keys: crate::config::Keys,
    clock: std::sync::Arc<dyn crate::domain::time::Clock>,
    secure: bool,
) -> Rocket<Build> {
    use rocket_db_pools::Database;
    let rocket = rocket::custom(limited(figment))
        .attach(database::Db::init())
        .attach(database::app_on_db(settings, keys, clock));
    screens(rocket, secure)
}

/// An upload may be as large as the import accepts (DESIGN §9), and no larger: Rocket refuses the
/// rest rather than truncating it.
fn limited(figment: Figment) -> Figment {
    let max = crate::import::Limits::default().max_bytes;
    figment
        .merge(("limits.file", max))
        .merge(("limits.data-form", max + 64 * 1024))
}

fn screens(rocket: Rocket<Build>, secure: bool) -> Rocket<Build> {
    rocket
        .manage(Views::load())
        .manage(CookiePolicy { secure })
        .attach(SecurityHeaders { hsts: secure })
        .attach(stage("login", login::routes()))
        .attach(stage("password", password::routes()))
        .attach(stage("menu", home::routes()))
        .attach(stage("register", register::routes()))
        .attach(stage("search", search::routes()))
        .attach(stage("manage", manage::routes()))
        .attach(stage("notices", notices::routes()))
        .attach(stage("imports", imports::routes()))
        .attach(stage("changes", changes::routes()))
        .attach(stage("import detail", import_detail::routes()))
        .attach(stage("review", review::routes()))
        .attach(stage("audit", audit::routes()))
        .attach(stage("health", health::routes()))
        .attach(stage("assets", assets::routes()))
        .register(
            "/",
            catchers![
                bad_request,
                unauthorized,
                forbidden,
                not_found,
                too_large,
                unsupported,
                unprocessable,
                internal,
                any_other
            ],
        )
}

fn stage(name: &'static str, routes: Vec<rocket::Route>) -> AdHoc {
    AdHoc::on_ignite(name, move |rocket| async move { rocket.mount("/", routes) })
}

/// A failed operation, answered with a Japanese error page and the right status.
#[derive(Debug)]
pub struct WebError(pub ServiceError);

impl WebError {
    pub fn from_store(e: StoreError) -> WebError {
        WebError(ServiceError::from(e))
    }
}

impl From<ServiceError> for WebError {
    fn from(e: ServiceError) -> Self {
        WebError(e)
    }
}

impl<'r> Responder<'r, 'static> for WebError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let (status, message) = match &self.0 {
            ServiceError::Denied(d) => (Status::Forbidden, d.to_string()),
            ServiceError::NotFound => (Status::NotFound, self.0.to_string()),
            ServiceError::WrongState(_) | ServiceError::Conflict(_) | ServiceError::Invalid(_) => {
                (Status::Conflict, self.0.to_string())
            }
            ServiceError::Pdf(e) => {
                crate::report::error("通知書（PDF）の作成", e);
                (Status::InternalServerError, format!("通知書（PDF）を作成できませんでした。初期パスワードは発行していません。{e}"))
            }
            ServiceError::StorageFull => {
                crate::report::error(
                    "データベースへの書き込み",
                    "ディスクの空き容量が不足しています",
                );
                (Status::InsufficientStorage, self.0.to_string())
            }
            ServiceError::Store(e) => {
                crate::report::error("データベース", e);
                (Status::InternalServerError, INTERNAL.to_string())
            }
        };
        error_page(status, &message).respond_to(req)
    }
}

const INTERNAL: &str =
    "システムエラーが発生しました。時間をおいて再度お試しください。解決しない場合はシステム管理者にお問い合わせください。";

fn error_page(status: Status, message: &str) -> Page {
    Page::new("error.html")
        .status(status)
        .with("code", status.code)
        .with("message", message)
}

/// Rocket answers these itself, before any guard has looked at the session: resolve it, so the page
/// has the header (who is logged in, the menu) like every other screen.
async fn with_header(req: &Request<'_>) {
    session::request_session(req).await;
}

#[catch(400)]
async fn bad_request(req: &Request<'_>) -> Page {
    with_header(req).await;
    error_page(
        Status::BadRequest,
        "送信された内容の形式が正しくありません。画面を開き直して、もう一度操作してください。",
    )
}

#[catch(401)]
fn unauthorized(req: &Request<'_>) -> Either<Redirect, Page> {
    match req.local_cache(|| AuthRedirect::Login) {
        AuthRedirect::ChangePassword => Either::Left(Redirect::to("/password")),
        AuthRedirect::Login => Either::Left(Redirect::to("/login")),
    }
}

#[catch(403)]
async fn forbidden(req: &Request<'_>) -> Page {
    with_header(req).await;
    error_page(
        Status::Forbidden,
        "この操作は許可されていません。画面の有効期限が切れた可能性があります。画面を開き直してから、もう一度操作してください。",
    )
}

#[catch(404)]
async fn not_found(req: &Request<'_>) -> Page {
    with_header(req).await;
    error_page(
        Status::NotFound,
        "お探しのページは見つかりませんでした。メニューからやり直してください。",
    )
}

#[catch(413)]
async fn too_large(req: &Request<'_>) -> Page {
    with_header(req).await;
    error_page(Status::PayloadTooLarge, "送信されたデータが大きすぎます。")
}

/// A body that is not a form (JSON, plain text): the screens send only forms.
#[catch(415)]
async fn unsupported(req: &Request<'_>) -> Page {
    with_header(req).await;
    error_page(
        Status::UnsupportedMediaType,
        "この形式のデータは受け付けていません。画面のフォームから操作してください。",
    )
}

#[catch(422)]
async fn unprocessable(req: &Request<'_>) -> Page {
    with_header(req).await;
    error_page(
        Status::UnprocessableEntity,
        "送信された内容を読み取れませんでした。画面を開き直してください。",
    )
}

#[catch(500)]
async fn internal(req: &Request<'_>) -> Page {
    with_header(req).await;
    error_page(Status::InternalServerError, INTERNAL)
}

/// Any other status Rocket itself answers (405, 406, …): still a Japanese page with the header.
#[catch(default)]
async fn any_other(status: Status, req: &Request<'_>) -> Page {
    with_header(req).await;
    error_page(
        status,
        "要求を処理できませんでした。メニューからやり直してください。",
    )
}

/// DESIGN §12: CSP without inline script, nosniff, no framing, no referrer.
pub struct SecurityHeaders {
    pub hsts: bool,
}

#[rocket::async_trait]
impl Fairing for SecurityHeaders {
    fn info(&self) -> Info {
        Info {
            name: "security headers",
            kind: Kind::Response,
        }
    }

    async fn on_response<'r>(&self, _req: &'r Request<'_>, res: &mut Response<'r>) {
        res.set_header(Header::new(
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ));
        res.set_header(Header::new("X-Content-Type-Options", "nosniff"));
        res.set_header(Header::new("X-Frame-Options", "DENY"));
        res.set_header(Header::new("Referrer-Policy", "no-referrer"));
        if self.hsts {
            res.set_header(Header::new("Strict-Transport-Security", "max-age=31536000"));
        }
    }
}
