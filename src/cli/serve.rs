//! `serve`: the web server, refusing to listen beyond this machine without TLS.

use std::process::ExitCode;
use std::sync::Arc;

use rocket::figment::providers::Serialized;
use rocket::figment::Figment;

use crate::config::{Keys, Settings};
use crate::domain::time::SystemClock;
use crate::service::App;
use crate::web;

pub async fn serve(figment: Figment, settings: Settings, keys: Keys) -> ExitCode {
    // Rocket's secret_key comes from keys/ unless configured (ROCKET_SECRET_KEY or Rocket.toml).
    let figment = if figment.find_value("secret_key").is_ok() {
        figment
    } else {
        figment.merge(Serialized::global("secret_key", keys.rocket_secret.clone()))
    };
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
    let app = match App::open(settings, keys, Arc::new(SystemClock)).await {
        Ok(app) => app,
        Err(e) => return super::fail(&format!("データベースを開けません: {e}")),
    };
    match web::build(app, figment, secure).launch().await {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => super::fail(&format!("サーバを起動できません: {e}")),
    }
}
