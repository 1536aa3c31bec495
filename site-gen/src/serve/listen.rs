//! Accepting connections for `serve` with limits, so idle or stalled
//! clients cannot hold the server: a request's header block must arrive
//! within [`HEADER_TIMEOUT`] (which also closes idle keep-alive
//! connections), its body may not stall for longer than [`BODY_TIMEOUT`],
//! and at most [`MAX_CONNECTIONS`] are open at once (the next one waits
//! in the listen queue until one closes).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
pub const MAX_CONNECTIONS: usize = 256;

/// The limits one server runs with; the tests shorten them.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: HEADER_TIMEOUT,
            body_timeout: BODY_TIMEOUT,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets open
/// connections finish their current request. Handlers see the client's
/// address as `ConnectInfo<SocketAddr>`, as with axum's own server.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Dropped on shutdown: every connection hears of it.
    let (stop_tx, stop_rx) = watch::channel(());
    tokio::spawn(async move {
        shutdown.await;
        drop(stop_rx);
    });
    // Each connection holds a receiver; all gone means all finished.
    let (done_tx, done_rx) = watch::channel(());
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = stop_tx.closed() => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait, then go on.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = stop_tx.closed() => break,
        };
        // A file is written as headers, then body chunks: with Nagle's
        // algorithm on, the second write waits for the client's delayed
        // ACK, and every static page took 20-40 ms.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let service = app
            .clone()
            .map_request(move |request: hyper::Request<Incoming>| {
                let mut request =
                    request.map(|body| Body::new(TimeoutBody::new(limits.body_timeout, body)));
                request.extensions_mut().insert(ConnectInfo(remote));
                request
            });
        let stop = stop_tx.clone();
        let done = done_rx.clone();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout);
            let connection =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let mut connection = std::pin::pin!(connection);
            let mut stopping = std::pin::pin!(stop.closed());
            let mut stopped = false;
            loop {
                tokio::select! {
                    _ = connection.as_mut() => break,
                    _ = &mut stopping, if !stopped => {
                        stopped = true;
                        connection.as_mut().graceful_shutdown();
                    }
                }
            }
            drop(permit);
            drop(done);
        });
    }
    drop(listener);
    drop(done_rx);
    done_tx.closed().await;
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;
    use std::time::Instant;

    use axum::routing::{get, post};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    const SHORT: Duration = Duration::from_millis(300);

    async fn start(max_connections: usize) -> SocketAddr {
        let app = Router::new().route("/", get(|| async { "ok" })).route(
            "/echo",
            post(|body: String| async move { format!("got {}", body.len()) }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let limits = Limits {
            header_timeout: SHORT,
            body_timeout: SHORT,
            max_connections,
        };
        tokio::spawn(serve(listener, app, limits, std::future::pending()));
        address
    }

    /// Everything the server sends until it closes (or 5 s pass).
    async fn rest(stream: &mut TcpStream) -> String {
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[tokio::test]
    async fn an_unfinished_header_block_or_body_is_not_waited_for() {
        let address = start(8).await;
        let started = Instant::now();
        let mut stalled = TcpStream::connect(address).await.unwrap();
        stalled
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let _ = rest(&mut stalled).await;
        assert!(started.elapsed() < Duration::from_secs(3), "closed in time");

        let started = Instant::now();
        let mut body = TcpStream::connect(address).await.unwrap();
        body.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
            .await
            .unwrap();
        let answer = rest(&mut body).await;
        assert!(started.elapsed() < Duration::from_secs(3), "closed in time");
        assert!(!answer.contains("got 100"), "{answer}");
    }

    #[tokio::test]
    async fn idle_connections_beyond_the_cap_wait_and_cannot_starve_the_server() {
        let address = start(2).await;
        let mut idle = Vec::new();
        for _ in 0..2 {
            idle.push(TcpStream::connect(address).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        let started = Instant::now();
        let mut real = TcpStream::connect(address).await.unwrap();
        real.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = rest(&mut real).await;
        assert!(answer.ends_with("ok"), "{answer}");
        // Answered once the idle ones timed out, not before and not never.
        let waited = started.elapsed();
        assert!(
            waited >= SHORT / 2 && waited < Duration::from_secs(3),
            "{waited:?}"
        );
    }
}
