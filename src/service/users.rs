//! Registration, [変更], deletion and search of accounts, for a logged-in actor. Every path asks the
//! role rules; a refusal is written to the audit log and changes nothing.

use crate::domain::account::{Profile, ProfileError, RawProfile};
use crate::domain::audit::{Action, Outcome};
use crate::domain::fields::FieldError;
use crate::domain::roles::{may_manage, may_remove, may_see, Permit, Scope, Target};
use crate::domain::search::UserQuery;
use crate::domain::time::jst_date;
use crate::domain::visibility::View;
use crate::domain::{Db, UserType};
use crate::mail::{messages, Mail};
use crate::store::audit::{self, AuditActor, AuditEntry, AuditTarget};
use crate::store::orgs::{self, Institution};
use crate::store::search::{self, Page};
use crate::store::sessions;
use crate::store::users::{self, Home, UserRecord};
use crate::store::Tx;

use super::{App, Result, ServiceError};

/// The registration mail to a new account's own address, if it has one (DESIGN §12): that the
/// account exists and who hands over its notice. No login ID, no password.
pub(super) fn registration_mail(
    user: &UserRecord,
    at: crate::domain::time::Instant,
) -> Option<Mail> {
    let address = user.email.as_deref().filter(|e| !e.trim().is_empty())?;
    let full_name = user.full_name();
    let registered = messages::Registered {
        full_name: &full_name,
        user_type: user.user_type,
        db: user.db,
        institution_name: user.institution_name.as_deref(),
        institution_code: user.institution_code.as_deref(),
        municipality_name: &user.municipality_name,
        department: &user.department,
    };
    Some(Mail::registration(address, &registered, at))
}

/// What the registration form sends.
#[derive(Debug, Clone, Default)]
pub struct Registration {
    pub user_type: String,
    /// Empty: the DB the type implies, or the actor's own.
    pub db: String,
    /// A 自治体担当者 chooses the institution (医療機関コード); others register into their own.
    pub institution_code: String,
    pub profile: RawProfile,
}

/// A doctor applies only through its 主たる勤務先: one active account per DB and 医籍登録番号.
const DUPLICATE_DOCTOR: FieldError = FieldError::Invalid {
    field: "医籍登録番号",
    reason: "この医籍登録番号の有効なアカウントが同じ対象DBに既にあります（指定医のアカウントは主たる勤務先で1つです）",
};

fn invalid(name: &'static str, error: FieldError) -> ServiceError {
    ServiceError::Invalid(vec![ProfileError { name, error }])
}

/// What [変更] did.
#[derive(Debug)]
pub enum Edited {
    Changed(UserRecord),
    /// The form held the values the account already has (nothing written, nothing recorded).
    Unchanged(UserRecord),
}

impl App {
    pub(super) async fn record_denied(
        &self,
        actor: &UserRecord,
        target: Option<&UserRecord>,
        addr: Option<String>,
        what: String,
    ) {
        let mut entry = AuditEntry::new(AuditActor::user(actor), Action::Denied, Outcome::Denied)
            .addr(addr)
            .details(what);
        if let Some(t) = target {
            entry = entry.target(AuditTarget::user(t));
        }
        if let Err(e) = audit::record(&self.store, &self.keys.audit, &entry, self.now()).await {
            crate::report::error("操作履歴への記録", &e);
        }
    }

    /// Refuses what the notice font cannot draw (DESIGN §5, §8: no notice ever prints a box), naming
    /// the character.
    pub fn check_printable(&self, profile: &Profile) -> Result<()> {
        let errors = self.unprintable(profile);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ServiceError::Invalid(errors))
        }
    }

    /// The printed fields (氏名, 部署) with a character the notice font cannot draw.
    pub(super) fn unprintable(&self, profile: &Profile) -> Vec<ProfileError> {
        let fields = [
            ("family_name", "氏名（姓）", profile.family_name.as_str()),
            ("given_name", "氏名（名）", profile.given_name.as_str()),
            ("department", "部署", profile.department.as_str()),
        ];
        fields
            .into_iter()
            .filter_map(|(name, field, value)| {
                self.fonts
                    .missing_glyph(value)
                    .map(|character| ProfileError {
                        name,
                        error: FieldError::Unprintable { field, character },
                    })
            })
            .collect()
    }

    /// Tombstones, inside `tx`, the expired accounts holding any of these (DB, 医籍登録番号): the
    /// number passes to its new holder and the unique index over non-deleted accounts keeps the
    /// one-active-number rule (DESIGN §3). Each tombstone is audited.
    pub(super) async fn tombstone_expired_doctors(
        &self,
        tx: &mut Tx,
        numbers: &[(Db, &str)],
        except: Option<i64>,
        actor: &AuditActor,
        addr: Option<String>,
    ) -> Result<()> {
        let now = self.now();
        let mut entries = Vec::new();
        for db in [Db::Nanbyo, Db::Shoman] {
            let of_db: Vec<&str> = numbers
                .iter()
                .filter(|(d, _)| *d == db)
                .map(|(_, n)| *n)
                .collect();
            if of_db.is_empty() {
                continue;
            }
            for id in users::tombstone_expired_doctors(tx, db, &of_db, except, now).await? {
                sessions::delete_for_user(&mut **tx, id).await?;
                let Some(user) = users::by_id(&mut **tx, id).await? else {
                    continue;
                };
                entries.push(
                    AuditEntry::new(actor.clone(), Action::Delete, Outcome::Success)
                        .target(AuditTarget::user(&user))
                        .addr(addr.clone())
                        .details(
                            "有効期限切れ。同じ医籍登録番号で新しいアカウントを登録したため削除",
                        ),
                );
            }
        }
        audit::append_many(tx, &self.keys.audit, &entries, now).await?;
        Ok(())
    }

    /// The institutions an actor may register into (its own, or those of its municipality).
    pub async fn registrable_institutions(&self, actor: &UserRecord) -> Result<Vec<Institution>> {
        Ok(match actor.actor().scope {
            Scope::Institution { institution, .. } => {
                orgs::institution_by_id(self.store.pool(), institution.id)
                    .await?
                    .into_iter()
                    .collect()
            }
            Scope::Municipality { municipality_id } => {
                orgs::institutions_of(self.store.pool(), municipality_id).await?
            }
        })
    }

    /// 医療機関ユーザ新規登録. The new account has no password (通知書未発行).
    pub async fn register(
        &self,
        actor: &UserRecord,
        reg: &Registration,
        addr: Option<String>,
    ) -> Result<UserRecord> {
        let a = actor.actor();
        // Every field is checked before anything is refused, so the form shows every problem in
        // one round (type, DB, 医療機関 and the §5 fields together).
        let mut errors = Vec::new();
        let user_type = UserType::parse(&reg.user_type);
        if user_type.is_none() {
            errors.push(ProfileError {
                name: "user_type",
                error: FieldError::Required {
                    field: "ユーザ種別",
                },
            });
        }
        let institution = match a.scope {
            // The actor's own institution: it exists (the actor's account points to it).
            Scope::Institution { institution, .. } => {
                orgs::institution_by_id(self.store.pool(), institution.id).await?
            }
            Scope::Municipality { .. } if reg.institution_code.trim().is_empty() => {
                errors.push(ProfileError {
                    name: "institution",
                    error: FieldError::Required {
                        field: "医療機関"
                    },
                });
                None
            }
            Scope::Municipality { .. } => {
                let found =
                    orgs::institution_by_code(self.store.pool(), reg.institution_code.trim())
                        .await?;
                if found.is_none() {
                    errors.push(ProfileError {
                        name: "institution",
                        error: FieldError::Invalid {
                            field: "医療機関",
                            reason: "登録されていない医療機関です",
                        },
                    });
                }
                found
            }
        };
        let db = match (
            user_type.and_then(|t| t.implied_db()),
            Db::parse(&reg.db),
            a.scope,
        ) {
            (Some(implied), _, _) => Some(implied),
            (None, Some(db), _) => Some(db),
            (None, None, Scope::Institution { db, .. }) => Some(db),
            (None, None, Scope::Municipality { .. }) => {
                if user_type.is_some() {
                    errors.push(ProfileError {
                        name: "db",
                        error: FieldError::Required { field: "対象DB" },
                    });
                }
                None
            }
        };
        // Without a type, the number is asked for where only doctors can be registered.
        let doctor = user_type.map_or(
            matches!(a.scope, Scope::Municipality { .. }),
            UserType::is_doctor,
        );
        let now = self.now();
        let profile = match Profile::parse(&reg.profile, doctor) {
            Ok(p) => {
                if p.expires_on.is_some_and(|d| d < jst_date(now)) {
                    errors.push(ProfileError {
                        name: "expires_on",
                        error: FieldError::Invalid {
                            field: "有効期限",
                            reason: "今日以降の日付を入力してください",
                        },
                    });
                }
                Some(p)
            }
            Err(mut found) => {
                errors.append(&mut found);
                None
            }
        };
        let (Some(user_type), Some(db), Some(profile), Some(institution), true) =
            (user_type, db, profile, institution, errors.is_empty())
        else {
            if errors.is_empty() {
                return Err(ServiceError::NotFound);
            }
            return Err(ServiceError::Invalid(errors));
        };
        let target = Target {
            user_id: None,
            user_type,
            db,
            institution: institution.as_ref(),
        };
        if let Err(denied) = may_manage(&a, &target) {
            self.record_denied(
                actor,
                None,
                addr,
                format!("{}（{}）の登録: {denied}", user_type.label(), db.label()),
            )
            .await;
            return Err(ServiceError::Denied(denied));
        }
        self.check_printable(&profile)?;
        let mut tx = self.store.begin_write().await?;
        if let Some(n) = &profile.medical_reg_no {
            if users::active_with_medical_reg_no(&mut *tx, db, n.as_str(), None, now)
                .await?
                .is_some()
            {
                return Err(invalid("medical_reg_no", DUPLICATE_DOCTOR));
            }
            self.tombstone_expired_doctors(
                &mut tx,
                &[(db, n.as_str())],
                None,
                &AuditActor::user(actor),
                addr.clone(),
            )
            .await?;
        }
        let home = Home::Institution {
            institution_id: institution.id,
            db,
        };
        let (id, _) =
            users::create(&mut tx, home, user_type, &profile, Some(actor.id), now).await?;
        let user = users::by_id(&mut *tx, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let entry = AuditEntry::new(AuditActor::user(actor), Action::Register, Outcome::Success)
            .target(AuditTarget::user(&user))
            .addr(addr)
            .details(format!("{}（{}）を登録", user_type.label(), db.label()));
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        // After the commit, and never failing the registration (DESIGN §12).
        let mail: Vec<Mail> = registration_mail(&user, now).into_iter().collect();
        self.post_mail(mail).await;
        Ok(user)
    }

    /// Writes messages to the outbox (`<data_dir>/mail/outbox/`, delivered by `serve` when SMTP is
    /// configured). Called after the operation's commit; a message that cannot be written is logged,
    /// never returned: the operation it tells of has happened.
    pub(super) async fn post_mail(&self, mails: Vec<Mail>) {
        if mails.is_empty() {
            return;
        }
        crate::mail::Outbox::new(&self.settings.data_dir, self.settings.mail_from.as_deref())
            .post_async(mails, self.now())
            .await;
    }

    /// Loads an account for an operation: one the actor cannot see is "not found" (its existence is
    /// not revealed), one it sees but may not manage is refused. Both are audited.
    pub async fn authorize(
        &self,
        actor: &UserRecord,
        target_id: i64,
        action: Action,
        addr: Option<String>,
    ) -> Result<(Permit, UserRecord)> {
        let a = actor.actor();
        let target = users::by_id(self.store.pool(), target_id).await?;
        let visible = target
            .as_ref()
            .and_then(|t| t.target().map(|tt| (t, tt)))
            .filter(|(_, tt)| may_see(&a, tt));
        let Some((record, t)) = visible else {
            self.record_denied(
                actor,
                None,
                addr,
                format!("{}: 見えないユーザ（id={target_id}）", action.label()),
            )
            .await;
            return Err(ServiceError::NotFound);
        };
        if record.deleted_at.is_some() {
            self.record_denied(
                actor,
                Some(record),
                addr,
                format!("{}: 削除済のユーザ", action.label()),
            )
            .await;
            return Err(ServiceError::NotFound);
        }
        match Permit::check(&a, record.id, &t) {
            Ok(permit) => Ok((permit, record.clone())),
            Err(denied) => {
                self.record_denied(
                    actor,
                    Some(record),
                    addr,
                    format!("{}: {denied}", action.label()),
                )
                .await;
                Err(ServiceError::Denied(denied))
            }
        }
    }

    /// [変更]. 医籍登録番号 changes only by a 自治体担当者; expiring the last active 責任者 is refused.
    pub async fn edit(
        &self,
        actor: &UserRecord,
        permit: &Permit,
        target: &UserRecord,
        raw: &RawProfile,
        addr: Option<String>,
    ) -> Result<Edited> {
        let mut raw = raw.clone();
        if actor.user_type != UserType::MunicipalOfficer {
            raw.medical_reg_no = target.medical_reg_no.clone().unwrap_or_default();
        }
        let profile =
            Profile::parse(&raw, target.user_type.is_doctor()).map_err(ServiceError::Invalid)?;
        self.check_printable(&profile)?;
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        let target = &super::accounts::current(&mut tx, permit).await?;
        // Compared under the write lock: a form sent twice (or two people saving the same values)
        // changes the account once and records one entry; the second finds nothing to change.
        let changed = changed_fields(target, &profile);
        if changed.is_empty() {
            return Ok(Edited::Unchanged(target.clone()));
        }
        let expiring = profile.expires_on.is_some_and(|d| d < jst_date(now));
        if expiring {
            self.check_removable(&mut tx, target, now).await?;
        }
        if let (Some(n), Some(db)) = (&profile.medical_reg_no, target.db) {
            if users::active_with_medical_reg_no(&mut *tx, db, n.as_str(), Some(target.id), now)
                .await?
                .is_some()
            {
                return Err(invalid("medical_reg_no", DUPLICATE_DOCTOR));
            }
            self.tombstone_expired_doctors(
                &mut tx,
                &[(db, n.as_str())],
                Some(target.id),
                &AuditActor::user(actor),
                addr.clone(),
            )
            .await?;
        }
        users::update_profile(&mut tx, permit, &profile, Some(actor.id), now).await?;
        if expiring {
            sessions::delete_for_user(&mut *tx, target.id).await?;
        }
        let entry = AuditEntry::new(AuditActor::user(actor), Action::Edit, Outcome::Success)
            .target(AuditTarget::user(target))
            .addr(addr)
            .details(format!("変更: {}", changed.join("、")));
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        Ok(Edited::Changed(self.user_by_id(target.id).await?))
    }

    pub(super) async fn check_removable(
        &self,
        tx: &mut crate::store::Tx,
        target: &UserRecord,
        now: i64,
    ) -> Result<()> {
        let (Some(t), Some(institution_id), Some(db)) =
            (target.target(), target.institution_id, target.db)
        else {
            return Ok(());
        };
        let others = users::count_active_in_institution(
            &mut **tx,
            institution_id,
            db,
            UserType::Responsible,
            Some(target.id),
            now,
        )
        .await?;
        may_remove(&t, others).map_err(ServiceError::Denied)
    }

    /// アカウント削除: a tombstone; its sessions end at once.
    pub async fn delete(
        &self,
        actor: &UserRecord,
        permit: &Permit,
        addr: Option<String>,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        // Decided on the stored row under the write lock: of three parallel submits, one deletes
        // and the others find the tombstone; of two 責任者 deleting each other, the second finds
        // itself the last one.
        let target = &super::accounts::current(&mut tx, permit).await?;
        if let Err(e) = self.check_removable(&mut tx, target, now).await {
            drop(tx);
            if let ServiceError::Denied(d) = &e {
                self.record_denied(actor, Some(target), addr, format!("アカウント削除: {d}"))
                    .await;
            }
            return Err(e);
        }
        users::mark_deleted(&mut tx, permit, now).await?;
        sessions::delete_for_user(&mut *tx, target.id).await?;
        let entry = AuditEntry::new(AuditActor::user(actor), Action::Delete, Outcome::Success)
            .target(AuditTarget::user(target))
            .addr(addr);
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// 医療機関ユーザ検索: only what the actor's view lists.
    pub async fn search(&self, actor: &UserRecord, query: &UserQuery) -> Result<Page> {
        let view = View::of(&actor.actor());
        Ok(search::search(
            self.store.pool(),
            &view,
            query,
            self.now(),
            &self.settings.lockout(),
        )
        .await?)
    }

    /// The exact number of results of `query` in the actor's view, however many (the search counts
    /// only up to [`search::COUNT_CAP`]).
    pub async fn search_count_all(&self, actor: &UserRecord, query: &UserQuery) -> Result<u64> {
        let view = View::of(&actor.actor());
        Ok(search::count_all(
            self.store.pool(),
            &view,
            query,
            self.now(),
            &self.settings.lockout(),
        )
        .await?)
    }
}

/// The names of the fields [変更] changed, for the audit entry.
fn changed_fields(before: &UserRecord, after: &Profile) -> Vec<&'static str> {
    let opt = |o: Option<&str>| o.unwrap_or("").to_string();
    let mut out = Vec::new();
    let mut check = |label, a: String, b: String| {
        if a != b {
            out.push(label);
        }
    };
    check(
        "部署",
        before.department.clone(),
        after.department.as_str().to_string(),
    );
    check(
        "氏名（姓）",
        before.family_name.clone(),
        after.family_name.as_str().to_string(),
    );
    check(
        "氏名（名）",
        before.given_name.clone(),
        after.given_name.as_str().to_string(),
    );
    check(
        "フリガナ（セイ）",
        before.family_kana.clone(),
        after.family_kana.as_str().to_string(),
    );
    check(
        "フリガナ（メイ）",
        before.given_kana.clone(),
        after.given_kana.as_str().to_string(),
    );
    check(
        "医籍登録番号",
        opt(before.medical_reg_no.as_deref()),
        opt(after.medical_reg_no.as_ref().map(|n| n.as_str())),
    );
    check(
        "メールアドレス",
        opt(before.email.as_deref()),
        opt(after.email.as_ref().map(|e| e.as_str())),
    );
    check(
        "電話番号",
        opt(before.phone.as_deref()),
        opt(after.phone.as_ref().map(|p| p.as_str())),
    );
    check(
        "有効期限",
        before
            .expires_on
            .map(crate::domain::time::iso_date)
            .unwrap_or_default(),
        after
            .expires_on
            .map(crate::domain::time::iso_date)
            .unwrap_or_default(),
    );
    check(
        "備考",
        opt(before.remarks.as_deref()),
        opt(after.remarks.as_ref().map(|r| r.as_str())),
    );
    out
}
