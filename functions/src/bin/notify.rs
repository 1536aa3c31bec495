//! `desk-notify`: sends the desk email that stored tickets owe. Woken on
//! AWS by the table's stream (a new ticket) and by a schedule (retries);
//! whatever the event, it sends what is owed now, so a missed or repeated
//! event costs nothing.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use desk::assemble::{assemble, backends};
use desk::notify::Notifier;
use desk::settings::Settings;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> ExitCode {
    desk::logging::init_json();
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
    let (_, notifier) = assemble(&settings, config, &backends, None).map_err(|e| e.to_string())?;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let notifier: Arc<Notifier> = Arc::clone(&notifier);
        async move {
            // A store failure fails the invocation, so the stream or the
            // schedule tries again; a mail failure is recorded and retried.
            let report = notifier
                .run_once()
                .await
                .map_err(lambda_runtime::Error::from)?;
            Ok::<_, lambda_runtime::Error>(
                serde_json::json!({ "sent": report.sent, "failed": report.failed }),
            )
        }
    }))
    .await
    .map_err(|e| format!("the Lambda runtime stopped: {e}"))
}
