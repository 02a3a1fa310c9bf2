//! Pages: tera templates embedded in the binary (DESIGN §12: the release binary runs from any working
//! directory), rendered with the header every screen shares.

use include_dir::{include_dir, Dir};
use rocket::http::{ContentType, Header, Status};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use serde::Serialize;
use tera::{Context, Tera};

use crate::domain::account::TEXT_LIMITS;
use crate::domain::numbers::grouped;

use super::session::RequestSession;

static TEMPLATES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The compiled templates, managed by Rocket.
pub struct Views(Tera);

impl Views {
    pub fn load() -> Views {
        let mut tera = Tera::default();
        let mut files = Vec::new();
        collect(&TEMPLATES, &mut files);
        tera.add_raw_templates(files)
            .expect("embedded templates compile");
        // Autoescape every template: they are all HTML.
        tera.autoescape_on(vec![".html"]);
        // `{{ n | grouped }}`: 10,000件, as every count on a screen is written.
        tera.register_filter(
            "grouped",
            |v: &tera::Value, _: &std::collections::HashMap<String, tera::Value>| {
                v.as_u64()
                    .map(|n| tera::Value::String(grouped(n)))
                    .ok_or_else(|| tera::Error::msg("grouped: not a count"))
            },
        );
        Views(tera)
    }

    pub fn render(&self, name: &str, ctx: &Context) -> Result<String, tera::Error> {
        self.0.render(name, ctx)
    }
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static str)>) {
    for f in dir.files() {
        if let Some(text) = f.contents_utf8() {
            out.push((f.path().to_string_lossy().replace('\\', "/"), text));
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

/// A one-line result shown at the top of the next screen (never a secret).
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub kind: &'static str,
    pub text: String,
}

impl Notice {
    /// A `Flash` set by the previous request (`success` is green, anything else an error).
    pub fn from_flash(flash: Option<rocket::request::FlashMessage<'_>>) -> Option<Notice> {
        flash.map(|f| Notice {
            kind: if f.kind() == "success" {
                "success"
            } else {
                "error"
            },
            text: f.message().to_string(),
        })
    }
}

/// A rendered screen. The header (who is logged in, the menu) and the CSRF token are added from the
/// request, so no handler can forget them.
pub struct Page {
    template: &'static str,
    ctx: Context,
    status: Status,
}

impl Page {
    pub fn new(template: &'static str) -> Page {
        let mut ctx = Context::new();
        // Every form's maxlength comes from the domain's limits, never a number typed in a template.
        let limits: std::collections::BTreeMap<&str, usize> = TEXT_LIMITS.into_iter().collect();
        ctx.insert("limits", &limits);
        Page {
            template,
            ctx,
            status: Status::Ok,
        }
    }

    pub fn with(mut self, key: &str, value: impl Serialize) -> Page {
        self.ctx.insert(key, &value);
        self
    }

    pub fn status(mut self, status: Status) -> Page {
        self.status = status;
        self
    }

    pub fn notice(self, notice: Option<Notice>) -> Page {
        match notice {
            Some(n) => self.with("notice", n),
            None => self,
        }
    }
}

impl<'r> Responder<'r, 'static> for Page {
    fn respond_to(mut self, req: &'r Request<'_>) -> response::Result<'static> {
        let session = req.local_cache(RequestSession::default);
        if !self.ctx.contains_key("csrf") {
            if let Some(token) = &session.csrf {
                self.ctx.insert("csrf", token);
            }
        }
        if let Some(auth) = &session.auth {
            self.ctx.insert("me", &super::menu::Header::of(auth));
        }
        let views = req
            .rocket()
            .state::<Views>()
            .ok_or(Status::InternalServerError)?;
        let html = views.render(self.template, &self.ctx).map_err(|e| {
            crate::report::error(
                &format!("画面テンプレート {}", self.template),
                format!("{e:?}"),
            );
            Status::InternalServerError
        })?;
        Response::build_from(html.respond_to(req)?)
            .status(self.status)
            .header(ContentType::HTML)
            // Screens show personal data: never kept in a shared cache or the browser's history cache.
            .header(Header::new("Cache-Control", "no-store"))
            .ok()
    }
}
