//! 人事異動 change files (issue 12): the search's CSV export edited in Excel, checked per row against
//! the stored account (its 更新番号, the role rules, the last 責任者) and applied in one transaction, or
//! not at all. Only rows that change are checked: the export also lists accounts the actor sees but
//! may not manage, and those rows, untouched, must not block the file.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::domain::account::Profile;
use crate::domain::audit::{Action, Outcome};
use crate::domain::roles::{may_remove, may_see, Permit};
use crate::domain::time::{format_date, format_jst, jst_date};
use crate::domain::{Db, UserType};
use crate::import::changes::{self, ChangeColumn, ChangeFile, Current, Diff, FieldChange};
use crate::import::{Limits, Problem};
use crate::store::audit::{self, AuditActor, AuditEntry, AuditTarget};
use crate::store::imports::{self, ImportKind};
use crate::store::users::{self, UserRecord};
use crate::store::{lookup, sessions};

use super::imports::{already_imported, failpoint, number_taken, ImportFile};
use super::{App, Result, ServiceError};

/// What one row of a change file does to its account.
#[derive(Debug, Clone)]
pub enum Planned {
    Edit {
        profile: Box<Profile>,
        changes: Vec<FieldChange>,
    },
    Delete,
}

/// One account a change file changes.
#[derive(Debug, Clone)]
pub struct PlannedChange {
    /// The Excel row number.
    pub row: usize,
    pub user: UserRecord,
    pub permit: Permit,
    pub what: Planned,
}

impl PlannedChange {
    /// Whether the change ends the account (deleted, or a 有効期限 already past).
    fn removes(&self, today: time::Date) -> bool {
        match &self.what {
            Planned::Delete => true,
            Planned::Edit { profile, .. } => profile.expires_on.is_some_and(|d| d < today),
        }
    }

    /// For the audit entry and the result page: "部署 第2病棟 → 第10病棟、…" or "削除".
    pub fn summary(&self) -> String {
        match &self.what {
            Planned::Delete => "削除".to_string(),
            Planned::Edit { changes, .. } => changes
                .iter()
                .map(|c| {
                    format!(
                        "{} {} → {}",
                        c.column.name(),
                        blank(&c.before),
                        blank(&c.after)
                    )
                })
                .collect::<Vec<_>>()
                .join("、"),
        }
    }
}

fn blank(s: &str) -> &str {
    if s.is_empty() {
        "（空欄）"
    } else {
        s
    }
}

/// A checked change file: its problems (as 行 / 列 / 理由) and, per changing row, what it does.
#[derive(Debug, Clone)]
pub struct ChangeCheck {
    pub file: ChangeFile,
    pub plan: Vec<PlannedChange>,
    /// Rows that change nothing.
    pub unchanged: usize,
}

impl ChangeCheck {
    pub fn has_errors(&self) -> bool {
        self.file.has_errors()
    }

    pub fn has_warnings(&self) -> bool {
        self.file.problems.iter().any(|p| !p.is_error())
    }
}

#[derive(Debug)]
pub enum ChangeOutcome {
    /// Errors (or nothing to change): nothing was changed.
    Refused(ChangeCheck),
    /// Only warnings, not confirmed: nothing was changed.
    NeedsConfirmation(ChangeCheck),
    Committed {
        import_id: i64,
        applied: Vec<PlannedChange>,
        checked: Duration,
        written: Duration,
    },
}

/// The account as the export writes it, for the comparison.
fn current_of(u: &UserRecord) -> Current {
    let opt = |o: &Option<String>| o.clone().unwrap_or_default();
    Current {
        raw: crate::domain::account::RawProfile {
            department: u.department.clone(),
            family_name: u.family_name.clone(),
            given_name: u.given_name.clone(),
            family_kana: u.family_kana.clone(),
            given_kana: u.given_kana.clone(),
            medical_reg_no: opt(&u.medical_reg_no),
            email: opt(&u.email),
            phone: opt(&u.phone),
            expires_on: u.expires_on.map(format_date).unwrap_or_default(),
            remarks: opt(&u.remarks),
        },
        doctor: u.user_type.is_doctor(),
        fixed: vec![
            (ChangeColumn::UserType, u.user_type.label().to_string()),
            (ChangeColumn::Db, u.db.map_or("", |d| d.label()).to_string()),
            (ChangeColumn::InstitutionCode, opt(&u.institution_code)),
            (ChangeColumn::InstitutionName, opt(&u.institution_name)),
            (ChangeColumn::CreatedOn, format_date(jst_date(u.created_at))),
        ],
    }
}

fn attempt<'a>(
    actor: &UserRecord,
    file: &ImportFile<'a>,
    content_hash: &'a str,
    at: i64,
) -> imports::Attempt<'a> {
    imports::Attempt {
        kind: ImportKind::Change,
        content_hash,
        file_name: file.name,
        origin: file.origin,
        actor_user_id: actor.id,
        at,
    }
}

impl App {
    /// Checks a change file for `actor` without changing anything. Reads through `conn`: at commit
    /// that is the write transaction, so versions and counts are those under the write lock.
    pub async fn change_check(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &UserRecord,
        bytes: &[u8],
    ) -> Result<ChangeCheck> {
        let mut file = changes::parse(bytes, &Limits::default());
        let mut check = ChangeCheck {
            plan: Vec::new(),
            unchanged: 0,
            file: ChangeFile {
                rows: Vec::new(),
                ..file.clone()
            },
        };
        let rows = std::mem::take(&mut file.rows);
        let problems = &mut check.file.problems;
        problems.extend(already_imported(conn, &file.content_hash).await?);
        let now = self.now();
        let today = jst_date(now);
        let me = actor.actor();
        let officer = actor.user_type == UserType::MunicipalOfficer;
        let ids: Vec<&str> = rows.iter().map(|r| r.login_id.as_str()).collect();
        let accounts = lookup::by_login_ids(conn, &ids).await?;
        let changers: Vec<i64> = accounts
            .values()
            .filter_map(|u| u.profile_changed_by)
            .collect();
        let changers = lookup::labels(conn, &changers).await?;
        let mut numbers: HashMap<(Db, String), usize> = HashMap::new();
        for row in &rows {
            let login = ChangeColumn::LoginId.name();
            // An account outside the actor's view is reported as not found: a file must not tell
            // whether a login ID exists elsewhere.
            let Some(user) = accounts
                .get(&row.login_id)
                .filter(|u| u.target().is_some_and(|t| may_see(&me, &t)) || u.id == actor.id)
            else {
                problems.push(Problem::error(
                    row.row,
                    login,
                    format!("ログインID {} のアカウントが見つかりません。検索画面から出力したファイルのログインIDのままにしてください。", row.login_id),
                ));
                continue;
            };
            let Some(diff) = changes::diff(row, &current_of(user), officer, problems) else {
                continue;
            };
            let what = match diff {
                Diff::Unchanged => {
                    check.unchanged += 1;
                    continue;
                }
                Diff::Delete if user.deleted_at.is_some() => {
                    check.unchanged += 1;
                    continue;
                }
                Diff::Delete => Planned::Delete,
                Diff::Change { profile, changes } => Planned::Edit { profile, changes },
            };
            if let Some(at) = user.deleted_at {
                problems.push(Problem::error(
                    row.row,
                    login,
                    format!(
                        "このアカウントは{}に削除されています。削除済のアカウントは変更できません。",
                        format_jst(at)
                    ),
                ));
                continue;
            }
            match row.version {
                Some(v) if v == user.profile_version => {}
                Some(v) if v < user.profile_version => {
                    let who = match user.profile_changed_by {
                        Some(id) => changers
                            .get(&id)
                            .cloned()
                            .unwrap_or_else(|| "（不明）".into()),
                        None => "サーバのコンソール".into(),
                    };
                    let at = user
                        .profile_changed_at
                        .map(format_jst)
                        .unwrap_or_else(|| "（不明）".into());
                    problems.push(Problem::error(
                        row.row,
                        ChangeColumn::Version.name(),
                        format!("このアカウントはCSV出力の後に変更されています（{at}、{who}）。最新の検索結果をCSV出力し直し、その内容で変更してください。"),
                    ));
                    continue;
                }
                _ => {
                    problems.push(Problem::error(
                        row.row,
                        ChangeColumn::Version.name(),
                        "更新番号が正しくありません。CSV出力したときの値のままにしてください。",
                    ));
                    continue;
                }
            }
            let verdict = match user.target() {
                Some(t) => Permit::check(&me, user.id, &t),
                None => Err(crate::domain::roles::Denied::TypeNotAllowed),
            };
            let permit = match verdict {
                Ok(permit) => permit,
                Err(denied) => {
                    problems.push(Problem::error(row.row, "", denied.to_string()));
                    continue;
                }
            };
            if let Planned::Edit { profile, changes } = &what {
                if !self
                    .edit_problems(
                        conn,
                        row.row,
                        user,
                        profile,
                        changes,
                        &mut numbers,
                        problems,
                    )
                    .await?
                {
                    continue;
                }
            }
            check.plan.push(PlannedChange {
                row: row.row,
                user: user.clone(),
                permit,
                what,
            });
        }
        self.last_responsible_problems(conn, &check.plan, today, now, problems)
            .await?;
        if check.plan.is_empty() && !problems.iter().any(Problem::is_error) {
            problems.push(Problem::error(
                0,
                "",
                "変更のある行がありません。部署などを変更するか、削除する行の「削除」の列に「削除」と入力してから取り込んでください。",
            ));
        }
        problems.sort_by_key(|p| p.row);
        Ok(check)
    }

    /// The checks of an edit that need the fonts or the database: printable names, and a new
    /// 医籍登録番号 free in its DB (in the file and among the active accounts). False: refused.
    #[allow(clippy::too_many_arguments)]
    async fn edit_problems(
        &self,
        conn: &mut sqlx::AnyConnection,
        row: usize,
        user: &UserRecord,
        profile: &Profile,
        changes: &[FieldChange],
        numbers: &mut HashMap<(Db, String), usize>,
        problems: &mut Vec<Problem>,
    ) -> Result<bool> {
        let before = problems.len();
        for e in self.unprintable(profile) {
            problems.push(Problem::error(
                row,
                ChangeColumn::of_field(e.name).name(),
                e.error.to_string(),
            ));
        }
        let new_number = changes
            .iter()
            .any(|c| c.column == ChangeColumn::MedicalRegNo);
        if let (true, Some(n), Some(db)) = (new_number, &profile.medical_reg_no, user.db) {
            let column = ChangeColumn::MedicalRegNo.name();
            if let Some(first) = numbers.insert((db, n.as_str().to_string()), row) {
                problems.push(Problem::error(
                    row,
                    column,
                    format!(
                        "医籍登録番号 {} が{first}行目と重複しています。",
                        n.as_str()
                    ),
                ));
            } else if let Some(other) = users::active_with_medical_reg_no(
                &mut *conn,
                db,
                n.as_str(),
                Some(user.id),
                self.now(),
            )
            .await?
            {
                problems.push(Problem::error(row, column, number_taken(&other)));
            }
        }
        Ok(problems.len() == before)
    }

    /// The file's combined effect on each institution + DB: rows that together delete or expire its
    /// every active 責任者 are refused together (DESIGN §3, through [`may_remove`]).
    async fn last_responsible_problems(
        &self,
        conn: &mut sqlx::AnyConnection,
        plan: &[PlannedChange],
        today: time::Date,
        now: i64,
        problems: &mut Vec<Problem>,
    ) -> Result<()> {
        let mut removed: HashMap<(i64, Db), Vec<&PlannedChange>> = HashMap::new();
        for p in plan {
            let u = &p.user;
            if let (UserType::Responsible, Some(institution), Some(db), true, true) = (
                u.user_type,
                u.institution_id,
                u.db,
                u.facts().is_active(now),
                p.removes(today),
            ) {
                removed.entry((institution, db)).or_default().push(p);
            }
        }
        for ((institution, db), rows) in removed {
            let active = users::count_active_in_institution(
                &mut *conn,
                institution,
                db,
                UserType::Responsible,
                None,
                now,
            )
            .await?;
            let others = active.saturating_sub(rows.len() as u64);
            let listed = rows
                .iter()
                .map(|p| format!("{}行目", p.row))
                .collect::<Vec<_>>()
                .join("・");
            for p in &rows {
                let Some(target) = p.user.target() else {
                    continue;
                };
                if let Err(denied) = may_remove(&target, others) {
                    problems.push(Problem::error(
                        p.row,
                        "",
                        format!("{denied}（このファイルの{listed}で、{}の{}の有効な責任者がいなくなります）", p.user.institution_name.as_deref().unwrap_or(""), db.label()),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Applies a change file whole, or nothing: checked again under the write lock, then every
    /// account changed in the same transaction with one audit entry each.
    pub async fn change_commit(
        &self,
        actor: &UserRecord,
        file: &ImportFile<'_>,
        accept_warnings: bool,
        addr: Option<String>,
    ) -> Result<ChangeOutcome> {
        if !actor.facts().is_active(self.now()) {
            return Err(ServiceError::WrongState(
                "削除済または有効期限切れのユーザとしては取り込めません。",
            ));
        }
        let started = Instant::now();
        let mut tx = self.store.begin_write().await?;
        let check = self.change_check(&mut tx, actor, file.bytes).await?;
        let unapplied = if check.has_errors() {
            Some("refused")
        } else if check.has_warnings() && !accept_warnings {
            Some("unconfirmed")
        } else {
            None
        };
        if let Some(result) = unapplied {
            imports::record_unregistered(
                &mut *tx,
                &attempt(actor, file, &check.file.content_hash, self.now()),
                result,
                &crate::import::summary(&check.file.problems),
            )
            .await?;
            tx.commit().await?;
            return Ok(if result == "refused" {
                ChangeOutcome::Refused(check)
            } else {
                ChangeOutcome::NeedsConfirmation(check)
            });
        }
        let checked = started.elapsed();
        let started = Instant::now();
        let now = self.now();
        let today = jst_date(now);
        let by = AuditActor::user(actor);
        let mut entries = Vec::with_capacity(check.plan.len() + 1);
        for (n, p) in check.plan.iter().enumerate() {
            if n == check.plan.len() / 2 {
                failpoint("change-midway");
            }
            let action = match &p.what {
                Planned::Delete => {
                    users::mark_deleted(&mut tx, &p.permit, now).await?;
                    sessions::delete_for_user(&mut *tx, p.user.id).await?;
                    Action::Delete
                }
                Planned::Edit { profile, changes } => {
                    if changes
                        .iter()
                        .any(|c| c.column == ChangeColumn::MedicalRegNo)
                    {
                        if let (Some(n), Some(db)) = (&profile.medical_reg_no, p.user.db) {
                            self.tombstone_expired_doctors(
                                &mut tx,
                                &[(db, n.as_str())],
                                Some(p.user.id),
                                &by,
                                addr.clone(),
                            )
                            .await?;
                        }
                    }
                    users::update_profile(&mut tx, &p.permit, profile, Some(actor.id), now).await?;
                    if p.removes(today) {
                        sessions::delete_for_user(&mut *tx, p.user.id).await?;
                    }
                    Action::Edit
                }
            };
            entries.push(
                AuditEntry::new(by.clone(), action, Outcome::Success)
                    .target(AuditTarget::user(&p.user))
                    .addr(addr.clone())
                    .details(format!(
                        "人事異動の変更ファイル（{} {}行目）: {}",
                        file.name,
                        p.row,
                        p.summary()
                    )),
            );
        }
        let deleted = check
            .plan
            .iter()
            .filter(|p| matches!(p.what, Planned::Delete))
            .count();
        let import_id = imports::record(
            &mut tx,
            &attempt(actor, file, &check.file.content_hash, now),
            check.plan.len() as i64,
        )
        .await?;
        let linked: Vec<(i64, usize)> = check.plan.iter().map(|p| (p.user.id, p.row)).collect();
        imports::link_accounts(&mut tx, import_id, &linked).await?;
        entries.push(
            AuditEntry::new(by, Action::ImportCommit, Outcome::Success)
                .addr(addr)
                .details(format!(
                    "取込番号 {import_id}: 人事異動の変更ファイル {}（{}）で{}件を変更、{deleted}件を削除",
                    file.name,
                    file.origin,
                    check.plan.len() - deleted
                )),
        );
        audit::append_many(&mut tx, &self.keys.audit, &entries, now).await?;
        failpoint("change-before-commit");
        tx.commit().await?;
        Ok(ChangeOutcome::Committed {
            import_id,
            applied: check.plan,
            checked,
            written: started.elapsed(),
        })
    }

    /// The web preview of a change file: checked, recorded in the audit log, and kept for the
    /// confirmation when it has no errors.
    pub async fn change_preview_upload(
        &self,
        actor: &UserRecord,
        file_name: &str,
        bytes: &[u8],
        addr: Option<String>,
    ) -> Result<(ChangeCheck, Option<i64>)> {
        let check = self
            .change_check(&mut *self.store.pool().acquire().await?, actor, bytes)
            .await?;
        self.change_previewed(actor, file_name, "web", &check, addr)
            .await?;
        if check.has_errors() {
            self.record_refused_preview(
                ImportKind::Change,
                actor,
                &check.file.content_hash,
                file_name,
                &check.file.problems,
            )
            .await?;
            return Ok((check, None));
        }
        let id = self
            .stage_upload(actor, &check.file.content_hash, file_name, bytes)
            .await?;
        Ok((check, Some(id)))
    }

    pub async fn change_previewed(
        &self,
        actor: &UserRecord,
        file_name: &str,
        origin: &str,
        check: &ChangeCheck,
        addr: Option<String>,
    ) -> Result<()> {
        let errors = check.file.problems.iter().filter(|p| p.is_error()).count();
        let entry = AuditEntry::new(
            AuditActor::user(actor),
            Action::ImportPreview,
            Outcome::Success,
        )
        .addr(addr)
        .details(format!(
            "人事異動の変更ファイル {file_name}（{origin}）: 変更{}件、エラー{errors}件",
            check.plan.len()
        ));
        audit::record(&self.store, &self.keys.audit, &entry, self.now()).await?;
        Ok(())
    }

    /// The web confirmation of a previewed change file (checked again, then applied whole or not).
    pub async fn change_confirm(
        &self,
        actor: &UserRecord,
        staging_id: i64,
        accept_warnings: bool,
        addr: Option<String>,
    ) -> Result<ChangeOutcome> {
        let staged = imports::staged(self.store.pool(), staging_id, actor.id).await?;
        let Some((file_name, bytes)) =
            staged.filter(|(_, b)| changes::is_change_file(b, &Limits::default()))
        else {
            return Err(ServiceError::WrongState(
                "確認中のファイルが見つかりません（時間が経ったか、既に反映済みです）。もう一度アップロードしてください。",
            ));
        };
        let outcome = self
            .change_commit(
                actor,
                &ImportFile {
                    bytes: &bytes,
                    name: &file_name,
                    origin: "web",
                },
                accept_warnings,
                addr,
            )
            .await?;
        if matches!(outcome, ChangeOutcome::Committed { .. }) {
            imports::unstage(self.store.pool(), staging_id).await?;
        }
        Ok(outcome)
    }
}
