//! The environment variables the Lambda functions and the local server
//! read, all checked at start-up: a missing or malformed one stops the
//! program with a message that names it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use lettre::message::Mailbox;

use crate::alert::WebhookFormat;

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
    pub alerts: AlertSettings,
}

/// Where urgent requests are announced, and when the desk is reminded.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    /// The duty group's robot (`DESK_ALERT_WEBHOOK_URL`).
    pub webhook_url: Option<String>,
    /// The manager's robot for escalations (`DESK_ALERT_MANAGER_WEBHOOK_URL`);
    /// escalations go to the duty group's when it is not set.
    pub manager_webhook_url: Option<String>,
    pub webhook_format: WebhookFormat,
    /// SMS to the duty phones (`DESK_ALERT_SNS_TOPIC_ARN`).
    pub sns_topic_arn: Option<String>,
    pub manager_sns_topic_arn: Option<String>,
    /// How long an emergency may go without a staff action before the
    /// manager is alerted (`DESK_ESCALATE_AFTER`).
    pub escalate_after: chrono::TimeDelta,
    /// The local hour the overdue digest goes out (`DESK_DIGEST_HOUR`);
    /// `None` when set to `off`.
    pub digest_hour: Option<u32>,
}

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        AlertSettings {
            webhook_url: None,
            manager_webhook_url: None,
            webhook_format: WebhookFormat::WeCom,
            sns_topic_arn: None,
            manager_sns_topic_arn: None,
            escalate_after: crate::outgoing::DEFAULT_ESCALATE_AFTER,
            digest_hour: Some(DEFAULT_DIGEST_HOUR),
        }
    }
}

/// The digest is there when the office opens.
pub const DEFAULT_DIGEST_HOUR: u32 = 8;

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
        let duration = |name: &str, default: chrono::TimeDelta| match get(name) {
            None => Ok(default),
            Some(v) => humantime::parse_duration(v)
                .ok()
                .and_then(|d| chrono::TimeDelta::from_std(d).ok())
                .ok_or_else(|| {
                    error(
                        name,
                        format!("is {v:?}; give a duration such as 48h, 10m or 30s"),
                    )
                }),
        };
        let follow_up_after = duration("DESK_FOLLOW_UP_AFTER", DEFAULT_FOLLOW_UP_AFTER)?;
        let webhook = |name: &str| -> Result<Option<String>, SettingsError> {
            get(name)
                .map(|url| {
                    check_webhook(url)
                        .map(|()| url.to_owned())
                        .map_err(|problem| error(name, problem))
                })
                .transpose()
        };
        let topic = |name: &str| -> Result<Option<String>, SettingsError> {
            match get(name) {
                Some(arn) if !arn.starts_with("arn:") || arn.split(':').count() != 6 => Err(error(
                    name,
                    format!(
                        "is {arn:?}; give the topic's ARN, arn:aws:sns:<region>:<account>:<name>"
                    ),
                )),
                other => Ok(other.map(str::to_owned)),
            }
        };
        let alerts = AlertSettings {
            webhook_url: webhook("DESK_ALERT_WEBHOOK_URL")?,
            manager_webhook_url: webhook("DESK_ALERT_MANAGER_WEBHOOK_URL")?,
            webhook_format: match get("DESK_ALERT_WEBHOOK_FORMAT") {
                None => WebhookFormat::WeCom,
                Some(v) => WebhookFormat::parse(v).ok_or_else(|| {
                    error(
                        "DESK_ALERT_WEBHOOK_FORMAT",
                        format!("is {v:?}; use wecom, dingtalk or feishu"),
                    )
                })?,
            },
            sns_topic_arn: topic("DESK_ALERT_SNS_TOPIC_ARN")?,
            manager_sns_topic_arn: topic("DESK_ALERT_MANAGER_SNS_TOPIC_ARN")?,
            escalate_after: duration(
                "DESK_ESCALATE_AFTER",
                crate::outgoing::DEFAULT_ESCALATE_AFTER,
            )?,
            digest_hour: match get("DESK_DIGEST_HOUR") {
                None => Some(DEFAULT_DIGEST_HOUR),
                Some("off") => None,
                Some(v) => Some(v.parse().ok().filter(|h| *h < 24).ok_or_else(|| {
                    error(
                        "DESK_DIGEST_HOUR",
                        format!("is {v:?}; give the hour, 0 to 23, or off"),
                    )
                })?),
            },
        };
        Ok(Settings {
            alerts,
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

    /// The duty channels the new tickets' alerts are planned for.
    pub fn duty(&self) -> crate::outgoing::Duty {
        crate::outgoing::Duty {
            webhook: self.alerts.webhook_url.is_some(),
            sms: self.alerts.sns_topic_arn.is_some(),
            escalate_after: self.alerts.escalate_after,
        }
    }

    pub fn from_env(site_root: PathBuf, data_dir: PathBuf) -> Result<Settings, SettingsError> {
        let vars: BTreeMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("DESK_"))
            .collect();
        Settings::from_vars(&vars, site_root, data_dir)
    }
}

/// A robot's address must be HTTPS; plain HTTP only to this machine, for
/// tests and a local relay.
fn check_webhook(url: &str) -> Result<(), String> {
    let loopback = [
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://localhost:",
        "http://[::1]:",
    ];
    if url.starts_with("https://") || loopback.iter().any(|l| url.starts_with(l)) {
        Ok(())
    } else {
        // Not the URL itself: it carries the robot's key.
        Err("is not an https:// address (plain http is allowed only to 127.0.0.1)".to_owned())
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

    #[test]
    fn alert_settings_are_checked() {
        for (name, value) in [
            ("DESK_ALERT_WEBHOOK_URL", "http://qyapi.weixin.qq.com/x"),
            ("DESK_ALERT_WEBHOOK_FORMAT", "slack"),
            ("DESK_ALERT_SNS_TOPIC_ARN", "duty-phones"),
            ("DESK_ESCALATE_AFTER", "soon"),
            ("DESK_DIGEST_HOUR", "24"),
        ] {
            assert_eq!(read(&[(name, value)]).unwrap_err().variable, name);
        }
        let s = read(&[
            ("DESK_ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hook"),
            (
                "DESK_ALERT_SNS_TOPIC_ARN",
                "arn:aws:sns:us-east-1:123456789012:duty",
            ),
            ("DESK_ESCALATE_AFTER", "2s"),
            ("DESK_DIGEST_HOUR", "off"),
        ])
        .unwrap();
        assert!(s.duty().webhook && s.duty().sms);
        assert_eq!(s.duty().escalate_after, chrono::TimeDelta::seconds(2));
        assert_eq!(s.alerts.digest_hour, None);
        assert_eq!(read(&[]).unwrap().alerts.digest_hour, Some(8));
    }
}
