//! `/imports/<id>`: one import of the history — who, when, which file from where, the result (or why
//! nothing was registered), and the accounts it registered or changed as they are now, with
//! [通知書一括発行] for those still 通知書未発行 and a CSV of their login IDs.

use rocket::http::ContentType;
use rocket::request::FlashMessage;
use rocket::{get, routes, Route, State};
use serde::Serialize;

use crate::domain::audit::{Action, Outcome};
use crate::domain::credentials::temp_password_stamp;
use crate::domain::time::{format_jst, iso_date, jst_date};
use crate::domain::AccountState;
use crate::service::imports::ImportDetail;
use crate::service::{App, ServiceError};
use crate::store::audit::{self, AuditActor, AuditEntry};
use crate::store::imports::ImportRecord;

use super::problems::may_import;
use super::search::CsvFile;
use super::session::{ClientAddr, CurrentUser};
use super::view::{Notice, Page};
use super::WebError;

/// Where a file came from, as the history says it: the screen, the import inbox, or the console.
pub fn origin_label(origin: &str) -> String {
    match origin.strip_prefix("console:") {
        None if origin == "web" => "画面からのアップロード".to_string(),
        None => origin.to_string(),
        Some(path) if path.contains("/inbox/") => format!("受付フォルダ（{path}）"),
        Some(path) => format!("コンソール（{path}）"),
    }
}

pub fn kind_label(r: &ImportRecord) -> &'static str {
    if r.kind == "change" {
        "一括変更"
    } else {
        "一括登録"
    }
}

pub fn result_label(r: &ImportRecord) -> &'static str {
    match (r.result.as_str(), r.kind.as_str()) {
        ("committed", "change") => "反映済",
        ("committed", _) => "登録済",
        ("unconfirmed", "change") => "未反映（警告を未確認）",
        ("unconfirmed", _) => "未登録（警告を未確認）",
        (_, "change") => "未反映（エラー）",
        _ => "未登録（エラー）",
    }
}

#[derive(Debug, Serialize)]
struct Account {
    row: usize,
    id: i64,
    login_id: String,
    name: String,
    kana: String,
    user_type: &'static str,
    department: String,
    state: &'static str,
    pending: bool,
    stamp: String,
}

fn accounts(app: &App, detail: &ImportDetail) -> Vec<Account> {
    let now = app.now();
    let lockout = app.settings.lockout();
    detail
        .accounts
        .iter()
        .map(|(row, u)| {
            let state = u.facts().state(&lockout, now);
            Account {
                row: *row,
                id: u.id,
                login_id: u.login_id.clone(),
                name: u.full_name(),
                kana: u.full_kana(),
                user_type: u.user_type.label(),
                department: u.department.clone(),
                state: state.label(),
                pending: state == AccountState::NoticePending,
                stamp: temp_password_stamp(u.temp_password_mac.as_deref()),
            }
        })
        .collect()
}

async fn detail_of(app: &App, user: &CurrentUser, id: i64) -> Result<ImportDetail, WebError> {
    may_import(user)?;
    app.import_detail(&user.0.user, id)
        .await?
        .ok_or(WebError(ServiceError::NotFound))
}

#[get("/imports/<id>")]
async fn show(
    id: i64,
    user: CurrentUser,
    app: &State<App>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Page, WebError> {
    let detail = detail_of(app, &user, id).await?;
    let r = &detail.record;
    let listed = accounts(app, &detail);
    let pending = listed.iter().filter(|a| a.pending).count();
    Ok(Page::new("imports/detail.html")
        .with("id", r.id)
        .with("kind", kind_label(r))
        .with("at", format_jst(r.at))
        .with("who", &detail.who)
        .with("file_name", &r.file_name)
        .with("origin", origin_label(&r.origin))
        .with("rows", r.rows)
        .with("result", result_label(r))
        .with("reason", &r.reason)
        .with("change", r.kind == "change")
        .with("pending", pending)
        .with("accounts", listed)
        .notice(Notice::from_flash(flash)))
}

#[get("/imports/<id>/accounts.csv")]
async fn export(
    id: i64,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<(ContentType, CsvFile), WebError> {
    let detail = detail_of(app, &user, id).await?;
    let listed = accounts(app, &detail);
    let header = [
        "行",
        "ログインID",
        "氏名",
        "フリガナ",
        "ユーザ種別",
        "部署",
        "状態",
    ];
    let rows = listed.iter().map(|a| {
        vec![
            a.row.to_string(),
            a.login_id.clone(),
            a.name.clone(),
            a.kana.clone(),
            a.user_type.to_string(),
            a.department.clone(),
            a.state.to_string(),
        ]
    });
    let now = app.now();
    let file = CsvFile::new(
        &format!("import-{id}-{}.csv", iso_date(jst_date(now))),
        &header,
        rows,
    );
    let entry = AuditEntry::new(
        AuditActor::user(&user.0.user),
        Action::CsvExport,
        Outcome::Success,
    )
    .addr(addr.0)
    .details(format!(
        "取込番号 {id} のユーザ一覧のCSV出力 {}件",
        listed.len()
    ));
    audit::record(&app.store, &app.keys.audit, &entry, now)
        .await
        .map_err(WebError::from_store)?;
    Ok((
        ContentType::new("text", "csv").with_params(("charset", "utf-8")),
        file,
    ))
}

pub fn routes() -> Vec<Route> {
    routes![show, export]
}
