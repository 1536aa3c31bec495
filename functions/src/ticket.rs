//! A ticket: one stored request, with its reference and its deadline.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// Where a ticket is in the desk's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Received,
    Acknowledged,
    InProgress,
    Resolved,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Acknowledged => "acknowledged",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::Received,
            Status::Acknowledged,
            Status::InProgress,
            Status::Resolved,
            Status::Closed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// How an owner reads it on the receipt page.
    pub fn label(self) -> &'static str {
        match self {
            Status::Received => "已受理，等待处理",
            Status::Acknowledged => "已确认，正在安排",
            Status::InProgress => "处理中",
            Status::Resolved => "已处理，等待回访",
            Status::Closed => "已完成",
        }
    }
}

/// Whether the desk email for a ticket still has to go out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailState {
    pub sent: bool,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// Not before this time (back-off after a failure).
    pub next_attempt: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub reference: String,
    pub kind: String,
    /// The validated fields in the form's order. Personal data: never logged.
    pub fields: Vec<(String, String)>,
    pub received_at: DateTime<Utc>,
    pub status: Status,
    /// The commitment that applies (e.g. `emergency`, `ordinary`).
    pub urgency: String,
    pub department: String,
    pub due_at: DateTime<Utc>,
    /// Bumped on every change; updates name the version they saw.
    pub version: u64,
    pub mail: MailState,
}

/// Crockford's base-32 digits: no I, L, O or U, so a reference read out
/// over the phone cannot be misheard as another.
const DIGITS: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RANDOM_DIGITS: usize = 6;

/// A new reference such as `BX-20261123-7K3QX9`: the form's prefix, the
/// day it was received (estate time) and six random digits (30 bits), so
/// one reference says nothing about the next.
pub fn new_reference(
    prefix: &str,
    received: DateTime<FixedOffset>,
) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; RANDOM_DIGITS];
    getrandom::fill(&mut bytes)?;
    let random: String = bytes
        .iter()
        .map(|b| DIGITS[usize::from(b % 32)] as char)
        .collect();
    Ok(format!("{prefix}-{}-{random}", received.format("%Y%m%d")))
}

/// Whether `text` has the shape of a reference; anything else is not looked up.
pub fn is_reference(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    matches!(parts.as_slice(), [prefix, day, random]
        if prefix.len() == 2 && prefix.bytes().all(|b| b.is_ascii_uppercase())
        && day.len() == 8 && day.bytes().all(|b| b.is_ascii_digit())
        && random.len() == RANDOM_DIGITS && random.bytes().all(|b| DIGITS.contains(&b)))
}

pub fn due_at(received: DateTime<Utc>, within: std::time::Duration) -> DateTime<Utc> {
    let within = Duration::from_std(within).unwrap_or(Duration::days(365));
    received + within
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_readable_and_random() {
        let when = DateTime::parse_from_rfc3339("2026-11-23T02:10:00+08:00").unwrap();
        let a = new_reference("BX", when).unwrap();
        let b = new_reference("BX", when).unwrap();
        assert!(a.starts_with("BX-20261123-"), "{a}");
        assert!(is_reference(&a) && is_reference(&b));
        assert_ne!(a, b);
        assert!(
            !is_reference("BX-20261123-7K3QI9"),
            "I is not a Crockford digit"
        );
        assert!(!is_reference("../../etc/passwd"));
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            "received",
            "acknowledged",
            "in_progress",
            "resolved",
            "closed",
        ] {
            assert_eq!(Status::parse(s).map(Status::as_str), Some(s));
        }
        assert_eq!(Status::parse("lost"), None);
    }
}
