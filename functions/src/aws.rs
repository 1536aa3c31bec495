//! The AWS side of the desk (the `aws` feature): one SDK configuration for
//! every client, and the backends built on it (DynamoDB, SES, SNS).

use std::sync::Arc;

use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::alert::{AlertChannel, Sns};
use crate::mail::{MailTransport, Ses};
use crate::store::{DynamoStore, TicketStore};

/// The configuration every client shares, read once at start-up from the
/// standard variables (AWS_REGION, AWS_ENDPOINT_URL, credentials). Its
/// HTTPS client is rustls on ring, like the desk's other clients, so a
/// binary carries one TLS stack rather than ring and aws-lc both.
pub async fn sdk_config() -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .load()
        .await
}

pub fn dynamodb_store(aws: &SdkConfig, table: &str, estate: &str) -> Arc<dyn TicketStore> {
    Arc::new(DynamoStore::new(
        aws_sdk_dynamodb::Client::new(aws),
        table,
        estate,
    ))
}

pub fn ses(aws: &SdkConfig) -> Arc<dyn MailTransport> {
    Arc::new(Ses::new(aws_sdk_sesv2::Client::new(aws)))
}

pub fn sms(aws: &SdkConfig, topic_arn: &str) -> Arc<dyn AlertChannel> {
    Arc::new(Sns::new(aws_sdk_sns::Client::new(aws), topic_arn))
}
