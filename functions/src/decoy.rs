//! The honeypot's answer: a bot that fills the hidden field is told its
//! request was received, exactly as an owner is (the same reference shape,
//! the same due time from the chosen urgency, a status page that opens),
//! but nothing is stored and nobody is mailed.
//!
//! The status page needs no stored record: its key carries, sealed with
//! the installation's secret, when the request came and which option of
//! each choice field was picked, and from those the page is rebuilt the
//! way a stored ticket's is. The key has the length and alphabet of a real
//! one, so neither the address nor the page tells the two apart.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use forms::{FormDefinition, Validated};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::desk::Desk;
use crate::outgoing::{Delivery, Outgoing};
use crate::ticket::Ticket;

/// A real status key is 32 random bytes, written as hex.
const KEY_BYTES: usize = 32;
/// The second of the estate's day the request came (the day is in the
/// reference).
const TIME_BYTES: usize = 3;
/// Choice fields remembered, one byte each; a form's later ones are
/// shown as not chosen.
const MAX_CHOICES: usize = 8;
const NOT_CHOSEN: u8 = u8::MAX;
/// How soon a real desk has sent a message that came due.
const SENT_WITHIN: chrono::TimeDelta = chrono::TimeDelta::seconds(5);
/// At least this much of the key is the seal.
const _: () = assert!(KEY_BYTES - TIME_BYTES - MAX_CHOICES >= 16);

/// The answer to a caught submission: a ticket as it would be stored, and
/// the key of its status page.
pub async fn file(
    desk: &Desk,
    form: &FormDefinition,
    valid: &Validated,
) -> Result<(Ticket, String), getrandom::Error> {
    let now = desk.clock.now();
    let local = desk.clock.local(now);
    let reference = crate::ticket::new_reference(&form.reference_prefix, local)?;
    let second = local
        .time()
        .signed_duration_since(NaiveTime::MIN)
        .num_seconds() as u32;
    let mut payload = second.to_be_bytes()[1..].to_vec();
    for field in choice_fields(form) {
        let index = valid
            .get(&field.name)
            .and_then(|v| field.options.iter().position(|c| c.value == v))
            .and_then(|i| u8::try_from(i).ok())
            .unwrap_or(NOT_CHOSEN);
        payload.push(index);
    }
    let received = received_at(desk, &reference, &payload).unwrap_or(now);
    let (ticket, _) = rebuild(desk, form, reference, received, &payload);
    let key = seal(desk.secret().await, form, &ticket.reference, &payload);
    Ok((ticket, key))
}

/// The ticket a decoy status page shows, and the messages a real one would
/// owe, if `key` is one this desk sealed for `reference`.
pub async fn open(
    desk: &Desk,
    form: &FormDefinition,
    reference: &str,
    key: &str,
) -> Option<(Ticket, Vec<Outgoing>)> {
    let bytes = from_hex(key)?;
    let length = TIME_BYTES + choice_fields(form).count();
    let secret = desk.secret().await;
    let mask = mask(secret, reference, length);
    let payload: Vec<u8> = bytes[..length]
        .iter()
        .zip(&mask)
        .map(|(b, m)| b ^ m)
        .collect();
    let mac = mac(secret, form, reference, &payload);
    mac.verify_truncated_left(&bytes[length..]).ok()?;
    let received = received_at(desk, reference, &payload)?;
    Some(rebuild(
        desk,
        form,
        reference.to_owned(),
        received,
        &payload,
    ))
}

fn choice_fields(form: &FormDefinition) -> impl Iterator<Item = &forms::Field> {
    form.fields
        .iter()
        .filter(|f| !f.options.is_empty())
        .take(MAX_CHOICES)
}

fn rebuild(
    desk: &Desk,
    form: &FormDefinition,
    reference: String,
    received: DateTime<Utc>,
    payload: &[u8],
) -> (Ticket, Vec<Outgoing>) {
    let values = choice_fields(form)
        .zip(&payload[TIME_BYTES..])
        .filter_map(|(field, &i)| {
            let choice = field.options.get(usize::from(i))?;
            Some((field.name.clone(), choice.value.clone()))
        })
        .collect();
    let valid = form.decide(values);
    let ticket = desk.new_ticket(form, &valid, reference, received);
    let mut planned = crate::outgoing::for_new_ticket(
        &ticket.form(&desk.forms),
        &ticket,
        valid.alert,
        &desk.duty,
        "",
    );
    // A real desk sends what is due within moments; the page then says the
    // duty staff were told, and so must the decoy's.
    let now = desk.clock.now();
    for message in &mut planned {
        if message.not_before + SENT_WITHIN <= now {
            message.delivery = Delivery::Sent;
        }
    }
    (ticket, planned)
}

/// The day from the reference (`RP-20261202-…`), the second from the key.
fn received_at(desk: &Desk, reference: &str, payload: &[u8]) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(reference.split('-').nth(1)?, "%Y%m%d").ok()?;
    let second = u32::from_be_bytes([0, payload[0], payload[1], payload[2]]);
    let time = NaiveTime::from_num_seconds_from_midnight_opt(second, 0)?;
    let local = desk
        .clock
        .offset()
        .from_local_datetime(&day.and_time(time))
        .single()?;
    Some(local.with_timezone(&Utc))
}

fn seal(secret: &str, form: &FormDefinition, reference: &str, payload: &[u8]) -> String {
    let mask = mask(secret, reference, payload.len());
    let mut key: Vec<u8> = payload.iter().zip(&mask).map(|(b, m)| b ^ m).collect();
    let tag = mac(secret, form, reference, payload)
        .finalize()
        .into_bytes();
    key.extend_from_slice(&tag[..KEY_BYTES - payload.len()]);
    key.iter().map(|b| format!("{b:02x}")).collect()
}

fn keyed(secret: &str, purpose: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(purpose.as_bytes());
    mac.update(&[0]);
    mac
}

/// Hides the payload, so keys look alike random, as real ones are.
fn mask(secret: &str, reference: &str, length: usize) -> Vec<u8> {
    let mut mac = keyed(secret, "decoy mask");
    mac.update(reference.as_bytes());
    mac.finalize().into_bytes()[..length].to_vec()
}

fn mac(secret: &str, form: &FormDefinition, reference: &str, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = keyed(secret, "decoy seal");
    for part in [form.kind.as_bytes(), reference.as_bytes(), payload] {
        mac.update(part);
        mac.update(&[0]);
    }
    mac
}

fn from_hex(key: &str) -> Option<Vec<u8>> {
    if key.len() != KEY_BYTES * 2 || !key.is_ascii() {
        return None;
    }
    (0..KEY_BYTES)
        .map(|i| u8::from_str_radix(&key[i * 2..i * 2 + 2], 16).ok())
        .collect()
}
