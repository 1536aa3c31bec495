//! `GET /forms/{kind}/received/{reference}/{key}`: the owner's status page,
//! first seen as the thank-you page. The key in its address opens it (the
//! store keeps only the key's hash); the reference alone shows nothing, and
//! a wrong key, a wrong kind and an unknown reference answer alike.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use templates::{AcceptanceView, RECEIPT_TEMPLATE, ReceiptContext, ReceiptStep, ReceiptView};

use super::client::ClientKey;
use super::intake;
use super::reply::{self, Format};
use crate::desk::{ActError, Desk};
use crate::outgoing::{Delivery, Outgoing, Purpose};
use crate::ticket::{Event, Status, Ticket, is_reference};

type Address = Path<(String, String, String)>;

pub async fn receipt(
    State(desk): State<Arc<Desk>>,
    Path((kind, reference, key)): Address,
    headers: HeaderMap,
) -> Response {
    let format = Format::of(&headers);
    match opened(&desk, format, &kind, &reference, &key).await {
        Ok((ticket, messages)) => page(
            &desk,
            format,
            &ticket,
            &messages,
            &key,
            StatusCode::OK,
            None,
        ),
        Err(response) => response,
    }
}

/// The ticket the address opens with its messages (a stored one, or the
/// honeypot's decoy), or the one answer for every address that opens
/// nothing.
async fn opened(
    desk: &Desk,
    format: Format,
    kind: &str,
    reference: &str,
    key: &str,
) -> Result<(Ticket, Vec<Outgoing>), Response> {
    if !is_reference(reference) || key.len() > 128 {
        return Err(not_found(desk, format));
    }
    match desk.store.get(reference).await {
        Ok(Some(ticket)) if ticket.kind == kind && ticket.opens_with(key) => {
            let messages = desk.store.outgoing_of(reference).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reading a ticket's alerts failed");
                Vec::new()
            });
            Ok((ticket, messages))
        }
        // A stored ticket opens whatever became of its form since; a decoy
        // only while its form exists, as a real new ticket would.
        Ok(None) => match desk.forms.get(kind) {
            Some(form) => crate::decoy::open(desk, form, reference, key).await,
            None => None,
        }
        .ok_or_else(|| not_found(desk, format)),
        Ok(_) => Err(not_found(desk, format)),
        Err(e) => {
            tracing::error!(error = %e, "reading a ticket failed");
            Err(reply::unavailable(format))
        }
    }
}

/// `POST` to the status page: the owner's acceptance and rating.
pub async fn answer(
    State(desk): State<Arc<Desk>>,
    Path((kind, reference, key)): Address,
    client: ClientKey,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let format = Format::of(&headers);
    let pairs = match intake::read_pairs(&headers, body).await {
        Ok(pairs) => pairs,
        Err(e) => return reply::intake_error(format, e),
    };
    match super::submit::rate_limited(&desk, &client).await {
        Ok(None) => {}
        Ok(Some(retry_after)) => return reply::too_many(format, retry_after),
        Err(e) => {
            tracing::error!(error = %e, "rate limit check failed");
            return reply::unavailable(format);
        }
    }
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let seen = field("version").trim().parse::<u64>().unwrap_or(0);
    // From another site's page: refused, with the page and the choices kept.
    let cross_site = super::cross_site(&desk, &headers);
    let result = if cross_site {
        Err(ActError::NotAllowed(super::CROSS_SITE_MESSAGE.to_owned()))
    } else {
        desk.accept(&kind, &reference, &key, &pairs, seen).await
    };
    tracing::info!(
        reference = %reference,
        kind = %kind,
        outcome = match &result {
            Ok(t) if t.status == Status::Reopened => "owner_reopened",
            Ok(_) => "owner_accepted",
            Err(_) => "owner_answer_refused",
        },
        "owner's acceptance"
    );
    let (status, message, error_field) = match result {
        Ok(ticket) => {
            return match format {
                Format::Json => (
                    StatusCode::OK,
                    Json(serde_json::json!({ "status": ticket.status, "status_label": ticket.status.label() })),
                )
                    .into_response(),
                Format::Html => reply::see_other(&desk.receipt_url(&kind, &reference, &key)),
            };
        }
        Err(ActError::NotFound) => return not_found(&desk, format),
        Err(ActError::Store(e)) => {
            tracing::error!(error = %e, "recording an owner's answer failed");
            return reply::unavailable(format);
        }
        Err(ActError::Invalid { field, message }) => {
            (StatusCode::UNPROCESSABLE_ENTITY, message, Some(field))
        }
        Err(other) if cross_site => (StatusCode::FORBIDDEN, other.to_string(), None),
        Err(other) => (StatusCode::CONFLICT, other.to_string(), None),
    };
    if format == Format::Json {
        let mut body = serde_json::json!({ "error": "refused", "message": message });
        if let Some(field) = error_field {
            body["errors"] = serde_json::json!({ field: message });
        }
        return (status, Json(body)).into_response();
    }
    // The page as it is now, with what the owner chose kept.
    match opened(&desk, format, &kind, &reference, &key).await {
        Ok((ticket, messages)) => {
            let typed = AcceptanceView {
                version: ticket.version,
                solved: field("solved"),
                satisfaction: field("satisfaction"),
                comment: field("comment"),
                error: Some(message),
                error_field: error_field.map(str::to_owned),
            };
            page(&desk, format, &ticket, &messages, &key, status, Some(typed))
        }
        Err(response) => response,
    }
}

/// What the owner of an emergency is told was done about it: only what
/// the stored alerts show, so the page never promises a call nobody got.
fn duty_note(desk: &Desk, messages: &[Outgoing]) -> String {
    let alerts: Vec<_> = messages
        .iter()
        .filter(|m| m.purpose == Purpose::Alert)
        .collect();
    if alerts.is_empty() {
        return String::new();
    }
    let told = if alerts.iter().any(|m| m.delivery == Delivery::Sent) {
        "已通知值班人员"
    } else {
        "正在通知值班人员"
    };
    let minutes = desk.duty.escalate_after.num_minutes();
    if minutes >= 1 {
        format!("{told}；{minutes} 分钟内无人接手，会报告物业经理。")
    } else {
        format!("{told}；无人及时接手会报告物业经理。")
    }
}

fn page(
    desk: &Desk,
    format: Format,
    ticket: &Ticket,
    messages: &[Outgoing],
    key: &str,
    status: StatusCode,
    typed: Option<AcceptanceView>,
) -> Response {
    let kind = ticket.kind.as_str();
    let form = ticket.form(&desk.forms);
    let acceptance = (ticket.status == Status::Done).then(|| {
        typed.unwrap_or_else(|| AcceptanceView {
            version: ticket.version,
            ..AcceptanceView::default()
        })
    });
    let commitment = form.promise_line();
    let now = desk.clock.now();
    let (due_note, late) = promise(ticket, now);
    let view = ReceiptView {
        form_title: form.title.clone(),
        noun: form.noun.clone(),
        reference: ticket.reference.clone(),
        category: form.category.clone().unwrap_or_default(),
        received: desk.clock.display(ticket.received_at),
        due: format!("{} 前", desk.clock.display(ticket.due_at)),
        due_note,
        late,
        commitment,
        duty_note: duty_note(desk, messages),
        emergency: form.emergency,
        status: ticket.status.label().to_owned(),
        finished: !ticket.status.is_open(),
        steps: ticket
            .timeline
            .iter()
            .filter_map(|e| owner_step(desk, e))
            .collect(),
        status_url: desk.receipt_url(kind, &ticket.reference, key),
        track_url: format!("{}/track", desk.config.desk_endpoint()),
        acceptance,
        form_url: format!("{}/forms/{kind}/", desk.config.base_url),
        home_url: desk.site.home_url.clone(),
    };
    match desk.theme.render(
        RECEIPT_TEMPLATE,
        &desk.site,
        &ReceiptContext { receipt: &view },
    ) {
        Ok(page) => {
            // A private address, never passed on as a referrer either.
            let mut response = reply::private_html(status, page);
            response.headers_mut().insert(
                axum::http::header::REFERRER_POLICY,
                axum::http::HeaderValue::from_static("no-referrer"),
            );
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering the receipt failed");
            reply::unavailable(format)
        }
    }
}

/// The address without a key: nothing to show.
pub async fn without_key(State(desk): State<Arc<Desk>>, headers: HeaderMap) -> Response {
    not_found(&desk, Format::of(&headers))
}

/// Whether the promise is kept, in the owner's words.
fn promise(ticket: &Ticket, now: chrono::DateTime<chrono::Utc>) -> (String, bool) {
    match ticket.done_at {
        Some(done) if done <= ticket.due_at => ("已在承诺时限内处理".to_owned(), false),
        Some(_) => ("处理时间超过了承诺时限".to_owned(), true),
        None if ticket.status == Status::Cancelled => (String::new(), false),
        None if ticket.due_at < now => ("已超过承诺时限，客服中心正在跟进".to_owned(), true),
        None => ("在承诺时限内".to_owned(), false),
    }
}

/// A timeline event as the owner sees it: what happened and which
/// department, never who or what staff wrote. Internal entries (notes,
/// calls, the serious flag) are left out.
fn owner_step(desk: &Desk, event: &Event) -> Option<ReceiptStep> {
    let department = || {
        event
            .detail("department")
            .map(|d| crate::report::department_name(&desk.forms, d))
            .unwrap_or_default()
    };
    let text = match event.action.as_str() {
        "file" => "收到您的请求".to_owned(),
        "dispatch" => format!("已派给{}处理", department()),
        "schedule" => match event
            .detail("visit_at")
            .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
        {
            Some(at) => format!(
                "已约定上门时间：{}",
                desk.clock.display(at.with_timezone(&chrono::Utc))
            ),
            None => "已约定上门时间".to_owned(),
        },
        "start" => "开始处理".to_owned(),
        "hold" => "暂停处理，正在等待配件或第三方".to_owned(),
        "complete" => "已处理完毕，请您验收".to_owned(),
        "follow_up" if event.to == Status::Done => return None,
        "follow_up" => "客服中心已回访".to_owned(),
        "accept" if event.to == Status::Reopened => {
            "您反馈问题未解决或不满意，已重新处理，物业经理会跟进".to_owned()
        }
        "accept" => match event.detail("satisfaction") {
            Some(score) => format!("您已验收，评价 {score} 分，谢谢"),
            None => "您已验收，谢谢".to_owned(),
        },
        "close" => "已完成".to_owned(),
        "reopen" => "重新处理".to_owned(),
        "cancel" => "已取消".to_owned(),
        "change_due" => "处理时限已调整".to_owned(),
        _ => return None,
    };
    Some(ReceiptStep {
        at: desk.clock.display(event.at),
        datetime: desk.clock.local(event.at).to_rfc3339(),
        text,
    })
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
