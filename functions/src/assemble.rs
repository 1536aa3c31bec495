//! Putting a desk together from its settings: the one place that picks
//! the store and the mail transport.

use std::path::Path;
use std::sync::Arc;

use config::Config;
use tokio::sync::Notify;

use crate::alert::{AlertChannel, Alerting, Sns, Webhook};
use crate::desk::{Desk, LoadError};
use crate::mail::{Composer, MailTransport, Outbox, Ses, Smtp};
use crate::notify::Notifier;
use crate::settings::{MailChoice, Settings, StoreChoice};
use crate::store::{DynamoStore, SqliteStore, TicketStore};

/// The store and the mail transport the settings chose.
#[derive(Clone)]
pub struct Backends {
    pub store: Arc<dyn TicketStore>,
    pub transport: Arc<dyn MailTransport>,
    pub alerting: Alerting,
}

pub async fn backends(settings: &Settings) -> Result<Backends, LoadError> {
    // One AWS configuration for every client, read once at start-up from
    // the standard variables (AWS_REGION, AWS_ENDPOINT_URL, credentials).
    let alerts = &settings.alerts;
    let needs_aws = matches!(settings.store, StoreChoice::Dynamodb { .. })
        || settings.mail == MailChoice::Ses
        || alerts.sns_topic_arn.is_some()
        || alerts.manager_sns_topic_arn.is_some();
    let aws = if needs_aws {
        Some(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .load()
                .await,
        )
    } else {
        None
    };
    let aws = || {
        aws.as_ref()
            .ok_or_else(|| LoadError::Settings("the AWS configuration was not loaded".into()))
    };
    let store: Arc<dyn TicketStore> = match &settings.store {
        StoreChoice::Sqlite { path } => Arc::new(
            private_file(path)
                .map_err(|e| LoadError::Settings(format!("DESK_STORE=sqlite: {e}")))
                .and_then(|()| {
                    SqliteStore::open(path)
                        .map_err(|e| LoadError::Settings(format!("DESK_STORE=sqlite: {e}")))
                })?,
        ),
        StoreChoice::Dynamodb { table } => Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(aws()?),
            table,
            &settings.estate,
        )),
    };
    let transport: Arc<dyn MailTransport> = match &settings.mail {
        MailChoice::Outbox { dir } => {
            private_dir(dir).map_err(|e| {
                LoadError::Settings(format!("DESK_MAIL=outbox: {}: {e}", dir.display()))
            })?;
            Arc::new(Outbox::new(dir))
        }
        MailChoice::Smtp { url } => {
            Arc::new(Smtp::from_url(url).map_err(|e| LoadError::Settings(e.to_string()))?)
        }
        MailChoice::Ses => Arc::new(Ses::new(aws_sdk_sesv2::Client::new(aws()?))),
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
            .map(|arn| {
                aws().map(|aws| {
                    Arc::new(Sns::new(aws_sdk_sns::Client::new(aws), arn)) as Arc<dyn AlertChannel>
                })
            })
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
