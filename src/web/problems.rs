//! What both kinds of import preview share: who may import, and the 行 / 列 / 理由 table.

use rocket::form::FromForm;
use serde::Serialize;

use crate::domain::visibility::View;
use crate::import::Problem;
use crate::service::ServiceError;

use super::session::CurrentUser;
use super::WebError;

/// Importing (registering or changing) is for those who search: 責任者, 指定医, 自治体担当者.
pub fn may_import(user: &CurrentUser) -> Result<(), WebError> {
    if View::of(&user.0.user.actor()).has_search() {
        Ok(())
    } else {
        Err(WebError(ServiceError::Denied(
            crate::domain::roles::Denied::TypeNotAllowed,
        )))
    }
}

#[derive(Debug, Serialize)]
pub struct ProblemRow {
    row: usize,
    column: String,
    reason: String,
    error: bool,
}

impl ProblemRow {
    pub fn all(problems: &[Problem]) -> Vec<ProblemRow> {
        problems
            .iter()
            .map(|p| ProblemRow {
                row: p.row,
                column: p.column.clone(),
                reason: p.reason.clone(),
                error: p.is_error(),
            })
            .collect()
    }
}

/// The [登録] / [変更を反映] of a preview: which staged file, and whether its warnings were ticked.
#[derive(Debug, FromForm)]
pub struct ConfirmForm {
    pub staging_id: i64,
    #[field(default = false)]
    pub accept_warnings: bool,
}

/// The confirmation, for those who may import.
pub fn confirmation(
    user: &CurrentUser,
    form: Option<ConfirmForm>,
) -> Result<ConfirmForm, WebError> {
    may_import(user)?;
    form.ok_or(WebError(ServiceError::WrongState(
        "送信内容を読み取れませんでした。",
    )))
}
