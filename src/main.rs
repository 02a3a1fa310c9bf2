//! `nanbyo-accounts`: the server (`serve`, the default) and the console commands.

use std::process::ExitCode;

#[rocket::main]
async fn main() -> ExitCode {
    nanbyo_accounts::cli::run().await
}
