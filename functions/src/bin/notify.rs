//! `desk-notify`: sends what stored tickets owe: the desk email, the
//! owner's emails, duty alerts, escalations and digests. Woken on AWS by
//! the table's stream (a new ticket or message) and by a schedule (retries,
//! escalations, the digest);
//! whatever the event, it sends what is owed now, so a missed or repeated
//! event costs nothing.

use std::process::ExitCode;
use std::sync::Arc;

use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> ExitCode {
    desk::lambda::exit(serve().await)
}

async fn serve() -> Result<(), String> {
    let (_, notifier) = desk::lambda::boot().await?;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let notifier = Arc::clone(&notifier);
        async move {
            // A store failure fails the invocation, so the stream or the
            // schedule tries again; a mail failure is recorded and retried.
            let report = notifier
                .run_once()
                .await
                .map_err(lambda_runtime::Error::from)?;
            Ok::<_, lambda_runtime::Error>(
                serde_json::json!({ "sent": report.sent, "failed": report.failed, "dropped": report.dropped }),
            )
        }
    }))
    .await
    .map_err(|e| format!("the Lambda runtime stopped: {e}"))
}
