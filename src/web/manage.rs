//! The 操作 column's operations on one account: [変更], [パスワード初期化], [アカウントロック解除],
//! [アカウント削除]. Each GET shows a screen that names the person; each POST re-checks the role rules.

use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, Either, Route, State};
use serde::Serialize;

use crate::domain::audit::Action;
use crate::domain::credentials::temp_password_stamp;
use crate::domain::{AccountState, UserType};
use crate::service::users::Edited;
use crate::service::{App, ServiceError};
use crate::store::users::UserRecord;

use super::forms::{FormErrors, ProfileForm, SearchReturn};
use super::search::encode;
use super::session::{ClientAddr, CsrfForm, CsrfOnly, CurrentUser};
use super::view::{Notice, Page};
use super::WebError;

/// The person an operation is about, as the confirmation screens name them.
#[derive(Debug, Serialize)]
struct Person {
    id: i64,
    login_id: String,
    name: String,
    kana: String,
    user_type: &'static str,
    db: &'static str,
    department: String,
    institution: String,
    state: &'static str,
    /// Which temporary password the screen showed (the notice form sends it back).
    stamp: String,
}

fn person(app: &App, u: &UserRecord) -> Person {
    Person {
        id: u.id,
        login_id: u.login_id.clone(),
        name: u.full_name(),
        kana: u.full_kana(),
        user_type: u.user_type.label(),
        db: u.db.map_or("", |d| d.label()),
        department: u.department.clone(),
        institution: u.institution_name.clone().unwrap_or_default(),
        state: u.facts().state(&app.settings.lockout(), app.now()).label(),
        stamp: temp_password_stamp(u.temp_password_mac.as_deref()),
    }
}

/// Back to the search screen, showing the account the operation was about.
fn back_to(u: &UserRecord) -> Redirect {
    Redirect::to(format!("/users?login_id={}&state=", encode(&u.login_id)))
}

fn edit_page(
    app: &App,
    actor: &UserRecord,
    target: &UserRecord,
    values: &ProfileForm,
    errors: FormErrors,
) -> Page {
    Page::new("users/edit.html")
        .with("person", person(app, target))
        .with("p", values)
        .with("errors", errors)
        .with("doctor_fields", target.user_type.is_doctor())
        .with(
            "reg_no_readonly",
            actor.user_type != UserType::MunicipalOfficer,
        )
}

#[get("/users/<id>/edit")]
async fn edit_show(
    id: i64,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Page, WebError> {
    let (_, target) = app
        .authorize(&user.0.user, id, Action::Edit, addr.0)
        .await?;
    Ok(edit_page(
        app,
        &user.0.user,
        &target,
        &ProfileForm::of(&target),
        FormErrors::default(),
    ))
}

#[post("/users/<id>/edit", data = "<form>")]
async fn edit_submit(
    id: i64,
    form: CsrfForm<'_, ProfileForm>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Either<Flash<Redirect>, Page>, WebError> {
    let me = &user.0.user;
    let (permit, target) = app.authorize(me, id, Action::Edit, addr.0.clone()).await?;
    let Some(values) = form.0.value else {
        let mut errors = FormErrors::default();
        errors.add(
            "department",
            "送信内容を読み取れませんでした。もう一度入力してください。",
        );
        return Ok(Either::Right(edit_page(
            app,
            me,
            &target,
            &ProfileForm::of(&target),
            errors,
        )));
    };
    match app.edit(me, &permit, &target, &values.raw(), addr.0).await {
        Ok(Edited::Changed(updated)) => Ok(Either::Left(Flash::success(
            back_to(&updated),
            format!("{}様のユーザ情報を変更しました。", updated.full_name()),
        ))),
        Ok(Edited::Unchanged(same)) => Ok(Either::Left(Flash::success(
            back_to(&same),
            format!(
                "{}様のユーザ情報に変更はありませんでした。",
                same.full_name()
            ),
        ))),
        Err(ServiceError::Invalid(errors)) => Ok(Either::Right(edit_page(
            app,
            me,
            &target,
            &values,
            FormErrors::from_profile(&errors),
        ))),
        Err(e) => Err(WebError(e)),
    }
}

/// How the person's identity was checked before the reset (the guideline asks to record it).
#[derive(Debug, FromForm)]
struct ResetForm {
    method: String,
    detail: String,
}

const VERIFICATION_METHODS: [&str; 3] = [
    "対面で職員証・身分証明書を確認",
    "登録済みの内線・電話番号への折り返しで確認",
    "その他",
];

fn reset_page(app: &App, target: &UserRecord, errors: FormErrors) -> Page {
    Page::new("users/reset.html")
        .with("person", person(app, target))
        .with("methods", VERIFICATION_METHODS)
        .with("errors", errors)
}

#[get("/users/<id>/reset")]
async fn reset_show(
    id: i64,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Page, WebError> {
    let (_, target) = app
        .authorize(&user.0.user, id, Action::PasswordReset, addr.0)
        .await?;
    Ok(reset_page(app, &target, FormErrors::default()))
}

#[post("/users/<id>/reset", data = "<form>")]
async fn reset_submit(
    id: i64,
    form: CsrfForm<'_, ResetForm>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Either<Flash<Redirect>, Page>, WebError> {
    let me = &user.0.user;
    let (permit, target) = app
        .authorize(me, id, Action::PasswordReset, addr.0.clone())
        .await?;
    let values = form.0.value.unwrap_or(ResetForm {
        method: String::new(),
        detail: String::new(),
    });
    let method = values.method.trim();
    let detail = values.detail.trim();
    let mut errors = FormErrors::default();
    if !VERIFICATION_METHODS.contains(&method) {
        errors.add("method", "本人確認の方法を選択してください。");
    } else if method == "その他" && detail.is_empty() {
        errors.add(
            "detail",
            "「その他」を選んだ場合は、本人確認の方法を具体的に入力してください。",
        );
    }
    if detail.chars().count() > 200 || detail.chars().any(char::is_control) {
        errors.add(
            "detail",
            "本人確認の方法（詳細）は制御文字を含まない200文字以内で入力してください。",
        );
    }
    if !errors.is_empty() {
        return Ok(Either::Right(reset_page(app, &target, errors)));
    }
    let verified_by = if detail.is_empty() {
        method.to_string()
    } else {
        format!("{method}（{detail}）")
    };
    let updated = app
        .reset_password(
            &permit,
            &verified_by,
            &crate::store::audit::AuditActor::user(me),
            addr.0,
        )
        .await?;
    Ok(Either::Left(Flash::success(
        Redirect::to(format!("/users/{}/issue", updated.id)),
        format!(
            "{}様のパスワードを初期化しました。これまでのパスワードは使えません。新しいIDパスワード通知書を発行して本人に渡してください。",
            updated.full_name()
        ),
    )))
}

/// Where パスワード初期化 leads: the person and the button that issues the new notice.
#[get("/users/<id>/issue")]
async fn issue_show(
    id: i64,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Page, WebError> {
    let (_, target) = app
        .authorize(&user.0.user, id, Action::NoticeIssue, addr.0)
        .await?;
    let state = target.facts().state(&app.settings.lockout(), app.now());
    Ok(Page::new("users/issue.html")
        .with("person", person(app, &target))
        .with(
            "can_issue",
            matches!(
                state,
                AccountState::NoticePending | AccountState::TemporaryPassword
            ),
        )
        .notice(Notice::from_flash(flash)))
}

/// A search row's button: the CSRF token and the search to return to.
#[derive(Debug, FromForm)]
struct RowButton {
    #[allow(dead_code)]
    csrf: String,
    back: Option<String>,
}

#[post("/users/<id>/unlock", data = "<form>")]
async fn unlock(
    id: i64,
    form: CsrfForm<'_, RowButton>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Flash<Redirect>, WebError> {
    let back = form
        .0
        .value
        .and_then(|f| f.back)
        .as_deref()
        .and_then(SearchReturn::parse);
    let me = &user.0.user;
    let unlocked = match app.authorize(me, id, Action::Unlock, addr.0.clone()).await {
        Ok((permit, _)) => {
            app.unlock(&permit, &crate::store::audit::AuditActor::user(me), addr.0)
                .await
        }
        Err(e) => Err(e),
    };
    match unlocked {
        Ok(updated) => Ok(Flash::success(
            back.map_or_else(|| back_to(&updated), |b| b.redirect()),
            format!(
                "{}様のアカウントロックを解除しました。",
                updated.full_name()
            ),
        )),
        Err(e) => SearchReturn::refusal(back.as_ref(), e),
    }
}

#[get("/users/<id>/delete")]
async fn delete_show(
    id: i64,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Page, WebError> {
    let (_, target) = app
        .authorize(&user.0.user, id, Action::Delete, addr.0)
        .await?;
    Ok(Page::new("users/delete.html").with("person", person(app, &target)))
}

#[post("/users/<id>/delete", data = "<form>")]
async fn delete_submit(
    id: i64,
    form: CsrfForm<'_, CsrfOnly>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Flash<Redirect>, WebError> {
    let _ = form;
    let me = &user.0.user;
    let (permit, target) = app
        .authorize(me, id, Action::Delete, addr.0.clone())
        .await?;
    app.delete(me, &permit, addr.0).await?;
    Ok(Flash::success(
        Redirect::to("/users"),
        format!("{}様のアカウントを削除しました。", target.full_name()),
    ))
}

pub fn routes() -> Vec<Route> {
    routes![
        edit_show,
        edit_submit,
        reset_show,
        reset_submit,
        issue_show,
        unlock,
        delete_show,
        delete_submit
    ]
}
