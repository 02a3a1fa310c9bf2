//! `/review` アカウント棚卸し (DESIGN §13): the groups with their counts and accounts, the bulk
//! 有効期限 / deletion through a confirmation screen naming every person, each group as CSV, and
//! [棚卸しを完了] with the review history.

use rocket::form::FromForm;
use rocket::http::{ContentType, Status};
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};
use serde::Serialize;

use crate::domain::audit::{Action, Outcome};
use crate::domain::review::{decode_counts, describe_counts, may_review, Group, ReviewPolicy};
use crate::domain::time::{format_date, format_jst, iso_date, jst_date, parse_date, wareki};
use crate::domain::visibility::View;
use crate::service::review::{BulkAction, BulkRow, GroupList, Listed};
use crate::service::App;
use crate::store::audit::{self, AuditActor, AuditEntry};
use crate::store::users::UserRecord;

use super::search::{CsvFile, NEVER_LOGGED_IN};
use super::session::{ClientAddr, CsrfForm, CurrentUser};
use super::view::{Notice, Page};
use super::WebError;

/// The most accounts a group lists on the screen (its CSV has them all).
const SHOWN_PER_GROUP: usize = 300;

const NOT_REVIEWER: &str =
    "アカウント棚卸しは、責任者と自治体担当者が利用できます。メニューから利用できる機能を選んでください。";

fn refuse_non_reviewer(me: &UserRecord) -> Result<(), Page> {
    if may_review(&me.actor()) {
        Ok(())
    } else {
        Err(super::error_page(Status::Forbidden, NOT_REVIEWER))
    }
}

#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    login_id: String,
    name: String,
    kana: String,
    user_type: &'static str,
    db: &'static str,
    institution: String,
    department: String,
    state: &'static str,
    state_label: &'static str,
    last_login: String,
    expires_on: String,
    registered: String,
    /// The reviewer may set its 有効期限 or delete it (the role rules and its state).
    selectable: bool,
    edit: bool,
}

fn row(l: &Listed) -> Row {
    let u = &l.user;
    Row {
        id: u.id,
        login_id: u.login_id.clone(),
        name: u.full_name(),
        kana: u.full_kana(),
        user_type: u.user_type.label(),
        db: u.db.map_or("", |d| d.label()),
        institution: u.institution_name.clone().unwrap_or_default(),
        department: u.department.clone(),
        state: l.state.as_str(),
        state_label: l.state.label(),
        last_login: last_login(u),
        expires_on: u.expires_on.map(format_date).unwrap_or_default(),
        registered: format_date(jst_date(u.created_at)),
        selectable: l.ops.edit || l.ops.delete,
        edit: l.ops.edit,
    }
}

fn last_login(u: &UserRecord) -> String {
    u.last_login_at
        .map_or_else(|| NEVER_LOGGED_IN.to_string(), format_jst)
}

#[derive(Debug, Serialize)]
struct GroupView {
    key: &'static str,
    label: String,
    advice: &'static str,
    count: usize,
    rows: Vec<Row>,
    truncated: bool,
    selectable: bool,
}

fn group_view(l: &GroupList, policy: &ReviewPolicy) -> GroupView {
    let rows: Vec<Row> = l.accounts.iter().take(SHOWN_PER_GROUP).map(row).collect();
    GroupView {
        key: l.group.as_str(),
        label: l.group.label(policy),
        advice: l.group.advice(),
        count: l.accounts.len(),
        selectable: rows.iter().any(|r| r.selectable),
        truncated: l.accounts.len() > SHOWN_PER_GROUP,
        rows,
    }
}

#[derive(Debug, Serialize)]
struct HistoryRow {
    at: String,
    reviewer: String,
    counts: String,
    comment: String,
}

#[get("/review")]
async fn show(
    user: CurrentUser,
    app: &State<App>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Either<Page, Page>, WebError> {
    let me = &user.0.user;
    if let Err(page) = refuse_non_reviewer(me) {
        return Ok(Either::Right(page));
    }
    let policy = app.settings.review();
    let lists = app.review_groups(me).await?;
    let history: Vec<HistoryRow> = app
        .review_history(me)
        .await?
        .into_iter()
        .map(|r| HistoryRow {
            at: format_jst(r.at),
            reviewer: r.reviewer_label,
            counts: describe_counts(&decode_counts(&r.counts)),
            comment: r.comment,
        })
        .collect();
    let due = app.review_due(me).await?.is_some_and(|(due, _)| due);
    let now = app.now();
    Ok(Either::Left(
        Page::new("review/index.html")
            .with(
                "groups",
                lists
                    .iter()
                    .map(|l| group_view(l, &policy))
                    .collect::<Vec<_>>(),
            )
            .with(
                "municipal",
                matches!(View::of(&me.actor()), View::Municipality { .. }),
            )
            .with("history", history)
            .with("due", due)
            .with("interval_days", policy.interval_days)
            .with("today", iso_date(jst_date(now)))
            .with("today_label", format_date(jst_date(now)))
            .with("today_wareki", wareki(jst_date(now)).unwrap_or_default())
            .notice(Notice::from_flash(flash)),
    ))
}

#[get("/review/export.csv?<group>")]
async fn export(
    group: &str,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Either<(ContentType, CsvFile), Page>, WebError> {
    let me = &user.0.user;
    if let Err(page) = refuse_non_reviewer(me) {
        return Ok(Either::Right(page));
    }
    let Some(group) = Group::parse(group) else {
        return Ok(Either::Right(super::error_page(
            Status::NotFound,
            "指定された区分はありません。アカウント棚卸しの画面からやり直してください。",
        )));
    };
    let policy = app.settings.review();
    let lists = app.review_groups(me).await?;
    let accounts: Vec<&Listed> = lists
        .iter()
        .filter(|l| l.group == group)
        .flat_map(|l| l.accounts.iter())
        .collect();
    let header = [
        "区分",
        "ログインID",
        "氏名",
        "フリガナ",
        "ユーザ種別",
        "対象DB",
        "医療機関コード",
        "医療機関名",
        "部署",
        "状態",
        "最終ログイン",
        "有効期限",
        "登録日",
    ];
    let label = group.label(&policy);
    let rows = accounts.iter().map(|l| {
        let u = &l.user;
        vec![
            label.clone(),
            u.login_id.clone(),
            u.full_name(),
            u.full_kana(),
            u.user_type.label().to_string(),
            u.db.map_or("", |d| d.label()).to_string(),
            u.institution_code.clone().unwrap_or_default(),
            u.institution_name.clone().unwrap_or_default(),
            u.department.clone(),
            l.state.label().to_string(),
            last_login(u),
            u.expires_on.map(format_date).unwrap_or_default(),
            format_date(jst_date(u.created_at)),
        ]
    });
    let now = app.now();
    let file = CsvFile::new(
        &format!("review-{}-{}.csv", group.as_str(), iso_date(jst_date(now))),
        &header,
        rows,
    );
    let entry = AuditEntry::new(AuditActor::user(me), Action::CsvExport, Outcome::Success)
        .addr(addr.0)
        .details(format!(
            "アカウント棚卸し「{label}」のCSV出力 {}件",
            accounts.len()
        ));
    audit::record(&app.store, &app.keys.audit, &entry, now)
        .await
        .map_err(WebError::from_store)?;
    Ok(Either::Left((
        ContentType::new("text", "csv").with_params(("charset", "utf-8")),
        file,
    )))
}

/// The bulk form of a group (and of the confirmation screen).
#[derive(Debug, FromForm)]
struct BulkForm {
    #[field(default = String::new())]
    group: String,
    #[field(default = Vec::new())]
    ids: Vec<i64>,
    #[field(default = String::new())]
    action: String,
    #[field(default = String::new())]
    expires_on: String,
}

impl BulkForm {
    fn action(&self) -> Result<BulkAction, String> {
        match self.action.as_str() {
            "delete" => Ok(BulkAction::Delete),
            "expire" => parse_date("有効期限", &self.expires_on)
                .map(BulkAction::SetExpiry)
                .map_err(|e| e.to_string()),
            _ => Err("操作を選んでください。".to_string()),
        }
    }
}

#[derive(Debug, Serialize)]
struct ConfirmRow {
    id: i64,
    login_id: String,
    name: String,
    user_type: &'static str,
    db: &'static str,
    institution: String,
    department: String,
    expires_on: String,
    refused: Option<String>,
}

fn confirm_page(form: &BulkForm, action: BulkAction, rows: &[BulkRow], stale: bool) -> Page {
    let shown: Vec<ConfirmRow> = rows
        .iter()
        .map(|r| match &r.user {
            Some(u) => ConfirmRow {
                id: r.id,
                login_id: u.login_id.clone(),
                name: u.full_name(),
                user_type: u.user_type.label(),
                db: u.db.map_or("", |d| d.label()),
                institution: u.institution_name.clone().unwrap_or_default(),
                department: u.department.clone(),
                expires_on: u.expires_on.map(format_date).unwrap_or_default(),
                refused: r.refused.clone(),
            },
            None => ConfirmRow {
                id: r.id,
                login_id: "—".to_string(),
                name: "—".to_string(),
                user_type: "",
                db: "",
                institution: String::new(),
                department: String::new(),
                expires_on: String::new(),
                refused: r.refused.clone(),
            },
        })
        .collect();
    let allowed: Vec<&ConfirmRow> = shown.iter().filter(|r| r.refused.is_none()).collect();
    let refused: Vec<&ConfirmRow> = shown.iter().filter(|r| r.refused.is_some()).collect();
    Page::new("review/confirm.html")
        .with("group", &form.group)
        .with("action", &form.action)
        .with("action_label", action.label())
        .with("delete", action == BulkAction::Delete)
        .with(
            "expires_on",
            match action {
                BulkAction::SetExpiry(d) => iso_date(d),
                BulkAction::Delete => String::new(),
            },
        )
        .with("allowed", &allowed)
        .with("refused", &refused)
        .with("stale", stale)
}

fn back_with_error(message: impl Into<String>) -> Flash<Redirect> {
    Flash::error(Redirect::to("/review"), message.into())
}

/// The bulk screens' answer: a page, or back to /review with a message.
type Answer = Either<Page, Flash<Redirect>>;

/// What [確認] and [実行] both check first: a reviewer, a readable form, someone selected, an action.
fn bulk_request(
    me: &UserRecord,
    form: CsrfForm<'_, BulkForm>,
) -> Result<(BulkForm, BulkAction), Box<Answer>> {
    refuse_non_reviewer(me).map_err(|page| Box::new(Either::Left(page)))?;
    let Some(form) = form.0.value else {
        return Err(Box::new(Either::Right(back_with_error(
            "送信内容を読み取れませんでした。もう一度操作してください。",
        ))));
    };
    if form.ids.is_empty() {
        return Err(Box::new(Either::Right(back_with_error(
            "対象のユーザを選択してください。",
        ))));
    }
    let action = form
        .action()
        .map_err(|message| Box::new(Either::Right(back_with_error(message))))?;
    Ok((form, action))
}

#[post("/review/confirm", data = "<form>")]
async fn confirm(
    form: CsrfForm<'_, BulkForm>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Either<Page, Flash<Redirect>>, WebError> {
    let me = &user.0.user;
    let (form, action) = match bulk_request(me, form) {
        Ok(request) => request,
        Err(answer) => return Ok(*answer),
    };
    let rows = app
        .review_bulk(me, action, &form.ids, false, addr.0)
        .await?;
    Ok(Either::Left(confirm_page(&form, action, &rows, false)))
}

#[post("/review/apply", data = "<form>")]
async fn apply(
    form: CsrfForm<'_, BulkForm>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Either<Page, Flash<Redirect>>, WebError> {
    let me = &user.0.user;
    let (form, action) = match bulk_request(me, form) {
        Ok(request) => request,
        Err(answer) => return Ok(*answer),
    };
    let rows = app.review_bulk(me, action, &form.ids, true, addr.0).await?;
    if rows.iter().any(|r| r.refused.is_some()) {
        return Ok(Either::Left(
            confirm_page(&form, action, &rows, true).status(Status::Conflict),
        ));
    }
    let message = match action {
        BulkAction::Delete => format!("{}件のアカウントを削除しました。", rows.len()),
        BulkAction::SetExpiry(d) => format!(
            "{}件のアカウントの有効期限を{}に設定しました。",
            rows.len(),
            format_date(d)
        ),
    };
    Ok(Either::Right(Flash::success(
        Redirect::to("/review"),
        message,
    )))
}

#[derive(Debug, FromForm)]
struct CompleteForm {
    #[field(default = String::new())]
    comment: String,
}

#[post("/review/complete", data = "<form>")]
async fn complete(
    form: CsrfForm<'_, CompleteForm>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Either<Page, Flash<Redirect>>, WebError> {
    let me = &user.0.user;
    if let Err(page) = refuse_non_reviewer(me) {
        return Ok(Either::Left(page));
    }
    let comment = form.0.value.map(|f| f.comment).unwrap_or_default();
    if let Err(message) = crate::service::review::check_comment(&comment) {
        return Ok(Either::Right(back_with_error(message)));
    }
    let counts = app.complete_review(me, &comment, addr.0).await?;
    Ok(Either::Right(Flash::success(
        Redirect::to("/review"),
        format!(
            "アカウント棚卸しの完了を記録しました（{}）。",
            describe_counts(&counts)
        ),
    )))
}

pub fn routes() -> Vec<Route> {
    routes![show, export, confirm, apply, complete]
}
