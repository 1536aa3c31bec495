//! The ticket store on AWS: one DynamoDB table (its schema is in
//! `template.yaml`, resource `TicketTable`; the README explains it).
//!
//! Items:
//! - a ticket: `pk = TICKET#<reference>`, `sk = TICKET`, with these index
//!   keys (each index projects every attribute):
//!   - `gsi1pk = ESTATE#<estate>#STATUS#<status>`, `gsi1sk = <due>#<reference>`:
//!     index `by-status-due`, every ticket;
//!   - `gsi3pk = ESTATE#<estate>#DEPT#<department>#STATUS#<status>`, sorted
//!     by `gsi1sk`: index `by-department-due`, every ticket;
//!   - `gsi4pk = ESTATE#<estate>#ASSIGNEE#<username>`, sorted by `gsi1sk`:
//!     index `by-assignee-due`, sparse: only while the ticket is open and
//!     dispatched to someone;
//!   - `gsi2pk = MAIL#<estate>`, `gsi2sk = <next attempt>#<reference>`:
//!     index `mail-owed`, sparse: only while its desk email is owed.
//! - a timeline event: `pk = TICKET#<reference>` (the ticket's partition),
//!   `sk = EVENT#<seq, six digits>`, the event as JSON in `event`. Written
//!   once, with the change it describes, never altered.
//! - a submission key: `pk = SUBMISSION#<key>`, `sk = SUBMISSION`: which
//!   ticket a token or a digest made, until `expires_at`.
//! - a rate-limit counter: `pk = RATE#<client>#<window>`, `sk = RATE`.
//! - a message the ticket owes besides the desk email (`crate::outgoing`):
//!   `pk = TICKET#<reference>` (the ticket's partition; a digest's is
//!   `OUTGOING#<estate>`), `sk = OUT#<id>`; while owed, in the `mail-owed`
//!   index under `gsi2pk = OUT#<estate>`, `gsi2sk = <not before>#<id>`.
//! - a staff account: `pk = STAFF#<estate>`, `sk = <username>`, the account
//!   as JSON in `account`.
//! - a session: `pk = SESSION#<id hash>`, `sk = SESSION`, the session as
//!   JSON in `session`, its estate, `expires_at`.
//!
//! Access patterns (never a Scan):
//! - a ticket with its timeline (`get`): one consistent Query on
//!   `pk = TICKET#<reference>`, events first (`EVENT#…` < `TICKET`).
//! - the queues (`list`), each partition read earliest due first, one Query
//!   per partition, run together; with a status filter only that status's
//!   partition is read:
//!   - `New`: `by-status-due`, the `received` and `reopened` partitions;
//!   - `Mine(user)`: `by-assignee-due`, the user's partition;
//!   - `Department(d)`: `by-department-due`, d's partition of each open status;
//!   - `Overdue`: `by-status-due`, each open status's partition with
//!     `gsi1sk < <now>`;
//!   - `Waiting`: `by-status-due`, `on_hold`; `AwaitingFollowUp`: `done`;
//!   - `All`: `by-status-due`, every status's partition;
//!   - any view but `Mine` with a department filter reads that department's
//!     `by-department-due` partitions instead of the `by-status-due` ones.
//!
//!   The other filters are the shared rule ([`ListQuery::matches`]).
//!   Except in the new queue (serious first), a partition is read only until
//!   it has given `limit` matching tickets.
//! - owed mail (`mail_due`): Query `mail-owed` on `MAIL#<estate>` up to now;
//!   owed messages (`outgoing_due`) the same on `OUT#<estate>`; a ticket's
//!   messages (`outgoing_of`): Query its partition, `sk` from `OUT#`.
//! - staff (`list_staff`): one consistent Query on `pk = STAFF#<estate>`.
//!
//! Keys name their window and readers compare expiry times, so nothing
//! depends on TTL deleting old items (DynamoDB does so late, emulators
//! never): `expires_at_epoch` only tidies up.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};

use super::{
    Change, Created, Hit, Idempotency, ListQuery, StoreError, TicketStore, View, sort_queue,
    timestamp,
};
use crate::accounts::{Session, Staff};
use crate::outgoing::{self, Delivery, Outgoing, Settle};
use crate::ticket::{Event, MailPurpose, MailState, Status, Ticket};

const TICKET: &str = "TICKET";
const SUBMISSION: &str = "SUBMISSION";
const RATE: &str = "RATE";
const SECRET: &str = "SECRET";
const SESSION: &str = "SESSION";
pub const STATUS_INDEX: &str = "by-status-due";
pub const DEPARTMENT_INDEX: &str = "by-department-due";
pub const ASSIGNEE_INDEX: &str = "by-assignee-due";
pub const MAIL_INDEX: &str = "mail-owed";

#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// Tickets of many estates can share a table; indexes are per estate.
    estate: String,
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn backend(what: &str, e: impl std::error::Error) -> StoreError {
    StoreError::Backend(format!("DynamoDB {what}: {}", DisplayErrorContext(e)))
}

fn json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text)
        .map_err(|e| StoreError::Backend(format!("{what} does not parse: {e}")))
}

fn is_condition_failure(e: &impl ProvideErrorMetadata) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

type Item = HashMap<String, AttributeValue>;

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn rate_key(window: &str) -> Item {
    key(format!("RATE#{window}"), RATE)
}

/// Counting a hit, alone (`count_hit`) or in a new ticket's transaction.
const COUNT_HIT: &str = "ADD hits :one SET expires_at_epoch = :expires";

fn count_hit_values(hit: &Hit) -> Option<Item> {
    Some(HashMap::from([
        (":one".to_owned(), n(1)),
        (":expires".to_owned(), n(hit.window_end.timestamp())),
    ]))
}

/// BatchGetItem may leave keys unprocessed when throttled; they are asked
/// for again this many times before the read fails.
const BATCH_GET_ROUNDS: usize = 4;

fn ticket_pk(reference: &str) -> String {
    format!("TICKET#{reference}")
}

fn ticket_key(reference: &str) -> Item {
    key(ticket_pk(reference), TICKET)
}

fn event_sk(seq: u32) -> String {
    format!("EVENT#{seq:06}")
}

fn session_key(id_hash: &str) -> Item {
    key(format!("SESSION#{id_hash}"), SESSION)
}

/// Which cancellation reasons of a failed transaction were failed conditions
/// (by the index of the item in the transaction); `None` for another error.
fn failed_conditions(
    error: &aws_sdk_dynamodb::error::SdkError<TransactWriteItemsError>,
) -> Option<Vec<bool>> {
    match error.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => Some(
            cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code() == Some("ConditionalCheckFailed"))
                .collect(),
        ),
        _ => None,
    }
}

/// An update expression built attribute by attribute, every name through a
/// placeholder (DynamoDB reserves hundreds of words, `status` among them).
#[derive(Default)]
struct Changes {
    sets: Vec<String>,
    removes: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Changes {
    fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#a{}", self.names.len());
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// Sets `attribute`, or removes it when `value` is `None`.
    fn set(&mut self, attribute: &str, value: Option<AttributeValue>) {
        let name = self.name(attribute);
        match value {
            Some(value) => {
                let value = self.value(value);
                self.sets.push(format!("{name} = {value}"));
            }
            None => self.removes.push(name),
        }
    }

    fn expression(&self) -> String {
        let mut expression = String::new();
        if !self.sets.is_empty() {
            expression.push_str(&format!("SET {}", self.sets.join(", ")));
        }
        if !self.removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", self.removes.join(", ")));
        }
        expression.trim().to_owned()
    }
}

/// One Query: a partition of the table or of an index, in sort-key order.
struct KeyQuery {
    index: Option<&'static str>,
    partition_attr: &'static str,
    partition: String,
    sort_attr: &'static str,
    /// Only sort keys for which `<sort_attr> <op> <value>` holds.
    bound: Option<(&'static str, String)>,
    /// Reads of the table itself are consistent; indexes cannot be.
    consistent: bool,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>, estate: impl Into<String>) -> DynamoStore {
        DynamoStore {
            client,
            table: table.into(),
            estate: estate.into(),
        }
    }

    fn status_partition(&self, status: Status) -> String {
        format!("ESTATE#{}#STATUS#{}", self.estate, status.as_str())
    }

    fn department_partition(&self, department: &str, status: Status) -> String {
        format!(
            "ESTATE#{}#DEPT#{department}#STATUS#{}",
            self.estate,
            status.as_str()
        )
    }

    fn assignee_partition(&self, username: &str) -> String {
        format!("ESTATE#{}#ASSIGNEE#{username}", self.estate)
    }

    fn mail_partition(&self) -> String {
        format!("MAIL#{}", self.estate)
    }

    fn outgoing_partition(&self) -> String {
        format!("OUT#{}", self.estate)
    }

    fn outgoing_key(&self, message: &Outgoing) -> Item {
        let pk = match &message.reference {
            Some(reference) => ticket_pk(reference),
            None => format!("OUTGOING#{}", self.estate),
        };
        key(pk, &format!("OUT#{}", message.id))
    }

    fn outgoing_item(&self, m: &Outgoing) -> Item {
        let mut item = self.outgoing_key(m);
        item.insert("id".into(), s(&m.id));
        if let Some(reference) = &m.reference {
            item.insert("reference".into(), s(reference));
        }
        item.insert("purpose".into(), s(m.purpose.as_str()));
        item.insert("channel".into(), s(m.channel.as_str()));
        item.insert("not_before".into(), s(timestamp(m.not_before)));
        item.insert("attempts".into(), n(0));
        item.insert("delivery".into(), s("owed"));
        if let Some(secret) = &m.secret {
            item.insert("secret".into(), s(secret));
        }
        item.insert("gsi2pk".into(), s(self.outgoing_partition()));
        item.insert(
            "gsi2sk".into(),
            s(format!("{}#{}", timestamp(m.not_before), m.id)),
        );
        item
    }

    fn staff_partition(&self) -> String {
        format!("STAFF#{}", self.estate)
    }

    fn secret_partition(&self) -> String {
        format!("SECRET#{}", self.estate)
    }

    /// The attributes a workflow change may alter, with the index keys that
    /// depend on them; `None` means the attribute is absent.
    fn workflow_attributes(
        &self,
        t: &Ticket,
    ) -> Result<Vec<(&'static str, Option<AttributeValue>)>, StoreError> {
        let assigned_while_open = t.assignee.as_deref().filter(|_| t.status.is_open());
        Ok(vec![
            ("status", Some(s(t.status.as_str()))),
            ("department", Some(s(&t.department))),
            ("assignee", t.assignee.as_deref().map(s)),
            ("serious", Some(AttributeValue::Bool(t.serious))),
            ("due_at", Some(s(timestamp(t.due_at)))),
            ("visit_at", t.visit_at.map(|v| s(timestamp(v)))),
            ("done_at", t.done_at.map(|v| s(timestamp(v)))),
            (
                "follow_up",
                t.follow_up.as_ref().map(json).transpose()?.map(s),
            ),
            ("reopen_count", Some(n(t.reopen_count))),
            ("version", Some(n(t.version))),
            ("updated_at", Some(s(timestamp(t.updated_at)))),
            ("updated_by", Some(s(&t.updated_by))),
            ("gsi1pk", Some(s(self.status_partition(t.status)))),
            (
                "gsi1sk",
                Some(s(format!("{}#{}", timestamp(t.due_at), t.reference))),
            ),
            (
                "gsi3pk",
                Some(s(self.department_partition(&t.department, t.status))),
            ),
            (
                "gsi4pk",
                assigned_while_open.map(|a| s(self.assignee_partition(a))),
            ),
        ])
    }

    /// A ticket's place in the sparse `mail-owed` index, while its email is owed.
    fn mail_index_keys(&self, t: &Ticket) -> [(&'static str, Option<AttributeValue>); 2] {
        [
            ("gsi2pk", Some(s(self.mail_partition()))),
            (
                "gsi2sk",
                Some(s(format!(
                    "{}#{}",
                    timestamp(t.mail.next_attempt),
                    t.reference
                ))),
            ),
        ]
    }

    /// The mail attributes of a ticket whose email is owed anew.
    fn owed_mail_attributes(&self, t: &Ticket) -> Vec<(&'static str, Option<AttributeValue>)> {
        let mut attributes = vec![
            ("mail_sent", Some(AttributeValue::Bool(false))),
            ("mail_attempts", Some(n(0))),
            ("mail_error", None),
            ("mail_claimed_until", None),
            ("mail_next_at", Some(s(timestamp(t.mail.next_attempt)))),
            ("mail_purpose", Some(s(t.mail.purpose.as_str()))),
        ];
        attributes.extend(self.mail_index_keys(t));
        attributes
    }

    fn item(&self, t: &Ticket) -> Result<Item, StoreError> {
        let mut item = ticket_key(&t.reference);
        let mut put = |name: &str, value: Option<AttributeValue>| {
            if let Some(value) = value {
                item.insert(name.to_owned(), value);
            }
        };
        put("reference", Some(s(&t.reference)));
        put("estate", Some(s(&self.estate)));
        put("kind", Some(s(&t.kind)));
        put("fields", Some(s(json(&t.fields)?)));
        put("received_at", Some(s(timestamp(t.received_at))));
        put("urgency", Some(s(&t.urgency)));
        put("category", t.category.as_deref().map(s));
        put("status_keys", Some(s(json(&t.status_keys)?)));
        put(
            "snapshot",
            t.snapshot.as_ref().map(json).transpose()?.map(s),
        );
        for (name, value) in self.workflow_attributes(t)? {
            put(name, value);
        }
        put("mail_sent", Some(AttributeValue::Bool(t.mail.sent)));
        put("mail_attempts", Some(n(t.mail.attempts)));
        put("mail_next_at", Some(s(timestamp(t.mail.next_attempt))));
        put("mail_purpose", Some(s(t.mail.purpose.as_str())));
        if !t.mail.sent {
            for (name, value) in self.mail_index_keys(t) {
                put(name, value);
            }
        }
        put("mail_error", t.mail.last_error.as_deref().map(s));
        Ok(item)
    }

    fn event_item(&self, reference: &str, event: &Event) -> Result<Item, StoreError> {
        let mut item = key(ticket_pk(reference), &event_sk(event.seq));
        item.insert("reference".into(), s(reference));
        item.insert("event".into(), s(json(event)?));
        Ok(item)
    }

    fn put_new(&self, item: Item) -> Result<Put, StoreError> {
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| backend("Put", e))
    }

    async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("GetItem", e))?;
        Ok(answer.item)
    }

    /// Runs `q`, page after page, handing each item to `accept` until it
    /// answers `false` (enough) or the partition ends.
    async fn query(
        &self,
        q: &KeyQuery,
        mut accept: impl FnMut(Item) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let mut condition = "#p = :p".to_owned();
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_owned))
            .consistent_read(q.consistent)
            .expression_attribute_names("#p", q.partition_attr)
            .expression_attribute_values(":p", s(&q.partition));
        if let Some((op, value)) = &q.bound {
            if *op == "begins_with" {
                condition.push_str(" AND begins_with(#s, :s)");
            } else {
                condition.push_str(&format!(" AND #s {op} :s"));
            }
            query = query
                .expression_attribute_names("#s", q.sort_attr)
                .expression_attribute_values(":s", s(value));
        }
        let mut pages = query
            .key_condition_expression(condition)
            .scan_index_forward(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            if !accept(item.map_err(|e| backend("Query", e))?)? {
                break;
            }
        }
        Ok(())
    }

    /// The Queries a queue reads.
    fn queue_queries(&self, query: &ListQuery) -> Vec<KeyQuery> {
        let statuses: Vec<Status> = query
            .view
            .statuses()
            .iter()
            .copied()
            .filter(|s| query.filters.status.is_none_or(|f| f == *s))
            .collect();
        let bound = (query.view == View::Overdue).then(|| ("<", timestamp(query.now)));
        let on = |index: &'static str, partition_attr: &'static str, partition: String| KeyQuery {
            index: Some(index),
            partition_attr,
            partition,
            sort_attr: "gsi1sk",
            bound: bound.clone(),
            consistent: false,
        };
        if statuses.is_empty() {
            return Vec::new();
        }
        let department = match &query.view {
            View::Mine(username) => {
                return vec![on(
                    ASSIGNEE_INDEX,
                    "gsi4pk",
                    self.assignee_partition(username),
                )];
            }
            View::Department(department) => Some(department),
            _ => query.filters.department.as_ref(),
        };
        statuses
            .into_iter()
            .map(|status| match department {
                Some(d) => on(
                    DEPARTMENT_INDEX,
                    "gsi3pk",
                    self.department_partition(d, status),
                ),
                None => on(STATUS_INDEX, "gsi1pk", self.status_partition(status)),
            })
            .collect()
    }

    /// Writes one item with `put_item`, conditionally when `condition` is
    /// given; `false` when the condition did not hold.
    async fn put_item(&self, item: Item, condition: Option<&str>) -> Result<bool, StoreError> {
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .send()
            .await;
        match written {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(false),
            Err(e) => Err(backend("PutItem", e)),
        }
    }

    /// What is owed in one partition of the `mail-owed` index and may be
    /// tried at `now`: due, and not claimed (by the `claimed` attribute).
    async fn owed<T>(
        &self,
        partition: String,
        claimed: &str,
        now: DateTime<Utc>,
        limit: usize,
        parse: impl Fn(&Item) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut due = Vec::new();
        if limit == 0 {
            return Ok(due);
        }
        // `~` sorts after every character of a reference or a message id.
        let query = KeyQuery {
            index: Some(MAIL_INDEX),
            partition_attr: "gsi2pk",
            partition,
            sort_attr: "gsi2sk",
            bound: Some(("<=", format!("{}#~", timestamp(now)))),
            consistent: false,
        };
        let now = timestamp(now);
        self.query(&query, |item| {
            let unclaimed = match item.get(claimed) {
                Some(AttributeValue::S(until)) => *until < now,
                _ => true,
            };
            if unclaimed {
                due.push(parse(&item)?);
            }
            Ok(due.len() < limit)
        })
        .await?;
        Ok(due)
    }

    /// An update of one ticket; `false` when its condition did not hold.
    async fn update_ticket(
        &self,
        reference: &str,
        expression: &str,
        condition: Option<&str>,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        self.update_item(ticket_key(reference), expression, condition, values)
            .await
    }

    /// An update of one item; `false` when its condition did not hold.
    async fn update_item(
        &self,
        key: Item,
        expression: &str,
        condition: Option<&str>,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(expression)
            .set_condition_expression(condition.map(str::to_owned));
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        // `status` and `version` are reserved words in DynamoDB's
        // expressions; they are written `#status` and `#version`.
        for word in ["status", "version"] {
            let placeholder = format!("#{word}");
            if expression.contains(&placeholder)
                || condition.is_some_and(|c| c.contains(&placeholder))
            {
                update = update.expression_attribute_names(placeholder, word);
            }
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(is_condition_failure) => Ok(false),
            Err(e) => Err(backend("UpdateItem", e)),
        }
    }
}

fn text(item: &Item, name: &str) -> Result<String, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v.clone()),
        _ => Err(StoreError::Backend(format!(
            "an item lacks the text attribute `{name}`"
        ))),
    }
}

fn number(item: &Item, name: &str) -> Result<u64, StoreError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|_| {
            StoreError::Backend(format!("the attribute `{name}` is not a whole number"))
        }),
        _ => Err(StoreError::Backend(format!(
            "a ticket item lacks the number attribute `{name}`"
        ))),
    }
}

fn time(item: &Item, name: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(&text(item, name)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Backend(format!("the attribute `{name}` is not a time: {e}")))
}

fn ticket_from(item: &Item) -> Result<Ticket, StoreError> {
    let fields = from_json(&text(item, "fields")?, "the ticket's fields")?;
    Ok(Ticket {
        reference: text(item, "reference")?,
        kind: text(item, "kind")?,
        fields,
        received_at: time(item, "received_at")?,
        status: Status::parse(&text(item, "status")?).unwrap_or(Status::Received),
        urgency: text(item, "urgency")?,
        department: text(item, "department")?,
        due_at: time(item, "due_at")?,
        version: number(item, "version")?,
        mail: MailState {
            sent: matches!(item.get("mail_sent"), Some(AttributeValue::Bool(true))),
            attempts: number(item, "mail_attempts")? as u32,
            last_error: text(item, "mail_error").ok(),
            next_attempt: time(item, "mail_next_at")?,
            purpose: MailPurpose::parse(&text(item, "mail_purpose").unwrap_or_default()),
        },
        category: text(item, "category").ok(),
        assignee: text(item, "assignee").ok(),
        serious: matches!(item.get("serious"), Some(AttributeValue::Bool(true))),
        visit_at: time(item, "visit_at").ok(),
        done_at: time(item, "done_at").ok(),
        follow_up: text(item, "follow_up")
            .ok()
            .map(|f| from_json(&f, "the ticket's follow-up"))
            .transpose()?,
        reopen_count: number(item, "reopen_count").unwrap_or(0) as u32,
        updated_at: time(item, "updated_at").or_else(|_| time(item, "received_at"))?,
        updated_by: text(item, "updated_by").unwrap_or_default(),
        status_keys: text(item, "status_keys")
            .ok()
            .map(|k| from_json(&k, "the ticket's status keys"))
            .transpose()?
            .unwrap_or_default(),
        snapshot: text(item, "snapshot")
            .ok()
            .map(|k| from_json(&k, "the ticket's form snapshot"))
            .transpose()?,
        timeline: Vec::new(),
    })
}

fn outgoing_from(item: &Item) -> Result<Outgoing, StoreError> {
    let (purpose, channel) =
        outgoing::kind_from_stored(&text(item, "purpose")?, &text(item, "channel")?)
            .map_err(StoreError::Backend)?;
    let not_before = text(item, "not_before")?;
    Ok(Outgoing {
        id: text(item, "id")?,
        reference: text(item, "reference").ok(),
        purpose,
        channel,
        not_before: DateTime::parse_from_rfc3339(&not_before)
            .map_err(|e| StoreError::Backend(format!("a message's time does not parse: {e}")))?
            .with_timezone(&Utc),
        attempts: number(item, "attempts")? as u32,
        last_error: text(item, "last_error").ok(),
        secret: text(item, "secret").ok(),
        delivery: Delivery::from_stored(&text(item, "delivery")?, text(item, "dropped_why").ok()),
    })
}

#[async_trait]
impl TicketStore for DynamoStore {
    async fn create_with(
        &self,
        ticket: Ticket,
        idempotency: Idempotency,
        owed: &[Outgoing],
        hit: Option<&Hit>,
    ) -> Result<Created, StoreError> {
        let submission_key = key(
            format!("SUBMISSION#{}", idempotency.key(&ticket.kind)),
            SUBMISSION,
        );
        let expires = idempotency.expires(ticket.received_at);
        let mut submission = submission_key.clone();
        submission.insert("reference".into(), s(&ticket.reference));
        submission.insert("expires_at".into(), s(timestamp(expires)));
        submission.insert("expires_at_epoch".into(), n(expires.timestamp()));
        // Item 0: the ticket; item 1: its submission key; then its events.
        let put_ticket = self.put_new(self.item(&ticket)?)?;
        // A submission key may be taken over once its window has passed.
        let put_submission = Put::builder()
            .table_name(&self.table)
            .set_item(Some(submission))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", s(timestamp(ticket.received_at)))
            .build()
            .map_err(|e| backend("Put", e))?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_ticket).build())
            .transact_items(TransactWriteItem::builder().put(put_submission).build());
        for event in &ticket.timeline {
            let put_event = self.put_new(self.event_item(&ticket.reference, event)?)?;
            transaction =
                transaction.transact_items(TransactWriteItem::builder().put(put_event).build());
        }
        for message in owed {
            let put_message = self.put_new(self.outgoing_item(message))?;
            transaction =
                transaction.transact_items(TransactWriteItem::builder().put(put_message).build());
        }
        if let Some(hit) = hit {
            // Unconditional and last, so it never cancels the transaction
            // and the indexes of the conditions above stay as they are.
            let count = Update::builder()
                .table_name(&self.table)
                .set_key(Some(rate_key(&hit.key)))
                .update_expression(COUNT_HIT)
                .set_expression_attribute_values(count_hit_values(hit))
                .build()
                .map_err(|e| backend("Update", e))?;
            transaction =
                transaction.transact_items(TransactWriteItem::builder().update(count).build());
        }
        let error = match transaction.send().await {
            Ok(_) => return Ok(Created::New(ticket)),
            Err(e) => e,
        };
        let Some(failed) = failed_conditions(&error) else {
            return Err(backend("TransactWriteItems", error));
        };
        if failed.get(1) == Some(&true) {
            // The same submission was stored first: return that ticket.
            let earlier = self.get_item(submission_key).await?.ok_or_else(|| {
                StoreError::Backend("a submission key vanished while being read".into())
            })?;
            let reference = text(&earlier, "reference")?;
            return match self.get(&reference).await? {
                Some(existing) => Ok(Created::Existing(existing)),
                None => Err(StoreError::Backend(format!(
                    "the submission names {reference}, which is not stored"
                ))),
            };
        }
        if failed.first() == Some(&true) {
            return Err(StoreError::ReferenceTaken(ticket.reference));
        }
        Err(backend("TransactWriteItems", error))
    }

    async fn get(&self, reference: &str) -> Result<Option<Ticket>, StoreError> {
        let query = KeyQuery {
            index: None,
            partition_attr: "pk",
            partition: ticket_pk(reference),
            sort_attr: "sk",
            bound: None,
            consistent: true,
        };
        let mut ticket = None;
        let mut timeline: Vec<Event> = Vec::new();
        self.query(&query, |item| {
            let sk = text(&item, "sk")?;
            if sk == TICKET {
                ticket = Some(ticket_from(&item)?);
            } else if sk.starts_with("EVENT#") {
                timeline.push(from_json(&text(&item, "event")?, "a timeline event")?);
            }
            Ok(true)
        })
        .await?;
        Ok(ticket.map(|mut ticket: Ticket| {
            timeline.sort_by_key(|e| e.seq);
            ticket.timeline = timeline;
            ticket
        }))
    }

    async fn list(&self, query: &ListQuery) -> Result<Vec<Ticket>, StoreError> {
        // Each partition comes earliest due first, as the queue is sorted,
        // so `limit` matches from each are enough; the new queue puts
        // serious tickets first, so it reads its partitions whole.
        let enough = if query.view == View::New {
            usize::MAX
        } else {
            query.limit
        };
        let mut reads = tokio::task::JoinSet::new();
        for key_query in self.queue_queries(query) {
            let (store, query) = (self.clone(), query.clone());
            reads.spawn(async move {
                let mut tickets = Vec::new();
                store
                    .query(&key_query, |item| {
                        let ticket = ticket_from(&item)?;
                        if query.matches(&ticket) {
                            tickets.push(ticket);
                        }
                        Ok(tickets.len() < enough)
                    })
                    .await
                    .map(|()| tickets)
            });
        }
        let mut tickets = Vec::new();
        while let Some(read) = reads.join_next().await {
            tickets.extend(read.map_err(|e| StoreError::Backend(e.to_string()))??);
        }
        sort_queue(&query.view, &mut tickets);
        tickets.truncate(query.limit);
        Ok(tickets)
    }

    async fn record(&self, change: &Change) -> Result<(), StoreError> {
        let t = &change.ticket;
        // Only what the workflow changes: the notifier updates the mail
        // attributes of the same item concurrently.
        let mut changes = Changes::default();
        for (name, value) in self.workflow_attributes(t)? {
            changes.set(name, value);
        }
        if change.owes_mail {
            for (name, value) in self.owed_mail_attributes(t) {
                changes.set(name, value);
            }
        }
        changes.names.insert("#version".into(), "version".into());
        changes
            .values
            .insert(":seen".into(), n(t.version.saturating_sub(1)));
        let update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ticket_key(&t.reference)))
            .update_expression(changes.expression())
            .condition_expression("#version = :seen")
            .set_expression_attribute_names(Some(changes.names))
            .set_expression_attribute_values(Some(changes.values))
            .build()
            .map_err(|e| backend("Update", e))?;
        let put_event = self.put_new(self.event_item(&t.reference, &change.event)?)?;
        let mut transaction = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().update(update).build())
            .transact_items(TransactWriteItem::builder().put(put_event).build());
        for message in &change.owed {
            let put_message = self.put_new(self.outgoing_item(message))?;
            transaction =
                transaction.transact_items(TransactWriteItem::builder().put(put_message).build());
        }
        let written = transaction.send().await;
        let error = match written {
            Ok(_) => return Ok(()),
            Err(e) => e,
        };
        match failed_conditions(&error) {
            Some(failed) if failed.first() == Some(&true) => {
                Err(match self.get_item(ticket_key(&t.reference)).await? {
                    None => StoreError::NotFound(t.reference.clone()),
                    Some(_) => StoreError::Conflict(t.reference.clone()),
                })
            }
            Some(failed) if failed.get(1) == Some(&true) => Err(StoreError::Backend(format!(
                "ticket {} already has a timeline event {}",
                t.reference, change.event.seq
            ))),
            _ => Err(backend("TransactWriteItems", error)),
        }
    }

    async fn add_status_key(&self, reference: &str, key_hash: &str) -> Result<(), StoreError> {
        // Read, add, write back on the condition that nobody added one in
        // between; a repeat of the same submission at the same moment is
        // rare, so a few tries suffice.
        for _ in 0..5 {
            let Some(ticket) = self.get_item(ticket_key(reference)).await? else {
                return Err(StoreError::NotFound(reference.to_owned()));
            };
            let old = text(&ticket, "status_keys").unwrap_or_else(|_| "[]".to_owned());
            let mut keys: Vec<String> = from_json(&old, "the ticket's status keys")?;
            keys.push(key_hash.to_owned());
            let excess = keys.len().saturating_sub(super::MAX_STATUS_KEYS);
            keys.drain(..excess);
            let written = self
                .update_ticket(
                    reference,
                    "SET status_keys = :new",
                    Some("attribute_not_exists(status_keys) OR status_keys = :old"),
                    vec![(":new", s(json(&keys)?)), (":old", s(old))],
                )
                .await?;
            if written {
                return Ok(());
            }
        }
        Err(StoreError::Conflict(reference.to_owned()))
    }

    async fn mail_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        self.owed(
            self.mail_partition(),
            "mail_claimed_until",
            now,
            limit,
            ticket_from,
        )
        .await
    }

    async fn claim_mail(
        &self,
        reference: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.update_ticket(
            reference,
            "SET mail_claimed_until = :until",
            Some("attribute_exists(gsi2pk) AND (attribute_not_exists(mail_claimed_until) OR mail_claimed_until < :now)"),
            vec![(":until", s(timestamp(until))), (":now", s(timestamp(now)))],
        )
        .await
    }

    async fn mail_sent(&self, reference: &str) -> Result<(), StoreError> {
        self.update_ticket(
            reference,
            "SET mail_sent = :sent, mail_attempts = mail_attempts + :one REMOVE gsi2pk, gsi2sk, mail_claimed_until, mail_error",
            Some("attribute_exists(pk)"),
            vec![(":sent", AttributeValue::Bool(true)), (":one", n(1))],
        )
        .await
        .map(|_| ())
    }

    async fn mail_failed(
        &self,
        reference: &str,
        error: &str,
        next_attempt: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.update_ticket(
            reference,
            "SET mail_attempts = mail_attempts + :one, mail_error = :error, mail_next_at = :next, gsi2sk = :sort REMOVE mail_claimed_until",
            Some("attribute_exists(gsi2pk)"),
            vec![
                (":one", n(1)),
                (":error", s(error)),
                (":next", s(timestamp(next_attempt))),
                (":sort", s(format!("{}#{reference}", timestamp(next_attempt)))),
            ],
        )
        .await
        .map(|_| ())
    }

    async fn owe(&self, message: &Outgoing) -> Result<bool, StoreError> {
        self.put_item(
            self.outgoing_item(message),
            Some("attribute_not_exists(pk)"),
        )
        .await
    }

    async fn outgoing_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Outgoing>, StoreError> {
        self.owed(
            self.outgoing_partition(),
            "claimed_until",
            now,
            limit,
            outgoing_from,
        )
        .await
    }

    async fn claim_outgoing(
        &self,
        message: &Outgoing,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.update_item(
            self.outgoing_key(message),
            "SET claimed_until = :until",
            Some("attribute_exists(gsi2pk) AND (attribute_not_exists(claimed_until) OR claimed_until < :now)"),
            vec![(":until", s(timestamp(until))), (":now", s(timestamp(now)))],
        )
        .await
    }

    async fn settle_outgoing(&self, message: &Outgoing, how: &Settle) -> Result<(), StoreError> {
        let key = self.outgoing_key(message);
        let settled = "REMOVE gsi2pk, gsi2sk, claimed_until, secret, last_error";
        let (expression, values) = match how {
            Settle::Sent => (
                format!("SET delivery = :d, attempts = attempts + :one {settled}"),
                vec![(":d", s("sent")), (":one", n(1))],
            ),
            Settle::Dropped(why) => (
                format!("SET delivery = :d, dropped_why = :why {settled}"),
                vec![(":d", s("dropped")), (":why", s(why))],
            ),
            Settle::GaveUp(error) => (
                format!("SET delivery = :d, dropped_why = :why, attempts = attempts + :one {settled}"),
                vec![(":d", s("failed")), (":why", s(error)), (":one", n(1))],
            ),
            Settle::Retry { error, next } => (
                "SET attempts = attempts + :one, last_error = :error, not_before = :next, gsi2sk = :sort REMOVE claimed_until".to_owned(),
                vec![
                    (":one", n(1)),
                    (":error", s(error)),
                    (":next", s(timestamp(*next))),
                    (":sort", s(format!("{}#{}", timestamp(*next), message.id))),
                ],
            ),
            Settle::Defer(next) => (
                "SET not_before = :next, gsi2sk = :sort REMOVE claimed_until".to_owned(),
                vec![
                    (":next", s(timestamp(*next))),
                    (":sort", s(format!("{}#{}", timestamp(*next), message.id))),
                ],
            ),
        };
        self.update_item(key, &expression, Some("attribute_exists(gsi2pk)"), values)
            .await
            .map(|_| ())
    }

    async fn outgoing_of(&self, reference: &str) -> Result<Vec<Outgoing>, StoreError> {
        let query = KeyQuery {
            index: None,
            partition_attr: "pk",
            partition: ticket_pk(reference),
            sort_attr: "sk",
            bound: Some(("begins_with", "OUT#".to_owned())),
            consistent: true,
        };
        let mut messages = Vec::new();
        self.query(&query, |item| {
            messages.push(outgoing_from(&item)?);
            Ok(true)
        })
        .await?;
        Ok(messages)
    }

    async fn count_hit(&self, hit: &Hit) -> Result<u32, StoreError> {
        let answer = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(rate_key(&hit.key)))
            .update_expression(COUNT_HIT)
            .set_expression_attribute_values(count_hit_values(hit))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| backend("UpdateItem", e))?;
        let hits = answer
            .attributes
            .as_ref()
            .map(|a| number(a, "hits"))
            .transpose()?
            .unwrap_or(1);
        Ok(hits as u32)
    }

    async fn read_hits(&self, windows: &[String]) -> Result<Vec<u32>, StoreError> {
        let mut hits: HashMap<String, u32> = HashMap::new();
        // A batch may not name one key twice.
        let mut wanted: Vec<&String> = windows.iter().collect();
        wanted.sort();
        wanted.dedup();
        let mut keys: Vec<Item> = wanted.into_iter().map(|w| rate_key(w)).collect();
        for round in 0..BATCH_GET_ROUNDS {
            if keys.is_empty() {
                break;
            }
            if round > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20 << round)).await;
            }
            let batch = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .build()
                .map_err(|e| backend("BatchGetItem", e))?;
            let mut answer = self
                .client
                .batch_get_item()
                .request_items(&self.table, batch)
                .send()
                .await
                .map_err(|e| backend("BatchGetItem", e))?;
            let found = answer
                .responses
                .as_mut()
                .and_then(|r| r.remove(&self.table))
                .unwrap_or_default();
            for item in found {
                hits.insert(text(&item, "pk")?, number(&item, "hits")? as u32);
            }
            keys = answer
                .unprocessed_keys
                .as_mut()
                .and_then(|u| u.remove(&self.table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
        if !keys.is_empty() {
            return Err(StoreError::Backend(
                "DynamoDB BatchGetItem: rate counts left unread after retries".into(),
            ));
        }
        Ok(windows
            .iter()
            .map(|w| hits.get(&format!("RATE#{w}")).copied().unwrap_or(0))
            .collect())
    }

    async fn installation_secret(&self) -> Result<String, StoreError> {
        let fresh = crate::accounts::random_token()
            .map_err(|e| StoreError::Backend(format!("no randomness for a secret: {e}")))?;
        let mut item = key(self.secret_partition(), SECRET);
        item.insert("secret".into(), s(fresh));
        // The first instance to ask writes it; every other reads that one.
        self.put_item(item, Some("attribute_not_exists(pk)"))
            .await?;
        let stored = self
            .get_item(key(self.secret_partition(), SECRET))
            .await?
            .ok_or_else(|| StoreError::Backend("the installation secret was not kept".into()))?;
        text(&stored, "secret")
    }

    async fn put_staff(&self, staff: &Staff, replace: bool) -> Result<(), StoreError> {
        let mut item = key(self.staff_partition(), &staff.username);
        item.insert("account".into(), s(json(staff)?));
        let condition = (!replace).then_some("attribute_not_exists(pk)");
        if self.put_item(item, condition).await? {
            Ok(())
        } else {
            Err(StoreError::AccountExists(staff.username.clone()))
        }
    }

    async fn get_staff(&self, username: &str) -> Result<Option<Staff>, StoreError> {
        self.get_item(key(self.staff_partition(), username))
            .await?
            .map(|item| from_json(&text(&item, "account")?, "a staff account"))
            .transpose()
    }

    async fn list_staff(&self) -> Result<Vec<Staff>, StoreError> {
        let query = KeyQuery {
            index: None,
            partition_attr: "pk",
            partition: self.staff_partition(),
            sort_attr: "sk",
            bound: None,
            consistent: true,
        };
        // The sort key is the username, so they come in its order.
        let mut staff = Vec::new();
        self.query(&query, |item| {
            staff.push(from_json(&text(&item, "account")?, "a staff account")?);
            Ok(true)
        })
        .await?;
        Ok(staff)
    }

    async fn put_session(&self, session: &Session) -> Result<(), StoreError> {
        let expires = session.expires_at();
        let mut item = session_key(&session.id_hash);
        item.insert("session".into(), s(json(session)?));
        item.insert("estate".into(), s(&self.estate));
        item.insert("expires_at".into(), s(timestamp(expires)));
        item.insert("expires_at_epoch".into(), n(expires.timestamp()));
        self.put_item(item, None).await.map(|_| ())
    }

    async fn get_session(&self, id_hash: &str) -> Result<Option<Session>, StoreError> {
        let Some(item) = self.get_item(session_key(id_hash)).await? else {
            return Ok(None);
        };
        // A table shared by estates: a session signs in to its own only.
        if text(&item, "estate")? != self.estate {
            return Ok(None);
        }
        from_json(&text(&item, "session")?, "a session").map(Some)
    }

    async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(session_key(id_hash)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| backend("DeleteItem", e))
    }
}
