//! The desk email: composed from a ticket and its form, sent through a
//! transport (a folder of `.eml` files locally; SES or SMTP when deployed).

mod compose;
mod messages;
mod outbox;
#[cfg(feature = "aws")]
mod ses;
#[cfg(feature = "smtp")]
mod smtp;

use async_trait::async_trait;

pub use compose::{Composer, DeskEmail};
pub use outbox::Outbox;
#[cfg(feature = "aws")]
pub use ses::Ses;
#[cfg(feature = "smtp")]
pub use smtp::Smtp;

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("cannot compose the desk email: {0}")]
    Compose(String),
    #[error("cannot send the desk email: {0}")]
    Send(String),
    /// The receiving side refused the message for good; sending it again
    /// would be refused again.
    #[error("the message was refused: {0}")]
    Rejected(String),
}

impl MailError {
    /// Whether trying again cannot help.
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Compose(_) | MailError::Rejected(_))
    }
}

/// Sends one composed message. A transport may be asked to send the same
/// ticket's message again after a failure, so it should not mind repeats.
#[async_trait]
pub trait MailTransport: Send + Sync {
    async fn send(&self, reference: &str, message: &lettre::Message) -> Result<(), MailError>;
}
