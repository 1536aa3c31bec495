//! Sending what stored tickets owe: the desk email after each stored
//! ticket (and again later for any that failed), and the other messages of
//! `crate::outgoing` as they come due. The store says what is owed, so an
//! outage never loses a message and a sent one is not sent again.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, TimeDelta, Timelike, Utc};

use crate::alert::{AlertChannel, Alerting};
use crate::mail::{Composer, MailError, MailTransport};
use crate::outgoing::{self, Channel, Outgoing, Purpose, Settle};
use crate::store::{Filters, ListQuery, StoreError, TicketStore, View};
use crate::ticket::{MailState, Status, Ticket};
use crate::time::Clock;

/// How long one sender holds a message before another may try.
const CLAIM: TimeDelta = TimeDelta::minutes(2);
/// The most owed messages read at a time.
const BATCH: usize = 25;
/// A run keeps going while messages are due, for at most this long (well
/// inside the notify function's 30 s timeout); the next run goes on from
/// there.
const DRAIN_FOR: Duration = Duration::from_secs(20);
/// The most tickets a digest lists; the staff app has the rest.
const DIGEST_LIMIT: usize = 200;

pub struct Notifier {
    pub store: Arc<dyn TicketStore>,
    pub transport: Arc<dyn MailTransport>,
    pub composer: Composer,
    pub clock: Clock,
    pub alerting: Alerting,
    /// The local hour the overdue digest is due, if it is sent at all.
    pub digest_hour: Option<u32>,
    /// The last day a digest was owed from this process, so the store is
    /// asked once a day rather than on every run.
    pub digest_owed: Mutex<Option<NaiveDate>>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub failed: usize,
    /// Settled without sending: no longer applies.
    pub dropped: usize,
}

impl std::ops::AddAssign for Report {
    fn add_assign(&mut self, other: Report) {
        self.sent += other.sent;
        self.failed += other.failed;
        self.dropped += other.dropped;
    }
}

/// Waits after the n-th failure: 30 s, 1 min, 2 min, … at most an hour.
/// A message is tried at most this often (about a day with the back-off),
const MAX_ATTEMPTS: u32 = 30;
/// and one refused for good (say, a mistyped owner's mailbox) this often,
/// in case the refusal was the receiving server's passing mistake.
const MAX_REFUSALS: u32 = 3;

/// Why a message was not sent, and whether trying again can help.
#[derive(Debug)]
struct Failure {
    error: String,
    permanent: bool,
}

impl Failure {
    fn transient(error: String) -> Failure {
        Failure {
            error,
            permanent: false,
        }
    }

    /// When to try again after `attempts` earlier failures and this one;
    /// `None`: give up, and the error says so.
    fn retry_at(&mut self, attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let tries = attempts + 1;
        if tries >= MAX_ATTEMPTS || (self.permanent && tries >= MAX_REFUSALS) {
            self.error = format!("{} (gave up after {tries} attempts)", self.error);
            None
        } else {
            Some(now + backoff(attempts))
        }
    }

    /// Tried again later, or given up on and shown to staff as failed.
    fn settle(mut self, attempts: u32, now: DateTime<Utc>) -> Settle {
        match self.retry_at(attempts, now) {
            Some(next) => Settle::Retry {
                error: self.error,
                next,
            },
            None => Settle::GaveUp(self.error),
        }
    }
}

impl From<MailError> for Failure {
    fn from(e: MailError) -> Failure {
        Failure {
            permanent: e.is_permanent(),
            error: e.to_string(),
        }
    }
}

pub fn backoff(attempts: u32) -> TimeDelta {
    let seconds = 30_i64.saturating_mul(1_i64 << attempts.min(7));
    TimeDelta::seconds(seconds.min(3600))
}

impl Notifier {
    /// Sends everything owed that is due now, batch after batch until none
    /// is left or the run has taken long enough.
    pub async fn run_once(&self) -> Result<Report, StoreError> {
        let started = Instant::now();
        self.owe_digest(self.clock.now()).await?;
        let mut total = Report::default();
        loop {
            let (desk, handled_desk) = self.desk_mail().await?;
            let (other, handled_other) = self.outgoing().await?;
            total += desk;
            total += other;
            if (handled_desk < BATCH && handled_other < BATCH) || started.elapsed() > DRAIN_FOR {
                return Ok(total);
            }
        }
    }

    /// How long until the next owed message comes due, at most `longest`:
    /// an escalation is sent on time without polling every second.
    pub async fn next_due_in(&self, longest: Duration) -> Duration {
        let now = self.clock.now();
        let horizon = now + TimeDelta::from_std(longest).unwrap_or(TimeDelta::MAX);
        match self.store.outgoing_due(horizon, 1).await {
            Ok(due) => due
                .first()
                .and_then(|m| (m.not_before - now).to_std().ok())
                .map_or(longest, |wait| wait.min(longest)),
            Err(_) => longest,
        }
    }

    /// The desk email of each ticket that owes one.
    async fn desk_mail(&self) -> Result<(Report, usize), StoreError> {
        let now = self.clock.now();
        let mut report = Report::default();
        let due = self.store.mail_due(now, BATCH).await?;
        for ticket in &due {
            if !self
                .store
                .claim_mail(&ticket.reference, now, now + CLAIM)
                .await?
            {
                continue;
            }
            let sent = match self.composer.compose(ticket) {
                Ok(message) => self.transport.send(&ticket.mail_key(), &message).await,
                Err(e) => Err(e),
            };
            match sent {
                Ok(()) => {
                    self.store.mail_sent(&ticket.reference).await?;
                    tracing::info!(reference = %ticket.reference, kind = %ticket.kind, purpose = ticket.mail.purpose.as_str(), outcome = "mail_sent", "desk email sent");
                    report.sent += 1;
                }
                Err(e) => {
                    let mut failure = Failure::from(e);
                    let (next, outcome) = match failure.retry_at(ticket.mail.attempts, now) {
                        Some(next) => (next, "mail_failed"),
                        None => (MailState::GIVEN_UP, "mail_gave_up"),
                    };
                    self.store
                        .mail_failed(&ticket.reference, &failure.error, next)
                        .await?;
                    tracing::warn!(reference = %ticket.reference, kind = %ticket.kind, outcome, error = %failure.error, "desk email failed");
                    report.failed += 1;
                }
            }
        }
        Ok((report, due.len()))
    }

    /// The other owed messages that are due.
    async fn outgoing(&self) -> Result<(Report, usize), StoreError> {
        let now = self.clock.now();
        let mut report = Report::default();
        let due = self.store.outgoing_due(now, BATCH).await?;
        for message in &due {
            if !self.store.claim_outgoing(message, now, now + CLAIM).await? {
                continue;
            }
            let settle = match self.deliver(message, now).await? {
                Ok(settle) => settle,
                Err(failure) => failure.settle(message.attempts, now),
            };
            let (purpose, channel) = (message.purpose.as_str(), message.channel.as_str());
            match &settle {
                Settle::Sent => {
                    tracing::info!(id = %message.id, purpose, channel, outcome = "sent", "message sent");
                    report.sent += 1;
                }
                Settle::Dropped(why) => {
                    tracing::info!(id = %message.id, purpose, channel, outcome = "dropped", why = %why, "message no longer needed");
                    report.dropped += 1;
                }
                Settle::Retry { error, .. } => {
                    tracing::warn!(id = %message.id, purpose, channel, outcome = "failed", error = %error, "message failed; will retry");
                    report.failed += 1;
                }
                Settle::GaveUp(error) => {
                    tracing::warn!(id = %message.id, purpose, channel, outcome = "gave_up", error = %error, "message failed; not tried again");
                    report.failed += 1;
                }
                Settle::Defer(_) => {}
            }
            self.store.settle_outgoing(message, &settle).await?;
        }
        Ok((report, due.len()))
    }

    /// Sends one message, or says why it no longer applies. The outer error
    /// is the store's; the inner one the channel's, retried later.
    async fn deliver(
        &self,
        message: &Outgoing,
        now: DateTime<Utc>,
    ) -> Result<Result<Settle, Failure>, StoreError> {
        let dropped = |why: &str| Ok(Ok(Settle::Dropped(why.to_owned())));
        if message.purpose == Purpose::Digest {
            return self.send_digest(message, now).await;
        }
        let Some(reference) = &message.reference else {
            return dropped("it names no ticket");
        };
        let Some(ticket) = self.store.get(reference).await? else {
            return dropped("the ticket is not stored");
        };
        match message.purpose {
            Purpose::Escalation if outgoing::acknowledged(&ticket) => {
                return dropped("staff acted on the ticket in time");
            }
            Purpose::Overdue if !Status::OPEN.contains(&ticket.status) => {
                return dropped("the ticket was finished");
            }
            Purpose::Overdue if ticket.due_at > now => {
                return Ok(Ok(Settle::Defer(ticket.due_at)));
            }
            _ => {}
        }
        let sent = match message.channel {
            Channel::Email => self.email(message, &ticket, now).await,
            Channel::Webhook | Channel::Sms => {
                let Some(channel) = self.alert_channel(message) else {
                    return dropped("the channel is no longer configured");
                };
                let text = self.composer.alert_text(message.purpose, &ticket, now);
                channel
                    .send(&text)
                    .await
                    .map_err(|e| Failure::transient(e.to_string()))
            }
        };
        Ok(sent.map(|()| Settle::Sent))
    }

    async fn email(
        &self,
        message: &Outgoing,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> Result<(), Failure> {
        let composed = if message.purpose.for_owner() {
            let link = match &message.secret {
                Some(key) => self.composer.status_link(ticket, key),
                None => self.composer.track_link(),
            };
            self.composer
                .owner_email(message.purpose, ticket, &link, &message.id)
        } else {
            self.composer
                .staff_alert_email(message.purpose, ticket, now, &message.id)
        };
        let composed = composed.map_err(Failure::from)?;
        self.transport
            .send(&message.id, &composed)
            .await
            .map_err(Failure::from)
    }

    /// An escalation goes to the manager's channel, else the duty one.
    fn alert_channel(&self, message: &Outgoing) -> Option<&Arc<dyn AlertChannel>> {
        let a = &self.alerting;
        let escalation = message.purpose == Purpose::Escalation;
        match message.channel {
            Channel::Webhook if escalation => {
                a.manager_webhook.as_ref().or(a.duty_webhook.as_ref())
            }
            Channel::Webhook => a.duty_webhook.as_ref(),
            Channel::Sms if escalation => a.manager_sms.as_ref().or(a.duty_sms.as_ref()),
            Channel::Sms => a.duty_sms.as_ref(),
            Channel::Email => None,
        }
    }

    /// Owes the day's digest once the configured hour has come.
    async fn owe_digest(&self, now: DateTime<Utc>) -> Result<(), StoreError> {
        let Some(hour) = self.digest_hour else {
            return Ok(());
        };
        let local = self.clock.local(now);
        let today = local.date_naive();
        let owed = self
            .digest_owed
            .lock()
            .map(|d| *d == Some(today))
            .unwrap_or(false);
        if local.hour() < hour || owed {
            return Ok(());
        }
        self.store.owe(&Outgoing::digest(today, now)).await?;
        if let Ok(mut day) = self.digest_owed.lock() {
            *day = Some(today);
        }
        Ok(())
    }

    async fn send_digest(
        &self,
        message: &Outgoing,
        now: DateTime<Utc>,
    ) -> Result<Result<Settle, Failure>, StoreError> {
        let overdue = self
            .store
            .list(&ListQuery {
                view: View::Overdue,
                filters: Filters::default(),
                now,
                limit: DIGEST_LIMIT,
            })
            .await?;
        if overdue.is_empty() {
            return Ok(Ok(Settle::Dropped("nothing was overdue".to_owned())));
        }
        let sent = match self.composer.digest_email(&overdue, now, &message.id) {
            Ok(email) => self
                .transport
                .send(&message.id, &email)
                .await
                .map_err(Failure::from),
            Err(e) => Err(Failure::from(e)),
        };
        Ok(sent.map(|()| Settle::Sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_refused_for_good_is_given_up_sooner_than_one_failing() {
        let now = Utc::now();
        let refused = || Failure::from(MailError::Rejected("550 no such mailbox".into()));
        let down = || Failure::transient("connection refused".into());
        assert!(matches!(refused().settle(0, now), Settle::Retry { .. }));
        assert!(
            matches!(refused().settle(MAX_REFUSALS - 1, now), Settle::GaveUp(e) if e.contains("550"))
        );
        assert!(matches!(
            down().settle(MAX_REFUSALS - 1, now),
            Settle::Retry { .. }
        ));
        assert!(matches!(
            down().settle(MAX_ATTEMPTS - 1, now),
            Settle::GaveUp(_)
        ));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0), TimeDelta::seconds(30));
        assert_eq!(backoff(1), TimeDelta::seconds(60));
        assert_eq!(backoff(30), TimeDelta::seconds(3600));
    }
}
