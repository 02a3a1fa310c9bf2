//! The system administrator's operations at the server's console (DESIGN §3, §10): institutions,
//! municipalities, the first 責任者 / 自治体担当者, and break-glass recovery. Audited as "console".

use crate::domain::account::{Profile, RawProfile};
use crate::domain::audit::{Action, Outcome};
use crate::domain::fields::FieldError;
use crate::domain::roles::Permit;
use crate::domain::{Db, InstitutionCode, MunicipalityCode, UserType};
use crate::store::audit::{self, AuditActor, AuditEntry, AuditTarget};
use crate::store::orgs::{self, ContactOf, Institution, Municipality};
use crate::store::users::{self, Home, UserRecord};

use super::accounts::IssuedPassword;
use super::notices::Issuer;
use super::{App, Result, ServiceError};

/// Where `bootstrap` creates the first account.
#[derive(Debug, Clone)]
pub enum BootstrapHome {
    /// The first 責任者 of an institution + DB.
    Institution { code: String, db: Db },
    /// The first 自治体担当者 of a municipality.
    Municipality { code: String },
}

fn org_name(field: &'static str, name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() {
        return Err(ServiceError::Conflict(
            FieldError::Required { field }.to_string(),
        ));
    }
    if n.chars().count() > 100 || n.chars().any(char::is_control) {
        return Err(ServiceError::Conflict(format!(
            "{field}は制御文字を含まない100文字以内で入力してください。"
        )));
    }
    Ok(n.to_string())
}

fn field_error(e: FieldError) -> ServiceError {
    ServiceError::Conflict(e.to_string())
}

/// Whose お問い合わせ先, by code (as the console names them).
#[derive(Debug, Clone, Copy)]
pub enum ContactTarget<'a> {
    Institution(&'a str),
    Municipality(&'a str),
}

impl App {
    pub async fn add_municipality(&self, code: &str, name: &str) -> Result<Municipality> {
        let code = MunicipalityCode::parse(code).map_err(field_error)?;
        let name = org_name("自治体名", name)?;
        if orgs::municipality_by_code(self.store.pool(), code.as_str())
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "地方公共団体コード {code} は登録済みです。"
            )));
        }
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        let id = orgs::add_municipality(&mut tx, &code, &name, now).await?;
        let entry = AuditEntry::new(
            AuditActor::Console,
            Action::MunicipalityAdd,
            Outcome::Success,
        )
        .details(format!("{code} {name}"));
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        Ok(Municipality {
            id,
            code: code.to_string(),
            name,
        })
    }

    pub async fn add_institution(
        &self,
        code: &str,
        name: &str,
        municipality_code: &str,
    ) -> Result<Institution> {
        let code = InstitutionCode::parse(code).map_err(field_error)?;
        let name = org_name("医療機関名", name)?;
        let municipality_code = MunicipalityCode::parse(municipality_code).map_err(field_error)?;
        let Some(m) =
            orgs::municipality_by_code(self.store.pool(), municipality_code.as_str()).await?
        else {
            return Err(ServiceError::Conflict(format!(
                "地方公共団体コード {municipality_code} の自治体が登録されていません。先に municipality add で登録してください。"
            )));
        };
        if orgs::institution_by_code(self.store.pool(), code.as_str())
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "医療機関コード {code} は登録済みです。"
            )));
        }
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        orgs::add_institution(&mut tx, &code, &name, m.id, now).await?;
        let entry = AuditEntry::new(
            AuditActor::Console,
            Action::InstitutionAdd,
            Outcome::Success,
        )
        .details(format!("{code} {name}（{} {}）", m.code, m.name));
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        orgs::institution_by_code(self.store.pool(), code.as_str())
            .await?
            .ok_or(ServiceError::NotFound)
    }

    pub async fn rename_institution(&self, code: &str, name: &str) -> Result<Institution> {
        let code = InstitutionCode::parse(code).map_err(field_error)?;
        let name = org_name("医療機関名", name)?;
        let Some(inst) = orgs::institution_by_code(self.store.pool(), code.as_str()).await? else {
            return Err(ServiceError::Conflict(format!(
                "医療機関コード {code} は登録されていません。"
            )));
        };
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        orgs::rename_institution(&mut tx, inst.id, &name).await?;
        let entry = AuditEntry::new(
            AuditActor::Console,
            Action::InstitutionRename,
            Outcome::Success,
        )
        .details(format!("{code}: {} → {name}", inst.name));
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        orgs::institution_by_code(self.store.pool(), code.as_str())
            .await?
            .ok_or(ServiceError::NotFound)
    }

    /// お問い合わせ先 of an institution (printed on its 責任者' and 医療クラーク等's notices) or of a
    /// municipality (on its 指定医's); `None` clears it. Returns the organisation's name.
    pub async fn set_notice_contact(
        &self,
        of: ContactTarget<'_>,
        text: Option<&str>,
    ) -> Result<String> {
        let text = text.map(str::trim).filter(|t| !t.is_empty());
        if let Some(t) = text {
            // Newlines are kept (the notice prints the lines); other control characters are not.
            if t.chars().count() > 200 || t.chars().any(|c| c.is_control() && c != '\n') {
                return Err(ServiceError::Conflict(
                    "お問い合わせ先は制御文字を含まない200文字以内で入力してください（改行は使えます）。"
                        .to_string(),
                ));
            }
            if let Some(c) = self.fonts.missing_glyph(&t.replace('\n', "")) {
                return Err(ServiceError::Conflict(format!(
                    "お問い合わせ先の「{c}」は通知書のフォントで印刷できません。別の文字に置き換えてください。"
                )));
            }
        }
        let (target, name, label) = match of {
            ContactTarget::Institution(code) => {
                let code = InstitutionCode::parse(code).map_err(field_error)?;
                let inst = orgs::institution_by_code(self.store.pool(), code.as_str())
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Conflict(format!(
                            "医療機関コード {code} は登録されていません。"
                        ))
                    })?;
                (
                    ContactOf::Institution(inst.id),
                    inst.name,
                    format!("医療機関 {code}"),
                )
            }
            ContactTarget::Municipality(code) => {
                let code = MunicipalityCode::parse(code).map_err(field_error)?;
                let m = orgs::municipality_by_code(self.store.pool(), code.as_str())
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Conflict(format!(
                            "地方公共団体コード {code} は登録されていません。"
                        ))
                    })?;
                (
                    ContactOf::Municipality(m.id),
                    m.name,
                    format!("自治体 {code}"),
                )
            }
        };
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        orgs::set_notice_contact(&mut tx, target, text).await?;
        let entry = AuditEntry::new(AuditActor::Console, Action::NoticeContact, Outcome::Success)
            .details(match text {
                Some(t) => format!(
                    "{label}（{name}）のお問い合わせ先を設定: {}",
                    t.replace('\n', " / ")
                ),
                None => format!("{label}（{name}）のお問い合わせ先を既定に戻す"),
            });
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        tx.commit().await?;
        Ok(name)
    }

    /// The お問い合わせ先 set for an institution or municipality (None: the default is printed).
    pub async fn notice_contact_of(&self, of: ContactTarget<'_>) -> Result<Option<String>> {
        let target = match of {
            ContactTarget::Institution(code) => {
                let code = InstitutionCode::parse(code).map_err(field_error)?;
                orgs::institution_by_code(self.store.pool(), code.as_str())
                    .await?
                    .map(|i| ContactOf::Institution(i.id))
            }
            ContactTarget::Municipality(code) => {
                let code = MunicipalityCode::parse(code).map_err(field_error)?;
                orgs::municipality_by_code(self.store.pool(), code.as_str())
                    .await?
                    .map(|m| ContactOf::Municipality(m.id))
            }
        }
        .ok_or_else(|| {
            ServiceError::Conflict("指定されたコードは登録されていません。".to_string())
        })?;
        Ok(orgs::notice_contact(self.store.pool(), target).await?)
    }

    /// The notice of a password the console just issued, when asked for (rendered before the commit).
    async fn console_notice(
        &self,
        wanted: bool,
        user: &UserRecord,
        issued: &IssuedPassword,
    ) -> Result<Option<Vec<u8>>> {
        if !wanted {
            return Ok(None);
        }
        Ok(Some(
            self.render_notices(Issuer::Console, &[(user, issued.clone())], false)
                .await?,
        ))
    }

    pub async fn list_municipalities(&self) -> Result<Vec<Municipality>> {
        Ok(orgs::list_municipalities(self.store.pool()).await?)
    }

    pub async fn list_institutions(&self) -> Result<Vec<Institution>> {
        Ok(orgs::list_institutions(self.store.pool()).await?)
    }

    /// Creates the first 責任者 (or 自治体担当者) and issues its temporary password, in one transaction.
    /// Refused while an active one exists there: after that, accounts are made on the screens.
    pub async fn bootstrap(
        &self,
        home: &BootstrapHome,
        raw: &RawProfile,
    ) -> Result<(UserRecord, IssuedPassword)> {
        let (user, issued, _) = self.bootstrap_inner(home, raw, false).await?;
        Ok((user, issued))
    }

    /// `bootstrap` that also renders the notice PDF (inside the transaction: no PDF, no account).
    pub async fn bootstrap_with_notice(
        &self,
        home: &BootstrapHome,
        raw: &RawProfile,
    ) -> Result<(UserRecord, IssuedPassword, Vec<u8>)> {
        let (user, issued, pdf) = self.bootstrap_inner(home, raw, true).await?;
        Ok((user, issued, pdf.unwrap_or_default()))
    }

    async fn bootstrap_inner(
        &self,
        home: &BootstrapHome,
        raw: &RawProfile,
        notice: bool,
    ) -> Result<(UserRecord, IssuedPassword, Option<Vec<u8>>)> {
        let profile = Profile::parse(raw, false).map_err(ServiceError::Invalid)?;
        self.check_printable(&profile)?;
        let now = self.now();
        let mut tx = self.store.begin_write().await?;
        let (home, user_type) = match home {
            BootstrapHome::Institution { code, db } => {
                let code = InstitutionCode::parse(code).map_err(field_error)?;
                let inst = orgs::institution_by_code(&mut *tx, code.as_str())
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Conflict(format!(
                            "医療機関コード {code} は登録されていません。"
                        ))
                    })?;
                let n = users::count_active_in_institution(
                    &mut *tx,
                    inst.id,
                    *db,
                    UserType::Responsible,
                    None,
                    now,
                )
                .await?;
                if n > 0 {
                    return Err(ServiceError::Conflict(format!(
                        "{}（{}）には有効な責任者が既に登録されています。追加の責任者は画面から登録してください。",
                        inst.name,
                        db.label()
                    )));
                }
                (
                    Home::Institution {
                        institution_id: inst.id,
                        db: *db,
                    },
                    UserType::Responsible,
                )
            }
            BootstrapHome::Municipality { code } => {
                let code = MunicipalityCode::parse(code).map_err(field_error)?;
                let m = orgs::municipality_by_code(&mut *tx, code.as_str())
                    .await?
                    .ok_or_else(|| {
                        ServiceError::Conflict(format!(
                            "地方公共団体コード {code} は登録されていません。"
                        ))
                    })?;
                if users::count_active_officers(&mut *tx, m.id, now).await? > 0 {
                    return Err(ServiceError::Conflict(format!(
                        "{}には有効な自治体担当者が既に登録されています。",
                        m.name
                    )));
                }
                (
                    Home::Municipality {
                        municipality_id: m.id,
                    },
                    UserType::MunicipalOfficer,
                )
            }
        };
        let (id, _login_id) = users::create(&mut tx, home, user_type, &profile, None, now).await?;
        let user = users::by_id(&mut *tx, id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        let entry = AuditEntry::new(AuditActor::Console, Action::Bootstrap, Outcome::Success)
            .target(AuditTarget::user(&user))
            .details(format!("{}を登録", user_type.label()));
        audit::append(&mut tx, &self.keys.audit, &entry, now).await?;
        let issued = self
            .issue_in(
                &mut tx,
                &Permit::console(id),
                &AuditActor::Console,
                None,
                Action::NoticeIssue,
                None,
            )
            .await?;
        let pdf = self.console_notice(notice, &user, &issued).await?;
        tx.commit().await?;
        let user = self.user_by_id(id).await?;
        Ok((user, issued, pdf))
    }

    /// Break-glass パスワード初期化 from the console: voids the password and issues a new temporary
    /// one at once (there is nobody else to issue the notice).
    pub async fn console_reset(
        &self,
        login_id: &str,
        verified_by: &str,
    ) -> Result<(UserRecord, IssuedPassword)> {
        let (user, issued, _) = self
            .console_reset_inner(login_id, verified_by, false)
            .await?;
        Ok((user, issued))
    }

    /// `console_reset` that also renders the notice PDF.
    pub async fn console_reset_with_notice(
        &self,
        login_id: &str,
        verified_by: &str,
    ) -> Result<(UserRecord, IssuedPassword, Vec<u8>)> {
        let (user, issued, pdf) = self
            .console_reset_inner(login_id, verified_by, true)
            .await?;
        Ok((user, issued, pdf.unwrap_or_default()))
    }

    async fn console_reset_inner(
        &self,
        login_id: &str,
        verified_by: &str,
        notice: bool,
    ) -> Result<(UserRecord, IssuedPassword, Option<Vec<u8>>)> {
        let target = self.user_by_login_id(login_id).await?;
        let permit = Permit::console(target.id);
        let mut tx = self.store.begin_write().await?;
        self.reset_in(&mut tx, &permit, verified_by, &AuditActor::Console, None)
            .await?;
        let issued = self
            .issue_in(
                &mut tx,
                &permit,
                &AuditActor::Console,
                None,
                Action::NoticeIssue,
                None,
            )
            .await?;
        let pdf = self.console_notice(notice, &target, &issued).await?;
        tx.commit().await?;
        Ok((self.user_by_id(target.id).await?, issued, pdf))
    }

    pub async fn console_unlock(&self, login_id: &str) -> Result<UserRecord> {
        let target = self.user_by_login_id(login_id).await?;
        self.unlock(&Permit::console(target.id), &AuditActor::Console, None)
            .await
    }
}
