//! The local mail transport: each message an RFC 5322 `.eml` file in a
//! folder, which any mail program opens.

use std::path::PathBuf;

use async_trait::async_trait;

use super::{MailError, MailTransport};

pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    pub fn new(dir: impl Into<PathBuf>) -> Outbox {
        Outbox { dir: dir.into() }
    }
}

#[async_trait]
impl MailTransport for Outbox {
    async fn send(&self, reference: &str, message: &lettre::Message) -> Result<(), MailError> {
        let failed = |e: std::io::Error| {
            MailError::Send(format!("cannot write to {}: {e}", self.dir.display()))
        };
        tokio::fs::create_dir_all(&self.dir).await.map_err(failed)?;
        // Named by reference, so a retried send replaces rather than repeats;
        // written then renamed, so a reader never sees half a message.
        let final_path = self.dir.join(format!("{reference}.eml"));
        let partial = self.dir.join(format!(".{reference}.eml.partial"));
        tokio::fs::write(&partial, message.formatted())
            .await
            .map_err(failed)?;
        tokio::fs::rename(&partial, &final_path)
            .await
            .map_err(failed)
    }
}
