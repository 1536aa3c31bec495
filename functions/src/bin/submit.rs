//! `desk-submit`: the form function on AWS Lambda. It runs the very router
//! the local server runs; only the start-up differs.

use std::path::PathBuf;
use std::process::ExitCode;

use desk::assemble::{assemble, backends};
use desk::settings::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    desk::logging::init_json();
    // The site's config.yaml, content/forms and themes/ are packaged beside
    // the binary; DESK_SITE_ROOT points elsewhere when they are not.
    let root = std::env::var_os("DESK_SITE_ROOT")
        .or_else(|| std::env::var_os("LAMBDA_TASK_ROOT"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    match start(root).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn start(root: PathBuf) -> Result<(), String> {
    let config = config::Config::from_root(&root).map_err(|e| e.to_string())?;
    let settings =
        Settings::from_env(root, PathBuf::from("/tmp/desk")).map_err(|e| e.to_string())?;
    let backends = backends(&settings).await.map_err(|e| e.to_string())?;
    // Mail is not sent here: the table's stream wakes the notify function.
    let (desk, _) = assemble(&settings, config, &backends, None).map_err(|e| e.to_string())?;
    lambda_http::run(desk::http::router(desk))
        .await
        .map_err(|e| format!("the Lambda runtime stopped: {e}"))
}
