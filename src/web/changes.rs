//! `/imports` with a 人事異動 change file (the search's CSV export edited in Excel): the preview lists,
//! per account, only what changes (before → after) and every problem as 行 / 列 / 理由; the
//! confirmation applies the whole file in one transaction, or nothing.

use rocket::{post, routes, Route, State};
use serde::Serialize;

use crate::service::changes::{ChangeCheck, ChangeOutcome, Planned, PlannedChange};
use crate::service::App;
use crate::store::users::UserRecord;

use super::problems::{confirmation, ConfirmForm, ProblemRow};
use super::session::{ClientAddr, CsrfForm, CurrentUser};
use super::view::Page;
use super::WebError;

#[derive(Debug, Serialize)]
struct Field {
    column: &'static str,
    before: String,
    after: String,
}

#[derive(Debug, Serialize)]
struct AccountRow {
    row: usize,
    id: i64,
    login_id: String,
    name: String,
    user_type: &'static str,
    department: String,
    delete: bool,
    fields: Vec<Field>,
}

fn account_rows(plan: &[PlannedChange]) -> Vec<AccountRow> {
    plan.iter()
        .map(|p| {
            let u: &UserRecord = &p.user;
            let fields = match &p.what {
                Planned::Delete => Vec::new(),
                Planned::Edit { changes, .. } => changes
                    .iter()
                    .map(|c| Field {
                        column: c.column.name(),
                        before: c.before.clone(),
                        after: c.after.clone(),
                    })
                    .collect(),
            };
            AccountRow {
                row: p.row,
                id: u.id,
                login_id: u.login_id.clone(),
                name: u.full_name(),
                user_type: u.user_type.label(),
                department: u.department.clone(),
                delete: matches!(p.what, Planned::Delete),
                fields,
            }
        })
        .collect()
}

fn preview_page(check: &ChangeCheck, staging_id: Option<i64>) -> Page {
    let deletes = check
        .plan
        .iter()
        .filter(|p| matches!(p.what, Planned::Delete))
        .count();
    Page::new("imports/changes.html")
        .with("encoding", check.file.encoding.label())
        .with("problems", ProblemRow::all(&check.file.problems))
        .with("has_errors", check.has_errors())
        .with("has_warnings", check.has_warnings())
        .with("accounts", account_rows(&check.plan))
        .with("edits", check.plan.len() - deletes)
        .with("deletes", deletes)
        .with("unchanged", check.unchanged)
        .with("staging_id", staging_id)
}

/// The preview of an uploaded change file (called by the upload's POST once it knows the kind).
pub async fn preview(
    app: &App,
    user: &CurrentUser,
    file_name: String,
    bytes: &[u8],
    addr: Option<String>,
) -> Result<Page, WebError> {
    let (check, staged) = app
        .change_preview_upload(&user.0.user, &file_name, bytes, addr)
        .await?;
    Ok(preview_page(&check, staged).with("file_name", file_name))
}

#[post("/imports/changes/confirm", data = "<form>")]
async fn confirm(
    form: CsrfForm<'_, ConfirmForm>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Page, WebError> {
    let values = confirmation(&user, form.0.value)?;
    match app
        .change_confirm(
            &user.0.user,
            values.staging_id,
            values.accept_warnings,
            addr.0,
        )
        .await?
    {
        ChangeOutcome::Committed {
            import_id, applied, ..
        } => {
            let deletes = applied
                .iter()
                .filter(|p| matches!(p.what, Planned::Delete))
                .count();
            Ok(Page::new("imports/changes_done.html")
                .with("import_id", import_id)
                .with("edits", applied.len() - deletes)
                .with("deletes", deletes)
                .with("accounts", account_rows(&applied)))
        }
        ChangeOutcome::Refused(check) | ChangeOutcome::NeedsConfirmation(check) => {
            let staging = (!check.has_errors()).then_some(values.staging_id);
            Ok(preview_page(&check, staging).with("confirm_needed", true))
        }
    }
}

pub fn routes() -> Vec<Route> {
    routes![confirm]
}
