//! `import`: CSV一括登録 and 人事異動 change files from the console and the import inbox, with the same
//! checks as the web screen; problems as 行 / 列 / 理由 on standard error; a non-zero exit on any error.

use crate::import::changes::is_change_file;
use crate::import::{Limits, Problem};
use crate::service::changes::ChangeOutcome;
use crate::service::imports::ImportFile;
use crate::service::{App, ServiceError};
use crate::store::users::UserRecord;

/// Whether change files are taken: a person at the console may; the inbox only when its
/// configuration says so (a 削除 without a preview is too easy to drop in by mistake).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChangeFiles {
    Allow,
    Refuse,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Options {
    pub dry_run: bool,
    pub accept_warnings: bool,
    pub change_files: ChangeFiles,
}

fn print_problems(problems: &[Problem]) {
    for p in problems {
        let kind = if p.is_error() { "エラー" } else { "警告" };
        let col = if p.column.is_empty() {
            "-"
        } else {
            p.column.as_str()
        };
        eprintln!("{kind}\t{}行\t{col}\t{}", p.row, p.reason);
    }
}

/// Registers the rows of a registration file, or applies a change file.
pub(super) async fn import_file(
    app: &App,
    file: &std::path::Path,
    actor: &str,
    options: Options,
) -> Result<(), ServiceError> {
    let Options {
        dry_run,
        accept_warnings,
        change_files,
    } = options;
    use crate::service::imports::ImportOutcome;
    let me = app.user_by_login_id(actor).await.map_err(|_| {
        ServiceError::Conflict(format!(
            "--as のログインID {actor} のユーザが見つかりません。"
        ))
    })?;
    let limit = crate::import::Limits::default().max_bytes as u64;
    let size = std::fs::metadata(file)
        .map_err(|e| {
            ServiceError::Conflict(format!("ファイルを読めません（{}）: {e}", file.display()))
        })?
        .len();
    if size > limit {
        return Err(ServiceError::Conflict(format!(
            "ファイルが大きすぎます（{size}バイト、上限 {limit}バイト）。分割して取り込んでください。"
        )));
    }
    let bytes = std::fs::read(file).map_err(|e| {
        ServiceError::Conflict(format!("ファイルを読めません（{}）: {e}", file.display()))
    })?;
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let origin = format!("console:{}", file.display());
    let print = |parsed: &crate::import::Parsed| print_problems(&parsed.problems);
    if is_change_file(&bytes, &Limits::default()) {
        if change_files == ChangeFiles::Refuse {
            return Err(ServiceError::Conflict(
                "このファイルはログインIDの列がある変更ファイル（一括変更・削除）ですが、ここでは変更ファイルを受け付けない設定です（--change-files refuse）。受付フォルダで受け付けるには import.env に NANBYO_IMPORT_CHANGES=allow を書いてください。画面（CSV一括登録）からは、確認画面を見てから反映できます。".into(),
            ));
        }
        let file = ImportFile {
            bytes: &bytes,
            name: &name,
            origin: &origin,
        };
        return change_file(app, &me, &file, dry_run, accept_warnings).await;
    }
    if dry_run {
        let mut conn = app.store.pool().acquire().await?;
        let parsed = app.import_check(&mut conn, &me, &bytes).await?;
        drop(conn);
        app.import_previewed(&me, &name, &origin, &parsed, None)
            .await?;
        print(&parsed);
        if parsed.has_errors() {
            return Err(ServiceError::Conflict(
                "エラーがあるため、このファイルは取り込めません。".into(),
            ));
        }
        println!(
            "エラーはありません。{}件を登録できます（{}）。",
            parsed.rows.len(),
            parsed.encoding.label()
        );
        return Ok(());
    }
    // A progress bar on a terminal for large files (hidden when the output is not a terminal).
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len}件")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("登録中");
    let progress = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let outcome = app
        .import_commit(
            &me,
            &ImportFile {
                bytes: &bytes,
                name: &name,
                origin: &origin,
            },
            accept_warnings,
            None,
            &progress,
        )
        .await?;
    bar.finish_and_clear();
    match outcome {
        ImportOutcome::Refused(parsed) => {
            print(&parsed);
            Err(ServiceError::Conflict(
                "エラーがあるため、1件も登録していません。".into(),
            ))
        }
        ImportOutcome::NeedsConfirmation(parsed) => {
            print(&parsed);
            Err(ServiceError::Conflict(
                "警告があるため登録していません。内容を確認し、登録する場合は --accept-warnings を付けて実行してください。".into(),
            ))
        }
        ImportOutcome::Committed {
            import_id,
            created,
            checked,
            written,
        } => {
            for (row, _, login_id, name) in &created {
                println!("{row}\t{login_id}\t{name}");
            }
            eprintln!(
                "確認 {:.3} 秒、登録 {:.3} 秒{}",
                checked.as_secs_f64(),
                written.as_secs_f64(),
                peak_memory()
                    .map(|kb| format!("、最大メモリ {:.1} MB", kb as f64 / 1024.0))
                    .unwrap_or_default()
            );
            println!("{}件を登録しました（取込番号 {import_id}）。通知書は画面または notices コマンドで発行してください。", created.len());
            Ok(())
        }
    }
}

/// The process's peak resident memory in KiB (Linux: VmHWM), for the import's report.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A change file: checked (with --dry-run, only that), else applied whole or not at all.
async fn change_file(
    app: &App,
    me: &UserRecord,
    file: &ImportFile<'_>,
    dry_run: bool,
    accept_warnings: bool,
) -> Result<(), ServiceError> {
    if dry_run {
        let mut conn = app.store.pool().acquire().await?;
        let check = app.change_check(&mut conn, me, file.bytes).await?;
        drop(conn);
        app.change_previewed(me, file.name, file.origin, &check, None)
            .await?;
        print_problems(&check.file.problems);
        for p in &check.plan {
            println!(
                "{}\t{}\t{}\t{}",
                p.row,
                p.user.login_id,
                p.user.full_name(),
                p.summary()
            );
        }
        if check.has_errors() {
            return Err(ServiceError::Conflict(
                "エラーがあるため、この変更ファイルは反映できません。".into(),
            ));
        }
        println!(
            "エラーはありません。{}件を変更できます（{}）。",
            check.plan.len(),
            check.file.encoding.label()
        );
        return Ok(());
    }
    match app.change_commit(me, file, accept_warnings, None).await? {
        ChangeOutcome::Refused(check) => {
            print_problems(&check.file.problems);
            Err(ServiceError::Conflict(
                "エラーがあるため、1件も変更していません。".into(),
            ))
        }
        ChangeOutcome::NeedsConfirmation(check) => {
            print_problems(&check.file.problems);
            Err(ServiceError::Conflict(
                "警告があるため変更していません。内容を確認し、反映する場合は --accept-warnings を付けて実行してください。".into(),
            ))
        }
        ChangeOutcome::Committed {
            import_id,
            applied,
            checked,
            written,
        } => {
            for p in &applied {
                println!(
                    "{}\t{}\t{}\t{}",
                    p.row,
                    p.user.login_id,
                    p.user.full_name(),
                    p.summary()
                );
            }
            eprintln!(
                "確認 {:.3} 秒、反映 {:.3} 秒",
                checked.as_secs_f64(),
                written.as_secs_f64()
            );
            println!(
                "{}件の変更を反映しました（取込番号 {import_id}）。",
                applied.len()
            );
            Ok(())
        }
    }
}
