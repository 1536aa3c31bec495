//! Staff accounts and their sessions: who may see and work which tickets.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ticket::Ticket;

/// What an account may do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// The front desk: every ticket.
    Desk,
    /// A department's staff: that department's tickets only.
    Department(String),
    /// Everything, plus reports and accounts.
    Manager,
}

impl Role {
    /// `desk`, `manager` or `department:<id>`.
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "desk" => Some(Role::Desk),
            "manager" => Some(Role::Manager),
            other => other
                .strip_prefix("department:")
                .filter(|id| !id.is_empty())
                .map(|id| Role::Department(id.to_owned())),
        }
    }

    pub fn as_string(&self) -> String {
        match self {
            Role::Desk => "desk".into(),
            Role::Manager => "manager".into(),
            Role::Department(id) => format!("department:{id}"),
        }
    }

    /// Sees every ticket and takes the desk's actions.
    pub fn is_desk(&self) -> bool {
        matches!(self, Role::Desk | Role::Manager)
    }

    pub fn is_manager(&self) -> bool {
        matches!(self, Role::Manager)
    }

    /// The department whose tickets alone this account sees, if it is limited.
    pub fn department(&self) -> Option<&str> {
        match self {
            Role::Department(id) => Some(id),
            _ => None,
        }
    }

    /// A department sees its own tickets once the desk has dispatched
    /// them; a ticket still waiting for the desk's judgement is the desk's.
    pub fn may_see(&self, ticket: &Ticket) -> bool {
        self.department().is_none_or(|d| {
            d == ticket.department && ticket.status != crate::ticket::Status::Received
        })
    }

    /// The department whose queue is "my department": the desk's own for
    /// the desk, the manager's for the manager.
    pub fn home_department(&self) -> &str {
        match self {
            Role::Desk => "desk",
            Role::Manager => "manager",
            Role::Department(id) => id,
        }
    }

    pub fn label(&self, department_name: impl Fn(&str) -> Option<String>) -> String {
        match self {
            Role::Desk => "客服中心".to_owned(),
            Role::Manager => "物业经理".to_owned(),
            Role::Department(id) => department_name(id).unwrap_or_else(|| id.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    /// Lowercase letters, digits, `.`, `-` and `_`.
    pub username: String,
    /// As colleagues and the timeline show it, e.g. 王芳.
    pub name: String,
    pub role: Role,
    /// An argon2id PHC string. Never logged, never shown.
    pub password_hash: String,
    pub disabled: bool,
    /// Bumped when the password is reset or the account disabled: every
    /// session made before is void.
    pub session_epoch: u32,
    pub created_at: DateTime<Utc>,
}

pub fn is_username(text: &str) -> bool {
    (2..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must be at least {MIN_PASSWORD} characters")]
    TooShort,
    #[error("no randomness for a salt: {0}")]
    Random(String),
    #[error("hashing the password failed: {0}")]
    Hash(String),
}

pub const MIN_PASSWORD: usize = 10;

/// An argon2id hash of `password` with a fresh salt.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(PasswordError::TooShort);
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| PasswordError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash that costs as much to check as a real one: signing in with an
/// unknown name takes as long as with a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy-password-never-matches").unwrap_or_default())
}

/// A signed-in browser. The cookie holds a random id; the store keeps only
/// its hash, so a copy of the store signs nobody in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub id_hash: String,
    pub username: String,
    /// The account's `session_epoch` when it was made.
    pub epoch: u32,
    /// Sent back in every state-changing form.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// A session ends after this long without use…
pub const IDLE_TIMEOUT: TimeDelta = TimeDelta::hours(8);
/// …and after this long in any case.
pub const LIFETIME: TimeDelta = TimeDelta::days(7);
/// Use is recorded at most this often, so reading pages does not write.
pub const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(5);

impl Session {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.last_seen + IDLE_TIMEOUT && now < self.created_at + LIFETIME
    }

    pub fn expires_at(&self) -> DateTime<Utc> {
        (self.last_seen + IDLE_TIMEOUT).min(self.created_at + LIFETIME)
    }
}

/// 256 random bits as hex.
pub fn random_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex(&bytes))
}

pub fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_as_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert!(matches!(
            hash_password("short"),
            Err(PasswordError::TooShort)
        ));
    }

    #[test]
    fn sessions_end_when_idle_and_at_their_lifetime() {
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-23T01:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut session = Session {
            id_hash: hash_token("t"),
            username: "wang".into(),
            epoch: 0,
            csrf: "c".into(),
            created_at: start,
            last_seen: start,
        };
        assert!(session.is_live(start + IDLE_TIMEOUT - TimeDelta::minutes(1)));
        assert!(!session.is_live(start + IDLE_TIMEOUT), "idle too long");
        session.last_seen = start + LIFETIME - TimeDelta::hours(1);
        assert!(
            !session.is_live(start + LIFETIME),
            "used all along, but too old"
        );
    }

    #[test]
    fn roles_parse() {
        assert_eq!(
            Role::parse("department:engineering"),
            Some(Role::Department("engineering".into()))
        );
        assert_eq!(Role::parse("department:"), None);
        assert_eq!(Role::parse("boss"), None);
        assert_eq!(Role::Manager.as_string(), "manager");
    }
}
