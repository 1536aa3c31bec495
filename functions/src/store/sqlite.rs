//! The embedded ticket store: one SQLite file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{Created, Idempotency, StoreError, TicketStore, timestamp};
use crate::ticket::{MailState, Status, Ticket};

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS tickets (
    reference      TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    fields         TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    status         TEXT NOT NULL,
    urgency        TEXT NOT NULL,
    department     TEXT NOT NULL,
    due_at         TEXT NOT NULL,
    version        INTEGER NOT NULL,
    mail_sent      INTEGER NOT NULL,
    mail_attempts  INTEGER NOT NULL,
    mail_error     TEXT,
    mail_next_at   TEXT NOT NULL,
    mail_claimed_until TEXT
);
CREATE INDEX IF NOT EXISTS tickets_by_status_due ON tickets (status, due_at);
CREATE INDEX IF NOT EXISTS tickets_mail_owed ON tickets (mail_sent, mail_next_at);
CREATE TABLE IF NOT EXISTS submissions (
    key        TEXT PRIMARY KEY,
    reference  TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_limits (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_at TEXT NOT NULL
);
"#;

const COLUMNS: &str = "reference, kind, fields, received_at, status, urgency, department, due_at, version, mail_sent, mail_attempts, mail_error, mail_next_at";

#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database file.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| backend(format!("cannot create {}: {e}", parent.display())))?;
        }
        let connection = Connection::open(path)
            .map_err(|e| backend(format!("cannot open {}: {e}", path.display())))?;
        // WAL with synchronous=FULL: a ticket is on disk before the owner
        // is told it was received.
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(backend)?;
        connection.execute_batch(SCHEMA).map_err(backend)?;
        Ok(SqliteStore {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs blocking database work off the async threads.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection
                .lock()
                .map_err(|_| backend("the database lock was poisoned"))?;
            work(&mut guard)
        })
        .await
        .map_err(backend)?
    }
}

fn parse_time(text: String) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(&text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

fn conversion(e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

fn ticket_from_row(row: &Row<'_>) -> rusqlite::Result<Ticket> {
    let fields: String = row.get(2)?;
    let status: String = row.get(4)?;
    Ok(Ticket {
        reference: row.get(0)?,
        kind: row.get(1)?,
        fields: serde_json::from_str(&fields).map_err(conversion)?,
        received_at: parse_time(row.get(3)?)?,
        status: Status::parse(&status).unwrap_or(Status::Received),
        urgency: row.get(5)?,
        department: row.get(6)?,
        due_at: parse_time(row.get(7)?)?,
        version: row.get::<_, i64>(8)? as u64,
        mail: MailState {
            sent: row.get(9)?,
            attempts: row.get::<_, i64>(10)? as u32,
            last_error: row.get(11)?,
            next_attempt: parse_time(row.get(12)?)?,
        },
    })
}

fn get_ticket(conn: &Connection, reference: &str) -> Result<Option<Ticket>, StoreError> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM tickets WHERE reference = ?1"),
        [reference],
        ticket_from_row,
    )
    .optional()
    .map_err(backend)
}

fn query_tickets(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Ticket>, StoreError> {
    let mut statement = conn.prepare(sql).map_err(backend)?;
    let rows = statement
        .query_map(params, ticket_from_row)
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn create(
        &self,
        ticket: Ticket,
        idempotency: Idempotency,
    ) -> Result<Created, StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let key = idempotency.key(&ticket.kind);
            let now = timestamp(ticket.received_at);
            let earlier: Option<String> = tx
                .query_row(
                    "SELECT reference FROM submissions WHERE key = ?1 AND expires_at > ?2",
                    params![key, now],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if let Some(reference) = earlier
                && let Some(existing) = get_ticket(&tx, &reference)?
            {
                return Ok(Created::Existing(existing));
            }
            let fields = serde_json::to_string(&ticket.fields).map_err(backend)?;
            let inserted = tx.execute(
                &format!("INSERT INTO tickets ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                params![
                    ticket.reference,
                    ticket.kind,
                    fields,
                    now,
                    ticket.status.as_str(),
                    ticket.urgency,
                    ticket.department,
                    timestamp(ticket.due_at),
                    ticket.version as i64,
                    ticket.mail.sent,
                    ticket.mail.attempts,
                    ticket.mail.last_error,
                    timestamp(ticket.mail.next_attempt),
                ],
            );
            match inserted {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    return Err(StoreError::ReferenceTaken(ticket.reference.clone()));
                }
                Err(e) => return Err(backend(e)),
            }
            tx.execute(
                "INSERT OR REPLACE INTO submissions (key, reference, expires_at) VALUES (?1, ?2, ?3)",
                params![key, ticket.reference, timestamp(idempotency.expires(ticket.received_at))],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(Created::New(ticket))
        })
        .await
    }

    async fn get(&self, reference: &str) -> Result<Option<Ticket>, StoreError> {
        let reference = reference.to_owned();
        self.with(move |conn| get_ticket(conn, &reference)).await
    }

    async fn list_by_status(
        &self,
        status: Status,
        limit: usize,
    ) -> Result<Vec<Ticket>, StoreError> {
        self.with(move |conn| {
            query_tickets(
                conn,
                &format!("SELECT {COLUMNS} FROM tickets WHERE status = ?1 ORDER BY due_at, reference LIMIT ?2"),
                params![status.as_str(), limit as i64],
            )
        })
        .await
    }

    async fn set_status(
        &self,
        reference: &str,
        seen_version: u64,
        status: Status,
    ) -> Result<Ticket, StoreError> {
        let reference = reference.to_owned();
        self.with(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE tickets SET status = ?1, version = version + 1 WHERE reference = ?2 AND version = ?3",
                    params![status.as_str(), reference, seen_version as i64],
                )
                .map_err(backend)?;
            match get_ticket(conn, &reference)? {
                None => Err(StoreError::NotFound(reference)),
                Some(_) if changed == 0 => Err(StoreError::Conflict(reference)),
                Some(ticket) => Ok(ticket),
            }
        })
        .await
    }

    async fn mail_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.with(move |conn| {
            query_tickets(
                conn,
                &format!(
                    "SELECT {COLUMNS} FROM tickets WHERE mail_sent = 0 AND mail_next_at <= ?1 \
                     AND (mail_claimed_until IS NULL OR mail_claimed_until < ?1) ORDER BY due_at LIMIT ?2"
                ),
                params![timestamp(now), limit as i64],
            )
        })
        .await
    }

    async fn claim_mail(
        &self,
        reference: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let reference = reference.to_owned();
        self.with(move |conn| {
            let changed = conn
                .execute(
                    "UPDATE tickets SET mail_claimed_until = ?1 WHERE reference = ?2 AND mail_sent = 0 \
                     AND (mail_claimed_until IS NULL OR mail_claimed_until < ?3)",
                    params![timestamp(until), reference, timestamp(now)],
                )
                .map_err(backend)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn mail_sent(&self, reference: &str) -> Result<(), StoreError> {
        let reference = reference.to_owned();
        self.with(move |conn| {
            conn.execute(
                "UPDATE tickets SET mail_sent = 1, mail_attempts = mail_attempts + 1, mail_error = NULL, \
                 mail_claimed_until = NULL WHERE reference = ?1",
                [reference],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn mail_failed(
        &self,
        reference: &str,
        error: &str,
        next_attempt: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (reference, error) = (reference.to_owned(), error.to_owned());
        self.with(move |conn| {
            conn.execute(
                "UPDATE tickets SET mail_attempts = mail_attempts + 1, mail_error = ?1, mail_next_at = ?2, \
                 mail_claimed_until = NULL WHERE reference = ?3",
                params![error, timestamp(next_attempt), reference],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn count_hit(&self, key: &str, window_end: DateTime<Utc>) -> Result<u32, StoreError> {
        let key = key.to_owned();
        self.with(move |conn| {
            let count: i64 = conn
                .query_row(
                    "INSERT INTO rate_limits (key, count, expires_at) VALUES (?1, 1, ?2) \
                     ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count",
                    params![key, timestamp(window_end)],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            // Tidy up windows long past, judged by the caller's clock, when
            // a new window opens; correctness never needs it.
            if count == 1 {
                conn.execute(
                    "DELETE FROM rate_limits WHERE expires_at < ?1",
                    [timestamp(window_end - chrono::TimeDelta::hours(1))],
                )
                .map_err(backend)?;
            }
            Ok(count as u32)
        })
        .await
    }
}
