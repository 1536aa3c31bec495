//! `GET /forms/{kind}/received/{reference}`: the thank-you page. It shows
//! the reference, the promise and the status, nothing personal.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use templates::{RECEIPT_TEMPLATE, ReceiptContext, ReceiptView};

use super::reply::{self, Format};
use crate::desk::Desk;
use crate::ticket::is_reference;

pub async fn receipt(
    State(desk): State<Arc<Desk>>,
    Path((kind, reference)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let format = Format::of(&headers);
    let Some(form) = desk.forms.get(&kind) else {
        return not_found(&desk, format);
    };
    if !is_reference(&reference) {
        return not_found(&desk, format);
    }
    let ticket = match desk.store.get(&reference).await {
        Ok(Some(ticket)) if ticket.kind == kind => ticket,
        Ok(_) => return not_found(&desk, format),
        Err(e) => {
            tracing::error!(error = %e, "reading a ticket failed");
            return reply::unavailable(format);
        }
    };
    let commitment = form
        .commitment_by_id(&ticket.urgency)
        .map(|c| format!("{}：{}", c.label, c.text))
        .unwrap_or_default();
    let view = ReceiptView {
        form_title: form.title.clone(),
        noun: form.noun.clone(),
        reference: ticket.reference.clone(),
        received: desk.clock.display(ticket.received_at),
        due: format!("{} 前", desk.clock.display(ticket.due_at)),
        commitment,
        status: ticket.status.label().to_owned(),
        form_url: format!("{}/forms/{kind}/", desk.config.base_url),
        home_url: desk.site.home_url.clone(),
    };
    match desk.theme.render(
        RECEIPT_TEMPLATE,
        &desk.site,
        &ReceiptContext { receipt: &view },
    ) {
        Ok(page) => reply::html(StatusCode::OK, page),
        Err(e) => {
            tracing::error!(error = %e, "rendering the receipt failed");
            reply::unavailable(format)
        }
    }
}

/// The site's own 404 page, or a JSON error.
pub fn not_found(desk: &Desk, format: Format) -> Response {
    if format == Format::Html
        && let Ok(page) = desk
            .theme
            .render("404.html", &desk.site, &serde_json::json!({}))
    {
        return reply::html(StatusCode::NOT_FOUND, page);
    }
    reply::message(
        format,
        StatusCode::NOT_FOUND,
        "not_found",
        "没有找到这个页面。",
    )
}
