//! Messages a ticket owes besides the desk email: the owner's confirmation
//! and milestone emails, the duty alert of an emergency and its escalation,
//! the overdue warnings and the daily digest.
//!
//! Each is stored before it is sent, in the same write as the ticket or the
//! change that causes it, one record per message and channel, so a failure
//! of one channel is retried without repeating another, and a message is
//! settled once: sent, or dropped because it no longer applies.

use chrono::{DateTime, TimeDelta, Utc};

use crate::snapshot::FormSnapshot;
use crate::ticket::Ticket;

/// What a message is for; with the channel it decides the recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// To the owner: received, with the reference and the status page.
    Confirmation,
    /// To the owner: a visit is booked.
    Visit,
    /// To the owner: the work is done; please confirm and rate it.
    Done,
    /// To the duty channel: an emergency was filed.
    Alert,
    /// To the manager: nobody acted on an emergency in time.
    Escalation,
    /// To the desk and the manager: an emergency is past its due time.
    Overdue,
    /// To the desk and the manager: the day's overdue tickets.
    Digest,
}

impl Purpose {
    pub const ALL: [Purpose; 7] = [
        Purpose::Confirmation,
        Purpose::Visit,
        Purpose::Done,
        Purpose::Alert,
        Purpose::Escalation,
        Purpose::Overdue,
        Purpose::Digest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Confirmation => "confirmation",
            Purpose::Visit => "visit",
            Purpose::Done => "done",
            Purpose::Alert => "alert",
            Purpose::Escalation => "escalation",
            Purpose::Overdue => "overdue",
            Purpose::Digest => "digest",
        }
    }

    pub fn parse(text: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// Messages to the owner, as opposed to staff.
    pub fn for_owner(self) -> bool {
        matches!(self, Purpose::Confirmation | Purpose::Visit | Purpose::Done)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    /// A group robot's webhook (WeCom, DingTalk, Feishu).
    Webhook,
    /// SMS through an Amazon SNS topic.
    Sms,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Email, Channel::Webhook, Channel::Sms];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == text)
    }
}

/// Where a message is in its life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Owed,
    Sent,
    /// Settled without sending, and why (acted on in time, done before it
    /// was late, the channel is no longer configured).
    Dropped(String),
    /// Given up on after failing too often, or refused for good (a
    /// mailbox that does not exist), with the last error; shown to staff.
    Failed(String),
}

impl Delivery {
    /// A delivery as the stores keep it: its state's word (`owed`, `sent`,
    /// `failed`, `dropped`) and, when settled without sending, why.
    pub fn from_stored(state: &str, why: Option<String>) -> Delivery {
        match state {
            "owed" => Delivery::Owed,
            "sent" => Delivery::Sent,
            "failed" => Delivery::Failed(why.unwrap_or_default()),
            _ => Delivery::Dropped(why.unwrap_or_default()),
        }
    }
}

/// A stored message's purpose and channel, read back; the error names the
/// word not understood.
pub fn kind_from_stored(purpose: &str, channel: &str) -> Result<(Purpose, Channel), String> {
    let unknown =
        |what: &str, text: &str| format!("a stored message has an unknown {what} `{text}`");
    Ok((
        Purpose::parse(purpose).ok_or_else(|| unknown("purpose", purpose))?,
        Channel::parse(channel).ok_or_else(|| unknown("channel", channel))?,
    ))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// Unique, and the transport's key: a retried message replaces rather
    /// than repeats where the transport allows it.
    pub id: String,
    /// The ticket it is about; none for a digest.
    pub reference: Option<String>,
    pub purpose: Purpose,
    pub channel: Channel,
    /// Not sent before this time: an escalation waits for its delay, a
    /// failed message for its back-off.
    pub not_before: DateTime<Utc>,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The key of the owner's status page that the owner's email links to.
    /// Only hashes of keys are kept with the ticket; this one is kept until
    /// the email is sent, then erased.
    pub secret: Option<String>,
    pub delivery: Delivery,
}

impl Outgoing {
    pub fn owed(
        id: String,
        reference: Option<&str>,
        purpose: Purpose,
        channel: Channel,
        not_before: DateTime<Utc>,
    ) -> Outgoing {
        Outgoing {
            id,
            reference: reference.map(str::to_owned),
            purpose,
            channel,
            not_before,
            attempts: 0,
            last_error: None,
            secret: None,
            delivery: Delivery::Owed,
        }
    }

    /// The daily digest of `date` (the estate's local date).
    pub fn digest(date: chrono::NaiveDate, now: DateTime<Utc>) -> Outgoing {
        Outgoing::owed(
            format!("digest-{date}.email"),
            None,
            Purpose::Digest,
            Channel::Email,
            now,
        )
    }
}

/// How a send attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Settle {
    Sent,
    Dropped(String),
    /// Failed; tried again from `next`.
    Retry {
        error: String,
        next: DateTime<Utc>,
    },
    /// Not due after all (an overdue warning whose due time was moved).
    Defer(DateTime<Utc>),
    /// Failed and not tried again (see `Delivery::Failed`).
    GaveUp(String),
}

/// Which alert channels this installation has, and how long an emergency
/// may wait for a staff action before the manager is alerted.
#[derive(Debug, Clone, PartialEq)]
pub struct Duty {
    pub webhook: bool,
    pub sms: bool,
    pub escalate_after: TimeDelta,
}

impl Default for Duty {
    fn default() -> Duty {
        Duty {
            webhook: false,
            sms: false,
            escalate_after: DEFAULT_ESCALATE_AFTER,
        }
    }
}

pub const DEFAULT_ESCALATE_AFTER: TimeDelta = TimeDelta::minutes(10);

impl Duty {
    fn alert_channels(&self) -> impl Iterator<Item = Channel> + '_ {
        [(self.webhook, Channel::Webhook), (self.sms, Channel::Sms)]
            .into_iter()
            .filter_map(|(on, channel)| on.then_some(channel))
    }
}

fn about(ticket: &Ticket, what: &str, purpose: Purpose, channel: Channel) -> Outgoing {
    Outgoing::owed(
        format!("{}.{what}.{}", ticket.reference, channel.as_str()),
        Some(&ticket.reference),
        purpose,
        channel,
        ticket.received_at,
    )
}

/// What a newly filed ticket owes: the owner's confirmation (linking with
/// `email_key`) when there is an address; for an emergency, the duty
/// alert, its escalation after the delay, and the warning at its due time.
pub fn for_new_ticket(
    form: &FormSnapshot,
    ticket: &Ticket,
    emergency: bool,
    duty: &Duty,
    email_key: &str,
) -> Vec<Outgoing> {
    let mut owed = Vec::new();
    if form.owner_address(ticket).is_some() {
        let mut confirmation = about(
            ticket,
            "confirmation",
            Purpose::Confirmation,
            Channel::Email,
        );
        confirmation.secret = Some(email_key.to_owned());
        owed.push(confirmation);
    }
    if emergency {
        for channel in duty.alert_channels() {
            owed.push(about(ticket, "alert", Purpose::Alert, channel));
        }
        for channel in duty.alert_channels().chain([Channel::Email]) {
            let mut escalation = about(ticket, "escalation", Purpose::Escalation, channel);
            escalation.not_before = ticket.received_at + duty.escalate_after;
            owed.push(escalation);
        }
        for channel in [Channel::Email]
            .into_iter()
            .chain(duty.webhook.then_some(Channel::Webhook))
        {
            let mut overdue = about(ticket, "overdue", Purpose::Overdue, channel);
            overdue.not_before = ticket.due_at;
            owed.push(overdue);
        }
    }
    owed
}

/// The owner's email a staff action owes: a booked visit, or done work to
/// confirm. Named by the ticket's version, so a second visit is a second
/// message and a retried write is not.
pub fn for_action(
    form: &FormSnapshot,
    after: &Ticket,
    action: &str,
    now: DateTime<Utc>,
    email_key: &str,
) -> Option<Outgoing> {
    let (purpose, what) = match action {
        "schedule" => (Purpose::Visit, "visit"),
        "complete" => (Purpose::Done, "done"),
        _ => return None,
    };
    form.owner_address(after)?;
    let mut message = Outgoing::owed(
        format!("{}.{what}-{}.email", after.reference, after.version),
        Some(&after.reference),
        purpose,
        Channel::Email,
        now,
    );
    message.secret = Some(email_key.to_owned());
    Some(message)
}

/// Whether staff took any action on the ticket: one acknowledges an alert.
pub fn acknowledged(ticket: &Ticket) -> bool {
    ticket.timeline.iter().any(|e| e.actor.username.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Purpose::ALL {
            assert_eq!(Purpose::parse(p.as_str()), Some(p));
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Purpose::parse("gossip"), None);
    }

    #[test]
    fn alert_channels_follow_the_configuration() {
        let none = Duty::default();
        assert_eq!(none.alert_channels().count(), 0);
        let both = Duty {
            webhook: true,
            sms: true,
            ..Duty::default()
        };
        assert_eq!(
            both.alert_channels().collect::<Vec<_>>(),
            [Channel::Webhook, Channel::Sms]
        );
    }
}
