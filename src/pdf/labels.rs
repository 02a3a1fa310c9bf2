//! The fixed wording of the notice and of the receipt list (交付管理表).

use crate::domain::roles::Manager;

pub(super) const DOC_TITLE: &str = "IDパスワード発行通知書";
pub(super) const SYSTEM_NAME: &str = "難病・小慢データベース 医療機関ユーザ";
/// The subtitle of a 自治体担当者's notice (it belongs to a municipality, not an institution).
pub(super) const SYSTEM_NAME_MUNICIPAL: &str = "難病・小慢データベース 自治体ユーザ";
pub(super) const CONFIDENTIAL: &str = "取扱注意";
pub(super) const ISSUED_ON: &str = "発行日";
pub(super) const INTRO: &str =
    "下記のとおり、ログインIDと初期パスワードを発行しましたのでお知らせします。";
pub(super) const INSTITUTION: &str = "医療機関名（コード）";
pub(super) const MUNICIPALITY: &str = "自治体名";
pub(super) const DB: &str = "対象DB";
pub(super) const USER_TYPE: &str = "ユーザ種別";
pub(super) const DEPARTMENT: &str = "部署";
pub(super) const NAME: &str = "氏名";
pub(super) const HONORIFIC: &str = "様";
pub(super) const CREDENTIALS: &str = "ログイン情報";
pub(super) const LOGIN_ID: &str = "ログインID";
pub(super) const PASSWORD: &str = "初期パスワード";
pub(super) const EXPIRES: &str = "初期パスワードの有効期限: ";
pub(super) const LOGIN_URL: &str = "ログインURL";
pub(super) const CAUTION: &str = "ご注意";
pub(super) const INSTRUCTIONS: [&str; 4] = [
    "初回ログイン時にパスワードの変更が必要です。",
    "この通知書は他人に見られないよう大切に保管してください。",
    "パスワード変更後はこの通知書を破棄（シュレッダー等）してください。",
    "新しい通知書が発行されると、この通知書の初期パスワードは使えなくなります。",
];

/// The last instruction: whom to ask for a new notice — whoever manages the account (DESIGN §3).
pub(super) fn expired_instruction(m: Manager) -> &'static str {
    match m {
        Manager::Institution => {
            "有効期限を過ぎた場合は、所属医療機関の責任者に再発行を依頼してください。"
        }
        Manager::Municipality => {
            "有効期限を過ぎた場合は、管轄の自治体の担当者に再発行を依頼してください。"
        }
        Manager::SystemAdministrator => {
            "有効期限を過ぎた場合は、本システムの管理者に再発行を依頼してください。"
        }
    }
}

/// お問い合わせ先 when neither the organisation nor the installation has a text of its own.
pub(super) fn default_contact(m: Manager, municipality: &str) -> String {
    let whom = match m {
        Manager::Institution => "所属医療機関の責任者".to_string(),
        Manager::Municipality => format!("{municipality}の担当者"),
        Manager::SystemAdministrator => "本システムの管理者".to_string(),
    };
    format!(
        "パスワードを忘れた場合やアカウントがロックされた場合は、{whom}にお問い合わせください。"
    )
}

const ALL_MANAGERS: [Manager; 3] = [
    Manager::Institution,
    Manager::Municipality,
    Manager::SystemAdministrator,
];
pub(super) const ISSUER: &str = "発行者";
pub(super) const CONTACT: &str = "お問い合わせ先";
/// Character classes printed under each password character.
pub(super) const CLASS_LOWER: &str = "英小";
pub(super) const CLASS_UPPER: &str = "英大";
pub(super) const CLASS_DIGIT: &str = "数字";
pub(super) const CLASS_SYMBOL: &str = "記号";

pub(super) const RECEIPT_TITLE: &str = "IDパスワード発行通知書 交付管理表";
pub(super) const RECEIPT_NOTE: &str =
    "通知書を本人に手渡しする際に、受領者の署名と受領日を記入してください。本表にパスワードは記載していません。";
pub(super) const RECEIPT_COUNT: &str = "対象者: 全";
pub(super) const RECEIPT_PERSONS: &str = "名";
pub(super) const RECEIPT_PAGE: &str = "頁";
pub(super) const RECEIPT_COLUMNS: [&str; 7] = [
    "No.",
    "氏名",
    "フリガナ",
    "部署",
    "ログインID",
    "受領者署名",
    "受領日",
];
/// The column a batch over several institutions adds, and its organisation line (新宿区（医療機関 3か所）).
pub(super) const RECEIPT_INSTITUTION: &str = "医療機関";
pub(super) const RECEIPT_INSTITUTIONS: &str = "医療機関 ";
pub(super) const RECEIPT_PLACES: &str = "か所";
pub(super) const RECEIPT_HANDED_BY: &str = "交付者";
pub(super) const RECEIPT_CHECKED_BY: &str = "確認者";
pub(super) const SEVERAL: &str = "（複数）";

/// Every fixed string, for checking that a configured text font can print them all.
pub(super) fn all() -> impl Iterator<Item = &'static str> {
    [
        DOC_TITLE,
        SYSTEM_NAME,
        SYSTEM_NAME_MUNICIPAL,
        CONFIDENTIAL,
        ISSUED_ON,
        INTRO,
        INSTITUTION,
        MUNICIPALITY,
        DB,
        USER_TYPE,
        DEPARTMENT,
        NAME,
        HONORIFIC,
        CREDENTIALS,
        LOGIN_ID,
        PASSWORD,
        EXPIRES,
        LOGIN_URL,
        CAUTION,
        ISSUER,
        CONTACT,
        CLASS_LOWER,
        CLASS_UPPER,
        CLASS_DIGIT,
        CLASS_SYMBOL,
        RECEIPT_TITLE,
        RECEIPT_NOTE,
        RECEIPT_COUNT,
        RECEIPT_PERSONS,
        RECEIPT_PAGE,
        RECEIPT_HANDED_BY,
        RECEIPT_CHECKED_BY,
        RECEIPT_INSTITUTION,
        RECEIPT_INSTITUTIONS,
        RECEIPT_PLACES,
        SEVERAL,
        "0123456789/（）:.…",
    ]
    .into_iter()
    .chain(INSTRUCTIONS)
    .chain(ALL_MANAGERS.map(expired_instruction))
    .chain(RECEIPT_COLUMNS)
}

/// The fixed part of every default お問い合わせ先 (the municipality's name is checked with the data).
pub(super) fn default_contacts() -> impl Iterator<Item = String> {
    ALL_MANAGERS.into_iter().map(|m| default_contact(m, ""))
}
