//! The embedded ticket store: one SQLite file.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{
    Change, Created, Hit, Idempotency, ListQuery, StoreError, TicketStore, View, sort_queue,
    timestamp,
};
use crate::accounts::{Session, Staff};
use crate::outgoing::{self, Delivery, Outgoing, Settle};
use crate::ticket::{Event, MailPurpose, MailState, Status, Ticket};

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
CREATE TABLE IF NOT EXISTS events (
    reference TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    event     TEXT NOT NULL,
    PRIMARY KEY (reference, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS staff (
    username TEXT PRIMARY KEY,
    account  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash    TEXT PRIMARY KEY,
    session    TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_mail_owed ON tickets (mail_sent, mail_next_at);
CREATE INDEX IF NOT EXISTS sessions_by_expiry ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS submissions (
    key        TEXT PRIMARY KEY,
    reference  TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outgoing (
    id            TEXT PRIMARY KEY,
    reference     TEXT,
    purpose       TEXT NOT NULL,
    channel       TEXT NOT NULL,
    not_before    TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    secret        TEXT,
    claimed_until TEXT,
    delivery      TEXT NOT NULL DEFAULT 'owed',
    dropped_why   TEXT
);
CREATE INDEX IF NOT EXISTS outgoing_owed ON outgoing (not_before) WHERE delivery = 'owed';
CREATE INDEX IF NOT EXISTS outgoing_by_ticket ON outgoing (reference, id);
CREATE TABLE IF NOT EXISTS settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_limits (
    key        TEXT PRIMARY KEY,
    count      INTEGER NOT NULL,
    expires_at TEXT NOT NULL
);
"#;

/// Columns added after the first release, added to an older file on open.
const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("category", "TEXT"),
    ("assignee", "TEXT"),
    ("serious", "INTEGER NOT NULL DEFAULT 0"),
    ("visit_at", "TEXT"),
    ("done_at", "TEXT"),
    ("follow_up", "TEXT"),
    ("reopen_count", "INTEGER NOT NULL DEFAULT 0"),
    ("updated_at", "TEXT"),
    ("updated_by", "TEXT"),
    ("mail_purpose", "TEXT NOT NULL DEFAULT 'new'"),
    ("status_keys", "TEXT NOT NULL DEFAULT '[]'"),
    // The owner's unit, trimmed, so the unit filter needs no JSON decoding.
    ("unit", "TEXT"),
    // The form's words when the ticket was stored (JSON), see `snapshot`.
    ("snapshot", "TEXT"),
];

/// The indexes the queues read through; made after the columns exist.
const INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS tickets_by_status_due ON tickets (status, due_at);
CREATE INDEX IF NOT EXISTS tickets_by_department ON tickets (department, status, due_at);
CREATE INDEX IF NOT EXISTS tickets_by_assignee ON tickets (assignee, status, due_at) WHERE assignee IS NOT NULL;
CREATE INDEX IF NOT EXISTS tickets_by_received ON tickets (received_at);
CREATE INDEX IF NOT EXISTS tickets_by_due ON tickets (due_at, reference);
CREATE INDEX IF NOT EXISTS tickets_by_unit ON tickets (unit) WHERE unit IS NOT NULL;
"#;

const COLUMNS: &str = "reference, kind, fields, received_at, status, urgency, department, due_at, version, mail_sent, mail_attempts, mail_error, mail_next_at, \
     category, assignee, serious, visit_at, done_at, follow_up, reopen_count, updated_at, updated_by, mail_purpose, status_keys, snapshot";

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
        add_columns(&connection)?;
        fill_units(&connection)?;
        connection.execute_batch(INDEXES).map_err(backend)?;
        // The first release's status names, so its tickets land in the queues.
        connection
            .execute_batch(
                "UPDATE tickets SET status = 'dispatched' WHERE status = 'acknowledged';
                 UPDATE tickets SET status = 'done' WHERE status = 'resolved';",
            )
            .map_err(backend)?;
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

fn add_columns(conn: &Connection) -> Result<(), StoreError> {
    let mut statement = conn
        .prepare("PRAGMA table_info(tickets)")
        .map_err(backend)?;
    let existing: Vec<String> = statement
        .query_map([], |r| r.get::<_, String>(1))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    for (name, definition) in ADDED_COLUMNS {
        if !existing.iter().any(|c| c == name) {
            conn.execute_batch(&format!(
                "ALTER TABLE tickets ADD COLUMN {name} {definition}"
            ))
            .map_err(backend)?;
        }
    }
    Ok(())
}

/// Tickets stored before the `unit` column existed get it from their fields.
fn fill_units(conn: &Connection) -> Result<(), StoreError> {
    let mut statement = conn
        .prepare("SELECT reference, fields FROM tickets WHERE unit IS NULL")
        .map_err(backend)?;
    let rows: Vec<(String, String)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(backend)?
        .collect::<Result<_, _>>()
        .map_err(backend)?;
    for (reference, fields) in rows {
        let fields: Vec<(String, String)> = serde_json::from_str(&fields).map_err(backend)?;
        if let Some((_, unit)) = fields.iter().find(|(n, _)| n == "unit") {
            conn.execute(
                "UPDATE tickets SET unit = ?1 WHERE reference = ?2",
                params![unit.trim(), reference],
            )
            .map_err(backend)?;
        }
    }
    Ok(())
}

fn optional_time(text: Option<String>) -> rusqlite::Result<Option<DateTime<Utc>>> {
    text.map(parse_time).transpose()
}

fn ticket_from_row(row: &Row<'_>) -> rusqlite::Result<Ticket> {
    let fields: String = row.get(2)?;
    let status: String = row.get(4)?;
    let received_at = parse_time(row.get(3)?)?;
    let follow_up: Option<String> = row.get(18)?;
    Ok(Ticket {
        reference: row.get(0)?,
        kind: row.get(1)?,
        fields: serde_json::from_str(&fields).map_err(conversion)?,
        received_at,
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
            purpose: MailPurpose::parse(&row.get::<_, String>(22)?),
        },
        category: row.get(13)?,
        assignee: row.get(14)?,
        serious: row.get(15)?,
        visit_at: optional_time(row.get(16)?)?,
        done_at: optional_time(row.get(17)?)?,
        follow_up: follow_up
            .map(|f| serde_json::from_str(&f).map_err(conversion))
            .transpose()?,
        reopen_count: row.get::<_, i64>(19)? as u32,
        updated_at: optional_time(row.get(20)?)?.unwrap_or(received_at),
        updated_by: row.get::<_, Option<String>>(21)?.unwrap_or_default(),
        status_keys: serde_json::from_str(&row.get::<_, String>(23)?).map_err(conversion)?,
        snapshot: row
            .get::<_, Option<String>>(24)?
            .map(|s| serde_json::from_str(&s).map_err(conversion))
            .transpose()?,
        timeline: Vec::new(),
    })
}

fn get_timeline(conn: &Connection, reference: &str) -> Result<Vec<Event>, StoreError> {
    let mut statement = conn
        .prepare_cached("SELECT event FROM events WHERE reference = ?1 ORDER BY seq")
        .map_err(backend)?;
    let rows = statement
        .query_map([reference], |r| r.get::<_, String>(0))
        .map_err(backend)?;
    let mut events = Vec::new();
    for row in rows {
        let text = row.map_err(backend)?;
        events.push(serde_json::from_str(&text).map_err(backend)?);
    }
    Ok(events)
}

fn insert_event(conn: &Connection, reference: &str, event: &Event) -> Result<(), StoreError> {
    let text = serde_json::to_string(event).map_err(backend)?;
    conn.execute(
        "INSERT INTO events (reference, seq, event) VALUES (?1, ?2, ?3)",
        params![reference, event.seq, text],
    )
    .map(|_| ())
    .map_err(backend)
}

fn optional_timestamp(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(timestamp)
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(backend)
}

fn get_ticket(conn: &Connection, reference: &str) -> Result<Option<Ticket>, StoreError> {
    let ticket = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM tickets WHERE reference = ?1"),
            [reference],
            ticket_from_row,
        )
        .optional()
        .map_err(backend)?;
    match ticket {
        Some(mut ticket) => {
            ticket.timeline = get_timeline(conn, reference)?;
            Ok(Some(ticket))
        }
        None => Ok(None),
    }
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

const OUTGOING_COLUMNS: &str = "id, reference, purpose, channel, not_before, attempts, last_error, secret, delivery, dropped_why";

/// Inserts a message unless one of its id is stored; true if it was new.
fn insert_outgoing(conn: &Connection, m: &Outgoing) -> Result<bool, StoreError> {
    conn.execute(
        "INSERT OR IGNORE INTO outgoing (id, reference, purpose, channel, not_before, secret) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            m.id,
            m.reference,
            m.purpose.as_str(),
            m.channel.as_str(),
            timestamp(m.not_before),
            m.secret,
        ],
    )
    .map(|inserted| inserted == 1)
    .map_err(backend)
}

fn outgoing_from_row(row: &Row<'_>) -> rusqlite::Result<Outgoing> {
    let (purpose, channel) =
        outgoing::kind_from_stored(&row.get::<_, String>(2)?, &row.get::<_, String>(3)?)
            .map_err(|e| conversion(std::io::Error::other(e)))?;
    Ok(Outgoing {
        id: row.get(0)?,
        reference: row.get(1)?,
        purpose,
        channel,
        not_before: parse_time(row.get(4)?)?,
        attempts: row.get(5)?,
        last_error: row.get(6)?,
        secret: row.get(7)?,
        delivery: Delivery::from_stored(&row.get::<_, String>(8)?, row.get(9)?),
    })
}

fn query_outgoing(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Outgoing>, StoreError> {
    let mut statement = conn.prepare(sql).map_err(backend)?;
    let rows = statement
        .query_map(params, outgoing_from_row)
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

fn count_hit(conn: &Connection, hit: &Hit) -> Result<u32, StoreError> {
    let count: i64 = conn
        .query_row(
            "INSERT INTO rate_limits (key, count, expires_at) VALUES (?1, 1, ?2) \
             ON CONFLICT (key) DO UPDATE SET count = count + 1 RETURNING count",
            params![hit.key, timestamp(hit.window_end)],
            |r| r.get(0),
        )
        .map_err(backend)?;
    // Tidy up windows long past, judged by the caller's clock, when a new
    // window opens; correctness never needs it.
    if count == 1 {
        conn.execute(
            "DELETE FROM rate_limits WHERE expires_at < ?1",
            [timestamp(hit.window_end - chrono::TimeDelta::hours(1))],
        )
        .map_err(backend)?;
    }
    Ok(count as u32)
}

#[async_trait]
impl TicketStore for SqliteStore {
    async fn create_with(
        &self,
        ticket: Ticket,
        idempotency: Idempotency,
        owed: &[Outgoing],
        hit: Option<&Hit>,
    ) -> Result<Created, StoreError> {
        let owed = owed.to_vec();
        let hit = hit.cloned();
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
            let follow_up = ticket.follow_up.as_ref().map(json).transpose()?;
            let inserted = tx.execute(
                &format!("INSERT INTO tickets ({COLUMNS}, unit) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
                          ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)"),
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
                    ticket.category,
                    ticket.assignee,
                    ticket.serious,
                    optional_timestamp(ticket.visit_at),
                    optional_timestamp(ticket.done_at),
                    follow_up,
                    ticket.reopen_count,
                    timestamp(ticket.updated_at),
                    ticket.updated_by,
                    ticket.mail.purpose.as_str(),
                    json(&ticket.status_keys)?,
                    ticket.snapshot.as_ref().map(json).transpose()?,
                    ticket.field("unit").map(str::trim),
                ],
            );
            match inserted {
                Ok(_) => {}
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
                    return Err(StoreError::ReferenceTaken(ticket.reference.clone()));
                }
                Err(e) => return Err(backend(e)),
            }
            for event in &ticket.timeline {
                insert_event(&tx, &ticket.reference, event)?;
            }
            for message in &owed {
                insert_outgoing(&tx, message)?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO submissions (key, reference, expires_at) VALUES (?1, ?2, ?3)",
                params![key, ticket.reference, timestamp(idempotency.expires(ticket.received_at))],
            )
            .map_err(backend)?;
            if let Some(hit) = &hit {
                count_hit(&tx, hit)?;
            }
            tx.commit().map_err(backend)?;
            Ok(Created::New(ticket))
        })
        .await
    }

    async fn get(&self, reference: &str) -> Result<Option<Ticket>, StoreError> {
        let reference = reference.to_owned();
        self.with(move |conn| get_ticket(conn, &reference)).await
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<Ticket>, StoreError> {
        let query = query.clone();
        self.with(move |conn| {
            let statuses: Vec<String> = query
                .view
                .statuses()
                .iter()
                .filter(|s| query.filters.status.is_none_or(|f| f == **s))
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            if statuses.is_empty() {
                return Ok(Vec::new());
            }
            // The view's key and the filters narrow in SQL through an
            // index, rows come in the queue's order, and reading stops once
            // a page is full. The shared rule still has the last word (it
            // alone checks the unit), so both stores agree.
            let every_status = statuses.len() == Status::ALL.len();
            let mut sql = format!("SELECT {COLUMNS} FROM tickets WHERE 1 = 1");
            if !every_status {
                sql.push_str(&format!(" AND status IN ({})", statuses.join(", ")));
            }
            let mut values: Vec<String> = Vec::new();
            match &query.view {
                View::Mine(username) => {
                    sql.push_str(" AND assignee = ?1");
                    values.push(username.clone());
                }
                View::Department(department) => {
                    sql.push_str(" AND department = ?1");
                    values.push(department.clone());
                }
                View::Overdue => {
                    sql.push_str(" AND due_at < ?1");
                    values.push(timestamp(query.now));
                }
                _ => {}
            }
            let filters = &query.filters;
            if let Some(unit) = filters
                .unit
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty())
            {
                // A prefix as a range, which the unit index answers.
                values.push(unit.to_owned());
                let n = values.len();
                sql.push_str(&format!(
                    " AND unit >= ?{n} AND unit < ?{n} || char(1114111)"
                ));
            }
            for (column, value) in [
                ("kind", filters.kind.clone()),
                ("category", filters.category.clone()),
                ("department", filters.department.clone()),
                ("received_at >=", filters.from.map(timestamp)),
                ("received_at <", filters.to.map(timestamp)),
            ] {
                if let Some(value) = value {
                    values.push(value);
                    let op = if column.contains(' ') { "" } else { " =" };
                    sql.push_str(&format!(" AND {column}{op} ?{}", values.len()));
                }
            }
            // The order of `sort_queue`.
            sql.push_str(if query.view == View::New {
                " ORDER BY (serious = 1 OR status = 'reopened') DESC, due_at, reference"
            } else {
                " ORDER BY due_at, reference"
            });
            let mut statement = conn.prepare(&sql).map_err(backend)?;
            let rows = statement
                .query_map(rusqlite::params_from_iter(values.iter()), ticket_from_row)
                .map_err(backend)?;
            let mut tickets = Vec::new();
            for row in rows {
                let ticket = row.map_err(backend)?;
                if query.matches(&ticket) {
                    tickets.push(ticket);
                    if tickets.len() >= query.limit {
                        break;
                    }
                }
            }
            sort_queue(&query.view, &mut tickets);
            Ok(tickets)
        })
        .await
    }

    async fn record(&self, change: &Change) -> Result<(), StoreError> {
        let change = change.clone();
        self.with(move |conn| {
            let t = &change.ticket;
            let tx = conn.transaction().map_err(backend)?;
            let follow_up = t.follow_up.as_ref().map(json).transpose()?;
            let changed = tx
                .execute(
                    "UPDATE tickets SET status = ?1, department = ?2, assignee = ?3, serious = ?4, due_at = ?5, \
                     visit_at = ?6, done_at = ?7, follow_up = ?8, reopen_count = ?9, updated_at = ?10, \
                     updated_by = ?11, version = ?12 WHERE reference = ?13 AND version = ?14",
                    params![
                        t.status.as_str(),
                        t.department,
                        t.assignee,
                        t.serious,
                        timestamp(t.due_at),
                        optional_timestamp(t.visit_at),
                        optional_timestamp(t.done_at),
                        follow_up,
                        t.reopen_count,
                        timestamp(t.updated_at),
                        t.updated_by,
                        t.version as i64,
                        t.reference,
                        t.version as i64 - 1,
                    ],
                )
                .map_err(backend)?;
            if changed == 0 {
                let exists: Option<i64> = tx
                    .query_row("SELECT version FROM tickets WHERE reference = ?1", [&t.reference], |r| r.get(0))
                    .optional()
                    .map_err(backend)?;
                return Err(match exists {
                    None => StoreError::NotFound(t.reference.clone()),
                    Some(_) => StoreError::Conflict(t.reference.clone()),
                });
            }
            if change.owes_mail {
                tx.execute(
                    "UPDATE tickets SET mail_sent = 0, mail_attempts = 0, mail_error = NULL, mail_next_at = ?1, \
                     mail_claimed_until = NULL, mail_purpose = ?2 WHERE reference = ?3",
                    params![timestamp(t.mail.next_attempt), t.mail.purpose.as_str(), t.reference],
                )
                .map_err(backend)?;
            }
            insert_event(&tx, &t.reference, &change.event)?;
            for message in &change.owed {
                insert_outgoing(&tx, message)?;
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn owe(&self, message: &Outgoing) -> Result<bool, StoreError> {
        let message = message.clone();
        self.with(move |conn| insert_outgoing(conn, &message)).await
    }

    async fn outgoing_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Outgoing>, StoreError> {
        self.with(move |conn| {
            let now = timestamp(now);
            query_outgoing(
                conn,
                &format!(
                    "SELECT {OUTGOING_COLUMNS} FROM outgoing WHERE delivery = 'owed' AND not_before <= ?1 \
                     AND (claimed_until IS NULL OR claimed_until < ?1) ORDER BY not_before, id LIMIT ?2"
                ),
                params![now, limit as i64],
            )
        })
        .await
    }

    async fn claim_outgoing(
        &self,
        message: &Outgoing,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let id = message.id.clone();
        self.with(move |conn| {
            conn.execute(
                "UPDATE outgoing SET claimed_until = ?1 WHERE id = ?2 AND delivery = 'owed' \
                 AND (claimed_until IS NULL OR claimed_until < ?3)",
                params![timestamp(until), id, timestamp(now)],
            )
            .map(|changed| changed == 1)
            .map_err(backend)
        })
        .await
    }

    async fn settle_outgoing(&self, message: &Outgoing, how: &Settle) -> Result<(), StoreError> {
        let (id, how) = (message.id.clone(), how.clone());
        self.with(move |conn| {
            let done = |delivery: &str, why: Option<&str>| {
                conn.execute(
                    "UPDATE outgoing SET delivery = ?1, dropped_why = ?2, attempts = attempts + ?3, \
                     last_error = NULL, secret = NULL, claimed_until = NULL WHERE id = ?4",
                    params![delivery, why, i64::from(delivery != "dropped"), id],
                )
            };
            match &how {
                Settle::Sent => done("sent", None),
                Settle::Dropped(why) => done("dropped", Some(why)),
                Settle::GaveUp(error) => done("failed", Some(error)),
                Settle::Retry { error, next } => conn.execute(
                    "UPDATE outgoing SET attempts = attempts + 1, last_error = ?1, not_before = ?2, \
                     claimed_until = NULL WHERE id = ?3",
                    params![error, timestamp(*next), id],
                ),
                Settle::Defer(next) => conn.execute(
                    "UPDATE outgoing SET not_before = ?1, claimed_until = NULL WHERE id = ?2",
                    params![timestamp(*next), id],
                ),
            }
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn outgoing_of(&self, reference: &str) -> Result<Vec<Outgoing>, StoreError> {
        let reference = reference.to_owned();
        self.with(move |conn| {
            query_outgoing(
                conn,
                &format!(
                    "SELECT {OUTGOING_COLUMNS} FROM outgoing WHERE reference = ?1 ORDER BY id"
                ),
                [reference],
            )
        })
        .await
    }

    async fn add_status_key(&self, reference: &str, key_hash: &str) -> Result<(), StoreError> {
        let (reference, key_hash) = (reference.to_owned(), key_hash.to_owned());
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let keys: Option<String> = tx
                .query_row(
                    "SELECT status_keys FROM tickets WHERE reference = ?1",
                    [&reference],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            let Some(keys) = keys else {
                return Err(StoreError::NotFound(reference));
            };
            let mut keys: Vec<String> = serde_json::from_str(&keys).map_err(backend)?;
            keys.push(key_hash);
            let excess = keys.len().saturating_sub(super::MAX_STATUS_KEYS);
            keys.drain(..excess);
            tx.execute(
                "UPDATE tickets SET status_keys = ?1 WHERE reference = ?2",
                params![json(&keys)?, reference],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
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

    async fn count_hit(&self, hit: &Hit) -> Result<u32, StoreError> {
        let hit = hit.clone();
        self.with(move |conn| count_hit(conn, &hit)).await
    }

    async fn read_hits(&self, keys: &[String]) -> Result<Vec<u32>, StoreError> {
        let keys = keys.to_vec();
        self.with(move |conn| {
            let mut read = conn
                .prepare_cached("SELECT count FROM rate_limits WHERE key = ?1")
                .map_err(backend)?;
            keys.iter()
                .map(|key| {
                    read.query_row([key], |r| r.get::<_, i64>(0))
                        .optional()
                        .map_err(backend)
                        .map(|count| count.unwrap_or(0) as u32)
                })
                .collect()
        })
        .await
    }

    async fn installation_secret(&self) -> Result<String, StoreError> {
        let fresh = crate::accounts::random_token()
            .map_err(|e| StoreError::Backend(format!("no randomness for a secret: {e}")))?;
        self.with(move |conn| {
            conn.execute(
                "INSERT OR IGNORE INTO settings (name, value) VALUES ('installation_secret', ?1)",
                [fresh],
            )
            .map_err(backend)?;
            conn.query_row(
                "SELECT value FROM settings WHERE name = 'installation_secret'",
                [],
                |r| r.get(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn put_staff(&self, staff: &Staff, replace: bool) -> Result<(), StoreError> {
        let staff = staff.clone();
        self.with(move |conn| {
            let account = json(&staff)?;
            let sql = if replace {
                "INSERT OR REPLACE INTO staff (username, account) VALUES (?1, ?2)"
            } else {
                "INSERT INTO staff (username, account) VALUES (?1, ?2)"
            };
            match conn.execute(sql, params![staff.username, account]) {
                Ok(_) => Ok(()),
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    Err(StoreError::AccountExists(staff.username.clone()))
                }
                Err(e) => Err(backend(e)),
            }
        })
        .await
    }

    async fn get_staff(&self, username: &str) -> Result<Option<Staff>, StoreError> {
        let username = username.to_owned();
        self.with(move |conn| {
            let account: Option<String> = conn
                .query_row(
                    "SELECT account FROM staff WHERE username = ?1",
                    [username],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            account
                .map(|a| serde_json::from_str(&a).map_err(backend))
                .transpose()
        })
        .await
    }

    async fn list_staff(&self) -> Result<Vec<Staff>, StoreError> {
        self.with(|conn| {
            let mut statement = conn
                .prepare("SELECT account FROM staff ORDER BY username")
                .map_err(backend)?;
            let rows = statement
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(backend)?;
            let mut staff = Vec::new();
            for row in rows {
                staff.push(serde_json::from_str(&row.map_err(backend)?).map_err(backend)?);
            }
            Ok(staff)
        })
        .await
    }

    async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        let session = session.clone();
        self.with(move |conn| {
            conn.execute(
                "INSERT OR REPLACE INTO sessions (id_hash, session, expires_at) VALUES (?1, ?2, ?3)",
                params![session.id_hash, json(&session)?, timestamp(session.expires_at())],
            )
            .map_err(backend)?;
            // Sessions long over are tidied up as new ones are written.
            conn.execute(
                "DELETE FROM sessions WHERE expires_at < ?1",
                [timestamp(session.last_seen - chrono::TimeDelta::days(1))],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<Session>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.with(move |conn| {
            let session: Option<String> = conn
                .query_row(
                    "SELECT session FROM sessions WHERE id_hash = ?1",
                    [id_hash],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            session
                .map(|s| serde_json::from_str(&s).map_err(backend))
                .transpose()
        })
        .await
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.with(move |conn| {
            conn.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])
                .map(|_| ())
                .map_err(backend)
        })
        .await
    }
}
