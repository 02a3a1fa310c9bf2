//! `backup --to FILE` and `restore --from FILE` (DESIGN §10). A backup is a consistent copy taken
//! while the server runs; a restore checks the file first (integrity, schema version, the audit
//! chain under the current keys), refuses while a server uses the data folder, and keeps the
//! replaced database aside.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::config::{Keys, Settings};
use crate::domain::time::{format_jst, SystemClock};
use crate::service::App;
use crate::store::audit;
use crate::store::backup::{inspect, latest_schema_version, sqlite_file};

use super::fail;

const KEYS_APART: &str = "鍵（データフォルダの keys/）はバックアップとは別の安全な場所に保管してください。\
    監査ログ用の鍵がないと操作履歴の改ざん検証ができず、一時パスワード用の鍵がないと印刷済みの通知書が使えなくなります。";

/// The data folder's lock file: every `serve` holds it shared for as long as it runs, `restore`
/// takes it exclusively, so a restore never swaps the database under a running server.
pub fn data_folder_lock(settings: &Settings) -> std::io::Result<File> {
    File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(settings.data_dir.join("nanbyo.lock"))
}

/// Held by `serve` until it stops. Err: a restore is under way.
pub fn hold_for_serving(settings: &Settings) -> Result<File, String> {
    let file = data_folder_lock(settings).map_err(|e| {
        format!(
            "データフォルダのロックファイルを作成できません（{}）: {e}",
            settings.data_dir.display()
        )
    })?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(
            "データベースの復元（restore）が実行中のため、サーバを起動できません。復元が終わってから起動してください。"
                .to_string(),
        ),
        Err(TryLockError::Error(e)) => Err(format!("データフォルダをロックできません: {e}")),
    }
}

fn database_file(settings: &Settings) -> Result<PathBuf, String> {
    sqlite_file(&settings.database_url()).ok_or_else(|| {
        "PostgreSQL のデータベースは PostgreSQL のツールでバックアップ・復元してください\
         （例: pg_dump -Fc -f nanbyo.dump 'postgres://…' / pg_restore --clean -d 'postgres://…' nanbyo.dump）。\
         keys/ は別に保管してください。"
            .to_string()
    })
}

pub async fn backup(app: &App, to: &Path) -> ExitCode {
    if let Err(m) = database_file(&app.settings) {
        return fail(&m);
    }
    if to.exists() {
        return fail(&format!(
            "{} は既に存在します。別のファイル名を指定してください（既存のファイルは上書きしません）。",
            to.display()
        ));
    }
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(parent) {
            return fail(&format!("{} を作成できません: {e}", parent.display()));
        }
    }
    if let Err(e) = app.store.backup_into(to).await {
        let _ = std::fs::remove_file(to);
        return fail(&format!(
            "バックアップを作成できません（{}）: {e}",
            to.display()
        ));
    }
    match inspect(to).await {
        Ok(f) if f.intact => {
            println!(
                "バックアップを作成しました: {}（ユーザ {}件、操作履歴 {}件、{}時点）",
                to.display(),
                f.users,
                f.audit_entries,
                format_jst(app.now())
            );
            println!("{KEYS_APART}");
            ExitCode::SUCCESS
        }
        Ok(_) => fail(&format!(
            "作成したバックアップ {} の整合性検査に失敗しました。ディスクの状態を確認してください。",
            to.display()
        )),
        Err(e) => fail(&format!("作成したバックアップを検査できません: {e}")),
    }
}

pub async fn restore(settings: Settings, keys: Keys, from: &Path) -> ExitCode {
    let db = match database_file(&settings) {
        Ok(p) => p,
        Err(m) => return fail(&m),
    };
    let lock = match data_folder_lock(&settings) {
        Ok(f) => f,
        Err(e) => return fail(&format!("データフォルダをロックできません: {e}")),
    };
    match lock.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return fail(
                "サーバがこのデータフォルダを使用中のため、復元できません。サーバを停止してから\
                 （例: systemctl stop nanbyo-accounts）もう一度実行してください。",
            )
        }
        Err(TryLockError::Error(e)) => {
            return fail(&format!("データフォルダをロックできません: {e}"))
        }
    }
    if !from.is_file() {
        return fail(&format!("{} が見つかりません。", from.display()));
    }
    let facts = match inspect(from).await {
        Ok(f) => f,
        Err(e) => {
            return fail(&format!(
                "{} はこの製品のバックアップとして読み込めません: {e}",
                from.display()
            ))
        }
    };
    if !facts.intact {
        return fail(&format!(
            "{} は破損しています（整合性検査に失敗）。別のバックアップを指定してください。",
            from.display()
        ));
    }
    if facts.schema_version == 0 {
        return fail(&format!(
            "{} はこの製品のデータベースではありません。",
            from.display()
        ));
    }
    if facts.schema_version > latest_schema_version() {
        return fail(&format!(
            "{} はこのプログラムより新しいバージョンで作成されています（スキーマ {}、このプログラムは {} まで）。\
             新しいバージョンのプログラムで復元してください。",
            from.display(),
            facts.schema_version,
            latest_schema_version()
        ));
    }
    // The copy is checked where it will live, under this binary's migrations and the current keys,
    // before anything in place is touched.
    let staged = db.with_extension("db.restoring");
    remove_with_journal(&staged);
    if let Err(e) = std::fs::copy(from, &staged) {
        return fail(&format!("{} を複製できません: {e}", staged.display()));
    }
    let checked = check_staged(&settings, &keys, &staged).await;
    if let Err(m) = checked {
        remove_with_journal(&staged);
        return fail(&m);
    }
    let stamp = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_default();
    let aside = db.with_extension(format!("db.before-restore-{stamp}"));
    if db.exists() {
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", db.display()));
            if from.exists() {
                let to = PathBuf::from(format!("{}{suffix}", aside.display()));
                if let Err(e) = std::fs::rename(&from, &to) {
                    return fail(&format!("{} を退避できません: {e}", from.display()));
                }
            }
        }
    }
    if let Err(e) = std::fs::rename(&staged, &db) {
        return fail(&format!("{} を配置できません: {e}", db.display()));
    }
    println!(
        "{} から復元しました（ユーザ {}件、操作履歴 {}件、改ざん検証済み）。",
        from.display(),
        facts.users,
        facts.audit_entries
    );
    if aside.exists() {
        println!(
            "置き換える前のデータベースは {} に残してあります。",
            aside.display()
        );
    }
    drop(lock);
    ExitCode::SUCCESS
}

async fn check_staged(settings: &Settings, keys: &Keys, staged: &Path) -> Result<(), String> {
    let mut s = settings.clone();
    s.database_url = Some(format!("sqlite://{}?mode=rw", staged.display()));
    let app = App::open(s, keys.clone(), Arc::new(SystemClock))
        .await
        .map_err(|e| format!("バックアップを開けません: {e}"))?;
    let verified = audit::verify(&app.store, &app.keys.audit).await;
    app.store.close().await;
    match verified {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(b)) => Err(format!(
            "バックアップの操作履歴を現在の鍵で検証できません（連番 {} で不一致: {}）。\
             バックアップを作成したときの keys/ を戻してから復元してください。",
            b.seq, b.reason
        )),
        Err(e) => Err(format!("バックアップの操作履歴を読めません: {e}")),
    }
}

/// Removes a SQLite file and its journal files, if present.
fn remove_with_journal(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
