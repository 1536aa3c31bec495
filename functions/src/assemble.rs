//! Putting a desk together from its settings: the one place that picks
//! the store and the mail transport.

use std::path::Path;
use std::sync::Arc;

use config::Config;
use tokio::sync::Notify;

use crate::alert::{AlertChannel, Alerting, Webhook};
use crate::desk::{Desk, LoadError};
use crate::mail::{Composer, MailTransport, Outbox};
use crate::notify::Notifier;
use crate::settings::{MailChoice, Settings, StoreChoice};
use crate::store::TicketStore;
use crate::throttle::Limiter;

#[cfg(feature = "aws")]
use crate::aws;

/// Stands in for `crate::aws` in a build without the `aws` feature: there
/// is no configuration to load, so no AWS backend can be asked for.
#[cfg(not(feature = "aws"))]
mod aws {
    use std::sync::Arc;

    use crate::alert::AlertChannel;
    use crate::mail::MailTransport;
    use crate::store::TicketStore;

    pub enum SdkConfig {}

    pub fn dynamodb_store(aws: &SdkConfig, _: &str, _: &str) -> Arc<dyn TicketStore> {
        match *aws {}
    }

    pub fn ses(aws: &SdkConfig) -> Arc<dyn MailTransport> {
        match *aws {}
    }

    pub fn sms(aws: &SdkConfig, _: &str) -> Arc<dyn AlertChannel> {
        match *aws {}
    }
}

/// The store and the mail transport the settings chose.
#[derive(Clone)]
pub struct Backends {
    pub store: Arc<dyn TicketStore>,
    pub transport: Arc<dyn MailTransport>,
    pub alerting: Alerting,
    /// Attempts are counted in the store where desks are many (DynamoDB,
    /// on Lambda), in memory where there is one (SQLite).
    pub counts_in_store: bool,
}

/// The setting that asks for an AWS backend, if any does.
fn aws_setting(settings: &Settings) -> Option<&'static str> {
    let alerts = &settings.alerts;
    if matches!(settings.store, StoreChoice::Dynamodb { .. }) {
        Some("DESK_STORE=dynamodb")
    } else if settings.mail == MailChoice::Ses {
        Some("DESK_MAIL=ses")
    } else if alerts.sns_topic_arn.is_some() {
        Some("DESK_ALERT_SNS_TOPIC_ARN")
    } else if alerts.manager_sns_topic_arn.is_some() {
        Some("DESK_ALERT_MANAGER_SNS_TOPIC_ARN")
    } else {
        None
    }
}

#[cfg(feature = "aws")]
async fn load_aws(_setting: &str) -> Result<aws::SdkConfig, LoadError> {
    Ok(aws::sdk_config().await)
}

#[cfg(not(feature = "aws"))]
async fn load_aws(setting: &str) -> Result<aws::SdkConfig, LoadError> {
    Err(LoadError::Settings(format!(
        "{setting} needs the AWS backends, which this build leaves out; \
         use the local ones (DESK_STORE=sqlite, DESK_MAIL=outbox or smtp) \
         or build with `--features desk/aws`, as the Lambda functions are"
    )))
}

pub async fn backends(settings: &Settings) -> Result<Backends, LoadError> {
    let alerts = &settings.alerts;
    let aws = match aws_setting(settings) {
        Some(setting) => Some(load_aws(setting).await?),
        None => None,
    };
    let aws = || {
        aws.as_ref()
            .ok_or_else(|| LoadError::Settings("the AWS configuration was not loaded".into()))
    };
    let store: Arc<dyn TicketStore> = match &settings.store {
        StoreChoice::Sqlite { path } => sqlite_store(path)?,
        StoreChoice::Dynamodb { table } => aws::dynamodb_store(aws()?, table, &settings.estate),
    };
    let transport: Arc<dyn MailTransport> = match &settings.mail {
        MailChoice::Outbox { dir } => {
            private_dir(dir).map_err(|e| {
                LoadError::Settings(format!("DESK_MAIL=outbox: {}: {e}", dir.display()))
            })?;
            Arc::new(Outbox::new(dir))
        }
        MailChoice::Smtp { url } => smtp_transport(url)?,
        MailChoice::Ses => aws::ses(aws()?),
    };
    let webhook = |url: &Option<String>| -> Result<Option<Arc<dyn AlertChannel>>, LoadError> {
        url.as_deref()
            .map(|url| {
                Webhook::new(url, alerts.webhook_format)
                    .map(|w| Arc::new(w) as Arc<dyn AlertChannel>)
                    .map_err(|e| LoadError::Settings(e.to_string()))
            })
            .transpose()
    };
    let sms = |arn: &Option<String>| -> Result<Option<Arc<dyn AlertChannel>>, LoadError> {
        arn.as_deref()
            .map(|arn| aws().map(|aws| aws::sms(aws, arn)))
            .transpose()
    };
    let alerting = Alerting {
        duty_webhook: webhook(&alerts.webhook_url)?,
        manager_webhook: webhook(&alerts.manager_webhook_url)?,
        duty_sms: sms(&alerts.sns_topic_arn)?,
        manager_sms: sms(&alerts.manager_sns_topic_arn)?,
    };
    if alerting.duty_webhook.is_none() && alerting.duty_sms.is_none() {
        tracing::warn!(
            "no duty alert channel: emergencies reach only the queue and the desk email; \
             set DESK_ALERT_WEBHOOK_URL or DESK_ALERT_SNS_TOPIC_ARN"
        );
    }
    Ok(Backends {
        counts_in_store: matches!(settings.store, StoreChoice::Dynamodb { .. }),
        store,
        transport,
        alerting,
    })
}

/// A desk for the site (forms, theme) on the given backends, and the
/// notifier that sends its mail. `stored` is woken after each new ticket.
pub fn assemble(
    settings: &Settings,
    config: Config,
    backends: &Backends,
    stored: Option<Arc<Notify>>,
) -> Result<(Arc<Desk>, Arc<Notifier>), LoadError> {
    let mut desk = Desk::load(&settings.site_root, config, Arc::clone(&backends.store))?;
    desk.rate_limit = settings.rate_limit;
    desk.stored = stored;
    desk.secure_cookies = settings.secure_cookies;
    desk.follow_up_after = settings.follow_up_after;
    desk.duty = settings.duty();
    if backends.counts_in_store {
        desk.limiter = Limiter::Store;
    }
    let composer = Composer::new(
        desk.forms.clone(),
        settings.mail_from.clone(),
        settings.department_email.clone(),
        desk.clock,
    )
    .with_links(desk.desk_url(), desk.config.title.clone());
    let notifier = Notifier {
        store: Arc::clone(&backends.store),
        transport: Arc::clone(&backends.transport),
        composer,
        clock: desk.clock,
        alerting: backends.alerting.clone(),
        digest_hour: settings.alerts.digest_hour,
        digest_owed: Default::default(),
    };
    Ok((Arc::new(desk), Arc::new(notifier)))
}

#[cfg(feature = "sqlite")]
fn sqlite_store(path: &Path) -> Result<Arc<dyn TicketStore>, LoadError> {
    let failed = |e: &dyn std::fmt::Display| LoadError::Settings(format!("DESK_STORE=sqlite: {e}"));
    private_file(path).map_err(|e| failed(&e))?;
    let store = crate::store::SqliteStore::open(path).map_err(|e| failed(&e))?;
    Ok(Arc::new(store))
}

#[cfg(not(feature = "sqlite"))]
fn sqlite_store(_: &Path) -> Result<Arc<dyn TicketStore>, LoadError> {
    Err(left_out(
        "DESK_STORE=sqlite",
        "sqlite",
        "DESK_STORE=dynamodb",
    ))
}

#[cfg(feature = "smtp")]
fn smtp_transport(url: &str) -> Result<Arc<dyn MailTransport>, LoadError> {
    let smtp = crate::mail::Smtp::from_url(url).map_err(|e| LoadError::Settings(e.to_string()))?;
    Ok(Arc::new(smtp))
}

#[cfg(not(feature = "smtp"))]
fn smtp_transport(_: &str) -> Result<Arc<dyn MailTransport>, LoadError> {
    Err(left_out(
        "DESK_MAIL=smtp",
        "smtp",
        "DESK_MAIL=ses or outbox",
    ))
}

/// A backend the settings ask for that this build was compiled without
/// (the Lambda build has neither SQLite nor SMTP).
#[cfg(any(not(feature = "sqlite"), not(feature = "smtp")))]
fn left_out(setting: &str, feature: &str, instead: &str) -> LoadError {
    LoadError::Settings(format!(
        "{setting} needs the `{feature}` backend, which this build leaves out; \
         use {instead}, or build with `--features desk/{feature}`"
    ))
}

/// Owners' names and phones live in the database and the outbox: only the
/// account that runs the desk may read them. The folder is made (or
/// tightened to) 0700.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

/// The database file, made (or tightened to) 0600 in a 0700 folder before
/// SQLite opens it; SQLite gives its journal files the database's mode.
#[cfg(any(feature = "sqlite", test))]
fn private_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        private_dir(dir)?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
    }
    #[cfg(not(unix))]
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_database_and_the_outbox_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let db = data.join("tickets.sqlite3");
        super::private_file(&db).unwrap();
        super::private_dir(&data.join("outbox")).unwrap();
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&data.join("outbox")), 0o700);
    }
}
