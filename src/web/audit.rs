//! `/audit` 操作履歴 (DESIGN §11): the entries the §3 rule lets this person read, filtered and paged,
//! and `/audit/export.csv`, the same entries for Excel (itself recorded in the log).

use rocket::form::FromForm;
use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Either, Route, State};
use serde::Serialize;

use crate::domain::audit::{
    action_display, actor_display, format_jst_seconds, outcome_display, Action, AuditQuery,
    Outcome, EXPORT_MAX, PER_PAGE,
};
use crate::domain::spreadsheet::neutralise;
use crate::domain::time::{format_date, format_jst, iso_date, parse_date};
use crate::domain::visibility::View;
use crate::service::App;
use crate::store::audit::{self, AuditActor, AuditEntry, StoredEntry};

use super::session::{ClientAddr, CurrentUser};
use super::view::Page;
use super::WebError;

/// The longest 操作者 / 対象 condition accepted.
const MAX_TEXT: usize = 100;

/// The conditions as the form sends them (a GET query; every field optional).
#[derive(Debug, Clone, Default, FromForm)]
pub struct AuditForm {
    from: Option<String>,
    to: Option<String>,
    actor: Option<String>,
    action: Option<String>,
    target: Option<String>,
    page: Option<String>,
}

/// The conditions echoed back into the form.
#[derive(Debug, Clone, Default, Serialize)]
struct Echo {
    from: String,
    to: String,
    actor: String,
    action: String,
    target: String,
}

/// A condition that could not be read: the field's id and what to type instead.
#[derive(Debug, Clone, Serialize)]
struct FieldMessage {
    field: &'static str,
    message: String,
}

/// The form read into a query, the values to echo, and the problems found.
struct Conditions {
    query: AuditQuery,
    echo: Echo,
    errors: Vec<FieldMessage>,
}

fn text(v: &Option<String>) -> String {
    v.as_deref().unwrap_or("").trim().to_string()
}

impl Conditions {
    fn read(form: &AuditForm) -> Conditions {
        let mut errors = Vec::new();
        let mut echo = Echo {
            from: text(&form.from),
            to: text(&form.to),
            actor: text(&form.actor),
            action: text(&form.action),
            target: text(&form.target),
        };
        let mut date = |field: &'static str, label: &'static str, value: &mut String| {
            if value.is_empty() {
                return None;
            }
            match parse_date(label, value) {
                Ok(d) => {
                    // The date input shows only the ISO form.
                    *value = iso_date(d);
                    Some(d)
                }
                Err(e) => {
                    errors.push(FieldMessage {
                        field,
                        message: e.to_string(),
                    });
                    None
                }
            }
        };
        let from = date("from", "期間（開始日）", &mut echo.from);
        let to = date("to", "期間（終了日）", &mut echo.to);
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                errors.push(FieldMessage {
                    field: "to",
                    message: "期間（終了日）は期間（開始日）と同じ日か、それより後の日付を入力してください。"
                        .to_string(),
                });
            }
        }
        let action = if echo.action.is_empty() {
            None
        } else {
            let parsed = Action::parse(&echo.action);
            if parsed.is_none() {
                errors.push(FieldMessage {
                    field: "action",
                    message: "操作は一覧から選んでください。".to_string(),
                });
            }
            parsed
        };
        for (field, label, value) in [
            ("actor", "操作者", &echo.actor),
            ("target", "対象", &echo.target),
        ] {
            if value.chars().count() > MAX_TEXT {
                errors.push(FieldMessage {
                    field,
                    message: format!("{label}は{MAX_TEXT}文字以内で入力してください。"),
                });
            } else if value.chars().any(char::is_control) {
                errors.push(FieldMessage {
                    field,
                    message: format!("{label}に使用できない文字（制御文字）が含まれています。"),
                });
            }
        }
        let page = form
            .page
            .as_deref()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .unwrap_or(1)
            .max(1);
        let query = AuditQuery {
            from,
            to,
            actor: AuditQuery::words(&echo.actor),
            action,
            target: AuditQuery::words(&echo.target),
            page,
        };
        Conditions {
            query,
            echo,
            errors,
        }
    }

    /// `?from=…&…` for the links that keep the conditions (page 1 unless given).
    fn link(&self, path: &str, page: Option<u32>) -> String {
        let mut pairs: Vec<(&str, String)> = [
            ("from", &self.echo.from),
            ("to", &self.echo.to),
            ("actor", &self.echo.actor),
            ("action", &self.echo.action),
            ("target", &self.echo.target),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect();
        if let Some(p) = page {
            pairs.push(("page", p.to_string()));
        }
        if pairs.is_empty() {
            return path.to_string();
        }
        let q: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", query_encode(v)))
            .collect();
        format!("{path}?{}", q.join("&"))
    }

    /// The conditions in words, for the export's audit entry (empty when there are none).
    fn summary(&self) -> String {
        let q = &self.query;
        let mut parts = Vec::new();
        if q.from.is_some() || q.to.is_some() {
            parts.push(format!(
                "期間: {}〜{}",
                q.from.map(format_date).unwrap_or_default(),
                q.to.map(format_date).unwrap_or_default()
            ));
        }
        if !self.echo.actor.is_empty() {
            parts.push(format!("操作者: {}", self.echo.actor));
        }
        if let Some(a) = q.action {
            parts.push(format!("操作: {}", a.label()));
        }
        if !self.echo.target.is_empty() {
            parts.push(format!("対象: {}", self.echo.target));
        }
        parts.join("、")
    }
}

/// Percent-encodes a query value (UTF-8; everything but the unreserved characters).
fn query_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One row of the table.
#[derive(Debug, Serialize)]
struct Row {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    outcome: String,
    /// `success`, `failure` or `denied` (a CSS class; the text says it too).
    outcome_kind: String,
    addr: String,
    details: String,
}

impl Row {
    fn of(e: &StoredEntry) -> Row {
        let c = &e.content;
        Row {
            seq: c.seq,
            at: format_jst(c.at),
            actor: actor_display(&c.actor_label).to_string(),
            action: action_display(&c.action).to_string(),
            target: c.target_label.clone().unwrap_or_default(),
            outcome: outcome_display(&c.result).to_string(),
            outcome_kind: Outcome::parse(&c.result)
                .map_or("unknown", Outcome::as_str)
                .to_string(),
            addr: c.client_addr.clone().unwrap_or_default(),
            details: c.details.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct ActionOption {
    value: &'static str,
    label: &'static str,
}

fn action_options() -> Vec<ActionOption> {
    Action::ALL
        .iter()
        .map(|a| ActionOption {
            value: a.as_str(),
            label: a.label(),
        })
        .collect()
}

/// The screen with the conditions and, unless they could not be read, one page of entries.
async fn render(
    app: &App,
    user: &CurrentUser,
    c: &Conditions,
    extra_error: Option<String>,
) -> Result<Page, WebError> {
    let mut page = Page::new("audit/list.html")
        .with("f", &c.echo)
        .with("actions", action_options())
        .with("per_page", PER_PAGE);
    let mut errors = c.errors.clone();
    if let Some(message) = extra_error {
        errors.push(FieldMessage { field: "", message });
    }
    if !errors.is_empty() {
        let field_errors: std::collections::BTreeMap<&str, &str> = errors
            .iter()
            .filter(|e| !e.field.is_empty())
            .map(|e| (e.field, e.message.as_str()))
            .collect();
        page = page
            .with("field_errors", field_errors)
            .with("errors", &errors);
    }
    if !c.errors.is_empty() {
        return Ok(page);
    }
    let viewer = &user.0.user;
    let view = View::of(&viewer.actor());
    let pool = app.store.pool();
    let total = audit::count_visible(pool, viewer.id, &view, &c.query)
        .await
        .map_err(WebError::from_store)?;
    let current = c.query.clamped_page(total);
    let offset = u64::from(current - 1) * u64::from(PER_PAGE);
    let entries = audit::list_visible(pool, viewer.id, &view, &c.query, Some((offset, PER_PAGE)))
        .await
        .map_err(WebError::from_store)?;
    let pages = total.div_ceil(u64::from(PER_PAGE)).max(1);
    let rows: Vec<Row> = entries.iter().map(Row::of).collect();
    let first = if rows.is_empty() { 0 } else { offset + 1 };
    let last = offset + rows.len() as u64;
    Ok(page
        .with("results", true)
        .with("rows", rows)
        .with("total", total)
        .with("first", first)
        .with("last", last)
        .with("page", current)
        .with("pages", pages)
        .with(
            "prev_href",
            (current > 1).then(|| c.link("/audit", Some(current - 1))),
        )
        .with(
            "next_href",
            (u64::from(current) < pages).then(|| c.link("/audit", Some(current + 1))),
        )
        .with("export_href", c.link("/audit/export.csv", None)))
}

#[get("/audit?<q..>")]
async fn list(user: CurrentUser, q: AuditForm, app: &State<App>) -> Result<Page, WebError> {
    render(app, &user, &Conditions::read(&q), None).await
}

/// A CSV file for Excel: UTF-8 with a BOM, never cached.
pub struct CsvDownload {
    pub filename: &'static str,
    pub body: Vec<u8>,
}

impl<'r> Responder<'r, 'static> for CsvDownload {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        Response::build_from(self.body.respond_to(req)?)
            .header(ContentType::new("text", "csv").with_params(("charset", "utf-8")))
            .header(Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{}\"", self.filename),
            ))
            .header(Header::new("Cache-Control", "no-store"))
            .ok()
    }
}

/// The CSV's header row.
pub const CSV_HEADER: [&str; 8] = [
    "連番",
    "日時",
    "操作者",
    "操作",
    "対象",
    "結果",
    "端末",
    "詳細",
];

/// The entries as CSV: BOM, CRLF, every field quoted, formula-like cells neutralised.
pub fn entries_csv(entries: &[StoredEntry]) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::with_capacity(64 + entries.len() * 160);
    out.extend_from_slice(b"\xEF\xBB\xBF");
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(CSV_HEADER)?;
    for e in entries {
        let c = &e.content;
        let cells = [
            c.seq.to_string(),
            format_jst_seconds(c.at),
            actor_display(&c.actor_label).to_string(),
            action_display(&c.action).to_string(),
            c.target_label.clone().unwrap_or_default(),
            outcome_display(&c.result).to_string(),
            c.client_addr.clone().unwrap_or_default(),
            c.details.clone(),
        ];
        w.write_record(cells.iter().map(|cell| neutralise(cell)))?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[get("/audit/export.csv?<q..>")]
async fn export(
    user: CurrentUser,
    q: AuditForm,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<Either<CsvDownload, Page>, WebError> {
    let c = Conditions::read(&q);
    if !c.errors.is_empty() {
        return Ok(Either::Right(render(app, &user, &c, None).await?));
    }
    let viewer = &user.0.user;
    let view = View::of(&viewer.actor());
    let pool = app.store.pool();
    let total = audit::count_visible(pool, viewer.id, &view, &c.query)
        .await
        .map_err(WebError::from_store)?;
    if total > EXPORT_MAX {
        let message = format!(
            "出力できるのは{EXPORT_MAX}件までです（条件に合う履歴は{total}件）。期間などの条件を絞り込んでから、もう一度出力してください。"
        );
        return Ok(Either::Right(render(app, &user, &c, Some(message)).await?));
    }
    let entries = audit::list_visible(pool, viewer.id, &view, &c.query, None)
        .await
        .map_err(WebError::from_store)?;
    let body = entries_csv(&entries)
        .map_err(|e| WebError::from_store(crate::store::StoreError::Setup(format!("csv: {e}"))))?;
    // Who exported what is recorded before the file leaves (DESIGN §11).
    let conditions = c.summary();
    let mut details = format!("操作履歴CSV出力 {}件", entries.len());
    if !conditions.is_empty() {
        details.push_str(&format!("（{conditions}）"));
    }
    let entry = AuditEntry::new(
        AuditActor::user(viewer),
        Action::CsvExport,
        Outcome::Success,
    )
    .addr(addr.0)
    .details(details);
    audit::record(&app.store, &app.keys.audit, &entry, app.now())
        .await
        .map_err(WebError::from_store)?;
    Ok(Either::Left(CsvDownload {
        filename: "audit.csv",
        body,
    }))
}

pub fn routes() -> Vec<Route> {
    routes![list, export]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_are_read_and_kept_in_links() {
        let form = AuditForm {
            from: Some("2026/11/1".into()),
            to: Some(" 2026-11-30 ".into()),
            actor: Some("髙橋 美咲".into()),
            action: Some("login_success".into()),
            target: None,
            page: Some("3".into()),
        };
        let c = Conditions::read(&form);
        assert!(c.errors.is_empty());
        assert_eq!(c.echo.from, "2026-11-01");
        assert_eq!(c.query.action, Some(Action::LoginSuccess));
        assert_eq!(c.query.actor, vec!["髙橋", "美咲"]);
        assert_eq!(c.query.page, 3);
        assert_eq!(
            c.link("/audit", Some(2)),
            "/audit?from=2026-11-01&to=2026-11-30&actor=%E9%AB%99%E6%A9%8B%20%E7%BE%8E%E5%92%B2&action=login_success&page=2"
        );
        assert_eq!(
            Conditions::read(&<AuditForm as Default>::default()).link("/audit", None),
            "/audit"
        );
        assert!(c.summary().contains("操作: ログイン"));
    }

    #[test]
    fn unreadable_conditions_are_reported() {
        let form = AuditForm {
            from: Some("2026/12/1".into()),
            to: Some("2026/11/1".into()),
            action: Some("nonsense".into()),
            page: Some("x".into()),
            ..<AuditForm as Default>::default()
        };
        let c = Conditions::read(&form);
        let fields: Vec<&str> = c.errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["to", "action"]);
        assert_eq!(c.query.page, 1);
        let c = Conditions::read(&AuditForm {
            from: Some("来月".into()),
            ..<AuditForm as Default>::default()
        });
        assert_eq!(c.errors[0].field, "from");
        assert!(c.errors[0].message.contains("期間（開始日）"));
    }

    #[test]
    fn csv_has_bom_crlf_and_no_formulas() {
        let e = StoredEntry {
            id: 1,
            content: crate::domain::audit::ChainedContent {
                seq: 7,
                at: 1_795_478_405,
                actor_label: "console".into(),
                action: "bootstrap".into(),
                target_label: Some("=HYPERLINK(\"x\")".into()),
                result: "success".into(),
                details: "a \"quoted\" word".into(),
                ..Default::default()
            },
            prev_mac: String::new(),
            mac: String::new(),
        };
        let bytes = entries_csv(&[e]).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "\"連番\",\"日時\",\"操作者\",\"操作\",\"対象\",\"結果\",\"端末\",\"詳細\""
        );
        assert_eq!(
            lines[1],
            "\"7\",\"2026/11/24 09:00:05\",\"システム管理者（コンソール）\",\"初期ユーザ登録\",\"'=HYPERLINK(\"\"x\"\")\",\"成功\",\"\",\"a \"\"quoted\"\" word\""
        );
        assert_eq!(lines[2], "");
    }
}
