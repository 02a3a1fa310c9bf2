//! A hospital's cast for tests of the role rules: one account of every kind, made through the same
//! service calls the screens use.

#![allow(dead_code)]

use nanbyo_accounts::domain::account::RawProfile;
use nanbyo_accounts::domain::lockout::Lockout;
use nanbyo_accounts::domain::Db;
use nanbyo_accounts::service::console::BootstrapHome;
use nanbyo_accounts::service::users::Registration;
use nanbyo_accounts::store::users::{self, UserRecord};

use super::common::{TestServer, HOSPITAL, OTHER_HOSPITAL, SHINJUKU};

pub fn profile(family: &str, family_kana: &str, department: &str) -> RawProfile {
    RawProfile {
        department: department.into(),
        family_name: family.into(),
        given_name: "花子".into(),
        family_kana: family_kana.into(),
        given_kana: "ハナコ".into(),
        ..RawProfile::default()
    }
}

/// Every kind of account around one 医療クラーク等 (`clerk`, 東京中央病院, 難病DB).
pub struct Cast {
    pub responsible: UserRecord,
    pub shoman_responsible: UserRecord,
    pub officer: UserRecord,
    pub nanbyo_doctor: UserRecord,
    pub shoman_doctor: UserRecord,
    pub clerk: UserRecord,
    pub other_clerk: UserRecord,
    pub other_hospital_responsible: UserRecord,
}

pub async fn bootstrap(s: &TestServer, home: BootstrapHome, family: &str) -> UserRecord {
    let raw = profile(family, "テスト", "医事課");
    s.app().bootstrap(&home, &raw).await.unwrap().0
}

#[allow(clippy::too_many_arguments)]
pub async fn register(
    s: &TestServer,
    actor: &UserRecord,
    user_type: &str,
    institution: &str,
    family: &str,
    kana: &str,
    department: &str,
    reg_no: &str,
) -> UserRecord {
    let mut raw = profile(family, kana, department);
    raw.medical_reg_no = reg_no.into();
    let reg = Registration {
        user_type: user_type.into(),
        db: String::new(),
        institution_code: institution.into(),
        profile: raw,
    };
    s.app().register(actor, &reg, None).await.unwrap()
}

pub async fn cast(s: &TestServer) -> Cast {
    let responsible = bootstrap(
        s,
        BootstrapHome::Institution {
            code: HOSPITAL.into(),
            db: Db::Nanbyo,
        },
        "責任",
    )
    .await;
    let shoman_responsible = bootstrap(
        s,
        BootstrapHome::Institution {
            code: HOSPITAL.into(),
            db: Db::Shoman,
        },
        "小慢責任",
    )
    .await;
    let other_hospital_responsible = bootstrap(
        s,
        BootstrapHome::Institution {
            code: OTHER_HOSPITAL.into(),
            db: Db::Nanbyo,
        },
        "西責任",
    )
    .await;
    let officer = bootstrap(
        s,
        BootstrapHome::Municipality {
            code: SHINJUKU.into(),
        },
        "区担当",
    )
    .await;
    let nanbyo_doctor = register(
        s,
        &officer,
        "nanbyo_doctor",
        HOSPITAL,
        "難病医",
        "ナンビョウイ",
        "内科",
        "100001",
    )
    .await;
    let shoman_doctor = register(
        s,
        &officer,
        "shoman_doctor",
        HOSPITAL,
        "小慢医",
        "ショウマンイ",
        "小児科",
        "100002",
    )
    .await;
    let clerk = register(
        s,
        &responsible,
        "clerk",
        "",
        "山﨑",
        "ヤマザキ",
        "医事課",
        "",
    )
    .await;
    let other_clerk = register(s, &responsible, "clerk", "", "佐藤", "サトウ", "外来", "").await;
    Cast {
        responsible,
        shoman_responsible,
        officer,
        nanbyo_doctor,
        shoman_doctor,
        clerk,
        other_clerk,
        other_hospital_responsible,
    }
}

impl TestServer {
    /// Gives `user` a password of its own and logs this client in as them.
    pub async fn act_as(&self, user: &UserRecord) {
        self.log_out().await;
        let (_, issued) = self
            .app()
            .console_reset(&user.login_id, "テスト")
            .await
            .unwrap_or_else(|_| panic!("console_reset {}", user.login_id));
        self.login_and_set_password(&user.login_id, &issued.password, "Kumo-no-ue7Sora")
            .await;
    }

    /// Ends this client's session, if any.
    pub async fn log_out(&self) {
        let res = self.get("/").await;
        if res.status() == rocket::http::Status::Ok {
            let csrf = super::common::csrf_of(&res.into_string().await.unwrap());
            self.post_form("/logout", &[("csrf", &csrf)]).await;
        }
    }

    pub async fn reload(&self, u: &UserRecord) -> UserRecord {
        self.app().user_by_id(u.id).await.unwrap()
    }

    /// Locks an account as five failed logins would.
    pub async fn lock(&self, u: &UserRecord) {
        let now = self.app().now();
        users::save_lockout(
            self.app().store.pool(),
            u.id,
            Lockout {
                failures: 5,
                locked_at: Some(now),
            },
        )
        .await
        .unwrap();
    }
}
