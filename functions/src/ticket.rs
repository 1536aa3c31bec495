//! A ticket: one stored request, with its reference, its deadline, where it
//! is in the desk's work and the timeline of everything done about it.

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

/// Where a ticket is in the desk's work. Which actions move it between
/// these is said once, in [`crate::workflow`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Filed, waiting for the desk to dispatch it.
    Received,
    /// Sent to a department (and maybe a named person).
    Dispatched,
    /// A visit time is agreed with the owner.
    Scheduled,
    InProgress,
    /// 挂起: waiting for parts or a third party, with a reason.
    OnHold,
    /// 待验收: the work is done, awaiting the owner's acceptance and 回访.
    Done,
    /// 回访 recorded.
    FollowedUp,
    Closed,
    /// The owner was not satisfied; back in the desk's hands.
    Reopened,
    /// A duplicate or withdrawn, with a reason.
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Received,
        Status::Dispatched,
        Status::Scheduled,
        Status::InProgress,
        Status::OnHold,
        Status::Done,
        Status::FollowedUp,
        Status::Closed,
        Status::Reopened,
        Status::Cancelled,
    ];

    /// Still someone's work: past its due time it is overdue.
    pub const OPEN: [Status; 6] = [
        Status::Received,
        Status::Dispatched,
        Status::Scheduled,
        Status::InProgress,
        Status::OnHold,
        Status::Reopened,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Dispatched => "dispatched",
            Status::Scheduled => "scheduled",
            Status::InProgress => "in_progress",
            Status::OnHold => "on_hold",
            Status::Done => "done",
            Status::FollowedUp => "followed_up",
            Status::Closed => "closed",
            Status::Reopened => "reopened",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        // The names of the first release, so tickets stored then still read.
        match text {
            "acknowledged" => return Some(Status::Dispatched),
            "resolved" => return Some(Status::Done),
            _ => {}
        }
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_open(self) -> bool {
        Status::OPEN.contains(&self)
    }

    /// How an owner reads it.
    pub fn label(self) -> &'static str {
        match self {
            Status::Received => "已受理，等待派单",
            Status::Dispatched => "已派单，等待安排",
            Status::Scheduled => "已预约上门",
            Status::InProgress => "处理中",
            Status::OnHold => "暂停处理（等待配件或第三方）",
            Status::Done => "已处理，等待您验收",
            Status::FollowedUp => "已回访",
            Status::Closed => "已完成",
            Status::Reopened => "重新处理中",
            Status::Cancelled => "已取消",
        }
    }

    /// The desk's short name for it.
    pub fn staff_label(self) -> &'static str {
        match self {
            Status::Received => "待派单",
            Status::Dispatched => "已派单",
            Status::Scheduled => "已预约",
            Status::InProgress => "处理中",
            Status::OnHold => "挂起",
            Status::Done => "待验收",
            Status::FollowedUp => "已回访",
            Status::Closed => "已关闭",
            Status::Reopened => "重新处理",
            Status::Cancelled => "已取消",
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
    /// What the owed email is about.
    #[serde(default)]
    pub purpose: MailPurpose,
}

impl MailState {
    /// The next attempt of an email given up on: never due again. Kept as
    /// a time so the stores' "owed and due" queries need no other column;
    /// the last second of 9999, the latest that RFC 3339 text can hold.
    pub const GIVEN_UP: DateTime<Utc> = match DateTime::from_timestamp(253_402_300_799, 0) {
        Some(t) => t,
        None => panic!("9999-12-31T23:59:59Z is a valid time"),
    };

    /// Still owed, but no longer tried: staff are told instead.
    pub fn given_up(&self) -> bool {
        !self.sent && self.next_attempt == MailState::GIVEN_UP
    }

    /// An email owed from `now`.
    pub fn owed(now: DateTime<Utc>, purpose: MailPurpose) -> MailState {
        MailState {
            sent: false,
            attempts: 0,
            last_error: None,
            next_attempt: now,
            purpose,
        }
    }
}

/// The desk email a ticket owes: the first one about a new ticket (to the
/// desk, and its department when dispatched at once), or an alert to the
/// manager: staff marked it serious, or the owner was not satisfied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailPurpose {
    #[default]
    New,
    Serious,
    Reopened,
}

impl MailPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            MailPurpose::New => "new",
            MailPurpose::Serious => "serious",
            MailPurpose::Reopened => "reopened",
        }
    }

    pub fn parse(text: &str) -> MailPurpose {
        match text {
            "serious" => MailPurpose::Serious,
            "reopened" => MailPurpose::Reopened,
            _ => MailPurpose::New,
        }
    }
}

/// Who did something: a staff account, or the desk itself (`username` is
/// `None`) for what happens on filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub username: Option<String>,
    pub name: String,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            username: None,
            name: "系统".to_owned(),
        }
    }
}

/// One entry of a ticket's timeline. The timeline is append-only: events
/// are added with the change they describe and never altered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// 1 for the filing, then one more for each event.
    pub seq: u32,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// The action's id, e.g. `dispatch` (see [`crate::workflow::Action`]).
    pub action: String,
    pub from: Status,
    pub to: Status,
    /// What the person wrote, or a summary of the change, in Chinese.
    pub note: String,
    /// The change's facts as (name, value): `department`, `assignee`,
    /// `visit_at`, `satisfaction`, ….
    #[serde(default)]
    pub details: Vec<(String, String)>,
}

impl Event {
    pub fn detail(&self, name: &str) -> Option<&str> {
        self.details
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The 回访 record: the desk's call to the owner after the work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUp {
    pub at: DateTime<Utc>,
    pub reached: bool,
    /// 1 (very dissatisfied) to 5 (very satisfied), when reached.
    pub satisfaction: Option<u8>,
    pub comment: String,
    pub reopened: bool,
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
    /// The value of the routing choice (e.g. `plumbing`), if the form has one.
    pub category: Option<String>,
    pub department: String,
    /// The staff member it is dispatched to, by username.
    pub assignee: Option<String>,
    /// Serious matters go to the manager at once.
    pub serious: bool,
    pub due_at: DateTime<Utc>,
    /// The visit time agreed with the owner.
    pub visit_at: Option<DateTime<Utc>>,
    /// When the work was (last) marked done.
    pub done_at: Option<DateTime<Utc>>,
    pub follow_up: Option<FollowUp>,
    pub reopen_count: u32,
    /// Bumped on every change; updates name the version they saw.
    pub version: u64,
    /// The last change: when, and who made it.
    pub updated_at: DateTime<Utc>,
    pub updated_by: String,
    pub mail: MailState,
    /// SHA-256 hashes of the keys in the owner's status-page addresses; the
    /// keys themselves are only ever in those addresses.
    pub status_keys: Vec<String>,
    /// Oldest first. Lists of tickets leave it empty; `get` fills it.
    pub timeline: Vec<Event>,
    /// The form's words as they were when the ticket was stored; `None` for
    /// tickets stored before snapshots were kept. Read it with
    /// [`Ticket::form`].
    #[serde(default)]
    pub snapshot: Option<crate::snapshot::FormSnapshot>,
}

impl Ticket {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Past due and still open.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.status.is_open() && self.due_at < now
    }

    /// Names the owed message: the new ticket's email is the reference
    /// itself, a later alert adds its purpose, so none replaces another.
    pub fn mail_key(&self) -> String {
        match self.mail.purpose {
            MailPurpose::New => self.reference.clone(),
            MailPurpose::Serious => format!("{}.serious", self.reference),
            MailPurpose::Reopened => format!("{}.reopened-{}", self.reference, self.reopen_count),
        }
    }

    /// Whether `key` opens this ticket's status page.
    pub fn opens_with(&self, key: &str) -> bool {
        let hash = crate::accounts::hash_token(key);
        // Every stored hash is compared, without stopping at a match.
        self.status_keys.iter().fold(false, |found, k| {
            crate::accounts::same_secret(k, &hash) | found
        })
    }

    /// The next timeline number.
    pub fn next_seq(&self) -> u32 {
        self.timeline.last().map_or(1, |e| e.seq + 1)
    }
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
    fn statuses_round_trip_and_old_names_still_read() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        assert_eq!(Status::parse("resolved"), Some(Status::Done));
        assert_eq!(Status::parse("lost"), None);
    }
}
