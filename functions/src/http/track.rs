//! `GET/POST /track`: an owner without the status page's address finds it
//! with the reference and the last four digits of the phone number given
//! with it. An unknown reference, wrong digits and a malformed reference
//! all answer alike, after the same reads, and attempts are throttled per
//! client, so nothing can be enumerated.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::TimeDelta;
use serde::Serialize;

use super::client::ClientKey;
use super::intake;
use super::reply::{self, Format};
use crate::accounts;
use crate::desk::Desk;
use crate::throttle::over_limit;
use crate::ticket::is_reference;

/// Lookups allowed per client in a window.
const PER_CLIENT: u32 = 10;
const WINDOW: TimeDelta = TimeDelta::minutes(15);
/// Looked up when the reference is malformed, so that costs the same read.
const NO_SUCH_REFERENCE: &str = "XX-00000000-000000";

#[derive(Serialize)]
struct TrackPage {
    track: TrackView,
}

#[derive(Serialize)]
struct TrackView {
    action: String,
    reference: String,
    error: Option<String>,
}

fn render(desk: &Desk, status: StatusCode, reference: &str, error: Option<&str>) -> Response {
    let page = TrackPage {
        track: TrackView {
            action: format!("{}/track", desk.config.desk_endpoint()),
            reference: reference.to_owned(),
            error: error.map(str::to_owned),
        },
    };
    match desk.theme.render("track.html", &desk.site, &page) {
        Ok(html) => reply::html(status, html),
        Err(e) => {
            tracing::error!(error = %e, "rendering the lookup page failed");
            reply::unavailable(Format::Html)
        }
    }
}

pub async fn page(State(desk): State<Arc<Desk>>) -> Response {
    render(&desk, StatusCode::OK, "", None)
}

pub async fn look_up(
    State(desk): State<Arc<Desk>>,
    client: ClientKey,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let format = Format::of(&headers);
    let form = match intake::read(&headers, body).await {
        Ok(form) => form,
        Err(e) => return reply::intake_error(format, e),
    };
    if super::cross_site(&desk, &headers) {
        let typed = form.get("reference").unwrap_or("").trim();
        return match format {
            Format::Json => reply::message(
                format,
                StatusCode::FORBIDDEN,
                "cross_site",
                super::CROSS_SITE_MESSAGE,
            ),
            Format::Html => render(
                &desk,
                StatusCode::FORBIDDEN,
                typed,
                Some(super::CROSS_SITE_MESSAGE),
            ),
        };
    }
    let key = format!("track#{}", client.0);
    match over_limit(&desk, &key, WINDOW, PER_CLIENT).await {
        Ok(None) => {}
        Ok(Some(retry_after)) => return reply::too_many(format, retry_after),
        Err(e) => {
            tracing::error!(error = %e, "the lookup throttle failed");
            return reply::unavailable(format);
        }
    }
    // As people read it out: spaces dropped, lower case raised.
    let typed: String = form
        .get("reference")
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let digits = form.get("phone_last4").unwrap_or("").trim();
    let lookup = if is_reference(&typed) {
        typed.as_str()
    } else {
        NO_SUCH_REFERENCE
    };
    let ticket = match desk.store.get(lookup).await {
        Ok(ticket) => ticket,
        Err(e) => {
            tracing::error!(error = %e, "reading a ticket failed");
            return reply::unavailable(format);
        }
    };
    let found = ticket.filter(|t| {
        let phone: String = t
            .field("phone")
            .unwrap_or("")
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let last4 = phone.get(phone.len().saturating_sub(4)..).unwrap_or("");
        phone.len() >= 4 && digits.len() == 4 && accounts::same_secret(last4, digits)
    });
    tracing::info!(
        outcome = if found.is_some() {
            "track_found"
        } else {
            "track_refused"
        },
        "status lookup"
    );
    let Some(ticket) = found else {
        let text = "没有找到与这个编号和电话后四位都相符的请求。请核对回执上的编号；没有留电话的，请致电客服中心查询。";
        return match format {
            Format::Json => reply::message(format, StatusCode::NOT_FOUND, "not_found", text),
            Format::Html => render(&desk, StatusCode::NOT_FOUND, &typed, Some(text)),
        };
    };
    // A key of its own for this visit: the first one is not kept to give out.
    let Ok(key) = accounts::random_token() else {
        return reply::unavailable(format);
    };
    if let Err(e) = desk
        .store
        .add_status_key(&ticket.reference, &accounts::hash_token(&key))
        .await
    {
        tracing::error!(error = %e, "storing a status key failed");
        return reply::unavailable(format);
    }
    let url = desk.receipt_url(&ticket.kind, &ticket.reference, &key);
    match format {
        Format::Json => {
            use axum::response::IntoResponse;
            (
                StatusCode::OK,
                axum::Json(serde_json::json!({ "status_url": url })),
            )
                .into_response()
        }
        Format::Html => reply::see_other(&url),
    }
}
