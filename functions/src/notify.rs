//! Sending the desk email a ticket owes: after each stored ticket, and
//! again later for any that failed. The store says which mail is owed, so a
//! mail outage never loses a ticket and a sent mail is not sent again.

use std::sync::Arc;

use chrono::TimeDelta;

use crate::mail::{Composer, MailTransport};
use crate::store::{StoreError, TicketStore};
use crate::time::Clock;

/// How long one sender holds a ticket's mail before another may try.
const CLAIM: TimeDelta = TimeDelta::minutes(2);
/// The most owed mails handled in one run.
const BATCH: usize = 25;

pub struct Notifier {
    pub store: Arc<dyn TicketStore>,
    pub transport: Arc<dyn MailTransport>,
    pub composer: Composer,
    pub clock: Clock,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub failed: usize,
}

/// Waits after the n-th failure: 30 s, 1 min, 2 min, … at most an hour.
pub fn backoff(attempts: u32) -> TimeDelta {
    let seconds = 30_i64.saturating_mul(1_i64 << attempts.min(7));
    TimeDelta::seconds(seconds.min(3600))
}

impl Notifier {
    /// Sends every owed mail that is due now.
    pub async fn run_once(&self) -> Result<Report, StoreError> {
        let now = self.clock.now();
        let mut report = Report::default();
        for ticket in self.store.mail_due(now, BATCH).await? {
            if !self
                .store
                .claim_mail(&ticket.reference, now, now + CLAIM)
                .await?
            {
                continue;
            }
            let sent = match self.composer.compose(&ticket) {
                Ok(message) => {
                    let key = ticket.mail_key();
                    self.transport.send(&key, &message).await
                }
                Err(e) => Err(e),
            };
            match sent {
                Ok(()) => {
                    self.store.mail_sent(&ticket.reference).await?;
                    tracing::info!(reference = %ticket.reference, kind = %ticket.kind, purpose = ticket.mail.purpose.as_str(), outcome = "mail_sent", "desk email sent");
                    report.sent += 1;
                }
                Err(e) => {
                    let next = now + backoff(ticket.mail.attempts);
                    self.store
                        .mail_failed(&ticket.reference, &e.to_string(), next)
                        .await?;
                    tracing::warn!(reference = %ticket.reference, kind = %ticket.kind, outcome = "mail_failed", error = %e, "desk email failed; will retry");
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0), TimeDelta::seconds(30));
        assert_eq!(backoff(1), TimeDelta::seconds(60));
        assert_eq!(backoff(30), TimeDelta::seconds(3600));
    }
}
