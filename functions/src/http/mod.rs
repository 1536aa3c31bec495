//! The desk's HTTP face: one axum router that Lambda runs through
//! `lambda_http` and the local server runs through `axum::serve`.

mod client;
mod intake;
mod receipt;
mod reply;
pub(crate) mod staff;
mod submit;
mod throttle;
mod track;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use client::ClientKey;
pub use intake::BODY_LIMIT;
pub use staff::{SESSION_COOKIE, SIGNIN_COOKIE};

use crate::desk::Desk;

/// Every route of the desk.
pub fn router(desk: Arc<Desk>) -> Router {
    Router::new()
        .route(
            "/forms/{kind}",
            post(submit::submit).get(submit::to_form_page),
        )
        .route(
            "/forms/{kind}/received/{reference}",
            get(receipt::without_key),
        )
        .route("/track", get(track::page).post(track::look_up))
        .route(
            "/forms/{kind}/received/{reference}/{key}",
            get(receipt::receipt).post(receipt::answer),
        )
        .layer(cors(&desk))
        // The staff app gets no CORS: only its own pages may call it.
        .merge(staff::routes())
        .with_state(desk)
}

/// Only the site itself may post with script from another origin.
fn cors(desk: &Desk) -> CorsLayer {
    let origin = site_origin(&desk.config.base_url);
    let layer = CorsLayer::new()
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::ACCEPT]);
    // A list, not a single value: an origin not on it gets no CORS
    // headers at all.
    match HeaderValue::from_str(&origin) {
        Ok(value) => layer.allow_origin(AllowOrigin::list([value])),
        Err(_) => layer,
    }
}

/// `https://handbook.example.org/sub` → `https://handbook.example.org`.
fn site_origin(base_url: &str) -> String {
    match base_url.split_once("://") {
        Some((scheme, rest)) => {
            let host = rest.split('/').next().unwrap_or(rest);
            format!("{scheme}://{host}")
        }
        None => base_url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn origin_drops_the_path() {
        assert_eq!(
            super::site_origin("https://e.org/handbook"),
            "https://e.org"
        );
        assert_eq!(
            super::site_origin("http://127.0.0.1:8000"),
            "http://127.0.0.1:8000"
        );
    }
}
