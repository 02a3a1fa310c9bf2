//! CSV一括登録 (DESIGN §9): the pure checks of `crate::import` plus the checks that need the database
//! (a file already imported, a 医籍登録番号 already active, the same person already registered), and the
//! commit: every row in one transaction, re-checked inside it, so a batch is registered whole or not at all.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::domain::audit::{Action, Outcome};
use crate::domain::fold::fold;
use crate::domain::roles::{InstitutionRef, Scope};
use crate::domain::time::{format_jst, iso_date, jst_date};
use crate::import::{self, Context, ImportRow, Limits, Parsed, Problem};
use crate::mail::{messages, Mail};
use crate::store::audit::{self, AuditActor, AuditEntry, AuditTarget};
use crate::store::imports;
use crate::store::orgs;
use crate::store::users::{self, Home, UserRecord};

use super::{App, Result, ServiceError};

/// The file to import and where it came from (recorded in the history and the audit log).
#[derive(Debug, Clone, Copy)]
pub struct ImportFile<'a> {
    pub bytes: &'a [u8],
    pub name: &'a str,
    /// "web", or "console:<path>" (an inbox path for the systemd path unit).
    pub origin: &'a str,
}

/// An import of the history with the accounts it registered or changed, as they are now.
#[derive(Debug)]
pub struct ImportDetail {
    pub record: imports::ImportRecord,
    /// "ログインID 姓　名" of who imported.
    pub who: String,
    /// (Excel row, account).
    pub accounts: Vec<(usize, UserRecord)>,
}

/// The error of a file whose content was already imported (registration and change files alike; the
/// unique index on committed content hashes backs it).
pub(super) async fn already_imported(
    conn: &mut sqlx::AnyConnection,
    content_hash: &str,
) -> Result<Option<Problem>> {
    if content_hash.is_empty() {
        return Ok(None);
    }
    Ok(imports::committed_with_hash(conn, content_hash)
        .await?
        .map(|prev| {
            Problem::error(
                0,
                "",
                format!(
                    "このファイルは{}に取り込み済みです（取込番号 {}、ファイル名 {}、{}件）。同じ内容のファイルは二度取り込めません。",
                    format_jst(prev.at),
                    prev.id,
                    prev.file_name,
                    prev.rows
                ),
            )
        }))
}

/// A row's 医籍登録番号 that an active account of the same DB already has.
pub(super) fn number_taken(login_id: &str) -> String {
    format!(
        "この医籍登録番号の有効なアカウント（ログインID {login_id}）が同じ対象DBに既にあります。"
    )
}

/// How an import ended.
#[derive(Debug)]
pub enum ImportOutcome {
    /// Errors: nothing was registered.
    Refused(Parsed),
    /// Only warnings, not confirmed: nothing was registered.
    NeedsConfirmation(Parsed),
    /// Every row was registered; (Excel row, account id, login ID, 氏名) per account, and how long the
    /// checks and the writes took.
    Committed {
        checked: Duration,
        written: Duration,
        import_id: i64,
        created: Vec<(usize, i64, String, String)>,
    },
}

/// Test-only crash points (DESIGN §9's all-or-nothing is tested by aborting here): with
/// `NANBYO_TEST_FAILPOINT=import:<name>` the process aborts at that step, as a power cut would.
pub(super) fn failpoint(name: &str) {
    if std::env::var("NANBYO_TEST_FAILPOINT").is_ok_and(|v| v == format!("import:{name}")) {
        eprintln!("failpoint import:{name}: aborting");
        std::process::abort();
    }
}

impl App {
    /// Checks a file for `actor` without registering anything: every problem at once, as (行, 列, 理由).
    /// Reads through `conn`: at commit that is the write transaction, so the decision is taken on
    /// what is stored under the write lock, not on what a preview saw.
    pub async fn import_check(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &UserRecord,
        bytes: &[u8],
    ) -> Result<Parsed> {
        let a = actor.actor();
        let (own, by_code): (Option<InstitutionRef>, HashMap<String, InstitutionRef>) =
            match a.scope {
                Scope::Institution { institution, .. } => (Some(institution), HashMap::new()),
                Scope::Municipality { municipality_id } => (
                    None,
                    orgs::institutions_of(&mut *conn, municipality_id)
                        .await?
                        .into_iter()
                        .map(|i| (i.code.clone(), i.as_ref()))
                        .collect(),
                ),
            };
        // The context holds trait objects that are not Send: it lives only while parsing.
        let mut parsed = {
            let resolve = |code: &str| by_code.get(code).copied();
            let glyph = |s: &str| self.fonts.missing_glyph(s);
            let ctx = Context {
                actor: a,
                own_institution: own,
                institution: &resolve,
                missing_glyph: &glyph,
            };
            import::parse(bytes, &Limits::default(), &ctx)
        };
        if parsed.has_errors() && parsed.rows.is_empty() {
            return Ok(parsed);
        }
        parsed
            .problems
            .extend(already_imported(conn, &parsed.content_hash).await?);
        let mut institutions: Vec<i64> = parsed.rows.iter().map(|r| r.institution.id).collect();
        institutions.sort_unstable();
        institutions.dedup();
        let today = iso_date(jst_date(self.now()));
        let keys = imports::active_keys(conn, &institutions, &today).await?;
        for row in &parsed.rows {
            let p = &row.profile;
            if let Some(n) = &p.medical_reg_no {
                if let Some(login) = keys
                    .doctors
                    .get(&(row.db.as_str().to_string(), n.as_str().to_string()))
                {
                    parsed.problems.push(Problem::error(
                        row.row,
                        "医籍登録番号",
                        number_taken(login),
                    ));
                }
            }
            let key = (
                row.institution.id,
                row.db.as_str().to_string(),
                p.name_fold(),
                p.kana_fold(),
                fold(p.department.as_str()),
            );
            if let Some(login) = keys.people.get(&key) {
                parsed.problems.push(Problem {
                    severity: import::Severity::Warning,
                    ..Problem::error(
                        row.row,
                        "氏名（姓）",
                        format!(
                            "氏名・フリガナ・部署が同じ有効なアカウント（ログインID {login}）があります。同姓同名の別人であることを確認のうえ登録してください。"
                        ),
                    )
                });
            }
        }
        parsed.problems.sort_by_key(|p| p.row);
        Ok(parsed)
    }

    /// Records a preview (dry run) in the audit log.
    pub async fn import_previewed(
        &self,
        actor: &UserRecord,
        file_name: &str,
        origin: &str,
        parsed: &Parsed,
        addr: Option<String>,
    ) -> Result<()> {
        let errors = parsed.problems.iter().filter(|p| p.is_error()).count();
        let entry = AuditEntry::new(
            AuditActor::user(actor),
            Action::ImportPreview,
            Outcome::Success,
        )
        .addr(addr)
        .details(format!(
            "{file_name}（{origin}）: {}件、エラー{errors}件",
            parsed.rows.len()
        ));
        audit::record(&self.store, &self.keys.audit, &entry, self.now()).await?;
        Ok(())
    }

    /// Registers every row of the file, or none. The checks run again once the write lock is held,
    /// so a stale preview cannot let a duplicate through.
    pub async fn import_commit(
        &self,
        actor: &UserRecord,
        file: &ImportFile<'_>,
        accept_warnings: bool,
        addr: Option<String>,
        progress: &(dyn Fn(usize, usize) + Send + Sync),
    ) -> Result<ImportOutcome> {
        let ImportFile {
            bytes,
            name: file_name,
            origin,
        } = *file;
        if !actor.facts().is_active(self.now()) {
            return Err(ServiceError::WrongState(
                "削除済または有効期限切れのユーザとしては取り込めません。",
            ));
        }
        let started = Instant::now();
        let mut tx = self.store.begin_write().await?;
        let parsed = self.import_check(&mut tx, actor, bytes).await?;
        let unregistered = if parsed.has_errors() || parsed.rows.is_empty() {
            Some("refused")
        } else if parsed.has_warnings() && !accept_warnings {
            Some("unconfirmed")
        } else {
            None
        };
        if let Some(result) = unregistered {
            // The history shows attempts that registered nobody, too.
            imports::record_unregistered(
                &mut *tx,
                &imports::Attempt {
                    kind: imports::ImportKind::Register,
                    content_hash: &parsed.content_hash,
                    file_name,
                    origin,
                    actor_user_id: actor.id,
                    at: self.now(),
                },
                result,
                &import::summary(&parsed.problems),
            )
            .await?;
            tx.commit().await?;
            return Ok(if result == "refused" {
                ImportOutcome::Refused(parsed)
            } else {
                ImportOutcome::NeedsConfirmation(parsed)
            });
        }
        failpoint("after-validation");
        let numbers: Vec<(crate::domain::Db, &str)> = parsed
            .rows
            .iter()
            .filter_map(|r| {
                r.profile
                    .medical_reg_no
                    .as_ref()
                    .map(|n| (r.db, n.as_str()))
            })
            .collect();
        self.tombstone_expired_doctors(
            &mut tx,
            &numbers,
            None,
            &AuditActor::user(actor),
            addr.clone(),
        )
        .await?;
        let checked = started.elapsed();
        let started = Instant::now();
        let now = self.now();
        let total = parsed.rows.len();
        let accounts: Vec<(
            Home,
            crate::domain::UserType,
            &crate::domain::account::Profile,
        )> = parsed
            .rows
            .iter()
            .map(|r| {
                (
                    Home::Institution {
                        institution_id: r.institution.id,
                        db: r.db,
                    },
                    r.user_type,
                    &r.profile,
                )
            })
            .collect();
        let half = total / 2;
        progress(0, total);
        let mut ids = users::create_many(&mut tx, &accounts[..half], Some(actor.id), now).await?;
        progress(half, total);
        failpoint("midway");
        ids.extend(users::create_many(&mut tx, &accounts[half..], Some(actor.id), now).await?);
        let mut created = Vec::with_capacity(total);
        let mut entries = Vec::with_capacity(total + 1);
        for (row, (id, login_id)) in parsed.rows.iter().zip(ids) {
            let target = AuditTarget {
                user_id: Some(id),
                label: format!("{login_id} {}", row.profile.full_name()),
                institution_id: Some(row.institution.id),
                municipality_id: Some(row.institution.municipality_id),
                db: Some(row.db),
                user_type: Some(row.user_type.as_str().to_string()),
            };
            entries.push(
                AuditEntry::new(AuditActor::user(actor), Action::Register, Outcome::Success)
                    .target(target)
                    .addr(addr.clone())
                    .details(format!("CSV一括登録（{file_name} {}行目）", row.row)),
            );
            created.push((row.row, id, login_id, row.profile.full_name()));
        }
        let import_id = imports::record(
            &mut tx,
            &imports::Attempt {
                kind: imports::ImportKind::Register,
                content_hash: &parsed.content_hash,
                file_name,
                origin,
                actor_user_id: actor.id,
                at: now,
            },
            created.len() as i64,
        )
        .await?;
        let linked: Vec<(i64, usize)> = created.iter().map(|(row, id, _, _)| (*id, *row)).collect();
        imports::link_accounts(&mut tx, import_id, &linked).await?;
        let entry = AuditEntry::new(
            AuditActor::user(actor),
            Action::ImportCommit,
            Outcome::Success,
        )
        .addr(addr)
        .details(format!(
            "取込番号 {import_id}: {file_name}（{origin}）から{}件を登録",
            created.len()
        ));
        entries.push(entry);
        audit::append_many(&mut tx, &self.keys.audit, &entries, now).await?;
        failpoint("before-commit");
        tx.commit().await?;
        progress(total, total);
        let written = started.elapsed();
        // After the commit, and never failing the import (DESIGN §12).
        let mails = self.import_mails(&parsed.rows, now).await;
        self.post_mail(mails).await;
        Ok(ImportOutcome::Committed {
            checked,
            written,
            import_id,
            created,
        })
    }
}

impl App {
    /// The registration mails of a committed import: one per new account with an email address,
    /// as the web form's registration sends (`users::registration_mail`).
    async fn import_mails(&self, rows: &[ImportRow], at: i64) -> Vec<Mail> {
        let mut institutions: HashMap<i64, Option<orgs::Institution>> = HashMap::new();
        let mut mails = Vec::new();
        for row in rows {
            let Some(address) = row.profile.email.as_ref().map(|e| e.as_str()) else {
                continue;
            };
            let id = row.institution.id;
            if let std::collections::hash_map::Entry::Vacant(slot) = institutions.entry(id) {
                let found = orgs::institution_by_id(self.store.pool(), id)
                    .await
                    .unwrap_or_else(|e| {
                        eprintln!("エラー: 登録のお知らせメールの医療機関を読めません: {e}");
                        None
                    });
                slot.insert(found);
            }
            let Some(institution) = institutions.get(&id).and_then(Option::as_ref) else {
                continue;
            };
            let full_name = row.profile.full_name();
            let registered = messages::Registered {
                full_name: &full_name,
                user_type: row.user_type,
                db: Some(row.db),
                institution_name: Some(&institution.name),
                institution_code: Some(&institution.code),
                municipality_name: &institution.municipality_name,
                department: row.profile.department.as_str(),
            };
            mails.push(Mail::registration(address, &registered, at));
        }
        mails
    }

    /// The web preview: checks the upload and, when it has no errors, keeps it for the confirmation.
    pub async fn import_preview_upload(
        &self,
        actor: &UserRecord,
        file_name: &str,
        bytes: &[u8],
        addr: Option<String>,
    ) -> Result<(Parsed, Option<i64>)> {
        let parsed = self
            .import_check(&mut *self.store.pool().acquire().await?, actor, bytes)
            .await?;
        self.import_previewed(actor, file_name, "web", &parsed, addr)
            .await?;
        if parsed.has_errors() || parsed.rows.is_empty() {
            self.record_refused_preview(
                imports::ImportKind::Register,
                actor,
                &parsed.content_hash,
                file_name,
                &parsed.problems,
            )
            .await?;
            return Ok((parsed, None));
        }
        let id = self
            .stage_upload(actor, &parsed.content_hash, file_name, bytes)
            .await?;
        Ok((parsed, Some(id)))
    }

    /// The history lists refused previews too (who, when, why).
    pub(super) async fn record_refused_preview(
        &self,
        kind: imports::ImportKind,
        actor: &UserRecord,
        content_hash: &str,
        file_name: &str,
        problems: &[Problem],
    ) -> Result<()> {
        let attempt = imports::Attempt {
            kind,
            content_hash,
            file_name,
            origin: "web",
            actor_user_id: actor.id,
            at: self.now(),
        };
        imports::record_unregistered(
            self.store.pool(),
            &attempt,
            "refused",
            &import::summary(problems),
        )
        .await?;
        Ok(())
    }

    /// Keeps a previewed upload for its confirmation; returns the staging id.
    pub(super) async fn stage_upload(
        &self,
        actor: &UserRecord,
        content_hash: &str,
        file_name: &str,
        bytes: &[u8],
    ) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let id = imports::stage(
            &mut tx,
            actor.id,
            content_hash,
            file_name,
            bytes,
            self.now(),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The web confirmation of a previewed file (checked again, then registered whole or not at all).
    pub async fn import_confirm(
        &self,
        actor: &UserRecord,
        staging_id: i64,
        accept_warnings: bool,
        addr: Option<String>,
    ) -> Result<ImportOutcome> {
        let Some((file_name, bytes)) =
            imports::staged(self.store.pool(), staging_id, actor.id).await?
        else {
            return Err(ServiceError::WrongState(
                "確認中のファイルが見つかりません（時間が経ったか、既に登録済みです）。もう一度アップロードしてください。",
            ));
        };
        let outcome = self
            .import_commit(
                actor,
                &ImportFile {
                    bytes: &bytes,
                    name: &file_name,
                    origin: "web",
                },
                accept_warnings,
                addr,
                &|_, _| (),
            )
            .await?;
        if matches!(outcome, ImportOutcome::Committed { .. }) {
            imports::unstage(self.store.pool(), staging_id).await?;
        }
        Ok(outcome)
    }

    pub async fn import_history(
        &self,
        actor: &UserRecord,
    ) -> Result<Vec<(imports::ImportRecord, String)>> {
        let view = crate::domain::visibility::View::of(&actor.actor());
        Ok(imports::history(self.store.pool(), &view, actor.id, None).await?)
    }

    /// One import of the actor's history, with the accounts it registered or changed as they are
    /// now (None: no such import, or not one the actor may see).
    pub async fn import_detail(&self, actor: &UserRecord, id: i64) -> Result<Option<ImportDetail>> {
        let view = crate::domain::visibility::View::of(&actor.actor());
        let Some((record, who)) = imports::history(self.store.pool(), &view, actor.id, Some(id))
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let accounts = imports::accounts_of(&mut *self.store.pool().acquire().await?, id).await?;
        Ok(Some(ImportDetail {
            record,
            who,
            accounts,
        }))
    }
}
