//! `GET /desk/tickets/{reference}` and `POST /desk/tickets/{reference}/{action}`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::super::intake;
use super::super::receipt::not_found;
use super::super::reply::{self, Format};
use super::session::{self, CSRF_FIELD, SignedIn, staff_url};
use super::views::{self, ActionForm, Answer, Names, Refused, StaffBar, TimelineEntry};
use crate::desk::{ActError, Desk};
use crate::outgoing::{Channel, Delivery, Outgoing, Purpose};
use crate::ticket::{MailPurpose, Status, Ticket, is_reference};

#[derive(Serialize)]
struct TicketPage {
    staff: StaffBar,
    ticket: TicketView,
    timeline: Vec<TimelineEntry>,
    /// What the ticket owed besides the desk email, and how it went.
    messages: Vec<MessageView>,
    actions: Vec<ActionForm>,
    /// Said after an action succeeded ("已保存：派单").
    notice: Option<String>,
    /// Said when an action was refused as a whole (a conflict, not allowed).
    error: Option<String>,
}

#[derive(Serialize)]
struct MessageView {
    what: &'static str,
    channel: &'static str,
    state: String,
    /// The channel's last error, for a message still being retried.
    error: Option<String>,
}

fn message_view(desk: &Desk, m: &Outgoing) -> MessageView {
    MessageView {
        what: match m.purpose {
            Purpose::Confirmation => "受理确认（业主）",
            Purpose::Visit => "上门时间（业主）",
            Purpose::Done => "请业主验收",
            Purpose::Alert => "值班通知",
            Purpose::Escalation => "升级通知（经理）",
            Purpose::Overdue => "超时提醒",
            Purpose::Digest => "超时汇总",
        },
        channel: match m.channel {
            Channel::Email => "邮件",
            Channel::Webhook => "工作群",
            Channel::Sms => "短信",
        },
        state: match &m.delivery {
            Delivery::Sent => "已发送".to_owned(),
            Delivery::Dropped(_) => "无需发送".to_owned(),
            Delivery::Failed(_) => "发送失败，已停止重试，请电话联系".to_owned(),
            Delivery::Owed if m.attempts > 0 => format!("发送失败 {} 次，正在重试", m.attempts),
            Delivery::Owed => format!("待发送（{} 起）", desk.clock.display(m.not_before)),
        },
        error: match &m.delivery {
            Delivery::Owed => m.last_error.clone(),
            Delivery::Failed(error) => Some(error.clone()),
            _ => None,
        },
    }
}

/// The desk's own email about the ticket, listed with the others so a
/// desk email that could not be sent is seen on the ticket.
fn desk_mail_view(ticket: &Ticket) -> MessageView {
    let mail = &ticket.mail;
    MessageView {
        what: match mail.purpose {
            MailPurpose::New => "新工单通知（客服中心）",
            MailPurpose::Serious => "严重事项通知（经理）",
            MailPurpose::Reopened => "重新处理通知（经理）",
        },
        channel: "邮件",
        state: if mail.sent {
            "已发送".to_owned()
        } else if mail.given_up() {
            "发送失败，已停止重试，请检查客服邮箱设置".to_owned()
        } else if mail.attempts > 0 {
            format!("发送失败 {} 次，正在重试", mail.attempts)
        } else {
            "待发送".to_owned()
        },
        error: (!mail.sent).then(|| mail.last_error.clone()).flatten(),
    }
}

#[derive(Serialize)]
struct TicketView {
    reference: String,
    url: String,
    queue_url: String,
    kind: String,
    noun: String,
    form_title: String,
    category: String,
    department: String,
    department_id: String,
    assignee: Option<String>,
    status: Status,
    status_label: &'static str,
    serious: bool,
    commitment: String,
    received: String,
    due: String,
    overdue: bool,
    visit: Option<String>,
    done: Option<String>,
    version: u64,
    updated: String,
    updated_by: String,
    /// What the owner filled in; staff see personal data, nobody else does.
    answers: Vec<Answer>,
}

#[derive(Deserialize, Default)]
pub struct Done {
    done: Option<String>,
}

pub async fn page(
    State(desk): State<Arc<Desk>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path(reference): Path<String>,
    Query(done): Query<Done>,
) -> Response {
    let format = Format::of(&headers);
    if !is_reference(&reference) {
        return not_found(&desk, format);
    }
    let ticket = match desk.ticket_for(&signed_in.staff, &reference).await {
        Ok(ticket) => ticket,
        Err(e) => return refused(&desk, format, e),
    };
    let notice = done
        .done
        .as_deref()
        .and_then(crate::workflow::spec)
        .map(|s| format!("已保存：{}", s.label));
    respond(
        &desk,
        format,
        &signed_in,
        &ticket,
        StatusCode::OK,
        notice,
        None,
        None,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn respond(
    desk: &Desk,
    format: Format,
    signed_in: &SignedIn,
    ticket: &Ticket,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    refused_form: Option<&Refused<'_>>,
) -> Response {
    let accounts = match desk.store.list_staff().await {
        Ok(accounts) => accounts,
        Err(e) => {
            tracing::error!(error = %e, "listing accounts failed");
            return reply::unavailable(format);
        }
    };
    let messages = match desk.store.outgoing_of(&ticket.reference).await {
        Ok(messages) => std::iter::once(desk_mail_view(ticket))
            .chain(messages.iter().map(|m| message_view(desk, m)))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "listing a ticket's messages failed");
            Vec::new()
        }
    };
    let names = Names {
        desk,
        staff: &accounts,
    };
    let page = TicketPage {
        messages,
        staff: StaffBar::new(desk, &signed_in.staff, &signed_in.session.csrf),
        ticket: view(&names, ticket),
        timeline: names.timeline(&ticket.timeline),
        actions: names.actions(&signed_in.staff, ticket, refused_form),
        notice,
        error,
    };
    views::answer(desk, format, "desk/ticket.html", &page, status)
}

fn view(names: &Names<'_>, t: &Ticket) -> TicketView {
    let desk = names.desk;
    let form = t.form(&desk.forms);
    let now = desk.clock.now();
    let answers = form
        .answers(t)
        .map(|(answer, shown)| Answer {
            label: answer.label.clone(),
            value: shown.to_owned(),
            personal: answer.personal,
        })
        .collect();
    TicketView {
        reference: t.reference.clone(),
        url: staff_url(desk, &format!("/tickets/{}", t.reference)),
        queue_url: staff_url(desk, "/"),
        kind: t.kind.clone(),
        noun: names.noun(t),
        form_title: form.title.clone(),
        category: names.category(t),
        department: names.department(&t.department),
        department_id: t.department.clone(),
        assignee: t.assignee.as_deref().map(|a| names.person(a)),
        status: t.status,
        status_label: t.status.staff_label(),
        serious: t.serious,
        commitment: form.promise_line(),
        received: desk.clock.display(t.received_at),
        due: desk.clock.display(t.due_at),
        overdue: t.is_overdue(now),
        visit: t.visit_at.map(|v| desk.clock.display(v)),
        done: t.done_at.map(|v| desk.clock.display(v)),
        version: t.version,
        updated: desk.clock.display(t.updated_at),
        updated_by: t.updated_by.clone(),
        answers,
    }
}

/// The answer to an action that could not start: unknown or hidden
/// tickets are simply not there.
fn refused(desk: &Desk, format: Format, error: ActError) -> Response {
    match error {
        ActError::NotFound => not_found(desk, format),
        ActError::Store(e) => {
            tracing::error!(error = %e, "the ticket store failed");
            reply::unavailable(format)
        }
        other => reply::message(format, StatusCode::CONFLICT, "refused", &other.to_string()),
    }
}

pub async fn act(
    State(desk): State<Arc<Desk>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Path((reference, action)): Path<(String, String)>,
    body: Body,
) -> Response {
    let format = Format::of(&headers);
    if !is_reference(&reference) || crate::workflow::spec(&action).is_none() {
        return not_found(&desk, format);
    }
    let pairs = match intake::read_pairs(&headers, body).await {
        Ok(pairs) => pairs,
        Err(e) => return reply::intake_error(format, e),
    };
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    if super::super::cross_site(&desk, &headers) {
        let message = super::super::CROSS_SITE_MESSAGE;
        if format == Format::Json {
            return reply::message(format, StatusCode::FORBIDDEN, "cross_site", message);
        }
        let refused_form = Refused {
            action: &action,
            field: None,
            message: message.to_owned(),
            inputs: &pairs,
        };
        return again(
            &desk,
            &signed_in,
            &reference,
            StatusCode::FORBIDDEN,
            refused_form,
        )
        .await;
    }
    if !session::csrf_ok(&signed_in.session, &headers, field(CSRF_FIELD)) {
        return session::forbidden(format);
    }
    let Some(seen) = field("version").and_then(|v| v.trim().parse::<u64>().ok()) else {
        return reply::message(
            format,
            StatusCode::UNPROCESSABLE_ENTITY,
            "version",
            "缺少工单版本号（version），请刷新页面后再操作。",
        );
    };
    let started = std::time::Instant::now();
    let result = desk
        .act(&signed_in.staff, &reference, &action, &pairs, seen)
        .await;
    let outcome = match &result {
        Ok(_) => "done",
        Err(ActError::NotFound) => "not_found",
        Err(ActError::NotAllowed(_)) => "not_allowed",
        Err(ActError::Invalid { .. }) => "invalid",
        Err(ActError::Conflict { .. }) => "conflict",
        Err(ActError::Store(_)) => "store_failed",
    };
    // Who did what to which ticket; never what anyone typed.
    tracing::info!(
        reference = %reference,
        action = %action,
        staff = %signed_in.staff.username,
        outcome,
        latency_ms = started.elapsed().as_millis() as u64,
        "staff action"
    );
    match result {
        Ok(ticket) => match format {
            Format::Html => reply::see_other(&format!(
                "{}?done={action}",
                staff_url(&desk, &format!("/tickets/{}", ticket.reference))
            )),
            Format::Json => {
                respond(
                    &desk,
                    format,
                    &signed_in,
                    &ticket,
                    StatusCode::OK,
                    None,
                    None,
                    None,
                )
                .await
            }
        },
        Err(error) => {
            let (status, field, code) = match &error {
                ActError::Invalid { field, .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, Some(*field), "invalid")
                }
                ActError::NotAllowed(_) => (StatusCode::CONFLICT, None, "not_allowed"),
                ActError::Conflict { .. } => (StatusCode::CONFLICT, None, "conflict"),
                ActError::NotFound | ActError::Store(_) => return refused(&desk, format, error),
            };
            let message = error.to_string();
            if format == Format::Json {
                let mut body = serde_json::json!({ "error": code, "message": message });
                if let Some(field) = field {
                    body["errors"] = serde_json::json!({ field: message });
                }
                if let ActError::Conflict { by, at, version } = &error {
                    body["changed_by"] = by.clone().into();
                    body["changed_at"] = at.clone().into();
                    body["version"] = (*version).into();
                }
                return (status, axum::Json(body)).into_response();
            }
            let refused_form = Refused {
                action: &action,
                field,
                message,
                inputs: &pairs,
            };
            again(&desk, &signed_in, &reference, status, refused_form).await
        }
    }
}

/// The ticket page again, as it is now, with what was typed kept in the
/// refused form and the reason beside it (or at the top).
async fn again(
    desk: &Desk,
    signed_in: &SignedIn,
    reference: &str,
    status: StatusCode,
    refused_form: Refused<'_>,
) -> Response {
    let ticket = match desk.ticket_for(&signed_in.staff, reference).await {
        Ok(ticket) => ticket,
        Err(e) => return refused(desk, Format::Html, e),
    };
    let banner = refused_form
        .field
        .is_none()
        .then(|| refused_form.message.clone());
    respond(
        desk,
        Format::Html,
        signed_in,
        &ticket,
        status,
        None,
        banner,
        Some(&refused_form),
    )
    .await
}
