//! `/imports` CSV一括登録: upload → preview (every problem as 行 / 列 / 理由) → confirm → result, whose
//! button issues the batch's notices as one PDF.

use rocket::form::FromForm;
use rocket::fs::TempFile;
use rocket::http::{ContentType, Header};
use rocket::request::FlashMessage;
use rocket::response::Responder;
use rocket::tokio::io::AsyncReadExt;
use rocket::{get, post, routes, Route, State};
use serde::Serialize;

use std::collections::HashMap;

use crate::domain::time::{format_date, format_jst};
use crate::import::changes::is_change_file;
use crate::import::{Limits, Parsed};
use crate::service::imports::ImportOutcome;
use crate::service::{App, ServiceError};

use super::import_detail::{kind_label, origin_label, result_label};
use super::problems::{confirmation, may_import, ConfirmForm, ProblemRow};
use super::session::{ClientAddr, CsrfForm, CurrentUser};
use super::view::{Notice, Page};
use super::WebError;

/// A row as it will be stored: every value, so that what [登録] writes can be checked first.
#[derive(Debug, Serialize)]
struct PreviewRow {
    row: usize,
    user_type: &'static str,
    db: &'static str,
    institution: String,
    department: String,
    name: String,
    kana: String,
    medical_reg_no: String,
    email: String,
    phone: String,
    expires_on: String,
    remarks: String,
}

#[derive(Debug, Serialize)]
struct HistoryRow {
    id: i64,
    at: String,
    who: String,
    file_name: String,
    origin: String,
    rows: i64,
    kind: &'static str,
    result: &'static str,
    reason: String,
}

async fn upload_page(app: &App, user: &CurrentUser) -> Result<Page, WebError> {
    let history: Vec<HistoryRow> = app
        .import_history(&user.0.user)
        .await?
        .into_iter()
        .map(|(r, who)| HistoryRow {
            id: r.id,
            at: format_jst(r.at),
            who,
            file_name: r.file_name.clone(),
            origin: origin_label(&r.origin),
            rows: r.rows,
            kind: kind_label(&r),
            result: result_label(&r),
            reason: r.reason.clone(),
        })
        .collect();
    Ok(Page::new("imports/upload.html")
        .with("history", history)
        .with(
            "municipal",
            user.0.user.user_type == crate::domain::UserType::MunicipalOfficer,
        )
        .with("max_mb", Limits::default().max_bytes / (1024 * 1024))
        .with("max_rows", Limits::default().max_rows))
}

#[get("/imports")]
async fn show(
    user: CurrentUser,
    app: &State<App>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Page, WebError> {
    if may_import(&user).is_err() {
        return Ok(super::menu::not_offered(&user.0, "CSV一括登録"));
    }
    Ok(upload_page(app, &user)
        .await?
        .notice(Notice::from_flash(flash)))
}

#[derive(Responder)]
struct Template {
    body: &'static [u8],
    content_type: ContentType,
    disposition: Header<'static>,
}

#[get("/imports/template.csv")]
fn template(_user: CurrentUser) -> Template {
    Template {
        body: include_bytes!("../../import/template.csv"),
        content_type: ContentType::new("text", "csv").with_params(("charset", "utf-8")),
        disposition: Header::new(
            "Content-Disposition",
            "attachment; filename=\"template.csv\"",
        ),
    }
}

#[derive(FromForm)]
struct UploadForm<'r> {
    file: TempFile<'r>,
}

fn problems(parsed: &Parsed) -> Vec<ProblemRow> {
    ProblemRow::all(&parsed.problems)
}

/// The preview's rows; `institutions` names each row's 医療機関 ("名称（コード）").
fn preview_rows(parsed: &Parsed, institutions: &HashMap<i64, String>) -> Vec<PreviewRow> {
    let opt = |o: Option<&str>| o.unwrap_or("").to_string();
    parsed
        .rows
        .iter()
        .map(|r| {
            let p = &r.profile;
            PreviewRow {
                row: r.row,
                user_type: r.user_type.label(),
                db: r.db.label(),
                institution: institutions
                    .get(&r.institution.id)
                    .cloned()
                    .unwrap_or_default(),
                department: p.department.as_str().to_string(),
                name: p.full_name(),
                kana: format!("{}　{}", p.family_kana.as_str(), p.given_kana.as_str()),
                medical_reg_no: opt(p.medical_reg_no.as_ref().map(|n| n.as_str())),
                email: opt(p.email.as_ref().map(|e| e.as_str())),
                phone: opt(p.phone.as_ref().map(|e| e.as_str())),
                expires_on: p.expires_on.map(format_date).unwrap_or_default(),
                remarks: opt(p.remarks.as_ref().map(|e| e.as_str())),
            }
        })
        .collect()
}

async fn institution_names(
    app: &App,
    user: &CurrentUser,
) -> Result<HashMap<i64, String>, WebError> {
    Ok(app
        .registrable_institutions(&user.0.user)
        .await?
        .into_iter()
        .map(|i| (i.id, format!("{}（{}）", i.name, i.code)))
        .collect())
}

#[post("/imports", data = "<form>")]
async fn preview(
    form: CsrfForm<'_, UploadForm<'_>>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Page, WebError> {
    may_import(&user)?;
    let Some(values) = form.0.value else {
        // A missing file is "choose a file"; anything else about the upload is its size (Rocket stops
        // reading at the limit and refuses the field rather than truncating it).
        let too_large = form
            .0
            .context
            .errors()
            .any(|e| !matches!(e.kind, rocket::form::error::ErrorKind::Missing));
        let message = if too_large {
            format!(
                "ファイルが大きすぎます（上限 {}MB）。ファイルを分割して取り込んでください。",
                Limits::default().max_bytes / (1024 * 1024)
            )
        } else {
            "CSVファイルを選択してください。".to_string()
        };
        return Ok(upload_page(app, &user).await?.with("upload_error", message));
    };
    let file_name = values
        .file
        .raw_name()
        .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str().to_string())
        .unwrap_or_default();
    let file_name: String = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let mut bytes = Vec::new();
    values
        .file
        .open()
        .await
        .map_err(|e| {
            WebError(ServiceError::Conflict(format!(
                "アップロードされたファイルを読めません: {e}"
            )))
        })?
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| {
            WebError(ServiceError::Conflict(format!(
                "アップロードされたファイルを読めません: {e}"
            )))
        })?;
    // A file with a ログインID column changes existing accounts (人事異動); any other registers.
    if is_change_file(&bytes, &Limits::default()) {
        return super::changes::preview(app, &user, file_name, &bytes, addr.0).await;
    }
    let (parsed, staged) = app
        .import_preview_upload(&user.0.user, &file_name, &bytes, addr.0)
        .await?;
    Ok(Page::new("imports/preview.html")
        .with("file_name", file_name)
        .with("encoding", parsed.encoding.label())
        .with("problems", problems(&parsed))
        .with("has_errors", parsed.has_errors())
        .with("has_warnings", parsed.has_warnings())
        .with(
            "rows",
            preview_rows(&parsed, &institution_names(app, &user).await?),
        )
        .with("staging_id", staged))
}

#[post("/imports/confirm", data = "<form>")]
async fn confirm(
    form: CsrfForm<'_, ConfirmForm>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Page, WebError> {
    let values = confirmation(&user, form.0.value)?;
    match app
        .import_confirm(
            &user.0.user,
            values.staging_id,
            values.accept_warnings,
            addr.0,
        )
        .await?
    {
        ImportOutcome::Committed {
            import_id, created, ..
        } => {
            #[derive(Serialize)]
            struct Created {
                row: usize,
                id: i64,
                login_id: String,
                name: String,
            }
            let created: Vec<Created> = created
                .into_iter()
                .map(|(row, id, login_id, name)| Created {
                    row,
                    id,
                    login_id,
                    name,
                })
                .collect();
            Ok(Page::new("imports/done.html")
                .with("import_id", import_id)
                .with("created", created))
        }
        ImportOutcome::Refused(parsed) | ImportOutcome::NeedsConfirmation(parsed) => {
            Ok(Page::new("imports/preview.html")
                .with("problems", problems(&parsed))
                .with("has_errors", parsed.has_errors())
                .with("has_warnings", parsed.has_warnings())
                .with(
                    "rows",
                    preview_rows(&parsed, &institution_names(app, &user).await?),
                )
                .with(
                    "staging_id",
                    (!parsed.has_errors()).then_some(values.staging_id),
                )
                .with("confirm_needed", true))
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![show, template, preview, confirm]
}
