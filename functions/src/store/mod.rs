//! Where tickets are kept: one interface, an embedded SQLite store for one
//! machine (the `sqlite` feature, on by default), and (on AWS, with the
//! `aws` feature) DynamoDB.

#[cfg(feature = "aws")]
mod dynamodb;
#[cfg(feature = "sqlite")]
mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

#[cfg(feature = "aws")]
pub use dynamodb::{DynamoStore, MAIL_INDEX, STATUS_INDEX};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use crate::accounts::{Session, Staff};
use crate::outgoing::{Outgoing, Settle};
use crate::ticket::{Event, Status, Ticket};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the reference {0} is already taken")]
    ReferenceTaken(String),
    #[error("ticket {0} was changed by someone else since it was read; read it again and retry")]
    Conflict(String),
    #[error("there is no ticket {0}")]
    NotFound(String),
    #[error("there is already an account `{0}`")]
    AccountExists(String),
    #[error("the ticket store failed: {0}")]
    Backend(String),
}

/// One request counted against a client's time window (see
/// [`TicketStore::count_hit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub key: String,
    pub window_end: DateTime<Utc>,
}

/// How a repeated submission is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// The random token the page's script sends; a retry sends it again.
    Token(String),
    /// A digest of the submitted values, for browsers without script: the
    /// same form sent again within ten minutes is the same request.
    Digest(String),
}

/// The most status-page keys a ticket keeps.
/// The owner's emails each add one, so a ticket that went round a few
/// times still opens from its first receipt.
pub const MAX_STATUS_KEYS: usize = 16;

/// How long an identical submission without a token counts as a repeat.
pub const DIGEST_WINDOW: Duration = Duration::minutes(10);
/// How long a token is remembered; a retry comes within seconds.
pub const TOKEN_WINDOW: Duration = Duration::days(1);

impl Idempotency {
    pub fn key(&self, kind: &str) -> String {
        match self {
            Idempotency::Token(token) => format!("token#{kind}#{token}"),
            Idempotency::Digest(digest) => format!("digest#{kind}#{digest}"),
        }
    }

    /// Until when a submission with this key counts as the same one.
    pub fn expires(&self, received: DateTime<Utc>) -> DateTime<Utc> {
        received
            + match self {
                Idempotency::Token(_) => TOKEN_WINDOW,
                Idempotency::Digest(_) => DIGEST_WINDOW,
            }
    }
}

/// What `create` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    New(Ticket),
    /// The same submission was stored before; nothing new was written.
    Existing(Ticket),
}

impl Created {
    pub fn ticket(&self) -> &Ticket {
        match self {
            Created::New(t) | Created::Existing(t) => t,
        }
    }
}

/// A queue of the staff app: which tickets, before the filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    /// Not yet dispatched: received, and reopened by an unhappy owner.
    New,
    /// Open and dispatched to this username.
    Mine(String),
    /// Open and with this department.
    Department(String),
    /// Open and past due, the most overdue first.
    Overdue,
    /// On hold (挂起), waiting for parts.
    Waiting,
    /// Done before `done_before` and still without the owner's acceptance
    /// or the desk's 回访: the owner had their time to answer online, now
    /// the desk calls.
    AwaitingFollowUp {
        done_before: DateTime<Utc>,
    },
    All,
}

impl View {
    /// The statuses a view draws from; each store lists them by status.
    pub fn statuses(&self) -> &'static [Status] {
        match self {
            View::New => &[Status::Received, Status::Reopened],
            View::Mine(_) | View::Department(_) | View::Overdue => &Status::OPEN,
            View::Waiting => &[Status::OnHold],
            View::AwaitingFollowUp { .. } => &[Status::Done],
            View::All => &Status::ALL,
        }
    }
}

/// Narrowing a view. Every store applies these through [`Filters::matches`],
/// so they mean the same on both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub kind: Option<String>,
    pub category: Option<String>,
    pub department: Option<String>,
    pub status: Option<Status>,
    /// Received at or after.
    pub from: Option<DateTime<Utc>>,
    /// Received before.
    pub to: Option<DateTime<Utc>>,
    /// The unit as the owner wrote it, matched from its start (`3-2` finds
    /// `3-2-1502`).
    pub unit: Option<String>,
}

impl Filters {
    pub fn matches(&self, ticket: &Ticket) -> bool {
        let same = |wanted: &Option<String>, value: Option<&str>| {
            wanted.as_deref().is_none_or(|w| Some(w) == value)
        };
        same(&self.kind, Some(&ticket.kind))
            && same(&self.category, ticket.category.as_deref())
            && same(&self.department, Some(&ticket.department))
            && self.status.is_none_or(|s| s == ticket.status)
            && self.from.is_none_or(|from| ticket.received_at >= from)
            && self.to.is_none_or(|to| ticket.received_at < to)
            && self.unit.as_deref().is_none_or(|unit| {
                ticket
                    .field("unit")
                    .is_some_and(|u| u.trim().starts_with(unit.trim()))
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    pub view: View,
    pub filters: Filters,
    /// What "overdue" is measured against.
    pub now: DateTime<Utc>,
    pub limit: usize,
}

impl ListQuery {
    pub fn matches(&self, ticket: &Ticket) -> bool {
        let in_view = match &self.view {
            View::Mine(username) => ticket.assignee.as_deref() == Some(username),
            View::Department(department) => ticket.department == *department,
            View::Overdue => ticket.due_at < self.now,
            View::AwaitingFollowUp { done_before } => {
                ticket.done_at.is_none_or(|done| done <= *done_before)
            }
            View::New | View::Waiting | View::All => true,
        };
        in_view && self.view.statuses().contains(&ticket.status) && self.filters.matches(ticket)
    }
}

/// Sorts a queue: by due time, earliest (so most overdue) first, serious
/// matters and reopened tickets ahead of the rest in the desk's new queue.
pub fn sort_queue(view: &View, tickets: &mut [Ticket]) {
    tickets.sort_by(|a, b| {
        let urgent = |t: &Ticket| !(t.serious || t.status == Status::Reopened);
        let first = if *view == View::New {
            urgent(a).cmp(&urgent(b))
        } else {
            std::cmp::Ordering::Equal
        };
        first
            .then(a.due_at.cmp(&b.due_at))
            .then(a.reference.cmp(&b.reference))
    });
}

/// One change to a ticket, written at once: the ticket as it is after,
/// the event for its timeline, whether it now owes the desk an email, and
/// the other messages it owes.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub ticket: Ticket,
    pub event: Event,
    pub owes_mail: bool,
    pub owed: Vec<Outgoing>,
}

#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Writes a new ticket (its desk email owed, its timeline's first
    /// events) durably, unless the same submission was already stored, in
    /// which case that ticket is returned.
    async fn create(
        &self,
        ticket: Ticket,
        idempotency: Idempotency,
    ) -> Result<Created, StoreError> {
        self.create_with(ticket, idempotency, &[], None).await
    }

    /// As [`TicketStore::create`], with the messages the new ticket owes
    /// and, where rate limits are counted in the store, the submission's
    /// hit, all written in the same transaction (nothing of them for a
    /// repeat): one round trip files a request.
    async fn create_with(
        &self,
        ticket: Ticket,
        idempotency: Idempotency,
        owed: &[Outgoing],
        hit: Option<&Hit>,
    ) -> Result<Created, StoreError>;

    /// A ticket with its whole timeline.
    async fn get(&self, reference: &str) -> Result<Option<Ticket>, StoreError>;

    /// A queue, sorted by [`sort_queue`], at most `limit` tickets, their
    /// timelines left empty.
    async fn list(&self, query: &ListQuery) -> Result<Vec<Ticket>, StoreError>;

    /// Writes `change` if the stored ticket is still at the version before
    /// it (`change.ticket.version - 1`); `Conflict` if someone changed it
    /// since, `NotFound` if there is no such ticket.
    async fn record(&self, change: &Change) -> Result<(), StoreError>;

    /// Adds the hash of one more key that opens the ticket's status page
    /// (a repeated submission gets a key of its own). At most
    /// [`MAX_STATUS_KEYS`] are kept, the oldest dropped first.
    async fn add_status_key(&self, reference: &str, key_hash: &str) -> Result<(), StoreError>;

    /// Tickets whose desk email is owed and may be tried at `now`.
    async fn mail_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Ticket>, StoreError>;

    /// Takes the right to send a ticket's email until `until`, so two
    /// senders never both send it. False when it is sent or taken.
    async fn claim_mail(
        &self,
        reference: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    async fn mail_sent(&self, reference: &str) -> Result<(), StoreError>;

    async fn mail_failed(
        &self,
        reference: &str,
        error: &str,
        next_attempt: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Stores a message unless one of its id exists; true if it was new.
    async fn owe(&self, message: &Outgoing) -> Result<bool, StoreError>;

    /// Owed messages that may be tried at `now` and are not claimed,
    /// earliest first.
    async fn outgoing_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Outgoing>, StoreError>;

    /// Takes the right to send a message until `until`; false when it is
    /// settled or taken.
    async fn claim_outgoing(
        &self,
        message: &Outgoing,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records how an attempt ended and gives up the claim. Settling erases
    /// the message's secret.
    async fn settle_outgoing(&self, message: &Outgoing, how: &Settle) -> Result<(), StoreError>;

    /// Every message about a ticket, settled or not, by id.
    async fn outgoing_of(&self, reference: &str) -> Result<Vec<Outgoing>, StoreError>;

    /// Counts one more request against `key` (a client in one time window)
    /// and returns the count so far. The key names the window, so counts
    /// never depend on old entries being deleted.
    async fn count_hit(&self, hit: &Hit) -> Result<u32, StoreError>;

    /// The counts under `keys` so far, in their order, counting nothing
    /// (0 where none), read at once.
    async fn read_hits(&self, keys: &[String]) -> Result<Vec<u32>, StoreError>;

    /// A secret of this installation, made on first use and kept by the
    /// store so every instance of the desk shares it: it keys the hashes
    /// of client addresses and the honeypot's receipts.
    async fn installation_secret(&self) -> Result<String, StoreError>;

    /// Adds an account (`AccountExists` if the username is taken), or with
    /// `replace` overwrites the one of that username.
    async fn put_staff(&self, staff: &Staff, replace: bool) -> Result<(), StoreError>;

    async fn get_staff(&self, username: &str) -> Result<Option<Staff>, StoreError>;

    /// Every account, by username.
    async fn list_staff(&self) -> Result<Vec<Staff>, StoreError>;

    async fn put_session(&self, session: &Session) -> Result<(), StoreError>;

    /// The session with this id hash, live or not: the caller checks.
    async fn get_session(&self, id_hash: &str) -> Result<Option<Session>, StoreError>;

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError>;
}

/// Timestamps as fixed-width UTC text, so they sort as they compare.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
