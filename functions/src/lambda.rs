//! What both Lambda functions do before they serve: find the site files
//! packaged beside the binary, read the settings, connect the backends.
//! Any failure stops the function at start-up with a message naming what
//! is wrong, rather than failing every request later.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::assemble::{assemble, backends};
use crate::desk::Desk;
use crate::notify::Notifier;
use crate::settings::Settings;

/// The desk and its notifier, built once per cold start.
pub async fn boot() -> Result<(Arc<Desk>, Arc<Notifier>), String> {
    crate::logging::init_json();
    // The site's config.yaml, content/forms and themes/ are packaged with
    // the binary; DESK_SITE_ROOT points elsewhere when they are not.
    let root = std::env::var_os("DESK_SITE_ROOT")
        .or_else(|| std::env::var_os("LAMBDA_TASK_ROOT"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let config = config::Config::from_root(&root).map_err(|e| e.to_string())?;
    let settings =
        Settings::from_env(root, PathBuf::from("/tmp/desk")).map_err(|e| e.to_string())?;
    let backends = backends(&settings).await.map_err(|e| e.to_string())?;
    // On Lambda nothing is woken in-process after a write: the table's
    // stream wakes the notify function.
    assemble(&settings, config, &backends, None).map_err(|e| e.to_string())
}

/// Reports how a function ended, for a person reading its log.
pub fn exit(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
