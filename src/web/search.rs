//! `/users` 医療機関ユーザ検索: conditions, paged and sortable results with the 操作 column, and the
//! result as CSV for Excel.

use rocket::form::FromForm;
use rocket::http::uri::Origin;
use rocket::http::{ContentType, Header};
use rocket::request::FlashMessage;
use rocket::response::Responder;
use rocket::{get, routes, Route, State};
use serde::Serialize;

use crate::domain::audit::{Action, Outcome};
use crate::domain::credentials::temp_password_stamp;
use crate::domain::fold::to_ascii_digits;
use crate::domain::numbers::grouped;
use crate::domain::operations::Operations;
use crate::domain::search::{Filter, SortKey, UserQuery};
use crate::domain::spreadsheet::neutralise;
use crate::domain::time::{format_date, format_jst, iso_date, jst_date, parse_date, wareki};
use crate::domain::visibility::View;
use crate::domain::{AccountState, Db, UserType};
use crate::import::changes::ChangeColumn;
use crate::service::{App, ServiceError};
use crate::store::audit::{self, AuditActor, AuditEntry};
use crate::store::search::{Page as Results, COUNT_CAP};
use crate::store::users::UserRecord;

use super::forms::FormErrors;
use super::session::{ClientAddr, CurrentUser};
use super::view::{Notice, Page};
use super::WebError;

/// The search conditions as the query string carries them.
#[derive(Debug, Clone, Default, FromForm, Serialize)]
pub struct SearchParams {
    pub login_id: Option<String>,
    pub name: Option<String>,
    pub user_type: Option<String>,
    pub db: Option<String>,
    pub department: Option<String>,
    /// 医療機関 (code or partial name), for a 自治体担当者.
    pub institution: Option<String>,
    /// 取込番号.
    pub import: Option<String>,
    pub state: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
    pub page: Option<u32>,
}

fn text(v: &Option<String>) -> &str {
    v.as_deref().map(str::trim).unwrap_or("")
}

impl SearchParams {
    /// The query, or the errors to show above the conditions.
    pub fn query(&self, per_page: u32) -> Result<UserQuery, FormErrors> {
        let mut errors = FormErrors::default();
        let mut filters = Vec::new();
        filters.extend(Filter::login_id(text(&self.login_id)));
        filters.extend(Filter::name(text(&self.name)));
        filters.extend(Filter::department(text(&self.department)));
        filters.extend(Filter::institution(text(&self.institution)));
        let import = to_ascii_digits(text(&self.import));
        if !import.is_empty() {
            match import.parse::<i64>() {
                Ok(id) if id > 0 => filters.push(Filter::Import(id)),
                _ => errors.add("import", "取込番号は半角数字で入力してください。"),
            }
        }
        if let Some(t) = UserType::parse(text(&self.user_type)) {
            filters.push(Filter::Type(t));
        }
        if let Some(d) = Db::parse(text(&self.db)) {
            filters.push(Filter::Db(d));
        }
        if let Some(s) = AccountState::parse(text(&self.state)) {
            filters.push(Filter::State(s));
        }
        for (value, field, label, make) in [
            (
                text(&self.from),
                "from",
                "登録日（開始）",
                Filter::RegisteredFrom as fn(_) -> Filter,
            ),
            (
                text(&self.to),
                "to",
                "登録日（終了）",
                Filter::RegisteredTo as fn(_) -> Filter,
            ),
        ] {
            if !value.is_empty() {
                match parse_date(label, value) {
                    Ok(d) => filters.push(make(d)),
                    Err(e) => errors.add(field, e.to_string()),
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(UserQuery {
            filters,
            sort: SortKey::parse(text(&self.sort)).unwrap_or_default(),
            descending: text(&self.dir) == "desc",
            page: self.page.unwrap_or(1).max(1),
            per_page,
        })
    }

    /// The conditions in words, for the audit log: 「氏名=山﨑、状態=ロック中」, or 「条件なし」.
    fn conditions_text(&self) -> String {
        let pairs = [
            ("ログインID", &self.login_id),
            ("氏名", &self.name),
            ("ユーザ種別", &self.user_type),
            ("対象DB", &self.db),
            ("部署", &self.department),
            ("医療機関", &self.institution),
            ("取込番号", &self.import),
            ("状態", &self.state),
            ("登録日（開始）", &self.from),
            ("登録日（終了）", &self.to),
        ];
        let words: Vec<String> = pairs
            .iter()
            .filter(|(_, v)| !text(v).is_empty())
            .map(|(k, v)| {
                let v = text(v);
                let shown = UserType::parse(v)
                    .map(|t| t.label())
                    .or_else(|| Db::parse(v).map(|d| d.label()))
                    .or_else(|| AccountState::parse(v).map(|s| s.label()))
                    .unwrap_or(v);
                format!("{k}={shown}")
            })
            .collect();
        if words.is_empty() {
            "条件なし".to_string()
        } else {
            words.join("、")
        }
    }

    /// The conditions as a query string, without sort and page (for the links that change those).
    fn conditions_qs(&self) -> String {
        let pairs = [
            ("login_id", &self.login_id),
            ("name", &self.name),
            ("user_type", &self.user_type),
            ("db", &self.db),
            ("department", &self.department),
            ("institution", &self.institution),
            ("import", &self.import),
            ("state", &self.state),
            ("from", &self.from),
            ("to", &self.to),
        ];
        pairs
            .iter()
            .filter(|(_, v)| !text(v).is_empty())
            .map(|(k, v)| format!("{k}={}", encode(text(v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes a query-string value.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    login_id: String,
    name: String,
    kana: String,
    user_type: &'static str,
    db: &'static str,
    department: String,
    /// 医療機関名 and コード (shown when the view spans institutions).
    institution_name: String,
    institution_code: String,
    state: &'static str,
    state_label: &'static str,
    registered: String,
    registered_wareki: String,
    /// 2026/11/24, or 未ログイン.
    last_login: String,
    /// 2026/11/24 14:05（令和8年11月24日）, for the tooltip.
    last_login_wareki: String,
    ops: Operations,
    /// Which temporary password the row showed (the notice forms send it back).
    stamp: String,
}

#[derive(Debug, Serialize)]
struct Column {
    key: &'static str,
    label: &'static str,
    /// "asc" or "desc" when the results are sorted by this column.
    sorted: Option<&'static str>,
    href: String,
}

#[derive(Debug, Serialize)]
struct Pager {
    /// The number of results; with `capped`, the cap (there are more).
    total: u64,
    capped: bool,
    /// The cap as the screen writes it (1,000).
    cap: String,
    /// The count and the rows shown as the screen writes them: "62", "951〜1,000".
    total_text: String,
    range: String,
    first: u64,
    last: u64,
    page: u32,
    /// Every page, or with `capped` the pages known so far (those of the first 1,000 results, and
    /// the next one when it exists).
    pages: u32,
    prev: Option<String>,
    next: Option<String>,
    numbers: Vec<(u32, String)>,
}

const PER_PAGE: u32 = 50;

/// 最終ログイン of an account that has never logged in.
pub const NEVER_LOGGED_IN: &str = "未ログイン";

fn row(app: &App, viewer: &UserRecord, u: &UserRecord) -> Row {
    let now = app.now();
    let state = u.facts().state(&app.settings.lockout(), now);
    let ops = u
        .target()
        .map(|t| Operations::for_account(&viewer.actor(), &t, state))
        .unwrap_or_default();
    let created = jst_date(u.created_at);
    Row {
        id: u.id,
        login_id: u.login_id.clone(),
        name: u.full_name(),
        kana: u.full_kana(),
        user_type: u.user_type.label(),
        db: u.db.map_or("", |d| d.label()),
        department: u.department.clone(),
        institution_name: u.institution_name.clone().unwrap_or_default(),
        institution_code: u.institution_code.clone().unwrap_or_default(),
        state: state.as_str(),
        state_label: state.label(),
        registered: format_date(created),
        registered_wareki: wareki(created).unwrap_or_default(),
        // The date like 登録日 (the column stays narrow); the time and 和暦 in the tooltip.
        last_login: u.last_login_at.map_or_else(
            || NEVER_LOGGED_IN.to_string(),
            |at| format_date(jst_date(at)),
        ),
        last_login_wareki: u
            .last_login_at
            .map(|at| match wareki(jst_date(at)) {
                Some(w) => format!("{}（{w}）", format_jst(at)),
                None => format_jst(at),
            })
            .unwrap_or_default(),
        ops,
        stamp: temp_password_stamp(u.temp_password_mac.as_deref()),
    }
}

fn columns(params: &SearchParams, query: &UserQuery) -> Vec<Column> {
    let base = params.conditions_qs();
    [
        (SortKey::LoginId, "ログインID"),
        (SortKey::Kana, "氏名（フリガナ）"),
        (SortKey::UserType, "ユーザ種別"),
        (SortKey::Department, "部署"),
        (SortKey::Registered, "登録日"),
        (SortKey::LastLogin, "最終ログイン"),
    ]
    .into_iter()
    .map(|(key, label)| {
        let sorted = (query.sort == key).then_some(if query.descending { "desc" } else { "asc" });
        let next_dir = if sorted == Some("asc") { "desc" } else { "asc" };
        let sep = if base.is_empty() { "" } else { "&" };
        Column {
            key: key.as_str(),
            label,
            sorted,
            href: format!("/users?{base}{sep}sort={}&dir={next_dir}", key.as_str()),
        }
    })
    .collect()
}

fn pager(params: &SearchParams, query: &UserQuery, result: &Results) -> Pager {
    let per = u64::from(query.per_page);
    let page = query.page;
    let pages = if result.capped {
        (COUNT_CAP.div_ceil(per) as u32).max(page + u32::from(result.has_next))
    } else {
        result.total.div_ceil(per).max(1) as u32
    };
    let base = params.conditions_qs();
    let sep = if base.is_empty() { "" } else { "&" };
    let dir = if query.descending { "desc" } else { "asc" };
    let link = |p: u32| {
        format!(
            "/users?{base}{sep}sort={}&dir={dir}&page={p}",
            query.sort.as_str()
        )
    };
    let shown = result.rows.len() as u64;
    let first = if shown == 0 { 0 } else { query.offset() + 1 };
    let lo = page.saturating_sub(4).max(1);
    let hi = (lo + 9).min(pages);
    Pager {
        total: result.total,
        capped: result.capped,
        cap: grouped(COUNT_CAP),
        total_text: grouped(result.total),
        range: format!("{}〜{}", grouped(first), grouped(query.offset() + shown)),
        first,
        last: query.offset() + shown,
        page,
        pages,
        prev: (page > 1).then(|| link(page - 1)),
        next: result.has_next.then(|| link(page + 1)),
        numbers: (lo..=hi).map(|p| (p, link(p))).collect(),
    }
}

/// (value, label) pairs for a `<select>`.
type Choices = Vec<(&'static str, &'static str)>;

/// The choices of the ユーザ種別, 対象DB and 状態 conditions.
fn options(view: &View) -> (Choices, Choices, Choices) {
    (
        view.listed_types()
            .iter()
            .map(|t| (t.as_str(), t.label()))
            .collect(),
        Db::ALL.iter().map(|d| (d.as_str(), d.label())).collect(),
        AccountState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
    )
}

#[get("/users?<params..>")]
async fn search(
    params: SearchParams,
    user: CurrentUser,
    app: &State<App>,
    flash: Option<FlashMessage<'_>>,
    uri: &Origin<'_>,
) -> Result<Page, WebError> {
    let me = &user.0.user;
    let view = View::of(&me.actor());
    if !view.has_search() {
        return Ok(super::menu::not_offered(&user.0, "医療機関ユーザ検索"));
    }
    let (types, dbs, states) = options(&view);
    let page = Page::new("users/search.html")
        .with("p", &params)
        .with("types", types)
        .with("dbs", dbs)
        .with("states", states)
        .with("by_institution", view.spans_institutions())
        .with("export_qs", params.conditions_qs())
        // This very search, for the row buttons to come back to.
        .with("here", uri.to_string())
        .notice(Notice::from_flash(flash));
    let query = match params.query(PER_PAGE) {
        Ok(q) => q,
        Err(errors) => return Ok(page.with("errors", errors).with("rows", Vec::<Row>::new())),
    };
    let mut result = app.search(me, &query).await?;
    // A page beyond the end (the results shrank, or a typed address) shows the last page; past a
    // capped count only an exact one tells which that is.
    let query = if result.rows.is_empty() && query.page > 1 {
        let total = if result.capped {
            app.search_count_all(me, &query).await?
        } else {
            result.total
        };
        let q = UserQuery {
            page: total.div_ceil(u64::from(PER_PAGE)).max(1) as u32,
            ..query
        };
        result = app.search(me, &q).await?;
        q
    } else {
        query
    };
    let rows: Vec<Row> = result.rows.iter().map(|u| row(app, me, u)).collect();
    Ok(page
        .with("errors", FormErrors::default())
        .with("rows", rows)
        .with("columns", columns(&params, &query))
        .with("pager", pager(&params, &query, &result)))
}

#[derive(Responder)]
pub struct CsvFile {
    body: Vec<u8>,
    disposition: Header<'static>,
    cache: Header<'static>,
}

impl CsvFile {
    /// UTF-8 with BOM and CRLF, what Japanese Excel opens correctly.
    pub fn new(
        filename: &str,
        header: &[&str],
        rows: impl Iterator<Item = Vec<String>>,
    ) -> CsvFile {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(vec![0xEF, 0xBB, 0xBF]);
        w.write_record(header).expect("write to memory");
        for r in rows {
            w.write_record(r.iter().map(|c| neutralise(c)))
                .expect("write to memory");
        }
        CsvFile {
            body: w.into_inner().expect("flush to memory"),
            disposition: Header::new(
                "Content-Disposition",
                format!("attachment; filename=\"{filename}\""),
            ),
            cache: Header::new("Cache-Control", "no-store"),
        }
    }
}

const EXPORT_LIMIT: u32 = 100_000;

#[get("/users/export.csv?<params..>")]
async fn export(
    params: SearchParams,
    user: CurrentUser,
    addr: ClientAddr,
    app: &State<App>,
) -> Result<(ContentType, CsvFile), WebError> {
    let me = &user.0.user;
    if !View::of(&me.actor()).has_search() {
        return Err(WebError(ServiceError::Denied(
            crate::domain::roles::Denied::TypeNotAllowed,
        )));
    }
    let query = params.query(EXPORT_LIMIT).map_err(|_| {
        WebError(ServiceError::WrongState(
            "検索条件に誤りがあります。検索画面で条件を確認してください。",
        ))
    })?;
    let query = UserQuery { page: 1, ..query };
    let result = app.search(me, &query).await?;
    let now = app.now();
    let lockout = app.settings.lockout();
    // The export is also the 人事異動 change file (DESIGN §9, issue 12): its columns are the change
    // file's, with 更新番号 and an empty 削除 column to fill in Excel.
    let header = ChangeColumn::EXPORT.map(ChangeColumn::name);
    let rows = result.rows.iter().map(|u| {
        ChangeColumn::EXPORT
            .iter()
            .map(|c| match c {
                ChangeColumn::LoginId => u.login_id.clone(),
                ChangeColumn::FamilyName => u.family_name.clone(),
                ChangeColumn::GivenName => u.given_name.clone(),
                ChangeColumn::FamilyKana => u.family_kana.clone(),
                ChangeColumn::GivenKana => u.given_kana.clone(),
                ChangeColumn::UserType => u.user_type.label().to_string(),
                ChangeColumn::Db => u.db.map_or("", |d| d.label()).to_string(),
                ChangeColumn::InstitutionCode => u.institution_code.clone().unwrap_or_default(),
                ChangeColumn::InstitutionName => u.institution_name.clone().unwrap_or_default(),
                ChangeColumn::Department => u.department.clone(),
                ChangeColumn::MedicalRegNo => u.medical_reg_no.clone().unwrap_or_default(),
                ChangeColumn::Email => u.email.clone().unwrap_or_default(),
                ChangeColumn::Phone => u.phone.clone().unwrap_or_default(),
                ChangeColumn::ExpiresOn => u.expires_on.map(format_date).unwrap_or_default(),
                ChangeColumn::State => u.facts().state(&lockout, now).label().to_string(),
                ChangeColumn::CreatedOn => format_date(jst_date(u.created_at)),
                ChangeColumn::LastLogin => u
                    .last_login_at
                    .map_or_else(|| "未ログイン".to_string(), format_jst),
                ChangeColumn::Remarks => u.remarks.clone().unwrap_or_default(),
                ChangeColumn::Version => u.profile_version.to_string(),
                ChangeColumn::Delete => String::new(),
            })
            .collect::<Vec<String>>()
    });
    let file = CsvFile::new(
        &format!("users-{}.csv", iso_date(jst_date(now))),
        &header,
        rows,
    );
    let entry = AuditEntry::new(AuditActor::user(me), Action::CsvExport, Outcome::Success)
        .addr(addr.0)
        .details(format!(
            "医療機関ユーザ検索結果のCSV出力 {}件（{}）",
            grouped(result.rows.len() as u64),
            params.conditions_text()
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
    routes![search, export]
}
