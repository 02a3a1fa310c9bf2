//! The header every screen shows, and the menu: only what this person may do (the menu screen, `/`,
//! is `home.rs`; the header is drawn by `view.rs`).

use serde::Serialize;

use crate::domain::review::may_review;
use crate::domain::roles::{registrable, Scope};
use crate::domain::visibility::View;
use crate::domain::UserType;
use crate::service::auth::Authenticated;

#[derive(Debug, Clone, Serialize)]
pub struct MenuItem {
    pub href: &'static str,
    pub label: &'static str,
    pub description: &'static str,
}

/// Who is logged in, as the header bar shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Header {
    pub name: String,
    pub user_type: &'static str,
    pub login_id: String,
    /// 医療機関名 (or the municipality of a 自治体担当者).
    pub organisation: String,
    pub db: Option<&'static str>,
    pub temporary: bool,
    pub menu: Vec<MenuItem>,
}

impl Header {
    pub fn of(auth: &Authenticated) -> Header {
        let u = &auth.user;
        Header {
            name: u.full_name(),
            user_type: u.user_type.label(),
            login_id: u.login_id.clone(),
            organisation: u
                .institution_name
                .clone()
                .unwrap_or_else(|| u.municipality_name.clone()),
            db: u.db.map(|d| d.label()),
            temporary: auth.is_temporary(),
            menu: if auth.is_temporary() {
                Vec::new()
            } else {
                menu(auth)
            },
        }
    }
}

/// The screens this person may use, derived from the role rules: someone who may register nobody is
/// not offered registration, a 医療クラーク等 (who sees only itself) has no search screen.
pub fn menu(auth: &Authenticated) -> Vec<MenuItem> {
    let actor = auth.user.actor();
    let view = View::of(&actor);
    let registers = match actor.scope {
        Scope::Institution { institution, .. } => !registrable(&actor, institution).is_empty(),
        // Registering doctors needs an institution of the municipality; the form says if there is none.
        Scope::Municipality { .. } => actor.user_type == UserType::MunicipalOfficer,
    };
    let mut items = Vec::new();
    if registers {
        items.push(MenuItem {
            href: "/users/new",
            label: "医療機関ユーザ新規登録",
            description: if actor.user_type == UserType::MunicipalOfficer {
                "管轄の医療機関の指定医のユーザを登録します。"
            } else {
                "医療クラーク等のユーザを新規登録します。"
            },
        });
    }
    if view.has_search() && registers {
        items.push(MenuItem {
            href: "/imports",
            label: "CSV一括登録",
            description: "Excelで作成したCSVファイルから、複数のユーザをまとめて登録します。",
        });
    }
    if view.has_search() {
        items.push(MenuItem {
            href: "/users",
            label: "医療機関ユーザ検索",
            description:
                "ユーザを検索し、ユーザ情報の変更・パスワード初期化・ロック解除・削除を行います。",
        });
    }
    if may_review(&actor) {
        items.push(MenuItem {
            href: "/review",
            label: "アカウント棚卸し",
            description: "使われていないアカウントや有効期限が近いアカウントを確認し、棚卸しの完了を記録します。",
        });
    }
    items.push(MenuItem {
        href: "/password",
        label: "パスワード変更",
        description: "ご自身のログインパスワードを変更します。",
    });
    items.push(MenuItem {
        href: "/audit",
        label: "操作履歴",
        description: "ログインや登録などの操作の記録を確認し、CSVファイルに出力します。",
    });
    items
}
