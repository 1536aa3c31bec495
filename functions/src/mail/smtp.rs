//! Desk email through an SMTP server, for estates that host the functions
//! themselves.

use async_trait::async_trait;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{MailError, MailTransport};

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Smtp {
    /// `url` as lettre reads it: `smtp://host:port` (plain),
    /// `smtp://host:587?tls=required` (STARTTLS) or `smtps://host` (TLS),
    /// with `user:password@` when the server wants a login.
    pub fn from_url(url: &str) -> Result<Smtp, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Send(format!("DESK_SMTP_URL is not usable: {e}")))?
            .build();
        Ok(Smtp { transport })
    }
}

#[async_trait]
impl MailTransport for Smtp {
    async fn send(&self, _reference: &str, message: &lettre::Message) -> Result<(), MailError> {
        self.transport
            .send(message.clone())
            .await
            .map(|_| ())
            .map_err(|e| {
                if e.is_permanent() {
                    MailError::Rejected(format!("SMTP: {e}"))
                } else {
                    MailError::Send(format!("SMTP: {e}"))
                }
            })
    }
}
