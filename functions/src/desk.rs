//! The desk: the site's forms and theme, the ticket store and the clock,
//! loaded once at start-up and shared by every request.

use std::path::Path;
use std::sync::Arc;

use config::Config;
use forms::{FormDefinition, FormSet, Validated};
use sha2::{Digest, Sha256};
use templates::{Addressing, SiteView, Theme};
use tokio::sync::Notify;

use crate::accounts;
use crate::outgoing::{self, Duty};
use crate::snapshot::FormSnapshot;
use crate::store::{Created, Hit, Idempotency, StoreError, TicketStore};
use crate::throttle::Limiter;
use crate::ticket::{self, Actor, Event, MailPurpose, MailState, Status, Ticket};
use crate::time::Clock;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    File(#[from] config::FileError),
    #[error(transparent)]
    Theme(#[from] templates::TemplateError),
    #[error("{0}")]
    Settings(String),
}

pub use crate::actions::ActError;

/// How many submissions one client may make in a minute.
pub const DEFAULT_RATE_LIMIT: u32 = 10;

pub struct Desk {
    pub config: Config,
    pub forms: FormSet,
    pub theme: Theme,
    /// Pages the desk renders may be served from another origin than the
    /// site, so their links are absolute.
    pub site: SiteView,
    pub store: Arc<dyn TicketStore>,
    pub clock: Clock,
    pub rate_limit: u32,
    /// Woken after each stored ticket, where mail is sent in-process.
    pub stored: Option<Arc<Notify>>,
    /// Session cookies carry `Secure`, except on plain-HTTP loopback under
    /// `site-gen serve`.
    pub secure_cookies: bool,
    /// How long owners have to accept done work online before the desk calls.
    pub follow_up_after: chrono::TimeDelta,
    /// Which duty alert channels are configured, and the escalation delay.
    pub duty: Duty,
    /// Where attempts are counted for the rate limits.
    pub limiter: Limiter,
    /// The installation's secret (see `TicketStore::installation_secret`),
    /// read from the store when first needed, not at a cold start.
    secret: tokio::sync::OnceCell<String>,
    /// Keys this process's hashes while the store cannot give the secret.
    fallback_secret: String,
}

impl Desk {
    /// The installation's secret. While the store cannot be read, this
    /// process's own (asked for again next time), so a request is never
    /// refused for it.
    pub async fn secret(&self) -> &str {
        match self
            .secret
            .get_or_try_init(|| self.store.installation_secret())
            .await
        {
            Ok(secret) => secret,
            Err(e) => {
                tracing::warn!(error = %e, "reading the installation secret failed");
                &self.fallback_secret
            }
        }
    }

    /// Loads the forms and the theme of the site at `root`.
    pub fn load(
        root: &Path,
        config: Config,
        store: Arc<dyn TicketStore>,
    ) -> Result<Desk, LoadError> {
        let forms = FormSet::load(&root.join("content").join("forms"))?;
        let theme = Theme::load(root, &config.theme)?;
        let site = SiteView::new(&config, &theme, Addressing::Absolute);
        Ok(Desk {
            clock: Clock::from_config(&config),
            config,
            forms,
            theme,
            site,
            store,
            rate_limit: DEFAULT_RATE_LIMIT,
            stored: None,
            secure_cookies: true,
            follow_up_after: crate::settings::DEFAULT_FOLLOW_UP_AFTER,
            limiter: Limiter::Memory(Default::default()),
            secret: tokio::sync::OnceCell::new(),
            fallback_secret: crate::accounts::random_token()
                .map_err(|e| LoadError::Settings(format!("no randomness for a secret: {e}")))?,
            duty: Duty::default(),
        })
    }

    /// Where the owner's status page of a ticket is: the address carries
    /// the key that opens it.
    pub fn receipt_url(&self, kind: &str, reference: &str, key: &str) -> String {
        format!(
            "{}/forms/{kind}/received/{reference}/{key}",
            self.config.desk_endpoint()
        )
    }

    /// The desk's absolute address, for links in email and alerts: the
    /// configured endpoint, or the site's own origin before it.
    pub fn desk_url(&self) -> String {
        let endpoint = self.config.desk_endpoint();
        if endpoint.contains("://") {
            return endpoint;
        }
        let base = self.config.base_url.trim_end_matches('/');
        let origin = base.strip_suffix(self.config.base_path()).unwrap_or(base);
        format!("{origin}{endpoint}")
    }

    /// A new random key for a status-page address, and its hash.
    pub fn new_status_key() -> Result<(String, String), StoreError> {
        let key = accounts::random_token()
            .map_err(|e| StoreError::Backend(format!("no randomness for a status key: {e}")))?;
        let hash = accounts::hash_token(&key);
        Ok((key, hash))
    }

    /// Stores a validated submission as a ticket, or finds the ticket the
    /// same submission made before; with the key of the owner's status
    /// page (a repeat gets a key of its own: only hashes are kept, so the
    /// first cannot be given again). `hit`, where the store counts rate
    /// limits, is written with a new ticket and not for a repeat.
    pub async fn file(
        &self,
        form: &FormDefinition,
        valid: Validated,
        token: Option<&str>,
        hit: Option<&Hit>,
    ) -> Result<(Created, String), StoreError> {
        let (key, hash) = Desk::new_status_key()?;
        let created = self
            .store_new(form, valid, token, hash.clone(), hit)
            .await?;
        if let Created::Existing(ticket) = &created {
            self.store.add_status_key(&ticket.reference, &hash).await?;
        }
        Ok((created, key))
    }

    async fn store_new(
        &self,
        form: &FormDefinition,
        valid: Validated,
        token: Option<&str>,
        key_hash: String,
        hit: Option<&Hit>,
    ) -> Result<Created, StoreError> {
        let idempotency = match token {
            // Bound to what was sent: the same token with other content
            // (a form edited and sent again from the same page) is a
            // request of its own, never silently taken for the first.
            Some(token) => Idempotency::Token(format!("{token}#{}", digest(&valid))),
            None => Idempotency::Digest(digest(&valid)),
        };
        let received_at = self.clock.now();
        let mut attempt = 0;
        loop {
            let reference =
                ticket::new_reference(&form.reference_prefix, self.clock.local(received_at))
                    .map_err(|e| {
                        StoreError::Backend(format!("no randomness for a reference: {e}"))
                    })?;
            let mut ticket = self.new_ticket(form, &valid, reference, received_at);
            ticket.status_keys = vec![key_hash.clone()];
            // The confirmation email links with a key of its own, so the
            // receipt's key is only ever in the receipt's address.
            let (email_key, email_key_hash) = Desk::new_status_key()?;
            let owed = outgoing::for_new_ticket(
                &ticket.form(&self.forms),
                &ticket,
                valid.alert,
                &self.duty,
                &email_key,
            );
            if owed.iter().any(|m| m.secret.is_some()) {
                ticket.status_keys.push(email_key_hash);
            }
            match self
                .store
                .create_with(ticket, idempotency.clone(), &owed, hit)
                .await
            {
                Err(StoreError::ReferenceTaken(_)) if attempt < 5 => attempt += 1,
                Ok(created) => {
                    if let (Created::New(_), Some(stored)) = (&created, &self.stored) {
                        stored.notify_one();
                    }
                    return Ok(created);
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl Desk {
    /// A filed request as a ticket: received, or dispatched at once where
    /// the form data says its category needs no judgement from the desk.
    /// The ticket a checked submission makes, as it is before it is stored.
    pub(crate) fn new_ticket(
        &self,
        form: &FormDefinition,
        valid: &Validated,
        reference: String,
        received_at: chrono::DateTime<chrono::Utc>,
    ) -> Ticket {
        let within = form
            .commitment_by_id(&valid.commitment)
            .map(|c| c.within)
            .unwrap_or(std::time::Duration::from_secs(24 * 3600));
        let filed = Event {
            seq: 1,
            at: received_at,
            actor: Actor {
                username: None,
                name: "业主（在线提交）".to_owned(),
            },
            action: "file".to_owned(),
            from: Status::Received,
            to: Status::Received,
            note: String::new(),
            details: Vec::new(),
        };
        let mut timeline = vec![filed];
        let status = if valid.auto_dispatch {
            timeline.push(Event {
                seq: 2,
                at: received_at,
                actor: Actor::system(),
                action: "dispatch".to_owned(),
                from: Status::Received,
                to: Status::Dispatched,
                note: "按报修类别自动派单".to_owned(),
                details: vec![("department".to_owned(), valid.department.clone())],
            });
            Status::Dispatched
        } else {
            Status::Received
        };
        Ticket {
            reference,
            kind: form.kind.clone(),
            fields: valid.values.clone(),
            received_at,
            status,
            urgency: valid.commitment.clone(),
            category: valid.category.clone(),
            department: valid.department.clone(),
            assignee: None,
            serious: valid.serious,
            due_at: ticket::due_at(received_at, within),
            visit_at: None,
            done_at: None,
            follow_up: None,
            reopen_count: 0,
            version: 1,
            updated_at: received_at,
            updated_by: Actor::system().name,
            mail: MailState::owed(received_at, MailPurpose::New),
            status_keys: Vec::new(),
            snapshot: Some(FormSnapshot::take(
                form,
                &valid.values,
                &valid.commitment,
                valid.category.as_deref(),
            )),
            timeline,
        }
    }
}

/// Identifies "the same submission" without keeping its text: a hash of
/// the validated values in the form's order.
fn digest(valid: &Validated) -> String {
    let mut hasher = Sha256::new();
    for (name, value) in &valid.values {
        hasher.update(name.as_bytes());
        hasher.update([0]);
        hasher.update(value.as_bytes());
        hasher.update([0]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
