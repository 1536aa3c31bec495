//! A group robot's webhook on 127.0.0.1, as WeCom, DingTalk and Feishu run
//! one: it takes a JSON POST and answers `{"errcode":0}`, or 503 while it
//! is down. It remembers every body it took, by path.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;

#[derive(Default)]
struct Inner {
    down: AtomicBool,
    taken: Mutex<Vec<(String, serde_json::Value)>>,
}

#[derive(Clone)]
pub struct Receiver {
    pub base: String,
    inner: Arc<Inner>,
}

impl Receiver {
    /// Starts one on a free loopback port; it runs until the test's runtime ends.
    pub async fn start() -> Receiver {
        let inner = Arc::new(Inner::default());
        let app = Router::new()
            .route("/{robot}", post(take))
            .with_state(Arc::clone(&inner));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { base, inner }
    }

    pub fn url(&self, robot: &str) -> String {
        format!("{}/{robot}", self.base)
    }

    pub fn set_down(&self, down: bool) {
        self.inner.down.store(down, Ordering::SeqCst);
    }

    /// The texts posted to `robot`, in the WeCom/DingTalk shape.
    pub fn texts(&self, robot: &str) -> Vec<String> {
        self.inner
            .taken
            .lock()
            .expect("the receiver's lock")
            .iter()
            .filter(|(r, _)| r == robot)
            .map(|(_, body)| {
                assert_eq!(body["msgtype"], "text", "a text message: {body}");
                body["text"]["content"]
                    .as_str()
                    .expect("text.content")
                    .to_owned()
            })
            .collect()
    }
}

async fn take(
    State(inner): State<Arc<Inner>>,
    Path(robot): Path<String>,
    body: String,
) -> (StatusCode, String) {
    if inner.down.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down".to_owned());
    }
    let Ok(json) = serde_json::from_str(&body) else {
        return (StatusCode::BAD_REQUEST, r#"{"errcode":40001}"#.to_owned());
    };
    if let Ok(mut taken) = inner.taken.lock() {
        taken.push((robot, json));
    }
    (StatusCode::OK, r#"{"errcode":0,"errmsg":"ok"}"#.to_owned())
}
