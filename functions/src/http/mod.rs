//! The desk's HTTP face: one axum router that Lambda runs through
//! `lambda_http` and the local server runs through `axum::serve`.

mod client;
mod guard;
mod intake;
mod receipt;
mod reply;
pub(crate) mod staff;
mod submit;
mod track;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, Method, header};
use axum::routing::{get, post};
use tower_http::cors::{AllowOrigin, CorsLayer};

pub use client::ClientKey;
pub use guard::{CROSS_SITE_MESSAGE, with_security_headers};
pub use intake::BODY_LIMIT;
pub use staff::{SESSION_COOKIE, SIGNIN_COOKIE};

use crate::desk::Desk;

/// Every route of the desk, each answer with the security headers.
pub fn router(desk: Arc<Desk>) -> Router {
    // Session cookies are `Secure` exactly when the desk is served over
    // HTTPS (everywhere but plain-HTTP loopback under `serve`).
    let https = desk.secure_cookies;
    let config = desk.config.clone();
    let routes = Router::new()
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
        .with_state(desk);
    with_security_headers(routes, &config, https)
}

/// Whether a state-changing request came from a page not of this site.
fn cross_site(desk: &Desk, headers: &axum::http::HeaderMap) -> bool {
    guard::is_cross_site(&guard::own_origins(&desk.config), headers)
}

/// Only the site itself may post with script from another origin.
fn cors(desk: &Desk) -> CorsLayer {
    let origin = guard::origin_of(&desk.config.base_url);
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
