//! Putting a desk together from its settings: the one place that picks
//! the store and the mail transport.

use std::sync::Arc;

use config::Config;
use tokio::sync::Notify;

use crate::desk::{Desk, LoadError};
use crate::mail::{Composer, MailTransport, Outbox};
use crate::notify::Notifier;
use crate::settings::{MailChoice, Settings, StoreChoice};
use crate::store::{SqliteStore, TicketStore};

/// The store and the mail transport the settings chose.
#[derive(Clone)]
pub struct Backends {
    pub store: Arc<dyn TicketStore>,
    pub transport: Arc<dyn MailTransport>,
}

pub async fn backends(settings: &Settings) -> Result<Backends, LoadError> {
    let store: Arc<dyn TicketStore> = match &settings.store {
        StoreChoice::Sqlite { path } => Arc::new(
            SqliteStore::open(path)
                .map_err(|e| LoadError::Settings(format!("DESK_STORE=sqlite: {e}")))?,
        ),
        StoreChoice::Dynamodb { .. } => {
            return Err(LoadError::Settings(
                "DESK_STORE=dynamodb is not available in this build".into(),
            ));
        }
    };
    let transport: Arc<dyn MailTransport> = match &settings.mail {
        MailChoice::Outbox { dir } => Arc::new(Outbox::new(dir)),
        MailChoice::Ses | MailChoice::Smtp { .. } => {
            return Err(LoadError::Settings(
                "DESK_MAIL=ses and smtp are not available in this build".into(),
            ));
        }
    };
    Ok(Backends { store, transport })
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
    let composer = Composer::new(
        desk.forms.clone(),
        settings.mail_from.clone(),
        settings.department_email.clone(),
        desk.clock,
    );
    let notifier = Notifier {
        store: Arc::clone(&backends.store),
        transport: Arc::clone(&backends.transport),
        composer,
        clock: desk.clock,
    };
    Ok((Arc::new(desk), Arc::new(notifier)))
}
