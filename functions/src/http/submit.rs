//! `POST /forms/{kind}`: request → validate → store → (notify later).

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use forms::{FormView, Submission};
use serde_json::json;
use templates::{FORM_TEMPLATE, FormContext};

use super::client::ClientKey;
use super::intake;
use super::reply::{self, Format};
use crate::desk::Desk;
use crate::store::Created;
use crate::throttle::Limit;
use crate::ticket::Ticket;

pub async fn submit(
    State(desk): State<Arc<Desk>>,
    Path(kind): Path<String>,
    client: ClientKey,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let format = Format::of(&headers);
    let (outcome, response) = handle(&desk, &kind, &client, &headers, body, format).await;
    // The log line carries what the desk needs to trace a request and
    // nothing an owner typed.
    tracing::info!(
        kind = %kind,
        reference = outcome.reference.as_deref().unwrap_or("-"),
        outcome = outcome.name,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_millis() as u64,
        "form submission"
    );
    response
}

struct Outcome {
    name: &'static str,
    reference: Option<String>,
}

fn outcome(name: &'static str) -> Outcome {
    Outcome {
        name,
        reference: None,
    }
}

async fn handle(
    desk: &Desk,
    kind: &str,
    client: &ClientKey,
    headers: &HeaderMap,
    body: Body,
    format: Format,
) -> (Outcome, Response) {
    let Some(form) = desk.forms.get(kind) else {
        return (
            outcome("unknown_form"),
            super::receipt::not_found(desk, format),
        );
    };
    let submission = match intake::read(headers, body).await {
        Ok(s) => s,
        Err(e) => return (outcome("bad_request"), reply::intake_error(format, e)),
    };
    if super::cross_site(desk, headers) {
        // Another site's page posted this, perhaps without the owner
        // knowing: nothing is stored, and what was typed is kept.
        let none = forms::ValidationErrors::default();
        return (
            outcome("cross_site"),
            rejected(desk, form, format, &submission, &none, Refusal::CrossSite),
        );
    }
    // A form sent back with its errors is not counted against the owner.
    let today = desk.clock.local(desk.clock.now()).date_naive();
    let valid = match form.validate_on(&submission, today) {
        Ok(valid) => valid,
        Err(errors) => {
            return (
                outcome("invalid"),
                rejected(desk, form, format, &submission, &errors, Refusal::Invalid),
            );
        }
    };
    let limit = submissions_limit(desk, client);
    match desk
        .limiter
        .check(&*desk.store, desk.clock.now(), &limit)
        .await
    {
        Ok(None) => {}
        Ok(Some(retry_after)) => {
            let mut response = rejected(
                desk,
                form,
                format,
                &submission,
                &forms::ValidationErrors::default(),
                Refusal::TooMany(retry_after),
            );
            reply::retry_after(&mut response, retry_after);
            return (outcome("rate_limited"), response);
        }
        Err(e) => {
            tracing::error!(error = %e, "rate limit check failed");
            return (outcome("store_failed"), reply::unavailable(format));
        }
    }
    let counted = || async {
        if let Err(e) = desk
            .limiter
            .record(&*desk.store, desk.clock.now(), &limit)
            .await
        {
            tracing::warn!(error = %e, "counting a submission failed");
        }
    };
    if submission.is_spam(form) {
        // The answer an owner would get, its status page included, so a
        // bot learns nothing; nothing is stored or sent.
        return match crate::decoy::file(desk, form, &valid).await {
            Ok((ticket, key)) => {
                counted().await;
                (
                    outcome("honeypot"),
                    accepted(desk, form, format, &ticket, &key),
                )
            }
            Err(e) => {
                tracing::error!(error = %e, "no randomness for a reference");
                (outcome("store_failed"), reply::unavailable(format))
            }
        };
    }
    let hit = desk.limiter.hit_for_store(desk.clock.now(), &limit);
    match desk
        .file(form, valid, submission.token(), hit.as_ref())
        .await
    {
        Ok((created, key)) => {
            let name = match created {
                Created::New(_) => {
                    if hit.is_none() {
                        counted().await;
                    }
                    "stored"
                }
                // A retry of a stored request is not counted again.
                Created::Existing(_) => "repeat",
            };
            let ticket = created.ticket();
            let response = accepted(desk, form, format, ticket, &key);
            (
                Outcome {
                    name,
                    reference: Some(ticket.reference.clone()),
                },
                response,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, kind = %kind, "storing a ticket failed");
            (outcome("store_failed"), reply::unavailable(format))
        }
    }
}

/// How many requests one client may file in a sliding minute.
pub(super) fn submissions_limit(desk: &Desk, client: &ClientKey) -> Limit {
    Limit {
        key: format!("rate#{}", client.0),
        window: TimeDelta::minutes(1),
        max: desk.rate_limit,
    }
}

/// Counts this request in the client's sliding minute; `Some(seconds)` to
/// wait when the limit is reached.
pub(super) async fn rate_limited(
    desk: &Desk,
    client: &ClientKey,
) -> Result<Option<u64>, crate::store::StoreError> {
    let limit = submissions_limit(desk, client);
    desk.limiter
        .hit(&*desk.store, desk.clock.now(), &limit)
        .await
}

fn accepted(
    desk: &Desk,
    form: &forms::FormDefinition,
    format: Format,
    ticket: &Ticket,
    key: &str,
) -> Response {
    let receipt_url = desk.receipt_url(&form.kind, &ticket.reference, key);
    match format {
        Format::Json => {
            let commitment = form
                .commitment_by_id(&ticket.urgency)
                .or_else(|| form.commitment_by_id(&form.commitment))
                .map(|c| c.text.as_str())
                .unwrap_or("");
            let body = json!({
                "reference": ticket.reference,
                "due": desk.clock.local(ticket.due_at).to_rfc3339(),
                "due_display": format!("{} 前", desk.clock.display(ticket.due_at)),
                "commitment": commitment,
                "receipt_url": receipt_url,
            });
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Format::Html => reply::see_other(&receipt_url),
    }
}

/// Why a form comes back to the owner unfiled.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// 422, each error beside its field.
    Invalid,
    /// 403: posted from another site's page.
    CrossSite,
    /// 429: too many from this client; seconds to wait.
    TooMany(u64),
}

/// The form again with every value kept, the reason at the top (or each
/// error beside its field), so nothing the owner typed is lost.
fn rejected(
    desk: &Desk,
    form: &forms::FormDefinition,
    format: Format,
    submission: &Submission,
    errors: &forms::ValidationErrors,
    refusal: Refusal,
) -> Response {
    let (status, reason) = match refusal {
        Refusal::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, None),
        Refusal::CrossSite => (
            StatusCode::FORBIDDEN,
            Some(("提交来源", super::CROSS_SITE_MESSAGE.to_owned())),
        ),
        Refusal::TooMany(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            Some(("提交次数", reply::too_many_message(seconds))),
        ),
    };
    match (format, refusal) {
        (Format::Json, Refusal::Invalid) => {
            (status, Json(json!({ "errors": errors.errors }))).into_response()
        }
        (Format::Json, Refusal::CrossSite) => {
            reply::message(format, status, "cross_site", super::CROSS_SITE_MESSAGE)
        }
        (Format::Json, Refusal::TooMany(seconds)) => reply::too_many(format, seconds),
        (Format::Html, _) => {
            let action = format!("{}/forms/{}", desk.config.desk_endpoint(), form.kind);
            let mut view = FormView::with_errors(form, action, submission, errors);
            if let (Some((label, message)), Some(first)) = (&reason, view.fields.first()) {
                view.errors.push(forms::ErrorView {
                    id: first.id.clone(),
                    label,
                    message,
                });
            }
            match desk
                .theme
                .render(FORM_TEMPLATE, &desk.site, &FormContext { form: view })
            {
                Ok(page) => reply::html(status, page),
                Err(e) => {
                    tracing::error!(error = %e, "rendering the form page failed");
                    reply::unavailable(format)
                }
            }
        }
    }
}

/// Someone opened the address a form posts to: show them the form.
pub async fn to_form_page(State(desk): State<Arc<Desk>>, Path(kind): Path<String>) -> Response {
    if desk.forms.get(&kind).is_none() {
        return super::receipt::not_found(&desk, Format::Html);
    }
    reply::see_other(&format!("{}/forms/{kind}/", desk.config.base_url))
}
