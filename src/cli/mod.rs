//! The one binary's commands (DESIGN §10). The server and the console read the same configuration.

mod serve;

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, Keys, Settings};
use crate::domain::account::RawProfile;
use crate::domain::time::{format_jst, SystemClock};
use crate::domain::Db;
use crate::service::console::BootstrapHome;
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
    /// 操作履歴
    #[command(subcommand)]
    Audit(AuditCommand),
    /// データベースのマイグレーションを実行して終了する
    Migrate,
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
    let settings: Settings = match figment.extract() {
        Ok(s) => s,
        Err(e) => return fail(&format!("設定を読み込めません: {e}")),
    };
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
        other => {
            let app = match App::open(settings, keys, Arc::new(SystemClock)).await {
                Ok(app) => app,
                Err(e) => return fail(&format!("データベースを開けません: {e}")),
            };
            let code = console(&app, other).await;
            app.store.close().await;
            code
        }
    }
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

/// The login ID and the temporary password as two lines scripts can read.
fn print_credentials(login_id: &str, password: &str, expires_at: i64) {
    println!("ログインID: {login_id}");
    println!("初期パスワード: {password}");
    println!("初期パスワードの有効期限: {}", format_jst(expires_at));
}

async fn console(app: &App, command: Command) -> ExitCode {
    let result: Result<(), ServiceError> = async {
        match command {
            Command::Serve => unreachable!("handled by run"),
            Command::Migrate => println!("マイグレーションを実行しました。"),
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
                let (user, issued) = app.bootstrap(&home, &raw).await?;
                eprintln!("{}（{}）を登録しました。", user.full_name(), user.user_type.label());
                print_credentials(&issued.login_id, &issued.password, issued.expires_at);
            }
            Command::User(UserCommand::Unlock { login_id }) => {
                let u = app.console_unlock(&login_id).await?;
                println!("ロックを解除しました: {} {}", u.login_id, u.full_name());
            }
            Command::User(UserCommand::Reset { login_id, verified_by }) => {
                let (user, issued) = app.console_reset(&login_id, &verified_by).await?;
                eprintln!("{} のパスワードを初期化しました。", user.full_name());
                print_credentials(&issued.login_id, &issued.password, issued.expires_at);
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
