//! The server's database, reached through `rocket_db_pools`: its fairing opens the store from
//! `databases.nanbyo` at ignition; the application state is built on that store.

use std::sync::Arc;

use rocket::fairing::AdHoc;
use rocket_db_pools::Database;

use crate::config::{Keys, Settings};
use crate::domain::time::Clock;
use crate::service::App;
use crate::store::Store;

#[derive(Database)]
#[database("nanbyo")]
pub struct Db(Store);

/// Builds the application on the store the `Db` fairing opened (attach after `Db::init()`).
pub fn app_on_db(settings: Settings, keys: Keys, clock: Arc<dyn Clock>) -> AdHoc {
    AdHoc::try_on_ignite("アプリケーション", move |rocket| async move {
        // Absent when the Db fairing failed (it has said why).
        let Some(store) = rocket.state::<Db>().map(|db| db.0.clone()) else {
            return Err(rocket);
        };
        match App::on_store(store, settings, keys, clock).await {
            Ok(app) => Ok(rocket.manage(app)),
            Err(e) => {
                eprintln!("エラー: データベースを開けません: {e}");
                Err(rocket)
            }
        }
    })
}
