//! The texts of the messages (件名, 本文), as pure functions. Neither ever carries a password, a
//! temporary password or a link that logs in; the registration mail does not carry the login ID
//! either (the person receives both on the printed IDパスワード発行通知書).

use crate::domain::roles::{manager_of, Manager};
use crate::domain::time::{format_jst, Instant};
use crate::domain::{Db, UserType};

use super::PRODUCT;

/// Who manages an account (DESIGN §3), and so who hands its notice over and answers its questions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Administrator<'a> {
    /// A 医療クラーク等 (`doctors_too`: its 指定医 manage it as well) or a 責任者: the institution's
    /// 責任者.
    Institution { name: &'a str, doctors_too: bool },
    /// A 指定医: the 自治体 that issues its ID.
    Municipality { name: &'a str },
    /// A 自治体担当者: the system administrator at the server's console.
    Console,
}

impl<'a> Administrator<'a> {
    /// Follows the role rules' [`manager_of`]; a 医療クラーク等's 指定医 manage it as well.
    pub fn of(user_type: UserType, institution_name: &'a str, municipality_name: &'a str) -> Self {
        match manager_of(user_type) {
            Manager::Institution => Administrator::Institution {
                name: institution_name,
                doctors_too: user_type == UserType::Clerk,
            },
            Manager::Municipality => Administrator::Municipality {
                name: municipality_name,
            },
            Manager::SystemAdministrator => Administrator::Console,
        }
    }

    /// 「東京中央病院の責任者または指定医」.
    pub fn text(&self) -> String {
        match self {
            Administrator::Institution {
                name,
                doctors_too: true,
            } => format!("{name}の責任者または指定医"),
            Administrator::Institution {
                name,
                doctors_too: false,
            } => format!("{name}の責任者"),
            Administrator::Municipality { name } => format!("{name}（自治体）の担当者"),
            Administrator::Console => "このシステムのシステム管理者".to_string(),
        }
    }
}

/// A newly registered account, as its registration mail describes it (no login ID: see the module).
#[derive(Debug, Clone, Copy)]
pub struct Registered<'a> {
    pub full_name: &'a str,
    pub user_type: UserType,
    pub db: Option<Db>,
    pub institution_name: Option<&'a str>,
    pub institution_code: Option<&'a str>,
    pub municipality_name: &'a str,
    pub department: &'a str,
}

pub(super) fn subject(what: &str) -> String {
    format!("【{PRODUCT}】{what}")
}

const FOOTER_RULE: &str = "――――――――――――――――――――――――――――――";

pub(super) fn signature(body: &mut String) {
    body.push_str(
        "※このメールは送信専用のアドレスから自動で送信しています。このメールに返信されてもお答えできません。\n",
    );
    body.push('\n');
    body.push_str(FOOTER_RULE);
    body.push('\n');
    body.push_str(PRODUCT);
    body.push('\n');
}

/// 「東京中央病院（医療機関コード 1311234567）」, or the municipality for a 自治体担当者.
fn place(name: Option<&str>, code: Option<&str>, municipality: &str) -> String {
    match (name, code) {
        (Some(n), Some(c)) => format!("{n}（医療機関コード {c}）"),
        (Some(n), None) => n.to_string(),
        _ => format!("{municipality}（自治体）"),
    }
}

/// To the person just registered (the web form or a CSV import): an account exists, and the notice
/// with its login ID and temporary password comes from the administrator.
pub fn registration(r: &Registered<'_>, at: Instant) -> (String, String) {
    let admin = Administrator::of(
        r.user_type,
        r.institution_name.unwrap_or(""),
        r.municipality_name,
    )
    .text();
    let mut b = String::new();
    b.push_str(&format!("{} 様\n\n", r.full_name));
    b.push_str(&format!(
        "{PRODUCT}に、あなたのアカウントが登録されましたので、お知らせします。\n\n"
    ));
    b.push_str("【登録内容】\n");
    b.push_str(&format!(
        "　所属　　　：{}\n",
        place(r.institution_name, r.institution_code, r.municipality_name)
    ));
    if let Some(db) = r.db {
        b.push_str(&format!("　対象DB　　：{}\n", db.label()));
    }
    b.push_str(&format!("　ユーザ種別：{}\n", r.user_type.label()));
    b.push_str(&format!("　部署　　　：{}\n", r.department));
    b.push_str(&format!("　登録日時　：{}（日本時間）\n\n", format_jst(at)));
    b.push_str("【ログインIDとパスワードについて】\n");
    b.push_str(&format!(
        "ログインIDと初期パスワードは、「IDパスワード発行通知書」により、{admin}からお渡しします。\n"
    ));
    b.push_str(
        "安全のため、このメールにはログインIDとパスワードを記載していません。メールでパスワードをお知らせすることはありません。\n",
    );
    b.push_str(
        "通知書を受け取ったら、通知書に記載のログインURLからログインし、初期パスワードをご自身で決めたパスワードに変更してください。\n\n",
    );
    b.push_str("【お心当たりのない場合】\n");
    b.push_str(&format!(
        "このアカウントの登録にお心当たりのない場合は、{admin}にお問い合わせください。\n\n"
    ));
    signature(&mut b);
    (subject("アカウント登録のお知らせ"), b)
}

/// A locked account, as the lock mail to its managers describes it.
#[derive(Debug, Clone, Copy)]
pub struct Locked<'a> {
    pub full_name: &'a str,
    pub login_id: &'a str,
    pub department: &'a str,
    pub user_type: UserType,
    pub db: Option<Db>,
    pub institution_name: Option<&'a str>,
    /// The consecutive failures that locked it.
    pub failures: u32,
    /// When it locked.
    pub at: Instant,
    /// Minutes until the lock releases itself; 0 = only by hand.
    pub auto_release_minutes: i64,
}

/// To one manager of a locked account (DESIGN §3: a 医療クラーク等's or 責任者's 責任者, a 指定医's
/// 自治体担当者): who, when, and what to do.
pub fn lock(manager_name: &str, l: &Locked<'_>) -> (String, String) {
    let mut b = String::new();
    b.push_str(&format!("{manager_name} 様\n\n"));
    b.push_str(&format!(
        "{PRODUCT}で、あなたが管理する次のアカウントが、パスワードの誤入力が{}回続いたためロックされました。\n\n",
        l.failures
    ));
    b.push_str("【ロックされたアカウント】\n");
    b.push_str(&format!("　氏名　　　：{}\n", l.full_name));
    b.push_str(&format!("　ログインID：{}\n", l.login_id));
    b.push_str(&format!("　部署　　　：{}\n", l.department));
    b.push_str(&format!("　ユーザ種別：{}\n", l.user_type.label()));
    match (l.institution_name, l.db) {
        (Some(i), Some(db)) => b.push_str(&format!("　医療機関　：{i}（{}）\n", db.label())),
        (Some(i), None) => b.push_str(&format!("　医療機関　：{i}\n")),
        _ => {}
    }
    b.push_str(&format!(
        "　ロック日時：{}（日本時間）\n\n",
        format_jst(l.at)
    ));
    b.push_str("【対応のお願い】\n");
    b.push_str(
        "1. ご本人に電話や対面で連絡し、ご本人がログインしようとしたものかを確認してください。\n",
    );
    b.push_str(
        "2. ご本人であることを確認したうえで、医療機関ユーザ検索画面でこのユーザを検索し、［アカウントロック解除］を押してください。\
         パスワードを忘れている場合は、［パスワード初期化］のうえ、新しいIDパスワード発行通知書をお渡しください。\n",
    );
    b.push_str(
        "3. ご本人にお心当たりがない場合は、第三者による不正なログインの試みのおそれがあります。\
         操作履歴画面でログインの記録（接続元）を確認し、システム管理者にご連絡ください。\n\n",
    );
    if l.auto_release_minutes > 0 {
        b.push_str(&format!(
            "なお、このロックは{}分後（{}頃）に自動的に解除されます。\n\n",
            l.auto_release_minutes,
            format_jst(l.at + l.auto_release_minutes * 60)
        ));
    } else {
        b.push_str("なお、このロックは自動では解除されません。\n\n");
    }
    b.push_str(
        "※このメールは、アカウントがロックされたときに、そのアカウントを管理する方のうちメールアドレスが登録されている方へ送信しています。\n",
    );
    signature(&mut b);
    (
        subject(&format!("アカウントロックのお知らせ（{} 様）", l.full_name)),
        b,
    )
}
