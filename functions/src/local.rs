//! The desk on one machine: the router plus a background task that sends
//! owed mail after every stored ticket and retries failures. The site's
//! forms and theme can be reloaded while it runs, so editing a form's YAML
//! under `site-gen serve` changes the validation at once.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use config::Config;
use tokio::sync::Notify;
use tower::ServiceExt;

use crate::assemble::{Backends, assemble, backends};
use crate::desk::LoadError;
use crate::notify::Notifier;
use crate::settings::Settings;

/// How often owed mail is retried when nothing new arrives.
const RETRY_EVERY: Duration = Duration::from_secs(30);
/// Messages due at the same moment are sent in one round.
const MIN_WAIT: Duration = Duration::from_millis(200);

struct Current {
    router: Router,
    notifier: Arc<Notifier>,
}

#[derive(Clone)]
pub struct LocalDesk {
    /// Answers whatever the desk does not: the built site.
    fallback: Router,
    settings: Settings,
    backends: Backends,
    stored: Arc<Notify>,
    current: Arc<RwLock<Current>>,
}

impl LocalDesk {
    /// Builds the desk for the site at `root` (settings from the
    /// environment, embedded defaults under `data_dir`) and starts its
    /// mail sender; requests the desk has no route for go to `fallback`.
    /// Must be called inside a Tokio runtime.
    pub async fn start(
        root: PathBuf,
        config: Config,
        data_dir: PathBuf,
        fallback: Router,
    ) -> Result<LocalDesk, LoadError> {
        let mut settings =
            Settings::from_env(root, data_dir).map_err(|e| LoadError::Settings(e.to_string()))?;
        // Plain HTTP on 127.0.0.1, where a `Secure` cookie is never sent back.
        settings.secure_cookies = false;
        let backends = backends(&settings).await?;
        let stored = Arc::new(Notify::new());
        let (desk, notifier) = assemble(&settings, config, &backends, Some(Arc::clone(&stored)))?;
        let local = LocalDesk {
            current: Arc::new(RwLock::new(Current {
                router: crate::http::router(desk).fallback_service(fallback.clone()),
                notifier,
            })),
            fallback,
            settings,
            backends,
            stored,
        };
        tokio::spawn(local.clone().send_mail_forever());
        Ok(local)
    }

    /// Picks up changed forms, theme or configuration; on an error the
    /// desk keeps running as it was.
    pub fn reload(&self, config: Config) -> Result<(), LoadError> {
        let (desk, notifier) = assemble(
            &self.settings,
            config,
            &self.backends,
            Some(Arc::clone(&self.stored)),
        )?;
        if let Ok(mut current) = self.current.write() {
            *current = Current {
                router: crate::http::router(desk).fallback_service(self.fallback.clone()),
                notifier,
            };
        }
        Ok(())
    }

    /// The desk's routes and the fallback, always answered by the current
    /// desk. (A fallback rather than routes, so path parameters are only
    /// read once, by the desk's own router.)
    pub fn router(&self) -> Router {
        let local = self.clone();
        Router::new().fallback(move |request: Request| {
            let local = local.clone();
            async move { local.answer(request).await }
        })
    }

    async fn answer(&self, request: Request) -> Response {
        let router = match self.current.read() {
            Ok(current) => current.router.clone(),
            Err(_) => return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response(),
        };
        match router.oneshot(request).await {
            Ok(response) => response,
            Err(never) => match never {},
        }
    }

    async fn send_mail_forever(self) {
        loop {
            let notifier = self.current.read().ok().map(|c| Arc::clone(&c.notifier));
            let mut wait = RETRY_EVERY;
            if let Some(notifier) = notifier {
                match notifier.run_once().await {
                    // An escalation due in seconds is sent then, not at the
                    // next retry round.
                    Ok(_) => wait = notifier.next_due_in(RETRY_EVERY).await.max(MIN_WAIT),
                    Err(e) => tracing::error!(error = %e, "sending owed messages failed"),
                }
            }
            let _ = tokio::time::timeout(wait, self.stored.notified()).await;
        }
    }
}
