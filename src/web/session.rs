//! Who is asking: the session cookie, the CSRF token, the client address, as request guards.
//!
//! The session is resolved once per request and cached; [`CurrentUser`] admits full sessions only,
//! [`AnyUser`] also a temporary-password session (which may only change its password). Every
//! state-changing form is read through [`CsrfForm`], which refuses a missing or wrong token with 403
//! before the handler runs.

use rocket::data::{self, Data, FromData};
use rocket::form::{Contextual, Form, FromForm};
use rocket::http::{Cookie, CookieJar, Method, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use crate::domain::credentials::{self, equal_secret};
use crate::service::auth::Authenticated;
use crate::service::App;

/// How cookies are named and flagged: `Secure` and the `__Host-` prefix whenever the browser talks TLS
/// (Rocket's own TLS, or a TLS-terminating proxy in front).
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    pub fn session_name(&self) -> &'static str {
        if self.secure {
            "__Host-nanbyo_session"
        } else {
            "nanbyo_session"
        }
    }

    pub fn pre_session_name(&self) -> &'static str {
        if self.secure {
            "__Host-nanbyo_pre"
        } else {
            "nanbyo_pre"
        }
    }

    /// HttpOnly, SameSite=Strict, Path=/, and no Max-Age: the server decides when a session ends.
    pub fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .path("/")
            .build()
    }
}

/// The request's session, resolved once.
#[derive(Default)]
pub struct RequestSession {
    pub auth: Option<Authenticated>,
    /// The token forms must carry: the session's, or the pre-session cookie's on `/login`.
    pub csrf: Option<String>,
    /// The session could not be looked up (database error).
    pub failed: bool,
}

/// Where a refused guard sends the browser (read by the 401 catcher).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthRedirect {
    Login,
    ChangePassword,
}

pub(super) fn app<'r>(req: &'r Request<'_>) -> &'r App {
    req.rocket().state::<App>().expect("App is managed")
}

fn cookie_policy(req: &Request<'_>) -> CookiePolicy {
    *req.rocket()
        .state::<CookiePolicy>()
        .expect("CookiePolicy is managed")
}

/// The session token in the cookie, if any.
pub(super) fn session_token(req: &Request<'_>) -> Option<String> {
    req.cookies()
        .get(cookie_policy(req).session_name())
        .map(|c| c.value().to_string())
}

pub(super) async fn request_session<'r>(req: &'r Request<'_>) -> &'r RequestSession {
    req.local_cache_async(async {
        let app = app(req);
        let mut out = RequestSession::default();
        if let Some(token) = session_token(req) {
            match app.session(&token).await {
                Ok(Some(auth)) => {
                    out.csrf = Some(credentials::csrf_token(&app.keys.csrf, &token));
                    out.auth = Some(auth);
                }
                Ok(None) => {}
                Err(e) => {
                    crate::report::error("セッションの確認", &e);
                    out.failed = true;
                }
            }
        }
        if out.auth.is_none() {
            out.csrf = Some(pre_session_csrf(req, req.cookies()));
        }
        out
    })
    .await
}

/// The CSRF token of a visitor who is not logged in, bound to a random pre-session cookie. Every
/// GET of the login page draws a new value: a value planted in the browser (by another host of the
/// hospital's domain, or on plain HTTP) is never the one a login form's token is issued for.
fn pre_session_csrf(req: &Request<'_>, jar: &CookieJar<'_>) -> String {
    let policy = cookie_policy(req);
    let renew = req.method() == Method::Get && req.uri().path() == "/login";
    let value = match jar.get(policy.pre_session_name()) {
        Some(c) if !renew && c.value().len() >= 32 => c.value().to_string(),
        _ => {
            let v = credentials::generate_session_token();
            jar.add(policy.cookie(policy.pre_session_name(), v.clone()));
            v
        }
    };
    credentials::csrf_token(&app(req).keys.csrf, &format!("pre:{value}"))
}

/// The client address for the audit log and the throttle: the socket's peer — or, when Rocket's
/// `ip_header` is configured (it is off by default) and the peer is one of `trusted_proxies`, the
/// address that proxy reports.
pub struct ClientAddr(pub Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddr {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let peer = req.remote().map(|r| r.ip());
        let from_proxy = peer.is_some_and(|p| app(req).settings.trusted_proxies.contains(&p));
        let ip = if from_proxy { req.client_ip() } else { peer };
        Outcome::Success(ClientAddr(ip.map(|ip| ip.to_string())))
    }
}

/// A logged-in person with a full session.
pub struct CurrentUser(pub Authenticated);

/// A logged-in person, possibly on a temporary password.
pub struct AnyUser(pub Authenticated);

async fn authenticated(
    req: &Request<'_>,
    allow_temporary: bool,
) -> request::Outcome<Authenticated, ()> {
    let session = request_session(req).await;
    if session.failed {
        return Outcome::Error((Status::InternalServerError, ()));
    }
    match &session.auth {
        Some(auth) if allow_temporary || !auth.is_temporary() => Outcome::Success(auth.clone()),
        Some(_) => {
            req.local_cache(|| AuthRedirect::ChangePassword);
            Outcome::Error((Status::Unauthorized, ()))
        }
        None => {
            req.local_cache(|| AuthRedirect::Login);
            Outcome::Error((Status::Unauthorized, ()))
        }
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        authenticated(req, false).await.map(CurrentUser)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AnyUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        authenticated(req, true).await.map(AnyUser)
    }
}

/// The visitor's session, if any (for pages open to everybody, such as `/login`).
pub struct MaybeUser(pub Option<Authenticated>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for MaybeUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let session = request_session(req).await;
        if session.failed {
            return Outcome::Error((Status::InternalServerError, ()));
        }
        Outcome::Success(MaybeUser(session.auth.clone()))
    }
}

/// Whether the browser says this request comes from another site: `Sec-Fetch-Site` other than
/// same-origin / none, or an `Origin` whose host is not the one the request was sent to (nor the
/// configured `login_url`'s). An `Origin: null` (Chromium sends it under `Referrer-Policy:
/// no-referrer`) and a missing one say nothing, and the CSRF token alone decides.
pub(super) fn from_another_site(req: &Request<'_>) -> bool {
    let headers = req.headers();
    if let Some(site) = headers.get_one("Sec-Fetch-Site") {
        if site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site") {
            return true;
        }
    }
    let Some(origin) = headers.get_one("Origin").map(str::trim) else {
        return false;
    };
    if origin.eq_ignore_ascii_case("null") {
        return false;
    }
    let authority = |url: &str| {
        url.split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or("").to_ascii_lowercase())
    };
    let Some(from) = authority(origin) else {
        return true;
    };
    let host = headers.get_one("Host").map(str::to_ascii_lowercase);
    let configured = app(req).settings.login_url.as_deref().and_then(authority);
    Some(&from) != host.as_ref() && Some(&from) != configured.as_ref()
}

/// A form whose `csrf` field matched the request's token. The form is parsed with
/// [`Contextual`], so a handler can re-render it with the values typed and the errors found.
pub struct CsrfForm<'r, T>(pub Contextual<'r, T>);

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + Send + 'r> FromData<'r> for CsrfForm<'r, T> {
    type Error = ();

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        if from_another_site(req) {
            return Outcome::Error((Status::Forbidden, ()));
        }
        let session = request_session(req).await;
        if session.failed {
            return Outcome::Error((Status::InternalServerError, ()));
        }
        let expected = session.csrf.clone();
        match Form::<Contextual<'r, T>>::from_data(req, data).await {
            Outcome::Success(form) => {
                let form = form.into_inner();
                let sent = form.context.field_value("csrf");
                match (expected, sent) {
                    (Some(e), Some(s)) if equal_secret(&e, s) => Outcome::Success(CsrfForm(form)),
                    _ => Outcome::Error((Status::Forbidden, ())),
                }
            }
            Outcome::Error((status, _)) => Outcome::Error((status, ())),
            Outcome::Forward(f) => Outcome::Forward(f),
        }
    }
}

/// A form that carries nothing but its CSRF token (a button).
#[derive(Debug, FromForm)]
pub struct CsrfOnly {
    #[allow(dead_code)]
    csrf: String,
}
