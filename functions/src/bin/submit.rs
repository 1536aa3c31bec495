//! `desk-submit`: the form function on AWS Lambda. It runs the very router
//! the local server runs; only the start-up differs.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    desk::lambda::exit(serve().await)
}

async fn serve() -> Result<(), String> {
    let (desk, _) = desk::lambda::boot().await?;
    lambda_http::run(desk::http::router(desk))
        .await
        .map_err(|e| format!("the Lambda runtime stopped: {e}"))
}
