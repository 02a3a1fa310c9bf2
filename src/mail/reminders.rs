//! The texts `remind` sends (DESIGN §13): the monthly アカウント棚卸し summary to a 責任者 or
//! 自治体担当者, and the notice to a person before their 有効期限. No personal data beyond the
//! addressee's name, never a login ID or a password; the link only opens the screen (login needed).

use time::Date;

use crate::domain::time::{format_date, wareki};

use super::messages::{signature, subject};
use super::{Mail, PRODUCT};

/// The monthly summary: what is waiting on the アカウント棚卸し screen.
pub struct Summary<'a> {
    pub full_name: &'a str,
    /// 東京中央病院（難病DB）, 新宿区.
    pub scope: &'a str,
    /// (group heading, count).
    pub counts: &'a [(String, u64)],
    /// When the last review was completed (None: never).
    pub last_review: Option<String>,
    pub review_due: bool,
    /// `https://…/review`, when the server's address is known.
    pub link: Option<&'a str>,
}

pub fn summary(s: &Summary<'_>) -> (String, String) {
    let mut b = String::new();
    b.push_str(&format!("{} 様\n\n", s.full_name));
    b.push_str(&format!(
        "{PRODUCT}の、{}のアカウント棚卸しの状況を毎月お知らせしています。\n\n",
        s.scope
    ));
    b.push_str("【確認が必要なアカウントの件数】\n");
    for (label, n) in s.counts {
        b.push_str(&format!("　{label}：{n}件\n"));
    }
    b.push('\n');
    match &s.last_review {
        Some(at) => b.push_str(&format!("前回の棚卸しの完了：{at}\n")),
        None => b.push_str("前回の棚卸しの完了：記録がありません\n"),
    }
    if s.review_due {
        b.push_str("前回の棚卸しから期間が空いています。アカウント棚卸しを行い、［棚卸しを完了］で記録してください。\n");
    }
    b.push('\n');
    match s.link {
        Some(url) => b.push_str(&format!(
            "アカウント棚卸しの画面（ログインが必要です）：\n{url}\n\n"
        )),
        None => b.push_str("ログイン後、メニューの「アカウント棚卸し」から確認してください。\n\n"),
    }
    b.push_str("安全のため、このメールには対象者の氏名やログインIDを記載していません。\n\n");
    signature(&mut b);
    (subject("アカウント棚卸しの状況のお知らせ"), b)
}

/// To a person whose 有効期限 comes soon.
pub fn expiry(full_name: &str, expires_on: Date, administrator: &str) -> (String, String) {
    let mut b = String::new();
    b.push_str(&format!("{full_name} 様\n\n"));
    let date = match wareki(expires_on) {
        Some(w) => format!("{}（{w}）", format_date(expires_on)),
        None => format_date(expires_on),
    };
    b.push_str(&format!(
        "{PRODUCT}のあなたのアカウントは、{date}まで利用できます。翌日からはログインできなくなります。\n\n"
    ));
    b.push_str(&format!(
        "引き続き利用する必要がある場合は、{administrator}に有効期限の延長を依頼してください。\n"
    ));
    b.push_str("退職・異動などで利用しなくなる場合は、手続きは不要です。\n\n");
    b.push_str("このメールでパスワードをお知らせしたり、パスワードの入力をお願いしたりすることはありません。\n\n");
    signature(&mut b);
    (subject("アカウントの有効期限のお知らせ"), b)
}

impl Mail {
    pub fn review_summary(address: &str, s: &Summary<'_>) -> Mail {
        let (subject, body) = summary(s);
        Mail {
            to_name: s.full_name.to_string(),
            to_address: address.trim().to_string(),
            subject,
            body,
            kind: "summary",
        }
    }

    pub fn expiry_notice(
        full_name: &str,
        address: &str,
        expires_on: Date,
        administrator: &str,
    ) -> Mail {
        let (subject, body) = expiry(full_name, expires_on, administrator);
        Mail {
            to_name: full_name.to_string(),
            to_address: address.trim().to_string(),
            subject,
            body,
            kind: "expiry",
        }
    }
}
