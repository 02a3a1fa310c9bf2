//! `/health`: for the monitoring of the hospital's IT department. Tells nothing but up or down.

use rocket::http::Status;
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};
use serde::Serialize;

use crate::service::App;

#[derive(Serialize)]
pub struct Health {
    status: &'static str,
    database: &'static str,
}

#[get("/health")]
async fn health(app: &State<App>) -> (Status, Json<Health>) {
    if app.store.healthy().await {
        (
            Status::Ok,
            Json(Health {
                status: "ok",
                database: "ok",
            }),
        )
    } else {
        (
            Status::ServiceUnavailable,
            Json(Health {
                status: "error",
                database: "unreachable",
            }),
        )
    }
}

pub fn routes() -> Vec<Route> {
    routes![health]
}
