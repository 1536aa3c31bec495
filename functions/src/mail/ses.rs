//! Desk email through Amazon SES (the v2 API), sent as the raw RFC 5322
//! message so SES delivers exactly what the outbox would have written.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{EmailContent, RawMessage};

use super::{MailError, MailTransport};

pub struct Ses {
    client: Client,
}

impl Ses {
    pub fn new(client: Client) -> Ses {
        Ses { client }
    }
}

#[async_trait]
impl MailTransport for Ses {
    async fn send(&self, _reference: &str, message: &lettre::Message) -> Result<(), MailError> {
        let raw = RawMessage::builder()
            .data(Blob::new(message.formatted()))
            .build()
            .map_err(|e| MailError::Send(format!("SES: {}", DisplayErrorContext(e))))?;
        self.client
            .send_email()
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                let refused = e
                    .as_service_error()
                    .is_some_and(|s| s.is_message_rejected());
                let text = format!("SES: {}", DisplayErrorContext(e));
                if refused {
                    MailError::Rejected(text)
                } else {
                    MailError::Send(text)
                }
            })
    }
}
