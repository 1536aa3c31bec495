//! The monthly summary the desk's yearly review is made of (报修受理、派工、
//! 完成、等待配件、转开发商、有效投诉按原因): for the tickets received in one
//! month (estate time), per kind of request and per department, how many
//! were received, dispatched, done (on time or not), are waiting for parts,
//! were reopened, cancelled, and how the 回访 went; plus the complaint mix
//! by cause, with each cause's label from the form definition.
//!
//! [`summarize`] is the pure arithmetic; [`monthly`] reads the month's
//! tickets from a store; [`to_table`] prints a report for people.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};
use forms::FormSet;
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use crate::store::{Filters, ListQuery, StoreError, TicketStore, View};
use crate::ticket::{Status, Ticket};
use crate::time::Clock;

/// The form whose categories make the complaint mix.
pub const COMPLAINT_KIND: &str = "complaint";

/// The most tickets one report or export reads. An estate receives about
/// 1,200 requests a year; a period with more is refused rather than
/// silently counted short.
pub const MAX_TICKETS: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("`{0}` is not a month: write the year and the month as YYYY-MM, e.g. 2026-11")]
    BadMonth(String),
    #[error("the month has more than {MAX_TICKETS} tickets, more than a report reads")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One calendar month in estate time, as the instants it runs between.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Month {
    /// `2026-11`.
    pub name: String,
    /// The first instant of the month (estate midnight on the 1st).
    pub from: DateTime<Utc>,
    /// The first instant of the next month.
    pub to: DateTime<Utc>,
}

impl Month {
    /// `2026-11` (or `2026-1`) in the estate's time zone.
    pub fn parse(text: &str, offset: FixedOffset) -> Result<Month, ReportError> {
        let bad = || ReportError::BadMonth(text.to_owned());
        let (year, month) = text.trim().split_once('-').ok_or_else(bad)?;
        let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
            len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !digits(year, 4..=4) || !digits(month, 1..=2) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
        let next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }
        .ok_or_else(bad)?;
        Ok(Month {
            name: format!("{:04}-{:02}", first.year(), first.month()),
            from: local_midnight(offset, first).ok_or_else(bad)?,
            to: local_midnight(offset, next).ok_or_else(bad)?,
        })
    }

    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// Midnight at the start of `day` in the estate's zone, as UTC.
pub fn local_midnight(offset: FixedOffset, day: NaiveDate) -> Option<DateTime<Utc>> {
    offset
        .from_local_datetime(&day.and_hms_opt(0, 0, 0)?)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// The figures of one group of tickets.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Counts {
    pub received: u32,
    /// Left the desk: any status but received and cancelled.
    pub dispatched: u32,
    /// The work was marked done (`done_at` set), whatever happened since.
    pub done: u32,
    /// Done no later than due.
    pub on_time: u32,
    /// On hold (挂起) now: waiting for parts or a third party.
    pub waiting_for_parts: u32,
    /// Reopened at least once by an unhappy owner.
    pub reopened: u32,
    pub cancelled: u32,
    /// Done, and the 回访 reached the owner.
    pub followed_up: u32,
    /// `followed_up / done`, 0 to 1; none when nothing is done.
    pub follow_up_rate: Option<f64>,
    /// Reached follow-ups with a satisfaction score.
    pub rated: u32,
    /// Their average, 1 to 5.
    pub average_satisfaction: Option<f64>,
    #[serde(skip)]
    satisfaction_sum: u32,
}

impl Counts {
    fn add(&mut self, ticket: &Ticket) {
        self.received += 1;
        if !matches!(ticket.status, Status::Received | Status::Cancelled) {
            self.dispatched += 1;
        }
        if let Some(done_at) = ticket.done_at {
            self.done += 1;
            if done_at <= ticket.due_at {
                self.on_time += 1;
            }
            if ticket.follow_up.as_ref().is_some_and(|f| f.reached) {
                self.followed_up += 1;
            }
        }
        if ticket.status == Status::OnHold {
            self.waiting_for_parts += 1;
        }
        if ticket.reopen_count > 0 {
            self.reopened += 1;
        }
        if ticket.status == Status::Cancelled {
            self.cancelled += 1;
        }
        if let Some(score) = ticket
            .follow_up
            .as_ref()
            .filter(|f| f.reached)
            .and_then(|f| f.satisfaction)
        {
            self.rated += 1;
            self.satisfaction_sum += u32::from(score);
        }
    }

    fn finish(&mut self) {
        self.follow_up_rate =
            (self.done > 0).then(|| round(f64::from(self.followed_up) / f64::from(self.done), 4));
        self.average_satisfaction = (self.rated > 0)
            .then(|| round(f64::from(self.satisfaction_sum) / f64::from(self.rated), 2));
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DepartmentSummary {
    /// The id in `departments.yaml`.
    pub department: String,
    /// Its name there (the id when it is no longer listed).
    pub name: String,
    pub counts: Counts,
}

/// One kind of request (one form).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindSummary {
    pub kind: String,
    /// 报修, 投诉, 建议 (the kind itself when its form is gone).
    pub noun: String,
    pub totals: Counts,
    /// The departments its tickets are with now, in `departments.yaml`'s
    /// order; only those with tickets.
    pub departments: Vec<DepartmentSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryShare {
    /// The choice's value, none for complaints without a category.
    pub category: Option<String>,
    /// Its label in the form, e.g. 房屋质量（保修期内）.
    pub label: String,
    pub count: u32,
    /// Of the valid complaints, 0 to 1; none when there are none.
    pub share: Option<f64>,
}

/// Valid complaints (all but the cancelled: duplicates and withdrawn) by
/// cause. Every category of the form is listed, in its order, so months
/// compare row by row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ComplaintMix {
    pub valid: u32,
    pub categories: Vec<CategoryShare>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthlyReport {
    pub month: Month,
    /// Every ticket received in the month.
    pub totals: Counts,
    /// Every form, in the form set's order, then kinds whose form is gone.
    pub kinds: Vec<KindSummary>,
    pub complaints: ComplaintMix,
}

pub use crate::snapshot::routing_field;

/// The label of a ticket's category in its form, e.g. 给排水（漏水、堵塞、水压）.
pub fn category_label<'a>(forms: &'a FormSet, kind: &str, category: &str) -> Option<&'a str> {
    crate::snapshot::category_label(forms.get(kind)?, category)
}

/// The name of a department, or its id when `departments.yaml` no longer has it.
pub fn department_name(forms: &FormSet, id: &str) -> String {
    forms
        .department(id)
        .map_or_else(|| id.to_owned(), |d| d.name.clone())
}

/// The report of the tickets received in `month`; others are ignored.
pub fn summarize(tickets: &[Ticket], forms: &FormSet, month: &Month) -> MonthlyReport {
    let in_month: Vec<&Ticket> = tickets
        .iter()
        .filter(|t| month.contains(t.received_at))
        .collect();

    let mut kinds: Vec<String> = forms.iter().map(|f| f.kind.clone()).collect();
    let mut others: Vec<String> = in_month
        .iter()
        .filter(|t| forms.get(&t.kind).is_none())
        .map(|t| t.kind.clone())
        .collect();
    others.sort();
    others.dedup();
    kinds.extend(others);

    let department_order = |id: &str| {
        forms
            .departments
            .keys()
            .position(|k| k == id)
            .unwrap_or(usize::MAX)
    };

    let mut totals = Counts::default();
    let mut summaries = Vec::new();
    for kind in kinds {
        let of_kind: Vec<&Ticket> = in_month
            .iter()
            .copied()
            .filter(|t| t.kind == kind)
            .collect();
        let mut kind_totals = Counts::default();
        let mut departments: Vec<DepartmentSummary> = Vec::new();
        for ticket in &of_kind {
            kind_totals.add(ticket);
            totals.add(ticket);
            match departments
                .iter_mut()
                .find(|d| d.department == ticket.department)
            {
                Some(d) => d.counts.add(ticket),
                None => {
                    let mut counts = Counts::default();
                    counts.add(ticket);
                    departments.push(DepartmentSummary {
                        department: ticket.department.clone(),
                        name: department_name(forms, &ticket.department),
                        counts,
                    });
                }
            }
        }
        kind_totals.finish();
        for d in &mut departments {
            d.counts.finish();
        }
        departments.sort_by(|a, b| {
            department_order(&a.department)
                .cmp(&department_order(&b.department))
                .then_with(|| a.department.cmp(&b.department))
        });
        summaries.push(KindSummary {
            noun: forms
                .get(&kind)
                .map_or_else(|| kind.clone(), |f| f.noun.clone()),
            kind,
            totals: kind_totals,
            departments,
        });
    }
    totals.finish();

    MonthlyReport {
        month: month.clone(),
        totals,
        kinds: summaries,
        complaints: complaint_mix(&in_month, forms),
    }
}

fn complaint_mix(tickets: &[&Ticket], forms: &FormSet) -> ComplaintMix {
    let valid: Vec<&Ticket> = tickets
        .iter()
        .copied()
        .filter(|t| t.kind == COMPLAINT_KIND && t.status != Status::Cancelled)
        .collect();
    let mut categories: Vec<CategoryShare> = forms
        .get(COMPLAINT_KIND)
        .and_then(routing_field)
        .map(|field| {
            field
                .options
                .iter()
                .map(|c| CategoryShare {
                    category: Some(c.value.clone()),
                    label: c.label.clone(),
                    count: 0,
                    share: None,
                })
                .collect()
        })
        .unwrap_or_default();
    for ticket in &valid {
        match categories
            .iter_mut()
            .find(|c| c.category == ticket.category)
        {
            Some(c) => c.count += 1,
            None => categories.push(CategoryShare {
                category: ticket.category.clone(),
                label: match &ticket.category {
                    Some(value) => category_label(forms, COMPLAINT_KIND, value)
                        .map_or_else(|| value.clone(), str::to_owned),
                    None => "未分类".to_owned(),
                },
                count: 1,
                share: None,
            }),
        }
    }
    let total = valid.len() as u32;
    for c in &mut categories {
        c.share = (total > 0).then(|| round(f64::from(c.count) / f64::from(total), 4));
    }
    ComplaintMix {
        valid: total,
        categories,
    }
}

/// The report of the tickets received in `month` (`2026-11`, estate time).
pub async fn monthly(
    store: &dyn TicketStore,
    forms: &FormSet,
    clock: &Clock,
    month: &str,
) -> Result<MonthlyReport, ReportError> {
    let month = Month::parse(month, clock.offset())?;
    let tickets = received_between(store, clock, month.from, month.to)
        .await?
        .ok_or(ReportError::TooMany)?;
    Ok(summarize(&tickets, forms, &month))
}

/// Every ticket received in `[from, to)` with its latest state, oldest
/// first; none when there are more than [`MAX_TICKETS`].
pub async fn received_between(
    store: &dyn TicketStore,
    clock: &Clock,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Option<Vec<Ticket>>, StoreError> {
    let query = ListQuery {
        view: View::All,
        filters: Filters {
            from: Some(from),
            to: Some(to),
            ..Filters::default()
        },
        now: clock.now(),
        limit: MAX_TICKETS + 1,
    };
    let mut tickets = store.list(&query).await?;
    if tickets.len() > MAX_TICKETS {
        return Ok(None);
    }
    tickets.sort_by(|a, b| {
        a.received_at
            .cmp(&b.received_at)
            .then_with(|| a.reference.cmp(&b.reference))
    });
    Ok(Some(tickets))
}

/// The report as an aligned plain-text table with Chinese headings.
pub fn to_table(report: &MonthlyReport) -> String {
    let month = &report.month;
    let mut out = String::new();
    let (year, number) = month.name.split_once('-').unwrap_or((&month.name, ""));
    out.push_str(&format!(
        "{year}年{}月工单统计（按受理时间）\n\n",
        number.trim_start_matches('0')
    ));

    let headers = [
        "类型",
        "部门",
        "受理",
        "已派单",
        "已完成",
        "按时完成",
        "等待配件",
        "重新处理",
        "已取消",
        "回访率",
        "满意度",
    ];
    let figures = |counts: &Counts| {
        vec![
            counts.received.to_string(),
            counts.dispatched.to_string(),
            counts.done.to_string(),
            counts.on_time.to_string(),
            counts.waiting_for_parts.to_string(),
            counts.reopened.to_string(),
            counts.cancelled.to_string(),
            counts
                .follow_up_rate
                .map_or_else(|| "-".to_owned(), percent),
            counts
                .average_satisfaction
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.2}")),
        ]
    };
    let mut rows = Vec::new();
    for kind in &report.kinds {
        let mut row = vec![kind.noun.clone(), "小计".to_owned()];
        row.extend(figures(&kind.totals));
        rows.push(row);
        for d in &kind.departments {
            let mut row = vec![String::new(), d.name.clone()];
            row.extend(figures(&d.counts));
            rows.push(row);
        }
    }
    let mut row = vec!["合计".to_owned(), String::new()];
    row.extend(figures(&report.totals));
    rows.push(row);
    out.push_str(&plain_table(&headers, &rows, 2));

    let mix = &report.complaints;
    out.push_str(&format!(
        "\n有效投诉 {} 件（不含已取消），按原因：\n\n",
        mix.valid
    ));
    let rows: Vec<Vec<String>> = mix
        .categories
        .iter()
        .map(|c| {
            vec![
                c.label.clone(),
                c.count.to_string(),
                c.share.map_or_else(|| "-".to_owned(), percent),
            ]
        })
        .collect();
    out.push_str(&plain_table(&["投诉原因", "件数", "占比"], &rows, 1));
    out
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// Columns padded to the widest cell, counting CJK characters as two
/// columns; columns from `numeric_from` on are right-aligned.
pub fn plain_table(headers: &[&str], rows: &[Vec<String>], numeric_from: usize) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.width()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i < widths.len() {
                widths[i] = widths[i].max(cell.width());
            } else {
                widths.push(cell.width());
            }
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            let pad = " ".repeat(widths[i].saturating_sub(cell.width()));
            if i > 0 {
                text.push_str("  ");
            }
            if i >= numeric_from {
                text.push_str(&pad);
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.push_str(&pad);
            }
        }
        text.truncate(text.trim_end().len());
        text.push('\n');
        text
    };
    let mut out = line(&mut headers.iter().copied());
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    out.push_str(&line(&mut rule.iter().map(String::as_str)));
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ticket::{FollowUp, MailPurpose, MailState};
    use chrono::Duration;
    use std::path::Path;

    pub(crate) fn forms() -> FormSet {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/forms");
        FormSet::load(&dir).expect("the site's forms load")
    }

    pub(crate) fn offset() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    pub(crate) fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    pub(crate) fn ticket(
        reference: &str,
        kind: &str,
        category: &str,
        department: &str,
        received: &str,
    ) -> Ticket {
        let received_at = at(received);
        Ticket {
            reference: reference.into(),
            kind: kind.into(),
            fields: vec![],
            received_at,
            status: Status::Dispatched,
            urgency: "ordinary".into(),
            category: Some(category.into()),
            department: department.into(),
            assignee: None,
            serious: false,
            due_at: received_at + Duration::hours(24),
            visit_at: None,
            done_at: None,
            follow_up: None,
            reopen_count: 0,
            version: 1,
            updated_at: received_at,
            updated_by: "系统".into(),
            mail: MailState::owed(received_at, MailPurpose::New),
            status_keys: vec![],
            snapshot: None,
            timeline: vec![],
        }
    }

    pub(crate) fn done(mut t: Ticket, hours: i64, follow_up: Option<(bool, Option<u8>)>) -> Ticket {
        t.done_at = Some(t.received_at + Duration::hours(hours));
        t.status = Status::Done;
        if let Some((reached, satisfaction)) = follow_up {
            t.status = if reached {
                Status::FollowedUp
            } else {
                Status::Done
            };
            t.follow_up = Some(FollowUp {
                at: t.received_at + Duration::hours(hours + 1),
                reached,
                satisfaction,
                comment: String::new(),
                reopened: false,
            });
        }
        t
    }

    fn november() -> Month {
        Month::parse("2026-11", offset()).unwrap()
    }

    #[test]
    fn months_are_estate_months() {
        let m = november();
        assert_eq!(m.name, "2026-11");
        assert_eq!(m.from, at("2026-10-31T16:00:00Z"));
        assert_eq!(m.to, at("2026-11-30T16:00:00Z"));
        assert_eq!(
            Month::parse("2026-12", offset()).unwrap().to,
            at("2026-12-31T16:00:00Z")
        );
        assert_eq!(Month::parse(" 2026-1 ", offset()).unwrap().name, "2026-01");
        for bad in [
            "2026-13",
            "2026-00",
            "2026/11",
            "26-11",
            "2026-11-01",
            "",
            "十一月",
        ] {
            let err = Month::parse(bad, offset()).unwrap_err();
            assert!(err.to_string().contains("YYYY-MM"), "{bad}: {err}");
        }
    }

    #[test]
    fn counts_each_figure_of_the_review() {
        let forms = forms();
        let mut hold = ticket(
            "BX-1",
            "repair",
            "plumbing",
            "engineering",
            "2026-11-02T01:00:00Z",
        );
        hold.status = Status::OnHold;
        let mut waiting = ticket(
            "BX-2",
            "repair",
            "building",
            "developer",
            "2026-11-03T01:00:00Z",
        );
        waiting.status = Status::Received;
        let mut cancelled = ticket(
            "BX-3",
            "repair",
            "lift",
            "engineering",
            "2026-11-04T01:00:00Z",
        );
        cancelled.status = Status::Cancelled;
        let mut reopened = done(
            ticket(
                "BX-4",
                "repair",
                "lift",
                "engineering",
                "2026-11-05T01:00:00Z",
            ),
            30,
            Some((true, Some(2))),
        );
        reopened.reopen_count = 1;
        reopened.status = Status::Reopened;
        let tickets = vec![
            hold,
            waiting,
            cancelled,
            reopened,
            done(
                ticket(
                    "BX-5",
                    "repair",
                    "plumbing",
                    "engineering",
                    "2026-11-06T01:00:00Z",
                ),
                3,
                Some((true, Some(5))),
            ),
            done(
                ticket(
                    "BX-6",
                    "repair",
                    "plumbing",
                    "engineering",
                    "2026-11-07T01:00:00Z",
                ),
                5,
                Some((false, None)),
            ),
            // 2026-11-01 00:30 estate time: in November.
            done(
                ticket(
                    "BX-7",
                    "repair",
                    "building",
                    "developer",
                    "2026-10-31T16:30:00Z",
                ),
                2,
                None,
            ),
            // 2026-10-31 23:59:59 and 2026-12-01 00:00 estate time: not November.
            ticket(
                "BX-8",
                "repair",
                "plumbing",
                "engineering",
                "2026-10-31T15:59:59Z",
            ),
            ticket(
                "BX-9",
                "repair",
                "plumbing",
                "engineering",
                "2026-11-30T16:00:00Z",
            ),
        ];
        let report = summarize(&tickets, &forms, &november());
        let repair = report.kinds.iter().find(|k| k.kind == "repair").unwrap();
        assert_eq!(repair.noun, "报修");
        let t = &repair.totals;
        assert_eq!(
            (
                t.received,
                t.dispatched,
                t.done,
                t.on_time,
                t.waiting_for_parts,
                t.reopened,
                t.cancelled
            ),
            (7, 5, 4, 3, 1, 1, 1)
        );
        assert_eq!((t.followed_up, t.follow_up_rate), (2, Some(0.5)));
        assert_eq!((t.rated, t.average_satisfaction), (2, Some(3.5)));
        assert_eq!(report.totals, *t);

        let names: Vec<&str> = repair.departments.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            ["开发商保修（由客服中心转交）", "工程部（机电维修）"]
        );
        let developer = &repair.departments[0].counts;
        assert_eq!(
            (developer.received, developer.dispatched, developer.done),
            (2, 1, 1)
        );
        assert_eq!(developer.follow_up_rate, Some(0.0));
        assert_eq!(developer.average_satisfaction, None);

        // Every form is listed, empty ones too.
        let complaint = report.kinds.iter().find(|k| k.kind == "complaint").unwrap();
        assert_eq!(
            (complaint.totals.received, complaint.totals.follow_up_rate),
            (0, None)
        );
    }

    #[test]
    fn the_complaint_mix_counts_valid_complaints_by_cause() {
        let forms = forms();
        let mut withdrawn = ticket(
            "TS-4",
            "complaint",
            "security",
            "security",
            "2026-11-05T01:00:00Z",
        );
        withdrawn.status = Status::Cancelled;
        let tickets = vec![
            ticket(
                "TS-1",
                "complaint",
                "building",
                "developer",
                "2026-11-02T01:00:00Z",
            ),
            ticket(
                "TS-2",
                "complaint",
                "security",
                "security",
                "2026-11-03T01:00:00Z",
            ),
            ticket(
                "TS-3",
                "complaint",
                "security",
                "security",
                "2026-11-04T01:00:00Z",
            ),
            ticket(
                "TS-5",
                "complaint",
                "smart-home",
                "engineering",
                "2026-11-06T01:00:00Z",
            ),
            withdrawn,
            ticket(
                "BX-1",
                "repair",
                "building",
                "developer",
                "2026-11-02T01:00:00Z",
            ),
        ];
        let report = summarize(&tickets, &forms, &november());
        let mix = &report.complaints;
        assert_eq!(mix.valid, 4);
        let row = |value: &str| {
            mix.categories
                .iter()
                .find(|c| c.category.as_deref() == Some(value))
                .unwrap()
        };
        assert_eq!(
            (row("security").label.as_str(), row("security").count),
            ("安全管理、门岗、停车", 2)
        );
        assert_eq!(row("security").share, Some(0.5));
        assert_eq!(
            (row("building").label.as_str(), row("building").share),
            ("房屋质量（保修期内）", Some(0.25))
        );
        assert_eq!((row("fees").count, row("fees").share), (0, Some(0.0)));
        let causes = routing_field(forms.get("complaint").unwrap())
            .unwrap()
            .options
            .len();
        assert_eq!(
            mix.categories.len(),
            causes,
            "every cause of the form, in its order"
        );
        assert_eq!(mix.categories[0].category.as_deref(), Some("service"));
    }

    #[test]
    fn the_table_lines_up_chinese_text() {
        let forms = forms();
        let tickets = vec![done(
            ticket(
                "BX-1",
                "repair",
                "plumbing",
                "engineering",
                "2026-11-02T01:00:00Z",
            ),
            3,
            Some((true, Some(4))),
        )];
        let table = to_table(&summarize(&tickets, &forms, &november()));
        assert!(table.starts_with("2026年11月工单统计"), "{table}");
        assert!(
            table.contains("回访率") && table.contains("100.0%") && table.contains("4.00"),
            "{table}"
        );
        assert!(table.contains("安全管理、门岗、停车"), "{table}");
        // Within the first table every line (but the title) ends in the
        // same display column.
        let lines: Vec<&str> = table
            .lines()
            .skip(2)
            .take_while(|l| !l.is_empty())
            .collect();
        assert!(lines.len() >= 5, "{table}");
        let width = lines[1].width();
        for line in &lines {
            assert_eq!(line.width(), width, "{line:?} in\n{table}");
        }
    }
}
