//! Where tickets are kept: one interface, an embedded SQLite store for one
//! machine, and (on AWS) DynamoDB.

mod dynamodb;
mod sqlite;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

pub use dynamodb::{DynamoStore, MAIL_INDEX, STATUS_INDEX};
pub use sqlite::SqliteStore;

use crate::ticket::{Status, Ticket};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the reference {0} is already taken")]
    ReferenceTaken(String),
    #[error("ticket {0} was changed by someone else since it was read; read it again and retry")]
    Conflict(String),
    #[error("there is no ticket {0}")]
    NotFound(String),
    #[error("the ticket store failed: {0}")]
    Backend(String),
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

#[async_trait]
pub trait TicketStore: Send + Sync {
    /// Writes a new ticket (its desk email owed) durably, unless the same
    /// submission was already stored, in which case that ticket is returned.
    async fn create(&self, ticket: Ticket, idempotency: Idempotency)
    -> Result<Created, StoreError>;

    async fn get(&self, reference: &str) -> Result<Option<Ticket>, StoreError>;

    /// Tickets with `status`, the earliest due first.
    async fn list_by_status(&self, status: Status, limit: usize)
    -> Result<Vec<Ticket>, StoreError>;

    /// Moves a ticket to `status` if it is still at `seen_version`.
    async fn set_status(
        &self,
        reference: &str,
        seen_version: u64,
        status: Status,
    ) -> Result<Ticket, StoreError>;

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

    /// Counts one more request against `key` (a client in one time window)
    /// and returns the count so far. The key names the window, so counts
    /// never depend on old entries being deleted.
    async fn count_hit(&self, key: &str, window_end: DateTime<Utc>) -> Result<u32, StoreError>;
}

/// Timestamps as fixed-width UTC text, so they sort as they compare.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}
