//! The ticket store on AWS: one DynamoDB table (its schema is in
//! `template.yaml`, resource `TicketTable`; the README explains it).
//!
//! Items:
//! - a ticket: `pk = TICKET#<reference>`, `sk = TICKET`; listed through the
//!   `by-status-due` index (`gsi1pk = ESTATE#<estate>#STATUS#<status>`,
//!   `gsi1sk = <due>#<reference>`); while its email is owed it is also in
//!   the sparse `mail-owed` index (`gsi2pk = MAIL#<estate>`,
//!   `gsi2sk = <next attempt>#<reference>`).
//! - a submission key: `pk = SUBMISSION#<key>`: which ticket a token or a
//!   digest made, until `expires_at`.
//! - a rate-limit counter: `pk = RATE#<client>#<window>`.
//!
//! Keys name their window and readers compare expiry times, so nothing
//! depends on TTL deleting old items (DynamoDB does so late, emulators
//! never): `expires_at_epoch` only tidies up.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use chrono::{DateTime, Utc};

use super::{Change, Created, Idempotency, ListQuery, StoreError, TicketStore, timestamp};
use crate::accounts::{Session, Staff};
use crate::ticket::{MailPurpose, MailState, Status, Ticket};

const TICKET: &str = "TICKET";
const SUBMISSION: &str = "SUBMISSION";
const RATE: &str = "RATE";
pub const STATUS_INDEX: &str = "by-status-due";
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

fn is_condition_failure(e: &impl ProvideErrorMetadata) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

type Item = HashMap<String, AttributeValue>;

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_owned(), s(pk)), ("sk".to_owned(), s(sk))])
}

fn ticket_key(reference: &str) -> Item {
    key(format!("TICKET#{reference}"), TICKET)
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

    fn mail_partition(&self) -> String {
        format!("MAIL#{}", self.estate)
    }

    fn item(&self, t: &Ticket) -> Result<Item, StoreError> {
        let fields =
            serde_json::to_string(&t.fields).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut item = ticket_key(&t.reference);
        let mut put = |name: &str, value: AttributeValue| {
            item.insert(name.to_owned(), value);
        };
        put("reference", s(&t.reference));
        put("estate", s(&self.estate));
        put("kind", s(&t.kind));
        put("fields", s(fields));
        put("received_at", s(timestamp(t.received_at)));
        put("status", s(t.status.as_str()));
        put("urgency", s(&t.urgency));
        put("department", s(&t.department));
        put("due_at", s(timestamp(t.due_at)));
        put("version", n(t.version));
        put("mail_sent", AttributeValue::Bool(t.mail.sent));
        put("mail_attempts", n(t.mail.attempts));
        put("mail_next_at", s(timestamp(t.mail.next_attempt)));
        if let Some(error) = &t.mail.last_error {
            put("mail_error", s(error));
        }
        put("gsi1pk", s(self.status_partition(t.status)));
        put(
            "gsi1sk",
            s(format!("{}#{}", timestamp(t.due_at), t.reference)),
        );
        if !t.mail.sent {
            put("gsi2pk", s(self.mail_partition()));
            put(
                "gsi2sk",
                s(format!(
                    "{}#{}",
                    timestamp(t.mail.next_attempt),
                    t.reference
                )),
            );
        }
        Ok(item)
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

    async fn query(
        &self,
        index: &str,
        partition_attr: &str,
        partition: String,
        upto: Option<String>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut condition = format!("{partition_attr} = :p");
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .expression_attribute_values(":p", s(partition));
        if let Some(upto) = upto {
            let sort_attr = partition_attr.replace("pk", "sk");
            condition.push_str(&format!(" AND {sort_attr} <= :upto"));
            query = query.expression_attribute_values(":upto", s(upto));
        }
        let mut items = Vec::new();
        let mut pages = query
            .key_condition_expression(condition)
            .scan_index_forward(true)
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            items.push(item.map_err(|e| backend("Query", e))?);
        }
        Ok(items)
    }

    /// An update of one ticket; `false` when its condition did not hold.
    async fn update_ticket(
        &self,
        reference: &str,
        expression: &str,
        condition: Option<&str>,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<bool, StoreError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ticket_key(reference)))
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
            "a ticket item lacks the text attribute `{name}`"
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
    let fields = serde_json::from_str(&text(item, "fields")?)
        .map_err(|e| StoreError::Backend(format!("the ticket's fields do not parse: {e}")))?;
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
            .and_then(|f| serde_json::from_str(&f).ok()),
        reopen_count: number(item, "reopen_count").unwrap_or(0) as u32,
        updated_at: time(item, "updated_at").or_else(|_| time(item, "received_at"))?,
        updated_by: text(item, "updated_by").unwrap_or_default(),
        timeline: Vec::new(),
    })
}

#[async_trait]
impl TicketStore for DynamoStore {
    async fn create(
        &self,
        ticket: Ticket,
        idempotency: Idempotency,
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
        let put_ticket = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.item(&ticket)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| backend("Put", e))?;
        // A submission key may be taken over once its window has passed.
        let put_submission = Put::builder()
            .table_name(&self.table)
            .set_item(Some(submission))
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", s(timestamp(ticket.received_at)))
            .build()
            .map_err(|e| backend("Put", e))?;
        let written = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_ticket).build())
            .transact_items(TransactWriteItem::builder().put(put_submission).build())
            .send()
            .await;
        let error = match written {
            Ok(_) => return Ok(Created::New(ticket)),
            Err(e) => e,
        };
        let reasons: Vec<Option<String>> = match error.as_service_error() {
            Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(cancelled)) => cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().map(str::to_owned))
                .collect(),
            _ => return Err(backend("TransactWriteItems", error)),
        };
        let failed =
            |i: usize| reasons.get(i).and_then(Option::as_deref) == Some("ConditionalCheckFailed");
        if failed(1) {
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
        if failed(0) {
            return Err(StoreError::ReferenceTaken(ticket.reference));
        }
        Err(backend("TransactWriteItems", error))
    }

    async fn get(&self, reference: &str) -> Result<Option<Ticket>, StoreError> {
        self.get_item(ticket_key(reference))
            .await?
            .as_ref()
            .map(ticket_from)
            .transpose()
    }

    async fn list(&self, _query: &ListQuery) -> Result<Vec<Ticket>, StoreError> {
        Err(StoreError::Backend("DynamoDB: list is being written".into()))
    }

    async fn record(&self, _change: &Change) -> Result<(), StoreError> {
        Err(StoreError::Backend("DynamoDB: record is being written".into()))
    }

    async fn mail_due(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<Ticket>, StoreError> {
        // `~` sorts after every character of a reference.
        let upto = format!("{}#~", timestamp(now));
        let items = self
            .query(MAIL_INDEX, "gsi2pk", self.mail_partition(), Some(upto))
            .await?;
        let now = timestamp(now);
        let unclaimed = items
            .iter()
            .filter(|item| match item.get("mail_claimed_until") {
                Some(AttributeValue::S(until)) => *until < now,
                _ => true,
            });
        unclaimed.take(limit).map(ticket_from).collect()
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

    async fn count_hit(
        &self,
        client_window: &str,
        window_end: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let answer = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(format!("RATE#{client_window}"), RATE)))
            .update_expression("ADD hits :one SET expires_at_epoch = :expires")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expires", n(window_end.timestamp()))
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

    async fn put_staff(&self, _staff: &Staff, _replace: bool) -> Result<(), StoreError> {
        Err(StoreError::Backend("DynamoDB: staff is being written".into()))
    }

    async fn get_staff(&self, _username: &str) -> Result<Option<Staff>, StoreError> {
        Err(StoreError::Backend("DynamoDB: staff is being written".into()))
    }

    async fn list_staff(&self) -> Result<Vec<Staff>, StoreError> {
        Err(StoreError::Backend("DynamoDB: staff is being written".into()))
    }

    async fn put_session(&self, _session: &Session) -> Result<(), StoreError> {
        Err(StoreError::Backend("DynamoDB: sessions are being written".into()))
    }

    async fn get_session(&self, _id_hash: &str) -> Result<Option<Session>, StoreError> {
        Err(StoreError::Backend("DynamoDB: sessions are being written".into()))
    }

    async fn delete_session(&self, _id_hash: &str) -> Result<(), StoreError> {
        Err(StoreError::Backend("DynamoDB: sessions are being written".into()))
    }
}
