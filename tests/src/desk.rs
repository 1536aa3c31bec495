//! The request desk on the repository's own site, in memory: the real
//! router, a real SQLite store in a temporary folder, requests sent with
//! `tower::ServiceExt::oneshot`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::{DateTime, FixedOffset, Utc};
use desk::desk::Desk;
use desk::mail::{Composer, MailError, MailTransport};
use desk::notify::Notifier;
use desk::store::{SqliteStore, TicketStore};
use desk::time::Clock;
use http_body_util::BodyExt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use tower::ServiceExt;

use crate::site::workspace_dir;

pub struct TestDesk {
    pub tmp: tempfile::TempDir,
    pub desk: Arc<Desk>,
    pub store: Arc<dyn TicketStore>,
}

/// What came back.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The reference at the end of the Location a stored request answers with.
    pub fn reference(&self) -> String {
        let location = self.header("location").expect("a Location header");
        receipt_parts(location).0
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl TestDesk {
    /// The desk of the repository's site on a fresh SQLite store, with
    /// `tweak` applied before it starts (e.g. a lower rate limit).
    pub fn with(tweak: impl FnOnce(&mut Desk)) -> TestDesk {
        let tmp = tempfile::tempdir().expect("a temporary folder");
        let store: Arc<dyn TicketStore> = Arc::new(
            SqliteStore::open(&tmp.path().join("tickets.sqlite3")).expect("the SQLite store opens"),
        );
        TestDesk::on(tmp, store, tweak)
    }

    /// The desk of the repository's site on `store`.
    pub fn on(
        tmp: tempfile::TempDir,
        store: Arc<dyn TicketStore>,
        tweak: impl FnOnce(&mut Desk),
    ) -> TestDesk {
        let root = workspace_dir();
        let config = config::Config::from_root(&root).expect("the site's config.yaml loads");
        let mut desk =
            Desk::load(&root, config, Arc::clone(&store)).expect("the desk loads the site");
        tweak(&mut desk);
        TestDesk {
            tmp,
            desk: Arc::new(desk),
            store,
        }
    }

    pub fn new() -> TestDesk {
        TestDesk::with(|_| {})
    }
}

impl Default for TestDesk {
    fn default() -> TestDesk {
        TestDesk::new()
    }
}

impl TestDesk {
    pub fn router(&self) -> Router {
        desk::http::router(Arc::clone(&self.desk))
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        let mut request = request;
        // As the local server does: the peer address, for the rate limit.
        if request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none()
        {
            request
                .extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        }
        let response = self
            .router()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn post(&self, path: &str, content_type: &str, body: impl Into<Body>) -> Answer {
        let request = Request::post(path)
            .header("content-type", content_type)
            .body(body.into())
            .expect("a request");
        self.send(request).await
    }

    pub async fn post_form(&self, kind: &str, pairs: &[(&str, &str)]) -> Answer {
        self.post(
            &format!("/forms/{kind}"),
            "application/x-www-form-urlencoded",
            encode(pairs),
        )
        .await
    }

    pub async fn post_json(&self, kind: &str, value: serde_json::Value) -> Answer {
        self.post(
            &format!("/forms/{kind}"),
            "application/json",
            value.to_string(),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Request::get(path).body(Body::empty()).expect("a request"))
            .await
    }

    /// Files the standard repair request; its reference.
    pub async fn file_repair(&self) -> String {
        let answer = self.post_form("repair", &repair()).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        answer.reference()
    }

    /// How many tickets the store holds, across every status.
    pub async fn ticket_count(&self) -> usize {
        self.store
            .list(&desk::store::ListQuery {
                view: desk::store::View::All,
                filters: desk::store::Filters::default(),
                now: chrono::Utc::now(),
                limit: usize::MAX,
            })
            .await
            .expect("listing works")
            .len()
    }
}

/// The reference and the key in a status-page address
/// (`…/received/<reference>/<key>`).
pub fn receipt_parts(url: &str) -> (String, String) {
    let rest = url
        .split_once("/received/")
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let (reference, key) = rest.split_once('/').unwrap_or((rest, ""));
    (reference.to_owned(), key.to_owned())
}

/// `application/x-www-form-urlencoded`, as a browser writes it.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// A valid repair request, as an owner without script sends it.
pub fn repair() -> Vec<(&'static str, &'static str)> {
    vec![
        ("unit", "3-2-1502"),
        ("name", "王女士"),
        ("phone", "138 0013 8000"),
        ("email", "owner@example.org"),
        ("urgency", "emergency"),
        ("category", "plumbing"),
        ("description", "厨房水管爆裂，水流不止，已关总阀。"),
        ("visit_time", "any"),
        ("consent", "on"),
        ("website", ""),
    ]
}

/// An ordinary repair without the owner's address: it owes the desk email
/// and nothing else.
pub fn complaint(description: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("unit", "2-1-801"),
        ("name", "李先生"),
        ("phone", "13900000000"),
        ("category", "environment"),
        ("description", description),
        ("consent", "on"),
    ]
}

/// On a desk limited to three submissions a minute: forms sent back with
/// errors and a resent one cost the owner nothing, three new tickets are
/// filed, and the next new one is refused; that refusal.
pub async fn three_new_tickets_then_limited(desk: &TestDesk) -> Answer {
    for _ in 0..5 {
        let invalid = desk.post_form("feedback", &[("topic", "other")]).await;
        assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    for description in [
        "地库照明坏了好几盏，晚上很暗。",
        "地库照明坏了好几盏，晚上很暗。",
        "东门闸机反应很慢，早上排队。",
        "垃圾房气味很大，影响开窗通风。",
    ] {
        let answer = desk.post_form("complaint", &complaint(description)).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{description}");
    }
    assert_eq!(desk.ticket_count().await, 3);
    let limited = desk
        .post_form(
            "complaint",
            &complaint("楼道里有人长期堆放杂物，影响通行。"),
        )
        .await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    limited
}

pub fn ordinary_repair() -> Vec<(&'static str, &'static str)> {
    repair()
        .into_iter()
        .map(|(name, value)| match name {
            "urgency" => (name, "ordinary"),
            "email" => (name, ""),
            _ => (name, value),
        })
        .collect()
}

/// A mail transport in front of another that fails while it is down, and
/// remembers what it let through.
pub struct Outage {
    down: AtomicBool,
    passed: Mutex<Vec<String>>,
    inner: Option<Arc<dyn MailTransport>>,
}

impl Outage {
    /// In front of `inner`; with `None` what gets through goes nowhere.
    pub fn new(inner: Option<Arc<dyn MailTransport>>) -> Arc<Outage> {
        Arc::new(Outage {
            down: AtomicBool::new(false),
            passed: Mutex::new(Vec::new()),
            inner,
        })
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }

    pub fn passed(&self) -> Vec<String> {
        self.passed.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

#[async_trait::async_trait]
impl MailTransport for Outage {
    async fn send(&self, reference: &str, message: &lettre::Message) -> Result<(), MailError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(MailError::Send("connection refused".into()));
        }
        if let Some(inner) = &self.inner {
            inner.send(reference, message).await?;
        }
        if let Ok(mut passed) = self.passed.lock() {
            passed.push(reference.to_owned());
        }
        Ok(())
    }
}

/// A notifier for `desk`'s tickets through `transport`, its clock pinned
/// at `now`.
pub fn notifier(
    desk: &TestDesk,
    transport: Arc<dyn MailTransport>,
    now: DateTime<Utc>,
) -> Notifier {
    let clock = Clock::pinned(FixedOffset::east_opt(8 * 3600).expect("+08:00"), now);
    Notifier {
        store: Arc::clone(&desk.store),
        transport,
        composer: Composer::new(
            desk.desk.forms.clone(),
            "物业客服中心 <desk@example.org>"
                .parse()
                .expect("a mailbox"),
            Default::default(),
            clock,
        )
        .with_links("http://127.0.0.1:1".to_owned(), "测试小区".to_owned()),
        clock,
        alerting: Default::default(),
        digest_hour: None,
        digest_owed: Default::default(),
    }
}
