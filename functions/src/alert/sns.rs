//! Duty alerts by SMS: to the phones subscribed to an SNS topic.

use async_trait::async_trait;
use aws_sdk_sns::error::DisplayErrorContext;

use super::{AlertChannel, AlertError};

pub struct Sns {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl Sns {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: &str) -> Sns {
        Sns {
            client,
            topic_arn: topic_arn.to_owned(),
        }
    }
}

#[async_trait]
impl AlertChannel for Sns {
    async fn send(&self, text: &str) -> Result<(), AlertError> {
        self.client
            .publish()
            .topic_arn(&self.topic_arn)
            .message(text)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AlertError::Sms(DisplayErrorContext(e).to_string()))
    }
}
