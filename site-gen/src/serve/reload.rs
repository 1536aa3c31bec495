//! Telling open pages to reload, or to show why the last build failed.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use tokio::sync::broadcast;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

#[derive(Debug, Clone)]
enum Message {
    Reload,
    Failed(String),
    /// The server is stopping: open pages' event streams end, so the
    /// server does not wait for browser tabs to close.
    Closing,
}

/// Keeps the outcome of the last build and tells every open page about
/// the next one.
pub struct Reloader {
    sender: broadcast::Sender<Message>,
    last_error: Mutex<Option<String>>,
}

impl Default for Reloader {
    fn default() -> Self {
        Reloader {
            sender: broadcast::channel(16).0,
            last_error: Mutex::new(None),
        }
    }
}

impl Reloader {
    pub fn built(&self) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = None;
        }
        let _ = self.sender.send(Message::Reload);
    }

    pub fn closing(&self) {
        let _ = self.sender.send(Message::Closing);
    }

    pub fn failed(&self, message: String) {
        if let Ok(mut last) = self.last_error.lock() {
            *last = Some(message.clone());
        }
        let _ = self.sender.send(Message::Failed(message));
    }

    fn last_error(&self) -> Option<String> {
        self.last_error.lock().ok().and_then(|l| l.clone())
    }
}

const SCRIPT: &str = r#"(function () {
  var box;
  function show(text) {
    if (!box) {
      box = document.createElement("pre");
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;margin:0;padding:1em;background:#7a0000;color:#fff;font:14px/1.5 monospace;white-space:pre-wrap;z-index:99999";
      document.body.appendChild(box);
    }
    box.textContent = "site-gen: the last build failed; this page is the last good one.\n\n" + text;
  }
  var source = new EventSource("/__livereload");
  source.addEventListener("reload", function () { location.reload(); });
  source.addEventListener("failed", function (e) { show(e.data); });
})();
"#;

pub fn routes(reloader: Arc<Reloader>) -> Router {
    Router::new()
        .route("/__livereload", get(events))
        .route(
            "/__livereload.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    SCRIPT,
                )
            }),
        )
        .with_state(reloader)
}

async fn events(State(reloader): State<Arc<Reloader>>) -> impl IntoResponse {
    // A page opened after a failed build learns of the failure at once.
    let pending = reloader.last_error().map(Message::Failed);
    let updates = BroadcastStream::new(reloader.sender.subscribe())
        // A page that fell behind has missed a build: reloading catches up.
        .map(|m| m.unwrap_or(Message::Reload));
    let stream = tokio_stream::iter(pending)
        .chain(updates)
        .take_while(|message| !matches!(message, Message::Closing))
        .map(|message| {
            Ok::<_, Infallible>(match message {
                Message::Failed(text) => Event::default().event("failed").data(text),
                _ => Event::default().event("reload").data("reload"),
            })
        });
    Sse::new(stream).keep_alive(KeepAlive::default())
}
