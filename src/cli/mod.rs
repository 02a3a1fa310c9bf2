//! The one binary's commands (DESIGN §10). The server and the console read the same configuration.

mod backup;
mod import;
mod serve;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use rocket::figment::Figment;

use crate::config::{self, Keys, Settings};
use crate::domain::account::RawProfile;
use crate::domain::time::{format_jst, SystemClock};
use crate::domain::Db;
use crate::service::console::{BootstrapHome, ContactTarget};
use crate::service::notices::Issuer;
use crate::service::{App, ServiceError};
use crate::store::audit;

#[derive(Debug, Parser)]
#[command(
    name = "nanbyo-accounts",
    version,
    about = "難病・小慢DB 医療機関ユーザ管理サーバ"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Webサーバを起動する（既定）
    Serve,
    /// 医療機関の登録・一覧・名称変更
    #[command(subcommand)]
    Institution(InstitutionCommand),
    /// 自治体の登録・一覧
    #[command(subcommand)]
    Municipality(MunicipalityCommand),
    /// 最初の責任者（または自治体担当者）を登録し、初期パスワードを発行する
    Bootstrap(BootstrapArgs),
    /// アカウントの復旧（コンソールからの操作として記録されます）
    #[command(subcommand)]
    User(UserCommand),
    /// IDパスワード通知書を発行し、1つのPDFに書き出す（--as のユーザの権限で）
    Notices {
        /// 操作するユーザのログインID（ロールの規則と操作履歴はこのユーザとして適用されます）
        #[arg(long = "as", value_name = "LOGIN_ID")]
        actor: String,
        /// 書き出すPDFファイル
        #[arg(long, value_name = "FILE.pdf")]
        out: PathBuf,
        /// 先頭に交付管理表を付ける
        #[arg(long)]
        receipt_list: bool,
        /// 通知書を発行するユーザのログインID
        #[arg(required = true, value_name = "LOGIN_ID")]
        login_ids: Vec<String>,
    },
    /// CSV一括登録・一括変更（--as のユーザが画面で操作できるユーザだけを登録・変更します）。
    /// ログインIDの列があるファイルは、ユーザ検索のCSV出力を編集した変更ファイルとして扱います
    Import {
        /// 取り込むCSVファイル（UTF-8、UTF-8 BOM付き、Shift_JIS）
        file: PathBuf,
        /// 操作するユーザのログインID
        #[arg(long = "as", value_name = "LOGIN_ID")]
        actor: String,
        /// 確認だけして登録しない
        #[arg(long)]
        dry_run: bool,
        /// 警告（同じ氏名・フリガナ・部署の有効なアカウントがある等）を確認済みとして登録する
        #[arg(long)]
        accept_warnings: bool,
        /// 変更ファイル（ログインIDの列があるファイル）を受け付けるか: allow / refuse。
        /// 受付フォルダ（nanbyo-import-inbox）は import.env の NANBYO_IMPORT_CHANGES で決めます
        #[arg(long, value_enum, default_value_t = import::ChangeFiles::Allow)]
        change_files: import::ChangeFiles,
    },
    /// 操作履歴
    #[command(subcommand)]
    Audit(AuditCommand),
    /// データベースの一貫したバックアップを作成する（サーバの稼働中でも可。SQLiteのみ）
    Backup {
        /// 書き出すファイル（既存のファイルは上書きしません）
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
    },
    /// バックアップから復元する（サーバの停止中のみ。置き換える前のデータベースは残します）
    Restore {
        /// backup で作成したファイル
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
    },
    /// データベースのマイグレーションを実行して終了する
    Migrate,
    /// 棚卸しの月次のお知らせと有効期限前のお知らせをメールで送る（同じ日に何度実行しても1回だけ送ります）
    Remind,
}

#[derive(Debug, Subcommand)]
enum InstitutionCommand {
    /// 医療機関を登録する
    Add {
        /// 医療機関コード（10桁）
        #[arg(long)]
        code: String,
        /// 医療機関名
        #[arg(long)]
        name: String,
        /// 指定医のIDを発行する自治体の地方公共団体コード（6桁）
        #[arg(long)]
        municipality: String,
    },
    /// 医療機関の一覧
    List,
    /// 医療機関名を変更する
    Rename {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
    },
    /// 責任者・医療クラーク等の通知書に印刷するお問い合わせ先を表示・設定する
    Contact(ContactArgs),
}

#[derive(Debug, Args)]
struct ContactArgs {
    /// 医療機関コード（10桁）または地方公共団体コード（6桁）
    #[arg(long)]
    code: String,
    /// 設定する文（「\n」で改行）。省略すると現在の設定を表示します
    #[arg(long, conflicts_with = "clear")]
    text: Option<String>,
    /// 設定を消して既定の文に戻す
    #[arg(long)]
    clear: bool,
}

#[derive(Debug, Subcommand)]
enum MunicipalityCommand {
    /// 自治体を登録する
    Add {
        /// 地方公共団体コード（6桁、検査数字付き）
        #[arg(long)]
        code: String,
        /// 自治体名
        #[arg(long)]
        name: String,
    },
    /// 自治体の一覧
    List,
    /// 指定医の通知書に印刷するお問い合わせ先を表示・設定する
    Contact(ContactArgs),
}

#[derive(Debug, Args)]
struct BootstrapArgs {
    /// 医療機関コード（責任者を登録する場合）
    #[arg(long, requires = "db", conflicts_with = "municipality")]
    institution: Option<String>,
    /// 対象DB: nanbyo（難病DB）または shoman（小慢DB）
    #[arg(long, value_parser = ["nanbyo", "shoman"])]
    db: Option<String>,
    /// 地方公共団体コード（自治体担当者を登録する場合）
    #[arg(long, required_unless_present = "institution")]
    municipality: Option<String>,
    /// 氏名（姓）
    #[arg(long)]
    family: String,
    /// 氏名（名）
    #[arg(long)]
    given: String,
    /// フリガナ（セイ）
    #[arg(long)]
    family_kana: String,
    /// フリガナ（メイ）
    #[arg(long)]
    given_kana: String,
    /// 部署
    #[arg(long)]
    department: String,
    /// メールアドレス
    #[arg(long, default_value = "")]
    email: String,
    /// 電話番号
    #[arg(long, default_value = "")]
    phone: String,
    /// 初期パスワードを表示せず、IDパスワード通知書（PDF）をこのファイルに書き出す
    #[arg(long, value_name = "FILE.pdf")]
    notice: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// ロックを解除する
    Unlock { login_id: String },
    /// パスワードを初期化し、新しい初期パスワードを発行する
    Reset {
        login_id: String,
        /// 本人確認の方法（例: 「職員証で確認」）
        #[arg(long)]
        verified_by: String,
        /// 初期パスワードを表示せず、IDパスワード通知書（PDF）をこのファイルに書き出す
        #[arg(long, value_name = "FILE.pdf")]
        notice: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// 操作履歴の改ざんがないか検証する
    Verify,
}

/// Parses the arguments and runs the command; the exit status tells scripts how it went.
pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let figment = config::figment();
    let mut settings: Settings = match figment.extract() {
        Ok(s) => s,
        Err(e) => return fail(&format!("設定を読み込めません: {e}")),
    };
    let (figment, warning) = config::resolve_database(figment, &mut settings);
    if let Some(w) = warning {
        eprintln!("警告: {w}");
    }
    let keys = match Keys::load(&settings) {
        Ok(k) => k,
        Err(e) => {
            return fail(&format!(
                "鍵を読み込めません（{}）: {e}",
                settings.data_dir.join("keys").display()
            ))
        }
    };
    if let Err(e) = std::fs::create_dir_all(&settings.data_dir) {
        return fail(&format!(
            "データフォルダを作成できません（{}）: {e}",
            settings.data_dir.display()
        ));
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve::serve(figment, settings, keys).await,
        // The database in place may be the very thing being replaced: restore opens only the file.
        Command::Restore { from } => backup::restore(settings, keys, &from).await,
        Command::Backup { to } => {
            let app = match open_app(&figment, settings, keys).await {
                Ok(app) => app,
                Err(e) => return fail(&format!("データベースを開けません: {e}")),
            };
            let code = backup::backup(&app, &to).await;
            app.store.close().await;
            code
        }
        other => {
            let app = match open_app(&figment, settings, keys).await {
                Ok(app) => app,
                Err(e) => return fail(&format!("データベースを開けません: {e}")),
            };
            let code = console(&app, other).await;
            app.store.close().await;
            code
        }
    }
}

/// The console's application, on the store opened by the same `rocket_db_pools::Pool::init` and
/// figment as the server's `Db` fairing.
async fn open_app(figment: &Figment, settings: Settings, keys: Keys) -> Result<App, ServiceError> {
    use rocket_db_pools::Pool;
    let store = crate::store::Store::init(
        &figment.focus(&format!("databases.{}", crate::store::pool::NAME)),
    )
    .await?;
    App::on_store(store, settings, keys, Arc::new(SystemClock)).await
}

fn fail(message: &str) -> ExitCode {
    eprintln!("エラー: {message}");
    ExitCode::FAILURE
}

fn service_fail(e: ServiceError) -> ExitCode {
    match e {
        ServiceError::Invalid(errors) => {
            for e in errors {
                eprintln!("エラー: {}", e.error);
            }
            ExitCode::FAILURE
        }
        other => fail(&other.to_string()),
    }
}

/// `institution contact` / `municipality contact`: show, set (`--text`, 「\n」 for a new line) or clear.
async fn contact(app: &App, of: ContactTarget<'_>, args: &ContactArgs) -> Result<(), ServiceError> {
    if args.clear {
        let name = app.set_notice_contact(of, None).await?;
        println!("{name}のお問い合わせ先を既定の文に戻しました。");
    } else if let Some(text) = &args.text {
        let text = text.replace("\\n", "\n");
        let name = app.set_notice_contact(of, Some(&text)).await?;
        println!("{name}のお問い合わせ先を設定しました:\n{text}");
    } else {
        match app.notice_contact_of(of).await? {
            Some(text) => println!("{text}"),
            None => println!(
                "（設定されていません。通知書には、管理する方を案内する既定の文が印刷されます）"
            ),
        }
    }
    Ok(())
}

/// Writes a notice PDF readable only by its owner (it holds passwords until printed and destroyed).
fn write_notice(path: &std::path::Path, pdf: &[u8]) -> Result<(), ServiceError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(pdf).and_then(|()| f.sync_all()))
        .map_err(|e| {
            ServiceError::Conflict(format!("通知書を書き出せません（{}）: {e}", path.display()))
        })
}

fn print_notice_written(login_id: &str, path: &std::path::Path) {
    println!("ログインID: {login_id}");
    println!("通知書: {}", path.display());
}

/// The login ID and the temporary password as two lines scripts can read.
fn print_credentials(login_id: &str, password: &str, expires_at: i64) {
    println!("ログインID: {login_id}");
    println!("初期パスワード: {password}");
    println!("初期パスワードの有効期限: {}", format_jst(expires_at));
}

async fn console(app: &App, command: Command) -> ExitCode {
    let result: Result<(), ServiceError> = async {
        match command {
            Command::Serve | Command::Backup { .. } | Command::Restore { .. } => {
                unreachable!("handled by run")
            }
            Command::Migrate => println!("マイグレーションを実行しました。"),
            Command::Remind => {
                let report = app.remind().await?;
                for line in &report.lines {
                    println!("{line}");
                }
                println!(
                    "お知らせを作成しました: 棚卸しの月次のお知らせ {}件、有効期限のお知らせ {}件（送信済みのものは送りません）。",
                    report.summaries, report.expiry_notices
                );
            }
            Command::Municipality(MunicipalityCommand::Add { code, name }) => {
                let m = app.add_municipality(&code, &name).await?;
                println!("自治体を登録しました: {} {}", m.code, m.name);
            }
            Command::Municipality(MunicipalityCommand::List) => {
                for m in app.list_municipalities().await? {
                    println!("{}\t{}", m.code, m.name);
                }
            }
            Command::Institution(InstitutionCommand::Add { code, name, municipality }) => {
                let i = app.add_institution(&code, &name, &municipality).await?;
                println!("医療機関を登録しました: {} {}（{} {}）", i.code, i.name, i.municipality_code, i.municipality_name);
            }
            Command::Institution(InstitutionCommand::List) => {
                for i in app.list_institutions().await? {
                    println!("{}\t{}\t{}\t{}", i.code, i.name, i.municipality_code, i.municipality_name);
                }
            }
            Command::Institution(InstitutionCommand::Contact(args)) => {
                contact(app, ContactTarget::Institution(&args.code), &args).await?;
            }
            Command::Municipality(MunicipalityCommand::Contact(args)) => {
                contact(app, ContactTarget::Municipality(&args.code), &args).await?;
            }
            Command::Institution(InstitutionCommand::Rename { code, name }) => {
                let i = app.rename_institution(&code, &name).await?;
                println!("医療機関名を変更しました: {} {}", i.code, i.name);
            }
            Command::Bootstrap(args) => {
                let home = match (args.institution, args.municipality) {
                    (Some(code), None) => {
                        let db = args.db.as_deref().and_then(Db::parse).ok_or(ServiceError::WrongState(
                            "--db に nanbyo（難病DB）または shoman（小慢DB）を指定してください。",
                        ))?;
                        BootstrapHome::Institution { code, db }
                    }
                    (None, Some(code)) => BootstrapHome::Municipality { code },
                    _ => {
                        return Err(ServiceError::WrongState(
                            "--institution と --db、または --municipality のどちらかを指定してください。",
                        ))
                    }
                };
                let raw = RawProfile {
                    department: args.department,
                    family_name: args.family,
                    given_name: args.given,
                    family_kana: args.family_kana,
                    given_kana: args.given_kana,
                    email: args.email,
                    phone: args.phone,
                    ..RawProfile::default()
                };
                match args.notice {
                    Some(path) => {
                        let (user, issued, pdf) = app.bootstrap_with_notice(&home, &raw).await?;
                        write_notice(&path, &pdf)?;
                        eprintln!("{}（{}）を登録しました。", user.full_name(), user.user_type.label());
                        print_notice_written(&issued.login_id, &path);
                    }
                    None => {
                        let (user, issued) = app.bootstrap(&home, &raw).await?;
                        eprintln!("{}（{}）を登録しました。", user.full_name(), user.user_type.label());
                        print_credentials(&issued.login_id, &issued.password, issued.expires_at);
                    }
                }
            }
            Command::User(UserCommand::Unlock { login_id }) => {
                let u = app.console_unlock(&login_id).await?;
                println!("ロックを解除しました: {} {}", u.login_id, u.full_name());
            }
            Command::User(UserCommand::Reset { login_id, verified_by, notice }) => match notice {
                Some(path) => {
                    let (user, issued, pdf) = app.console_reset_with_notice(&login_id, &verified_by).await?;
                    write_notice(&path, &pdf)?;
                    eprintln!("{} のパスワードを初期化しました。", user.full_name());
                    print_notice_written(&issued.login_id, &path);
                }
                None => {
                    let (user, issued) = app.console_reset(&login_id, &verified_by).await?;
                    eprintln!("{} のパスワードを初期化しました。", user.full_name());
                    print_credentials(&issued.login_id, &issued.password, issued.expires_at);
                }
            },
            Command::Notices { actor, out, receipt_list, login_ids } => {
                let me = app.user_by_login_id(&actor).await.map_err(|_| {
                    ServiceError::Conflict(format!("--as のログインID {actor} のユーザが見つかりません。"))
                })?;
                if !me.facts().is_active(app.now()) {
                    return Err(ServiceError::Conflict(format!("--as のユーザ {actor} は削除済または有効期限切れです。")));
                }
                let mut ids = Vec::new();
                for id in &login_ids {
                    match app.user_by_login_id(id).await {
                        Ok(u) => ids.push(u.id),
                        Err(_) => return Err(ServiceError::Conflict(format!("ログインID {id} のユーザが見つかりません。"))),
                    }
                }
                let (eligible, ineligible) = app.notice_eligibility(&me, &ids, &Default::default(), None).await?;
                if !ineligible.is_empty() {
                    for i in &ineligible {
                        let who = i.user.as_ref().map_or_else(|| format!("id {}", i.id), |u| format!("{} {}", u.login_id, u.full_name()));
                        eprintln!("発行できません: {who}: {}", i.reason);
                    }
                    return Err(ServiceError::Conflict(format!(
                        "{}件のユーザは通知書を発行できないため、何も発行していません。",
                        ineligible.len()
                    )));
                }
                let count = eligible.len();
                let pdf = app.issue_notices(Issuer::User(&me), eligible, receipt_list, None).await?;
                write_notice(&out, &pdf)?;
                println!("{count}件の通知書を {} に書き出しました。", out.display());
            }
            Command::Import { file, actor, dry_run, accept_warnings, change_files } => {
                let options = import::Options { dry_run, accept_warnings, change_files };
                import::import_file(app, &file, &actor, options).await?;
            }
            Command::Audit(AuditCommand::Verify) => match audit::verify(&app.store, &app.keys.audit).await? {
                Ok(n) => println!("操作履歴の検証に成功しました（{n}件）。"),
                Err(b) => {
                    return Err(ServiceError::Conflict(format!(
                        "操作履歴の検証に失敗しました: 連番 {} で改ざんまたは欠落を検出しました（{}）。",
                        b.seq, b.reason
                    )))
                }
            },
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => service_fail(e),
    }
}
