//! `/users/new` 医療機関ユーザ新規登録 and its completion screen.

use rocket::form::FromForm;
use rocket::request::FlashMessage;
use rocket::response::Redirect;
use rocket::{get, post, routes, uri, Either, Route, State};
use serde::Serialize;

use crate::domain::credentials::temp_password_stamp;
use crate::domain::roles::{may_see, registrable};
use crate::domain::{AccountState, Db, UserType};
use crate::service::users::Registration;
use crate::service::{App, ServiceError};
use crate::store::orgs::Institution;
use crate::store::users::UserRecord;

use super::forms::{FormErrors, ProfileForm};
use super::session::{ClientAddr, CsrfForm, CurrentUser};
use super::view::{Notice, Page};
use super::WebError;

#[derive(Debug, Clone, Default, FromForm, Serialize)]
pub struct RegisterForm {
    #[field(default = String::new())]
    pub user_type: String,
    #[field(default = String::new())]
    pub db: String,
    #[field(default = String::new())]
    pub institution: String,
    pub profile: ProfileForm,
}

#[derive(Debug, Serialize)]
struct TypeOption {
    value: &'static str,
    label: &'static str,
    /// The DB the type registers into (fixed by the actor's own DB or implied by the type).
    db_label: &'static str,
    doctor: bool,
}

#[derive(Debug, Serialize)]
struct InstitutionOption {
    code: String,
    name: String,
}

/// What the form offers this actor: only the types the role rules allow (DESIGN §3).
struct Offer {
    types: Vec<TypeOption>,
    institutions: Vec<InstitutionOption>,
    /// The actor's own DB (fixed for institution accounts), if any.
    fixed_db: Option<Db>,
    choose_institution: bool,
}

async fn offer(app: &App, user: &UserRecord) -> Result<Offer, WebError> {
    let actor = user.actor();
    let institutions: Vec<Institution> = app.registrable_institutions(user).await?;
    let mut types: Vec<TypeOption> = Vec::new();
    for inst in &institutions {
        for (t, db) in registrable(&actor, inst.as_ref()) {
            if !types.iter().any(|o| o.value == t.as_str()) {
                types.push(TypeOption {
                    value: t.as_str(),
                    label: t.label(),
                    db_label: db.label(),
                    doctor: t.is_doctor(),
                });
            }
        }
    }
    let choose_institution = user.user_type == UserType::MunicipalOfficer;
    Ok(Offer {
        types,
        institutions: institutions
            .into_iter()
            .map(|i| InstitutionOption {
                code: i.code,
                name: i.name,
            })
            .collect(),
        fixed_db: user.db,
        choose_institution,
    })
}

fn form_page(offer: Offer, values: &RegisterForm, errors: FormErrors) -> Page {
    let any_doctor = offer.types.iter().any(|t| t.doctor);
    Page::new("users/new.html")
        .with("types", offer.types)
        .with("institutions", offer.institutions)
        .with("fixed_db", offer.fixed_db.map(|d| (d.as_str(), d.label())))
        .with("choose_institution", offer.choose_institution)
        .with("doctor_fields", any_doctor)
        .with("v", values)
        .with("errors", errors)
}

#[get("/users/new")]
async fn show(user: CurrentUser, app: &State<App>) -> Result<Page, WebError> {
    let offer = offer(app, &user.0.user).await?;
    if offer.types.is_empty() {
        return Ok(super::menu::not_offered(&user.0, "医療機関ユーザ新規登録"));
    }
    let mut values = <RegisterForm as Default>::default();
    if offer.types.len() == 1 {
        values.user_type = offer.types[0].value.to_string();
    }
    Ok(form_page(offer, &values, FormErrors::default()))
}

#[post("/users/new", data = "<form>")]
async fn submit(
    form: CsrfForm<'_, RegisterForm>,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Either<Redirect, Page>, WebError> {
    let offer = offer(app, &user.0.user).await?;
    let Some(values) = form.0.value else {
        let mut errors = FormErrors::default();
        errors.add(
            "user_type",
            "送信内容を読み取れませんでした。もう一度入力してください。",
        );
        return Ok(Either::Right(form_page(
            offer,
            &<RegisterForm as Default>::default(),
            errors,
        )));
    };
    let reg = Registration {
        user_type: values.user_type.clone(),
        db: values.db.clone(),
        institution_code: values.institution.clone(),
        profile: values.profile.raw(),
    };
    match app.register(&user.0.user, &reg, addr.0).await {
        Ok(created) => Ok(Either::Left(Redirect::to(uri!(registered(created.id))))),
        Err(ServiceError::Invalid(errors)) => Ok(Either::Right(form_page(
            offer,
            &values,
            FormErrors::from_profile(&errors),
        ))),
        Err(e) => Err(WebError(e)),
    }
}

#[derive(Debug, Serialize)]
struct Registered {
    id: i64,
    login_id: String,
    name: String,
    kana: String,
    user_type: &'static str,
    db: Option<&'static str>,
    department: String,
    institution: Option<String>,
    state: &'static str,
    /// Which temporary password the screen showed (the notice form sends it back).
    stamp: String,
}

/// The completion screen: the login ID, and the way to the notice.
#[get("/users/<id>/registered")]
async fn registered(
    id: i64,
    user: CurrentUser,
    app: &State<App>,
    flash: Option<FlashMessage<'_>>,
) -> Result<Page, WebError> {
    let target = app.user_by_id(id).await?;
    let visible = target
        .target()
        .is_some_and(|t| may_see(&user.0.user.actor(), &t));
    if !visible {
        return Err(WebError(ServiceError::NotFound));
    }
    let state = target.facts().state(&app.settings.lockout(), app.now());
    Ok(Page::new("users/registered.html")
        .with(
            "user",
            Registered {
                id: target.id,
                login_id: target.login_id.clone(),
                name: target.full_name(),
                kana: target.full_kana(),
                user_type: target.user_type.label(),
                db: target.db.map(|d| d.label()),
                department: target.department.clone(),
                institution: target.institution_name.clone(),
                state: state.label(),
                stamp: temp_password_stamp(target.temp_password_mac.as_deref()),
            },
        )
        .with("pending", state == AccountState::NoticePending)
        .notice(Notice::from_flash(flash)))
}

pub fn routes() -> Vec<Route> {
    routes![show, submit, registered]
}
