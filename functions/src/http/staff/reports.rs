//! `GET /desk/reports?month=2026-11` and `GET /desk/staff`: for managers.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::super::receipt::not_found;
use super::super::reply::{self, Format};
use super::session::SignedIn;
use super::views::{self, StaffBar, department_name};
use crate::desk::Desk;

#[derive(Deserialize, Default)]
pub struct Month {
    month: Option<String>,
}

#[derive(Serialize)]
struct ReportPage {
    staff: StaffBar,
    month: String,
    report: Option<crate::report::MonthlyReport>,
    error: Option<String>,
}

pub async fn monthly(
    State(desk): State<Arc<Desk>>,
    signed_in: SignedIn,
    headers: HeaderMap,
    Query(month): Query<Month>,
) -> Response {
    let format = Format::of(&headers);
    // Not a manager: as if there were no such page.
    if !signed_in.staff.role.is_manager() {
        return not_found(&desk, format);
    }
    let month = month
        .month
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| {
            desk.clock
                .local(desk.clock.now())
                .format("%Y-%m")
                .to_string()
        });
    let (report, error, status) =
        match crate::report::monthly(desk.store.as_ref(), &desk.forms, &desk.clock, month.trim())
            .await
        {
            Ok(report) => (Some(report), None, StatusCode::OK),
            Err(crate::report::ReportError::Store(e)) => {
                tracing::error!(error = %e, "a report failed");
                return reply::unavailable(format);
            }
            Err(e) => (None, Some(e.to_string()), StatusCode::UNPROCESSABLE_ENTITY),
        };
    let page = ReportPage {
        staff: StaffBar::new(&desk, &signed_in.staff, &signed_in.session.csrf),
        month,
        report,
        error,
    };
    views::answer(&desk, format, "desk/report.html", &page, status)
}

#[derive(Serialize)]
struct StaffPage {
    staff: StaffBar,
    accounts: Vec<AccountRow>,
}

#[derive(Serialize)]
struct AccountRow {
    username: String,
    name: String,
    role: String,
    role_label: String,
    enabled: bool,
}

pub async fn staff(
    State(desk): State<Arc<Desk>>,
    signed_in: SignedIn,
    headers: HeaderMap,
) -> Response {
    let format = Format::of(&headers);
    if !signed_in.staff.role.is_manager() {
        return not_found(&desk, format);
    }
    let accounts = match desk.store.list_staff().await {
        Ok(accounts) => accounts,
        Err(e) => {
            tracing::error!(error = %e, "listing accounts failed");
            return reply::unavailable(format);
        }
    };
    let page = StaffPage {
        staff: StaffBar::new(&desk, &signed_in.staff, &signed_in.session.csrf),
        accounts: accounts
            .iter()
            .map(|a| AccountRow {
                username: a.username.clone(),
                name: a.name.clone(),
                role: a.role.as_string(),
                role_label: a.role.label(|id| department_name(&desk, id)),
                enabled: !a.disabled,
            })
            .collect(),
    };
    views::answer(&desk, format, "desk/staff.html", &page, StatusCode::OK)
}
