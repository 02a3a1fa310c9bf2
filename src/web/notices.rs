//! [IDパスワード通知書ダウンロード]: one notice, or the selected accounts' notices as one PDF for the
//! printer. Every button is a POST (it issues a new temporary password); the PDF is never stored and
//! never cached.

use rocket::form::FromForm;
use rocket::http::{ContentType, Header};
use rocket::request::{self, FromRequest, Request};
use rocket::response::Redirect;
use rocket::response::{self, Flash, Responder};
use rocket::{post, routes, Route, State};
use serde::Serialize;

use crate::domain::credentials::temp_password_stamp;
use crate::domain::time::{iso_date, jst_date};
use crate::service::notices::{Ineligible, Issuer, SeenStamps};
use crate::service::{App, ServiceError};
use crate::store::users::UserRecord;

use super::forms::SearchReturn;
use super::session::{ClientAddr, CsrfForm, CurrentUser};
use super::view::Page;
use super::WebError;

/// The notice buttons' script (static/app.js) asks for the PDF with `X-Requested-With: fetch`, saves
/// it, and shows the page again: the message waits for that page in a flash cookie. A plain form
/// post downloads the PDF and stays where it is, so no message is left for some later page.
pub struct FromScript(bool);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for FromScript {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let fetched = req.headers().get_one("X-Requested-With") == Some("fetch");
        request::Outcome::Success(FromScript(fetched))
    }
}

/// An issued notice, with the message for the page the script shows next.
pub struct Issued {
    pdf: PdfFile,
    message: Option<String>,
}

impl Issued {
    fn new(pdf: PdfFile, script: &FromScript, message: String) -> Issued {
        Issued {
            pdf,
            message: script.0.then_some(message),
        }
    }
}

impl<'r> Responder<'r, 'static> for Issued {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match self.message {
            Some(m) => Flash::success(self.pdf, m).respond_to(req),
            None => self.pdf.respond_to(req),
        }
    }
}

#[derive(Responder)]
pub struct PdfFile {
    body: Vec<u8>,
    content_type: ContentType,
    disposition: Header<'static>,
    cache: Header<'static>,
}

impl PdfFile {
    fn new(body: Vec<u8>, filename: String) -> PdfFile {
        PdfFile {
            body,
            content_type: ContentType::PDF,
            disposition: Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{filename}\""),
            ),
            cache: Header::new("Cache-Control", "no-store"),
        }
    }
}

/// A notice button: the CSRF token, which temporary password the screen showed, and (from a search
/// row) the search to return to.
#[derive(Debug, FromForm)]
struct NoticeForm {
    #[allow(dead_code)]
    csrf: String,
    seen: Option<String>,
    back: Option<String>,
}

/// What a notice button answers.
#[derive(Responder)]
pub enum Answer {
    Pdf(Issued),
    /// The batch's confirmation screen (some selected accounts are left out).
    Confirm(Page),
    /// Refused, back to the search the button was on, with the reason.
    Back(Flash<Redirect>),
}

fn refused(back: Option<&SearchReturn>, e: ServiceError) -> Result<Answer, WebError> {
    SearchReturn::refusal(back, e).map(Answer::Back)
}

#[post("/users/<id>/notice", data = "<form>")]
async fn single(
    id: i64,
    form: CsrfForm<'_, NoticeForm>,
    user: CurrentUser,
    addr: ClientAddr,
    script: FromScript,
    app: &State<App>,
) -> Result<Answer, WebError> {
    let (seen, back) = form
        .0
        .value
        .map(|f| (f.seen, f.back.as_deref().and_then(SearchReturn::parse)))
        .unwrap_or_default();
    let seen: SeenStamps = seen.map(|stamp| (id, stamp)).into_iter().collect();
    let me = &user.0.user;
    let (eligible, ineligible) = app
        .notice_eligibility(me, &[id], &seen, addr.0.clone())
        .await?;
    if let Some(no) = ineligible.into_iter().next() {
        return refused(
            back.as_ref(),
            match no.user {
                None => ServiceError::NotFound,
                Some(_) => ServiceError::Conflict(no.reason),
            },
        );
    }
    let (login_id, name) = eligible
        .first()
        .map(|(_, u)| (u.login_id.clone(), u.full_name()))
        .unwrap_or_default();
    let pdf = match app
        .issue_notices(Issuer::User(me), eligible, false, addr.0)
        .await
    {
        Ok(pdf) => pdf,
        Err(e) => return refused(back.as_ref(), e),
    };
    let today = iso_date(jst_date(app.now()));
    Ok(Answer::Pdf(Issued::new(
        PdfFile::new(pdf, format!("IDPW-notice-{login_id}-{today}.pdf")),
        &script,
        format!("{name}様のIDパスワード通知書を発行しました。印刷して本人に渡してください。"),
    )))
}

#[derive(Debug, FromForm)]
struct BatchForm {
    #[field(default = Vec::new())]
    ids: Vec<i64>,
    #[field(default = false)]
    receipt_list: bool,
    /// The person saw the accounts that will be left out, and goes on with the others.
    #[field(default = false)]
    confirmed: bool,
    /// `seen[<id>]`: which temporary password each row showed.
    #[field(default = SeenStamps::new())]
    seen: SeenStamps,
    /// The search the batch bar was on.
    back: Option<String>,
}

#[derive(Debug, Serialize)]
struct Listed {
    id: i64,
    login_id: String,
    name: String,
    department: String,
    reason: String,
    stamp: String,
}

fn listed(u: &UserRecord, reason: String) -> Listed {
    Listed {
        id: u.id,
        login_id: u.login_id.clone(),
        name: u.full_name(),
        department: u.department.clone(),
        reason,
        stamp: temp_password_stamp(u.temp_password_mac.as_deref()),
    }
}

#[post("/users/notices", data = "<form>")]
async fn batch(
    form: CsrfForm<'_, BatchForm>,
    user: CurrentUser,
    addr: ClientAddr,
    script: FromScript,
    app: &State<App>,
) -> Result<Answer, WebError> {
    let me = &user.0.user;
    let values = form.0.value.unwrap_or(BatchForm {
        ids: Vec::new(),
        receipt_list: false,
        confirmed: false,
        seen: SeenStamps::new(),
        back: None,
    });
    let back = values.back.as_deref().and_then(SearchReturn::parse);
    if values.ids.is_empty() {
        return refused(
            back.as_ref(),
            ServiceError::WrongState(
                "通知書を発行するユーザを、検索結果のチェックボックスで選択してください。",
            ),
        );
    }
    let (eligible, ineligible) = app
        .notice_eligibility(me, &values.ids, &values.seen, addr.0.clone())
        .await?;
    if !ineligible.is_empty() && !values.confirmed || eligible.is_empty() {
        let left_out: Vec<Listed> = ineligible
            .iter()
            .map(|Ineligible { id, user, reason }| match user {
                Some(u) => listed(u, reason.clone()),
                None => Listed {
                    id: *id,
                    login_id: "—".into(),
                    name: "—".into(),
                    department: "—".into(),
                    reason: reason.clone(),
                    stamp: String::new(),
                },
            })
            .collect();
        let going: Vec<Listed> = eligible
            .iter()
            .map(|(_, u)| listed(u, String::new()))
            .collect();
        return Ok(Answer::Confirm(
            Page::new("users/notices.html")
                .with("eligible", going)
                .with("ineligible", left_out)
                .with("receipt_list", values.receipt_list)
                .with("back", back.as_ref().map_or("/users", SearchReturn::as_str)),
        ));
    }
    let count = eligible.len();
    let pdf = match app
        .issue_notices(Issuer::User(me), eligible, values.receipt_list, addr.0)
        .await
    {
        Ok(pdf) => pdf,
        Err(e) => return refused(back.as_ref(), e),
    };
    let today = iso_date(jst_date(app.now()));
    Ok(Answer::Pdf(Issued::new(
        PdfFile::new(pdf, format!("IDPW-notices-{today}-{count}.pdf")),
        &script,
        format!("{count}件のIDパスワード通知書を発行しました（1つのPDF）。印刷して本人に渡してください。"),
    )))
}

pub fn routes() -> Vec<Route> {
    routes![single, batch]
}
