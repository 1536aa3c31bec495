//! The environment variables the Lambda functions and the local server
//! read, all checked at start-up: a missing or malformed one stops the
//! program with a message that names it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lettre::message::Mailbox;

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct SettingsError {
    pub variable: String,
    pub problem: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StoreChoice {
    Sqlite { path: PathBuf },
    Dynamodb { table: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum MailChoice {
    Outbox { dir: PathBuf },
    Ses,
    Smtp { url: String },
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// The site whose config.yaml, forms and theme the desk uses.
    pub site_root: PathBuf,
    pub store: StoreChoice,
    pub mail: MailChoice,
    pub mail_from: Mailbox,
    /// Department id → address, from `DESK_EMAIL_<ID>`.
    pub department_email: BTreeMap<String, Mailbox>,
    pub rate_limit: u32,
    /// Names this estate's tickets in a table many estates share.
    pub estate: String,
    /// Staff session cookies are `Secure`; only the local server turns it off.
    pub secure_cookies: bool,
    /// How long owners have to accept done work online before the ticket
    /// shows in the desk's "awaiting 回访" queue for a phone call.
    pub follow_up_after: chrono::TimeDelta,
}

/// Owners have two days to answer online.
pub const DEFAULT_FOLLOW_UP_AFTER: chrono::TimeDelta = chrono::TimeDelta::hours(48);

impl Settings {
    /// Reads settings from `vars`; `data_dir` holds the SQLite file and the
    /// outbox unless the variables say otherwise.
    pub fn from_vars(
        vars: &BTreeMap<String, String>,
        site_root: PathBuf,
        data_dir: PathBuf,
    ) -> Result<Settings, SettingsError> {
        let get = |name: &str| {
            vars.get(name)
                .map(String::as_str)
                .filter(|v| !v.trim().is_empty())
        };
        let error = |variable: &str, problem: String| SettingsError {
            variable: variable.to_owned(),
            problem,
        };
        let store = match get("DESK_STORE").unwrap_or("sqlite") {
            "sqlite" => StoreChoice::Sqlite {
                path: data_dir.join("tickets.sqlite3"),
            },
            "dynamodb" => StoreChoice::Dynamodb {
                table: get("DESK_TABLE")
                    .ok_or_else(|| {
                        error(
                            "DESK_TABLE",
                            "is required when DESK_STORE=dynamodb: set it to the table's name"
                                .into(),
                        )
                    })?
                    .to_owned(),
            },
            other => {
                return Err(error(
                    "DESK_STORE",
                    format!("is {other:?}; use sqlite or dynamodb"),
                ));
            }
        };
        let mail = match get("DESK_MAIL").unwrap_or("outbox") {
            "outbox" => MailChoice::Outbox {
                dir: data_dir.join("outbox"),
            },
            "ses" => MailChoice::Ses,
            "smtp" => MailChoice::Smtp {
                url: get("DESK_SMTP_URL")
                    .ok_or_else(|| {
                        error(
                            "DESK_SMTP_URL",
                            "is required when DESK_MAIL=smtp, e.g. smtp://127.0.0.1:2525".into(),
                        )
                    })?
                    .to_owned(),
            },
            other => {
                return Err(error(
                    "DESK_MAIL",
                    format!("is {other:?}; use outbox, ses or smtp"),
                ));
            }
        };
        let mail_from = get("DESK_MAIL_FROM")
            .unwrap_or("物业客服中心 <desk@localhost>")
            .parse()
            .map_err(|e| error("DESK_MAIL_FROM", format!("is not an email address ({e})")))?;
        let mut department_email = BTreeMap::new();
        for (name, value) in vars {
            if let Some(id) = name.strip_prefix("DESK_EMAIL_") {
                let mailbox = value
                    .parse()
                    .map_err(|e| error(name, format!("is not an email address ({e})")))?;
                department_email.insert(id.to_ascii_lowercase(), mailbox);
            }
        }
        let rate_limit = match get("DESK_RATE_LIMIT") {
            None => crate::desk::DEFAULT_RATE_LIMIT,
            Some(v) => v.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                error(
                    "DESK_RATE_LIMIT",
                    format!(
                        "is {v:?}; give the submissions allowed per client per minute, e.g. 10"
                    ),
                )
            })?,
        };
        let estate = get("DESK_ESTATE").unwrap_or("estate").to_owned();
        if !estate
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(error(
                "DESK_ESTATE",
                format!("is {estate:?}; use letters, digits, - and _"),
            ));
        }
        let follow_up_after = match get("DESK_FOLLOW_UP_AFTER") {
            None => DEFAULT_FOLLOW_UP_AFTER,
            Some(v) => humantime::parse_duration(v)
                .ok()
                .and_then(|d| chrono::TimeDelta::from_std(d).ok())
                .ok_or_else(|| {
                    error(
                        "DESK_FOLLOW_UP_AFTER",
                        format!("is {v:?}; give a duration such as 48h, 2days or 0s"),
                    )
                })?,
        };
        Ok(Settings {
            follow_up_after,
            secure_cookies: true,
            estate,
            site_root,
            store,
            mail,
            mail_from,
            department_email,
            rate_limit,
        })
    }

    pub fn from_env(site_root: PathBuf, data_dir: PathBuf) -> Result<Settings, SettingsError> {
        let vars: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("DESK_"))
            .collect();
        Settings::from_vars(&vars, site_root, data_dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn read(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_vars(&vars(pairs), ".".into(), "/data".into())
    }

    #[test]
    fn defaults_are_embedded() {
        let s = read(&[]).unwrap();
        assert_eq!(
            s.store,
            StoreChoice::Sqlite {
                path: "/data/tickets.sqlite3".into()
            }
        );
        assert_eq!(
            s.mail,
            MailChoice::Outbox {
                dir: "/data/outbox".into()
            }
        );
    }

    #[test]
    fn errors_name_the_variable() {
        assert_eq!(
            read(&[("DESK_STORE", "dynamodb")]).unwrap_err().variable,
            "DESK_TABLE"
        );
        assert_eq!(
            read(&[("DESK_MAIL", "pigeon")]).unwrap_err().variable,
            "DESK_MAIL"
        );
        assert_eq!(
            read(&[("DESK_MAIL_FROM", "not an address")])
                .unwrap_err()
                .variable,
            "DESK_MAIL_FROM"
        );
        assert_eq!(
            read(&[("DESK_EMAIL_ENGINEERING", "x")])
                .unwrap_err()
                .variable,
            "DESK_EMAIL_ENGINEERING"
        );
        assert_eq!(
            read(&[("DESK_RATE_LIMIT", "0")]).unwrap_err().variable,
            "DESK_RATE_LIMIT"
        );
        assert_eq!(
            read(&[("DESK_FOLLOW_UP_AFTER", "soon")])
                .unwrap_err()
                .variable,
            "DESK_FOLLOW_UP_AFTER"
        );
        assert_eq!(
            read(&[("DESK_FOLLOW_UP_AFTER", "30m")])
                .unwrap()
                .follow_up_after,
            chrono::TimeDelta::minutes(30)
        );
        let s = read(&[("DESK_EMAIL_ENGINEERING", "eng@example.org")]).unwrap();
        assert!(s.department_email.contains_key("engineering"));
    }
}
