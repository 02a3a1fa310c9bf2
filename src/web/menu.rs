//! The header every screen shows, and the menu: only what this person may do (the menu screen, `/`,
//! is `home.rs`; the header is drawn by `view.rs`).

use serde::Serialize;

use crate::domain::review::may_review;
use crate::domain::roles::{manager_of, registrable_types, Manager};
use crate::domain::visibility::View;
use crate::domain::UserType;
use crate::service::auth::Authenticated;

use super::view::Page;

#[derive(Debug, Clone, Serialize)]
pub struct MenuItem {
    pub href: &'static str,
    pub label: &'static str,
    pub description: String,
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

/// Whom this person asks for what it may not do to its own account (a reset, an unlock, a new
/// notice): whoever manages its type (DESIGN §3, [`manager_of`]).
pub fn who_to_ask(user_type: UserType) -> &'static str {
    match (manager_of(user_type), user_type) {
        (Manager::Institution, UserType::Clerk) => "所属医療機関の責任者または指定医",
        (Manager::Institution, _) => "所属医療機関の責任者",
        (Manager::Municipality, _) => "医療機関を管轄する自治体の担当者",
        (Manager::SystemAdministrator, _) => "このサーバを運用するシステム管理者",
    }
}

/// The page for a screen this person is not offered (a typed or bookmarked address): status 403,
/// what the screen is, why not, and whom to ask; the page has the header, its menu and a way back.
pub fn not_offered(auth: &Authenticated, screen: &str) -> Page {
    let t = auth.user.user_type;
    super::error_page(
        rocket::http::Status::Forbidden,
        &format!(
            "{screen}は、{}のアカウントでは利用できません。利用できる機能はメニューに表示しています。ユーザの登録やパスワード初期化などは、{}に依頼してください。",
            t.label(),
            who_to_ask(t)
        ),
    )
}

/// The screens this person may use, derived from the role rules: someone who may register nobody is
/// not offered registration, a 医療クラーク等 (who sees only itself) has no search screen.
pub fn menu(auth: &Authenticated) -> Vec<MenuItem> {
    let actor = auth.user.actor();
    let view = View::of(&actor);
    let types = registrable_types(&actor);
    let mut items = Vec::new();
    if !types.is_empty() {
        let names = types
            .iter()
            .map(|t| t.label())
            .collect::<Vec<_>>()
            .join("・");
        items.push(MenuItem {
            href: "/users/new",
            label: "医療機関ユーザ新規登録",
            description: if actor.user_type == UserType::MunicipalOfficer {
                format!("管轄の医療機関の{names}のユーザを登録します。")
            } else {
                format!("{names}のユーザを新規登録します。")
            },
        });
    }
    if view.has_search() && !types.is_empty() {
        items.push(MenuItem {
            href: "/imports",
            label: "CSV一括登録",
            description: "Excelで作成したCSVファイルから、複数のユーザをまとめて登録します。"
                .into(),
        });
    }
    if view.has_search() {
        items.push(MenuItem {
            href: "/users",
            label: "医療機関ユーザ検索",
            description:
                "ユーザを検索し、ユーザ情報の変更・パスワード初期化・ロック解除・削除を行います。"
                    .into(),
        });
    }
    if may_review(&actor) {
        items.push(MenuItem {
            href: "/review",
            label: "アカウント棚卸し",
            description: "使われていないアカウントや有効期限が近いアカウントを確認し、棚卸しの完了を記録します。".into(),
        });
    }
    items.push(MenuItem {
        href: "/password",
        label: "パスワード変更",
        description: "ご自身のログインパスワードを変更します。".into(),
    });
    items.push(MenuItem {
        href: "/audit",
        label: "操作履歴",
        description: if view.has_search() {
            "ログインや登録などの操作の記録を確認し、CSVファイルに出力します。".into()
        } else {
            "ご自身のアカウントのログインや操作の記録を確認します。".into()
        },
    });
    items
}
