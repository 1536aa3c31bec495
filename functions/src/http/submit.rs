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
            rejected(desk, form, format, &submission, &none, true),
        );
    }
    match rate_limited(desk, client).await {
        Ok(None) => {}
        Ok(Some(retry_after)) => {
            return (
                outcome("rate_limited"),
                reply::too_many(format, retry_after),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "rate limit check failed");
            return (outcome("store_failed"), reply::unavailable(format));
        }
    }
    if submission.is_spam(form) {
        // A normal-looking answer, so a bot learns nothing; nothing stored.
        let reference = crate::ticket::new_reference(
            &form.reference_prefix,
            desk.clock.local(desk.clock.now()),
        )
        .unwrap_or_default();
        let key = crate::accounts::random_token().unwrap_or_default();
        return (
            outcome("honeypot"),
            accepted(desk, form, format, &reference, &key, desk.clock.now(), None),
        );
    }
    let today = desk.clock.local(desk.clock.now()).date_naive();
    let valid = match form.validate_on(&submission, today) {
        Ok(valid) => valid,
        Err(errors) => {
            return (
                outcome("invalid"),
                rejected(desk, form, format, &submission, &errors, false),
            );
        }
    };
    match desk.file(form, valid, submission.token()).await {
        Ok((created, key)) => {
            let ticket = created.ticket();
            let name = match created {
                Created::New(_) => "stored",
                Created::Existing(_) => "repeat",
            };
            let response = accepted(
                desk,
                form,
                format,
                &ticket.reference,
                &key,
                ticket.due_at,
                Some(&ticket.urgency),
            );
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

/// Counts this request in the client's current minute; `Some(seconds)`
/// to wait when the limit is reached.
pub(super) async fn rate_limited(
    desk: &Desk,
    client: &ClientKey,
) -> Result<Option<u64>, crate::store::StoreError> {
    let key = format!("rate#{}", client.0);
    super::throttle::over_limit(desk, &key, TimeDelta::minutes(1), desk.rate_limit).await
}

fn accepted(
    desk: &Desk,
    form: &forms::FormDefinition,
    format: Format,
    reference: &str,
    key: &str,
    due: chrono::DateTime<chrono::Utc>,
    urgency: Option<&str>,
) -> Response {
    let receipt_url = desk.receipt_url(&form.kind, reference, key);
    match format {
        Format::Json => {
            let commitment = urgency
                .and_then(|u| form.commitment_by_id(u))
                .or_else(|| form.commitment_by_id(&form.commitment))
                .map(|c| c.text.as_str())
                .unwrap_or("");
            let body = json!({
                "reference": reference,
                "due": desk.clock.local(due).to_rfc3339(),
                "due_display": format!("{} 前", desk.clock.display(due)),
                "commitment": commitment,
                "receipt_url": receipt_url,
            });
            (StatusCode::CREATED, Json(body)).into_response()
        }
        Format::Html => reply::see_other(&receipt_url),
    }
}

/// The form again with every value kept: 422 with each error beside its
/// field, or, for a post from another site, 403 saying so at the top.
fn rejected(
    desk: &Desk,
    form: &forms::FormDefinition,
    format: Format,
    submission: &Submission,
    errors: &forms::ValidationErrors,
    cross_site: bool,
) -> Response {
    let status = if cross_site {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    match format {
        Format::Json if cross_site => {
            reply::message(format, status, "cross_site", super::CROSS_SITE_MESSAGE)
        }
        Format::Json => (status, Json(json!({ "errors": errors.errors }))).into_response(),
        Format::Html => {
            let action = format!("{}/forms/{}", desk.config.desk_endpoint(), form.kind);
            let mut view = FormView::with_errors(form, action, submission, errors);
            if cross_site && let Some(first) = view.fields.first() {
                view.errors.push(forms::ErrorView {
                    id: first.id.clone(),
                    label: "提交来源",
                    message: super::CROSS_SITE_MESSAGE,
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
