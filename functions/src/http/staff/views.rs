//! What the staff app's templates see (and what its JSON answers carry):
//! tickets in words for the desk, never the store's own structures.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::super::reply::{self, Format};
use super::session::staff_url;
use crate::accounts::Staff;
use crate::desk::Desk;
use crate::ticket::{Event, Status, Ticket};
use crate::workflow::{self, InputKind};

/// Renders a staff page, or answers its context as JSON.
pub fn answer(
    desk: &Desk,
    format: Format,
    template: &str,
    context: &impl Serialize,
    status: StatusCode,
) -> Response {
    match format {
        Format::Json => (status, Json(context)).into_response(),
        Format::Html => render(desk, template, context, status),
    }
}

pub fn render(
    desk: &Desk,
    template: &str,
    context: &impl Serialize,
    status: StatusCode,
) -> Response {
    match desk.theme.render(template, &desk.site, context) {
        // Staff pages show owners' personal data.
        Ok(page) => reply::private_html(status, page),
        Err(e) => {
            tracing::error!(error = %e, template, "rendering a staff page failed");
            reply::unavailable(Format::Html)
        }
    }
}

/// The bar at the top of every staff page.
#[derive(Debug, Serialize)]
pub struct StaffBar {
    pub username: String,
    pub name: String,
    pub role: String,
    pub role_label: String,
    pub is_desk: bool,
    pub is_manager: bool,
    /// Sent back with every state-changing form.
    pub csrf: String,
    pub queue_url: String,
    pub reports_url: String,
    pub signout_url: String,
}

impl StaffBar {
    pub fn new(desk: &Desk, staff: &Staff, csrf: &str) -> StaffBar {
        StaffBar {
            username: staff.username.clone(),
            name: staff.name.clone(),
            role: staff.role.as_string(),
            role_label: staff.role.label(|id| department_name(desk, id)),
            is_desk: staff.role.is_desk(),
            is_manager: staff.role.is_manager(),
            csrf: csrf.to_owned(),
            queue_url: staff_url(desk, "/"),
            reports_url: staff_url(desk, "/reports"),
            signout_url: staff_url(desk, "/signout"),
        }
    }
}

pub fn department_name(desk: &Desk, id: &str) -> Option<String> {
    desk.forms.department(id).map(|d| d.name.clone())
}

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// One line of a queue.
#[derive(Debug, Serialize)]
pub struct TicketRow {
    pub reference: String,
    pub url: String,
    pub kind: String,
    pub noun: String,
    pub category: String,
    pub department: String,
    pub status: Status,
    pub status_label: &'static str,
    pub received: String,
    pub due: String,
    pub due_at: String,
    pub overdue: bool,
    pub serious: bool,
    pub assignee: Option<String>,
    pub unit: String,
}

/// Names for the ticket's codes: the form's noun, the category's label,
/// the department's name, the assignee's name.
pub struct Names<'a> {
    pub desk: &'a Desk,
    pub staff: &'a [Staff],
}

impl Names<'_> {
    pub fn noun(&self, t: &Ticket) -> String {
        t.form(&self.desk.forms).noun.clone()
    }

    pub fn category(&self, t: &Ticket) -> String {
        t.form(&self.desk.forms).category_shown(t)
    }

    pub fn department(&self, id: &str) -> String {
        crate::report::department_name(&self.desk.forms, id)
    }

    pub fn person(&self, username: &str) -> String {
        self.staff
            .iter()
            .find(|s| s.username == username)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| username.to_owned())
    }

    pub fn row(&self, t: &Ticket, now: DateTime<Utc>) -> TicketRow {
        let clock = &self.desk.clock;
        TicketRow {
            reference: t.reference.clone(),
            url: staff_url(self.desk, &format!("/tickets/{}", t.reference)),
            kind: t.kind.clone(),
            noun: self.noun(t),
            category: self.category(t),
            department: self.department(&t.department),
            status: t.status,
            status_label: t.status.staff_label(),
            received: clock.display(t.received_at),
            due: clock.display(t.due_at),
            due_at: clock.local(t.due_at).to_rfc3339(),
            overdue: t.is_overdue(now),
            serious: t.serious,
            assignee: t.assignee.as_deref().map(|a| self.person(a)),
            unit: t.field("unit").unwrap_or("").to_owned(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Answer {
    pub label: String,
    pub value: String,
    pub personal: bool,
}

#[derive(Debug, Serialize)]
pub struct TimelineEntry {
    pub seq: u32,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub action_label: String,
    pub from: Status,
    pub to: Status,
    pub from_label: &'static str,
    pub to_label: &'static str,
    pub changed: bool,
    pub note: String,
    pub details: Vec<Answer>,
}

/// The timeline's words for an action id, including the ones only the
/// desk itself takes.
pub fn action_label(id: &str) -> String {
    match id {
        "file" => "业主提交".to_owned(),
        other => workflow::spec(other)
            .map(|s| s.label.to_owned())
            .unwrap_or_else(|| other.to_owned()),
    }
}

impl Names<'_> {
    pub fn timeline(&self, events: &[Event]) -> Vec<TimelineEntry> {
        events
            .iter()
            .map(|e| TimelineEntry {
                seq: e.seq,
                at: self.desk.clock.display(e.at),
                actor: e.actor.name.clone(),
                action: e.action.clone(),
                action_label: action_label(&e.action),
                from: e.from,
                to: e.to,
                from_label: e.from.staff_label(),
                to_label: e.to.staff_label(),
                changed: e.from != e.to,
                note: e.note.clone(),
                details: e
                    .details
                    .iter()
                    .map(|(name, value)| self.detail(name, value))
                    .collect(),
            })
            .collect()
    }

    fn detail(&self, name: &str, value: &str) -> Answer {
        let time = |v: &str| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| self.desk.clock.display(t.with_timezone(&Utc)))
                .unwrap_or_else(|_| v.to_owned())
        };
        let (label, value) = match name {
            "department" => ("部门", self.department(value)),
            "assignee" => ("人员", self.person(value)),
            "visit_at" => ("上门时间", time(value)),
            "due_at" => ("截止时间", time(value)),
            "reached" => (
                "联系上业主",
                if value == "yes" { "是" } else { "否" }.to_owned(),
            ),
            "satisfaction" => ("满意度", format!("{value} / 5")),
            "reopen" => ("重新处理", "是".to_owned()),
            "solved" => (
                "问题已解决",
                if value == "yes" { "是" } else { "否" }.to_owned(),
            ),
            other => (other, value.to_owned()),
        };
        Answer {
            label: label.to_owned(),
            value,
            personal: false,
        }
    }
}

/// One action's small form.
#[derive(Debug, Serialize)]
pub struct ActionForm {
    pub id: &'static str,
    pub label: &'static str,
    pub url: String,
    pub inputs: Vec<InputView>,
    /// The message when this form was just refused.
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InputView {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: InputKind,
    pub required: bool,
    pub value: String,
    pub options: Vec<Choice>,
    pub error: Option<String>,
}

/// What was typed into a refused form, to show it again.
pub struct Refused<'a> {
    pub action: &'a str,
    pub field: Option<&'a str>,
    pub message: String,
    pub inputs: &'a [(String, String)],
}

impl Names<'_> {
    pub fn actions(
        &self,
        staff: &Staff,
        t: &Ticket,
        refused: Option<&Refused<'_>>,
    ) -> Vec<ActionForm> {
        workflow::allowed(t.status)
            .filter(|spec| spec.for_staff(&staff.role))
            .filter(|spec| !(spec.id == "mark_serious" && t.serious))
            .map(|spec| {
                let this = refused.filter(|r| r.action == spec.id);
                let typed = |name: &str| {
                    this.and_then(|r| r.inputs.iter().find(|(n, _)| n == name))
                        .map(|(_, v)| v.clone())
                };
                ActionForm {
                    id: spec.id,
                    label: spec.label,
                    url: staff_url(self.desk, &format!("/tickets/{}/{}", t.reference, spec.id)),
                    inputs: spec
                        .inputs
                        .iter()
                        .map(|input| {
                            let value = typed(input.name)
                                .unwrap_or_else(|| self.default_value(t, input.name));
                            InputView {
                                name: input.name,
                                label: input.label,
                                kind: input.kind,
                                required: input.required,
                                options: self.options(input.kind, &value),
                                error: this
                                    .filter(|r| r.field == Some(input.name))
                                    .map(|r| r.message.clone()),
                                value,
                            }
                        })
                        .collect(),
                    error: this
                        .filter(|r| r.field.is_none())
                        .map(|r| r.message.clone()),
                }
            })
            .collect()
    }

    fn default_value(&self, t: &Ticket, name: &str) -> String {
        let local = |when: DateTime<Utc>| {
            self.desk
                .clock
                .local(when)
                .format("%Y-%m-%dT%H:%M")
                .to_string()
        };
        match name {
            "department" => t.department.clone(),
            "assignee" => t.assignee.clone().unwrap_or_default(),
            "visit_at" => t.visit_at.map(local).unwrap_or_default(),
            "due_at" => local(t.due_at),
            _ => String::new(),
        }
    }

    fn options(&self, kind: InputKind, value: &str) -> Vec<Choice> {
        let choice = |v: &str, label: String| Choice {
            selected: v == value,
            value: v.to_owned(),
            label,
        };
        match kind {
            InputKind::Department => self
                .desk
                .forms
                .departments
                .iter()
                .map(|(id, d)| choice(id, d.name.clone()))
                .collect(),
            InputKind::Staff => std::iter::once(choice("", "（不指定）".to_owned()))
                .chain(self.staff.iter().filter(|s| !s.disabled).map(|s| {
                    choice(
                        &s.username,
                        format!(
                            "{}（{}）",
                            s.name,
                            s.role.label(|id| department_name(self.desk, id))
                        ),
                    )
                }))
                .collect(),
            InputKind::Rating => (1..=5)
                .rev()
                .map(|n| {
                    let words = ["", "很不满意", "不满意", "一般", "满意", "很满意"][n];
                    choice(&n.to_string(), format!("{n} {words}"))
                })
                .collect(),
            InputKind::YesNo => vec![
                choice("yes", "联系上了".to_owned()),
                choice("no", "未联系上".to_owned()),
            ],
            _ => Vec::new(),
        }
    }
}
