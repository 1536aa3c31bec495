//! Putting a desk together from its settings: the one place that picks
//! the store and the mail transport.

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
            SqliteStore::open(path)
                .map_err(|e| LoadError::Settings(format!("DESK_STORE=sqlite: {e}")))?,
        ),
        StoreChoice::Dynamodb { table } => Arc::new(DynamoStore::new(
            aws_sdk_dynamodb::Client::new(aws()?),
            table,
            &settings.estate,
        )),
    };
    let transport: Arc<dyn MailTransport> = match &settings.mail {
        MailChoice::Outbox { dir } => Arc::new(Outbox::new(dir)),
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
