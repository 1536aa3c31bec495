//! `GET /desk/`: the queues, with filters.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::super::reply::{self, Format};
use super::session::{SignedIn, staff_url};
use super::views::{self, Choice, Names, StaffBar, TicketRow};
use crate::accounts::{Role, Staff};
use crate::desk::Desk;
use crate::store::{Filters, ListQuery, View};
use crate::ticket::Status;

/// The most tickets one queue page lists.
pub const PAGE: usize = 200;

/// The query string of a queue; every part optional.
#[derive(Debug, Default, Deserialize, Serialize, Clone)]
pub struct QueueParams {
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub department: String,
    #[serde(default)]
    pub status: String,
    /// `YYYY-MM-DD`, received on or after.
    #[serde(default)]
    pub from: String,
    /// `YYYY-MM-DD`, received on or before.
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub unit: String,
}

/// The queues, in the order the app offers them.
const VIEWS: &[(&str, &str)] = &[
    ("new", "新工单（待派单）"),
    ("mine", "我的"),
    ("department", "本部门"),
    ("overdue", "已超时"),
    ("waiting", "挂起（等配件）"),
    ("follow_up", "待回访"),
    ("all", "全部"),
];

fn views_for(role: &Role) -> impl Iterator<Item = &'static (&'static str, &'static str)> + '_ {
    VIEWS
        .iter()
        .filter(|(id, _)| *id != "new" || role.is_desk())
}

fn default_view(role: &Role) -> &'static str {
    if role.is_desk() { "new" } else { "department" }
}

fn view(desk: &Desk, id: &str, staff: &Staff) -> View {
    match id {
        "new" => View::New,
        "mine" => View::Mine(staff.username.clone()),
        "department" => View::Department(staff.role.home_department().to_owned()),
        "overdue" => View::Overdue,
        "waiting" => View::Waiting,
        "follow_up" => View::AwaitingFollowUp {
            done_before: desk.clock.now() - desk.follow_up_after,
        },
        _ => View::All,
    }
}

#[derive(Serialize)]
struct QueuePage {
    staff: StaffBar,
    queue: QueueView,
}

#[derive(Serialize)]
struct QueueView {
    view: String,
    view_label: String,
    views: Vec<ViewLink>,
    filters: QueueParams,
    kinds: Vec<Choice>,
    categories: Vec<Choice>,
    departments: Vec<Choice>,
    statuses: Vec<Choice>,
    /// Department accounts see only their own department's tickets.
    department_fixed: bool,
    tickets: Vec<TicketRow>,
    count: usize,
    /// More matched than one page shows.
    truncated: bool,
    error: Option<String>,
}

#[derive(Serialize)]
struct ViewLink {
    id: &'static str,
    label: &'static str,
    url: String,
    active: bool,
}

pub async fn queue(
    State(desk): State<Arc<Desk>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(params): Query<QueueParams>,
) -> Response {
    let format = Format::of(&headers);
    let staff = &signed_in.staff;
    let view_id = if views_for(&staff.role).any(|(id, _)| *id == params.view) {
        params.view.clone()
    } else {
        default_view(&staff.role).to_owned()
    };
    let (filters, error) = filters(&desk, staff, &params);
    let query = ListQuery {
        view: view(&desk, &view_id, staff),
        filters,
        now: desk.clock.now(),
        limit: PAGE + 1,
    };
    let (tickets, accounts) =
        match tokio::try_join!(desk.store.list(&query), desk.store.list_staff()) {
            Ok(found) => found,
            Err(e) => {
                tracing::error!(error = %e, "listing a queue failed");
                return reply::unavailable(format);
            }
        };
    let names = Names {
        desk: &desk,
        staff: &accounts,
    };
    let mut rows: Vec<TicketRow> = tickets
        .iter()
        .filter(|t| staff.role.may_see(t))
        .map(|t| names.row(t, query.now))
        .collect();
    let truncated = rows.len() > PAGE;
    rows.truncate(PAGE);
    let page = QueuePage {
        staff: StaffBar::new(&desk, staff, &signed_in.session.csrf),
        queue: QueueView {
            view_label: VIEWS
                .iter()
                .find(|(id, _)| *id == view_id)
                .map(|(_, l)| (*l).to_owned())
                .unwrap_or_default(),
            views: views_for(&staff.role)
                .map(|(id, label)| ViewLink {
                    id,
                    label,
                    url: format!("{}?view={id}", staff_url(&desk, "/")),
                    active: *id == view_id,
                })
                .collect(),
            kinds: choices(
                desk.forms.iter().map(|f| (f.kind.clone(), f.noun.clone())),
                &params.kind,
            ),
            categories: choices(categories(&desk), &params.category),
            departments: choices(
                desk.forms
                    .departments
                    .iter()
                    .map(|(id, d)| (id.clone(), d.name.clone())),
                &params.department,
            ),
            statuses: choices(
                Status::ALL
                    .iter()
                    .map(|s| (s.as_str().to_owned(), s.staff_label().to_owned())),
                &params.status,
            ),
            department_fixed: staff.role.department().is_some(),
            count: rows.len(),
            tickets: rows,
            truncated,
            view: view_id,
            filters: params,
            error,
        },
    };
    views::answer(&desk, format, "desk/queue.html", &page, StatusCode::OK)
}

fn choices(pairs: impl Iterator<Item = (String, String)>, selected: &str) -> Vec<Choice> {
    pairs
        .map(|(value, label)| Choice {
            selected: value == selected,
            value,
            label,
        })
        .collect()
}

/// Every routing choice of every form, once per value.
fn categories(desk: &Desk) -> impl Iterator<Item = (String, String)> {
    let mut seen = std::collections::BTreeMap::new();
    for form in desk.forms.iter() {
        for field in &form.fields {
            for choice in field.options.iter().filter(|c| c.department.is_some()) {
                seen.entry(choice.value.clone())
                    .or_insert_with(|| choice.label.clone());
            }
        }
    }
    seen.into_iter()
}

/// The filters asked for, within what the account may see; a malformed
/// date is named rather than ignored.
fn filters(desk: &Desk, staff: &Staff, p: &QueueParams) -> (Filters, Option<String>) {
    let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let mut error = None;
    let mut day = |v: &str, label: &str, next_day: bool| {
        let v = v.trim();
        if v.is_empty() {
            return None;
        }
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(date) => {
                let date = if next_day {
                    date.succ_opt().unwrap_or(date)
                } else {
                    date
                };
                let midnight = date.and_hms_opt(0, 0, 0)?;
                desk.clock
                    .offset()
                    .from_local_datetime(&midnight)
                    .single()
                    .map(|t| t.with_timezone(&Utc))
            }
            Err(_) => {
                error = Some(format!("{label}“{v}”不是日期，请写成 2026-11-23"));
                None
            }
        }
    };
    let from = day(&p.from, "开始日期", false);
    let to = day(&p.to, "结束日期", true);
    let department = match staff.role.department() {
        Some(own) => Some(own.to_owned()),
        None => text(&p.department),
    };
    (
        Filters {
            kind: text(&p.kind),
            category: text(&p.category),
            department,
            status: Status::parse(p.status.trim()),
            from,
            to,
            unit: text(&p.unit),
        },
        error,
    )
}
