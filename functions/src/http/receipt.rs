//! `GET /forms/{kind}/received/{reference}/{key}`: the owner's status page,
//! first seen as the thank-you page. The key in its address opens it (the
//! store keeps only the key's hash); the reference alone shows nothing, and
//! a wrong key, a wrong kind and an unknown reference answer alike.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use templates::{RECEIPT_TEMPLATE, ReceiptContext, ReceiptStep, ReceiptView};

use super::reply::{self, Format};
use crate::desk::Desk;
use crate::ticket::{Event, Status, Ticket, is_reference};

pub async fn receipt(
    State(desk): State<Arc<Desk>>,
    Path((kind, reference, key)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let format = Format::of(&headers);
    let Some(form) = desk.forms.get(&kind) else {
        return not_found(&desk, format);
    };
    if !is_reference(&reference) || key.len() > 128 {
        return not_found(&desk, format);
    }
    let ticket = match desk.store.get(&reference).await {
        Ok(Some(ticket)) if ticket.kind == kind && ticket.opens_with(&key) => ticket,
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
    let now = desk.clock.now();
    let (due_note, late) = promise(&ticket, now);
    let view = ReceiptView {
        form_title: form.title.clone(),
        noun: form.noun.clone(),
        reference: ticket.reference.clone(),
        category: ticket
            .category
            .as_deref()
            .and_then(|c| crate::report::category_label(&desk.forms, &kind, c))
            .unwrap_or_default()
            .to_owned(),
        received: desk.clock.display(ticket.received_at),
        due: format!("{} 前", desk.clock.display(ticket.due_at)),
        due_note,
        late,
        commitment,
        status: ticket.status.label().to_owned(),
        steps: ticket
            .timeline
            .iter()
            .filter_map(|e| owner_step(&desk, e))
            .collect(),
        status_url: desk.receipt_url(&kind, &ticket.reference, &key),
        form_url: format!("{}/forms/{kind}/", desk.config.base_url),
        home_url: desk.site.home_url.clone(),
    };
    match desk.theme.render(
        RECEIPT_TEMPLATE,
        &desk.site,
        &ReceiptContext { receipt: &view },
    ) {
        Ok(page) => {
            let mut response = reply::html(StatusCode::OK, page);
            // A private address: never cached by anyone in between, and
            // never passed on as a referrer.
            let headers = response.headers_mut();
            headers.insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            headers.insert(axum::http::header::REFERRER_POLICY, axum::http::HeaderValue::from_static("no-referrer"));
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
            Some(at) => format!("已约定上门时间：{}", desk.clock.display(at.with_timezone(&chrono::Utc))),
            None => "已约定上门时间".to_owned(),
        },
        "start" => "开始处理".to_owned(),
        "hold" => "暂停处理，正在等待配件或第三方".to_owned(),
        "complete" => "已处理完毕，请您验收".to_owned(),
        "follow_up" if event.to == Status::Done => return None,
        "follow_up" => "客服中心已回访".to_owned(),
        "close" => "已完成".to_owned(),
        "reopen" => "重新处理".to_owned(),
        "cancel" => "已取消".to_owned(),
        "change_due" => "处理时限已调整".to_owned(),
        _ => return None,
    };
    Some(ReceiptStep {
        at: desk.clock.display(event.at),
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
