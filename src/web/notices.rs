//! [IDパスワード通知書ダウンロード]: one notice, or the selected accounts' notices as one PDF for the
//! printer. Every button is a POST (it issues a new temporary password); the PDF is never stored and
//! never cached.

use rocket::form::FromForm;
use rocket::http::{ContentType, Header};
use rocket::response::Responder;
use rocket::{post, routes, Either, Route, State};
use serde::Serialize;

use crate::domain::time::{iso_date, jst_date};
use crate::service::notices::{Ineligible, Issuer};
use crate::service::{App, ServiceError};
use crate::store::users::UserRecord;

use super::session::{ClientAddr, CsrfForm, CsrfOnly, CurrentUser};
use super::view::Page;
use super::WebError;

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

#[post("/users/<id>/notice", data = "<form>")]
async fn single(
    id: i64,
    form: CsrfForm<'_, CsrfOnly>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<PdfFile, WebError> {
    let _ = form;
    let me = &user.0.user;
    let (eligible, ineligible) = app.notice_eligibility(me, &[id], addr.0.clone()).await?;
    if let Some(refused) = ineligible.into_iter().next() {
        return Err(match refused.user {
            None => WebError(ServiceError::NotFound),
            Some(_) => WebError(ServiceError::Conflict(refused.reason)),
        });
    }
    let login_id = eligible
        .first()
        .map(|(_, u)| u.login_id.clone())
        .unwrap_or_default();
    let pdf = app
        .issue_notices(Issuer::User(me), eligible, false, addr.0)
        .await?;
    let today = iso_date(jst_date(app.now()));
    Ok(PdfFile::new(
        pdf,
        format!("IDPW-notice-{login_id}-{today}.pdf"),
    ))
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
}

#[derive(Debug, Serialize)]
struct Listed {
    id: i64,
    login_id: String,
    name: String,
    department: String,
    reason: String,
}

fn listed(u: &UserRecord, reason: String) -> Listed {
    Listed {
        id: u.id,
        login_id: u.login_id.clone(),
        name: u.full_name(),
        department: u.department.clone(),
        reason,
    }
}

#[post("/users/notices", data = "<form>")]
async fn batch(
    form: CsrfForm<'_, BatchForm>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Either<PdfFile, Page>, WebError> {
    let me = &user.0.user;
    let values = form.0.value.unwrap_or(BatchForm {
        ids: Vec::new(),
        receipt_list: false,
        confirmed: false,
    });
    if values.ids.is_empty() {
        return Err(WebError(ServiceError::WrongState(
            "通知書を発行するユーザを、検索結果のチェックボックスで選択してください。",
        )));
    }
    let (eligible, ineligible) = app
        .notice_eligibility(me, &values.ids, addr.0.clone())
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
                },
            })
            .collect();
        let going: Vec<Listed> = eligible
            .iter()
            .map(|(_, u)| listed(u, String::new()))
            .collect();
        return Ok(Either::Right(
            Page::new("users/notices.html")
                .with("eligible", going)
                .with("ineligible", left_out)
                .with("receipt_list", values.receipt_list),
        ));
    }
    let count = eligible.len();
    let pdf = app
        .issue_notices(Issuer::User(me), eligible, values.receipt_list, addr.0)
        .await?;
    let today = iso_date(jst_date(app.now()));
    Ok(Either::Left(PdfFile::new(
        pdf,
        format!("IDPW-notices-{today}-{count}.pdf"),
    )))
}

pub fn routes() -> Vec<Route> {
    routes![single, batch]
}
