//! `serve`: the web server, refusing to listen beyond this machine without TLS.

use std::process::ExitCode;
use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket::figment::Figment;

use crate::config::{self, Keys, Settings};
use crate::domain::time::SystemClock;
use crate::web;

pub async fn serve(figment: Figment, settings: Settings, keys: Keys) -> ExitCode {
    let figment = config::with_secret_key(figment, &keys);
    let config: rocket::Config = match figment.extract() {
        Ok(c) => c,
        Err(e) => return super::fail(&format!("Rocketの設定を読み込めません: {e}")),
    };
    if !config.address.is_loopback() && !config.tls_enabled() && !settings.behind_tls_proxy {
        return super::fail(&format!(
            "{} で待ち受けるにはTLSが必要です。Rocket.toml の [default.tls] に証明書と鍵を設定するか、\
             TLS終端プロキシの背後で運用する場合は behind_tls_proxy = true を設定してください。\
             (refusing to listen on a non-loopback address without TLS)",
            config.address
        ));
    }
    let secure = config.tls_enabled() || settings.behind_tls_proxy;
    // Held until the server stops: `restore` refuses while any server uses this data folder.
    let _serving = match super::backup::hold_for_serving(&settings) {
        Ok(lock) => lock,
        Err(message) => return super::fail(&message),
    };
    match settings.notice_login_url() {
        Ok(url) if settings.login_url.is_none() => eprintln!(
            "警告: login_url が設定されていないため、通知書にはこのサーバのアドレス {url} を印刷します。\
             利用者が別のアドレスで開く場合は Rocket.toml の login_url を設定してください。"
        ),
        Ok(_) => {}
        Err(message) => eprintln!("警告: {message}"),
    }
    // Email (DESIGN §12): SMTP settings that cannot work stop the start, saying what to fix.
    let delivery = match crate::mail::Delivery::from_settings(&settings) {
        Ok(delivery) => delivery,
        Err(message) => return super::fail(&message),
    };
    let outbox = crate::mail::outbox_dir(&settings.data_dir);
    match &delivery {
        Some(d) => eprintln!(
            "メール: SMTP サーバ {} へ送信します（送信待ちのメールは {}）。",
            d.server(),
            outbox.display()
        ),
        None => eprintln!(
            "メール: SMTP サーバが設定されていないため、お知らせのメールは {} に保存します\
             （smtp_host を設定すると送信します）。",
            outbox.display()
        ),
    }
    // The delivery runs on the server's runtime, from liftoff until the server stops.
    let mailer = AdHoc::on_liftoff("メール送信", move |_| {
        Box::pin(async move {
            if let Some(d) = delivery {
                d.spawn();
            }
        })
    });
    let scheme = if config.tls_enabled() {
        "https"
    } else {
        "http"
    };
    let started = AdHoc::on_liftoff("起動メッセージ", move |rocket| {
        Box::pin(async move {
            let c = rocket.config();
            let host = match c.address {
                std::net::IpAddr::V6(a) => format!("[{a}]"),
                a => a.to_string(),
            };
            eprintln!(
                "難病・小慢DB 医療機関ユーザ管理サーバを起動しました: {scheme}://{host}:{}/ （停止するには Ctrl+C）",
                c.port
            );
        })
    });
    let rocket = web::build_on_database(figment, settings, keys, Arc::new(SystemClock), secure);
    match rocket.attach(started).attach(mailer).launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => super::fail(&launch_error(&e, &config)),
    }
}

/// Rocket's launch errors, said in Japanese with what to do.
fn launch_error(e: &rocket::Error, config: &rocket::Config) -> String {
    use rocket::error::ErrorKind;
    match e.kind() {
        ErrorKind::Bind(io) => format!(
            "{}:{} で待ち受けできません（{io}）。他のプログラムがこのポートを使っていないか確認するか、\
             Rocket.toml の port（または環境変数 ROCKET_PORT）で別のポートを指定してください。",
            config.address, config.port
        ),
        ErrorKind::Io(io) => format!("サーバを起動できません（入出力エラー: {io}）。"),
        ErrorKind::Config(c) => format!(
            "Rocket.toml または ROCKET_* の設定に誤りがあります: {c}"
        ),
        // The database fairing said why in Japanese above (rocket_db_pools adds a line of its own).
        ErrorKind::FailedFairings(_) => "データベースを開けないため、サーバを起動できません（理由は上のメッセージを参照してください）。\
             Rocket.toml の [default.databases.nanbyo] url（または ROCKET_DATABASES）とデータフォルダを確認してください。"
            .to_string(),
        ErrorKind::InsecureSecretKey(_) => "secret_key の設定が安全ではありません。Rocket.toml の secret_key と環境変数 \
             ROCKET_SECRET_KEY を削除すると、データフォルダの keys/ に生成した鍵が使われます。"
            .to_string(),
        _ => format!("サーバを起動できません: {e}"),
    }
}
