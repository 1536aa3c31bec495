//! The tickets received in a period as a spreadsheet (CSV) for the desk's
//! own analysis: one row per ticket with its latest state, Chinese column
//! headings, UTF-8 with a byte-order mark so Excel shows the Chinese.
//!
//! Owners' personal fields (a form field with `personal: true`: unit,
//! name, phone, email) are left out unless asked for. A field a ticket has
//! but no form defines any more is left out too, since nothing says
//! whether it is personal.

use std::io::Write;

use chrono::{DateTime, NaiveDate, Utc};
use forms::{FieldType, FormSet};

use crate::report::{
    MAX_TICKETS, department_name, local_midnight, received_between, routing_field,
};
use crate::store::{StoreError, TicketStore};
use crate::ticket::Ticket;
use crate::time::Clock;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "the period ends ({to}) before it starts ({from}): give --from the first day and --to the last"
    )]
    BadRange { from: NaiveDate, to: NaiveDate },
    #[error("the period has more than {MAX_TICKETS} tickets: export a shorter one")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the CSV failed: {0}")]
    Write(#[from] std::io::Error),
    #[error("writing the CSV failed: {0}")]
    Csv(#[from] csv::Error),
}

/// The UTF-8 byte-order mark.
pub const BOM: &str = "\u{feff}";

/// The columns every row has, before the owner's fields.
pub const COLUMNS: [&str; 14] = [
    "编号",
    "类型",
    "类别",
    "部门",
    "状态",
    "紧急程度",
    "受理时间",
    "应完成时间",
    "完成时间",
    "按时完成",
    "严重",
    "重新处理次数",
    "回访联系上",
    "满意度",
];

/// One column of owners' fields: every form's field of that name.
struct FieldColumn {
    name: String,
    heading: String,
    personal: bool,
}

/// The owner's fields worth a column, by name in the forms' order. The
/// routing choice and the urgency choice are the ticket's own 类别 and
/// 紧急程度 columns, and a required checkbox (the consent) is ticked on
/// every stored ticket, so they get none. A name with different labels
/// in different forms gets them all (`发生了什么/问题描述`).
fn field_columns(forms: &FormSet) -> Vec<FieldColumn> {
    let mut columns: Vec<FieldColumn> = Vec::new();
    for form in forms.iter() {
        let routing = routing_field(form).map(|f| f.name.as_str());
        for field in &form.fields {
            let chooses_commitment = field.options.iter().any(|c| c.commitment.is_some());
            let always_ticked = field.kind == FieldType::Checkbox && field.required;
            if Some(field.name.as_str()) == routing || chooses_commitment || always_ticked {
                continue;
            }
            match columns.iter_mut().find(|c| c.name == field.name) {
                Some(column) => {
                    column.personal |= field.personal;
                    if !column.heading.split('/').any(|l| l == field.label) {
                        column.heading.push('/');
                        column.heading.push_str(&field.label);
                    }
                }
                None => columns.push(FieldColumn {
                    name: field.name.clone(),
                    heading: field.label.clone(),
                    personal: field.personal,
                }),
            }
        }
    }
    columns
}

/// Writes the tickets received from `from` to `to` (both inclusive,
/// estate days) to `out`; returns how many rows were written.
pub async fn export_csv(
    store: &dyn TicketStore,
    forms: &FormSet,
    clock: &Clock,
    from: NaiveDate,
    to: NaiveDate,
    with_personal_data: bool,
    out: &mut impl Write,
) -> Result<usize, ExportError> {
    if to < from {
        return Err(ExportError::BadRange { from, to });
    }
    let start = local_midnight(clock.offset(), from).ok_or(ExportError::BadRange { from, to })?;
    let end = to
        .succ_opt()
        .and_then(|next| local_midnight(clock.offset(), next))
        .ok_or(ExportError::BadRange { from, to })?;
    let tickets = received_between(store, clock, start, end)
        .await?
        .ok_or(ExportError::TooMany)?;
    write_csv(&tickets, forms, clock, with_personal_data, out)
}

/// The CSV of `tickets`, in the order given.
pub fn write_csv(
    tickets: &[Ticket],
    forms: &FormSet,
    clock: &Clock,
    with_personal_data: bool,
    out: &mut impl Write,
) -> Result<usize, ExportError> {
    out.write_all(BOM.as_bytes())?;
    let columns: Vec<FieldColumn> = field_columns(forms)
        .into_iter()
        .filter(|c| with_personal_data || !c.personal)
        .collect();
    let mut writer = csv::Writer::from_writer(&mut *out);
    let mut headings: Vec<&str> = COLUMNS.to_vec();
    headings.extend(columns.iter().map(|c| c.heading.as_str()));
    writer.write_record(&headings)?;
    for ticket in tickets {
        writer.write_record(row(ticket, forms, clock, &columns))?;
    }
    writer.flush()?;
    Ok(tickets.len())
}

fn row(ticket: &Ticket, forms: &FormSet, clock: &Clock, columns: &[FieldColumn]) -> Vec<String> {
    let form = ticket.form(forms);
    let time = |t: DateTime<Utc>| clock.local(t).format("%Y-%m-%d %H:%M").to_string();
    let yes_no = |b: bool| if b { "是" } else { "否" }.to_owned();
    let follow_up = ticket.follow_up.as_ref();
    let mut cells = vec![
        ticket.reference.clone(),
        form.noun.clone(),
        form.category_shown(ticket),
        department_name(forms, &ticket.department),
        ticket.status.staff_label().to_owned(),
        form.urgency_label(ticket).to_owned(),
        time(ticket.received_at),
        time(ticket.due_at),
        ticket.done_at.map(time).unwrap_or_default(),
        ticket
            .done_at
            .map(|d| yes_no(d <= ticket.due_at))
            .unwrap_or_default(),
        yes_no(ticket.serious),
        ticket.reopen_count.to_string(),
        follow_up.map(|f| yes_no(f.reached)).unwrap_or_default(),
        follow_up
            .and_then(|f| f.satisfaction)
            .map(|s| s.to_string())
            .unwrap_or_default(),
    ];
    // A value as staff read it: a choice's label, 是 for a ticked box, the
    // text as typed (made inert for spreadsheets).
    for column in columns {
        let answer = form.answers.iter().find(|a| a.name == column.name);
        let value = match (answer, ticket.field(&column.name)) {
            (Some(answer), Some(value)) => answer.choice.clone().unwrap_or_else(|| inert(value)),
            _ => String::new(),
        };
        cells.push(value);
    }
    cells
}

/// Text an owner typed that a spreadsheet would run as a formula (`=`,
/// `+`, `-`, `@` first) is shown as text instead, with a leading `'`.
fn inert(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{done, forms, offset, ticket};

    fn clock() -> Clock {
        Clock::new(offset())
    }

    fn sample() -> Vec<Ticket> {
        let mut repair = done(
            ticket(
                "BX-20261102-AAAAAA",
                "repair",
                "plumbing",
                "engineering",
                "2026-11-02T01:00:00Z",
            ),
            30,
            Some((true, Some(4))),
        );
        repair.urgency = "emergency".into();
        repair.reopen_count = 1;
        repair.fields = vec![
            ("unit".into(), "3-2-1502".into()),
            ("name".into(), "张三".into()),
            ("phone".into(), "13800000000".into()),
            ("urgency".into(), "emergency".into()),
            ("category".into(), "plumbing".into()),
            ("description".into(), "=HYPERLINK(\"x\")厨房水管漏水".into()),
            ("visit_time".into(), "morning".into()),
            ("consent".into(), "on".into()),
            ("removed_field".into(), "whatever".into()),
        ];
        let mut complaint = ticket(
            "TS-20261103-BBBBBB",
            "complaint",
            "fees",
            "desk",
            "2026-11-03T01:00:00Z",
        );
        complaint.urgency = "acknowledge".into();
        complaint.serious = true;
        complaint.fields = vec![
            ("unit".into(), "5-1-302".into()),
            ("email".into(), "owner@example.org".into()),
            ("description".into(), "物业费账单有误，多收了一个月".into()),
        ];
        vec![repair, complaint]
    }

    fn csv_text(with_personal_data: bool) -> String {
        let mut out = Vec::new();
        let rows = write_csv(&sample(), &forms(), &clock(), with_personal_data, &mut out).unwrap();
        assert_eq!(rows, 2);
        String::from_utf8(out).unwrap()
    }

    fn records(text: &str) -> Vec<Vec<String>> {
        csv::Reader::from_reader(text.trim_start_matches(BOM).as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    fn headings(text: &str) -> Vec<String> {
        let mut reader = csv::Reader::from_reader(text.trim_start_matches(BOM).as_bytes());
        reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn rows_read_as_the_desk_speaks() {
        let text = csv_text(false);
        assert!(text.starts_with(BOM), "the byte-order mark comes first");
        let heads = headings(&text);
        assert_eq!(&heads[..COLUMNS.len()], COLUMNS);
        let rows = records(&text);
        let cell = |row: usize, heading: &str| {
            let i = heads
                .iter()
                .position(|h| h == heading)
                .unwrap_or_else(|| panic!("{heading} in {heads:?}"));
            rows[row][i].clone()
        };
        assert_eq!(cell(0, "编号"), "BX-20261102-AAAAAA");
        assert_eq!(cell(0, "类型"), "报修");
        assert_eq!(cell(0, "类别"), "给排水（漏水、堵塞、水压）");
        assert_eq!(cell(0, "部门"), "工程部（机电维修）");
        assert_eq!(cell(0, "状态"), "已回访");
        assert_eq!(cell(0, "紧急程度"), "紧急报修");
        assert_eq!(cell(0, "受理时间"), "2026-11-02 09:00");
        assert_eq!(cell(0, "完成时间"), "2026-11-03 15:00");
        assert_eq!(
            (cell(0, "按时完成"), cell(0, "严重")),
            ("否".into(), "否".into())
        );
        assert_eq!(
            (
                cell(0, "重新处理次数"),
                cell(0, "回访联系上"),
                cell(0, "满意度")
            ),
            ("1".into(), "是".into(), "4".into())
        );
        assert_eq!(cell(0, "希望上门的时段"), "上午（9:00–12:00）");
        assert_eq!(
            cell(0, "发生了什么/问题描述"),
            "'=HYPERLINK(\"x\")厨房水管漏水"
        );
        assert_eq!(cell(1, "类别"), "收费");
        assert_eq!(
            (cell(1, "紧急程度"), cell(1, "严重")),
            ("受理确认".into(), "是".into())
        );
        assert_eq!(
            (cell(1, "完成时间"), cell(1, "按时完成"), cell(1, "满意度")),
            (String::new(), String::new(), String::new())
        );
        // The routing and urgency choices are columns of their own, the
        // consent says nothing, and an unknown field may be anything.
        for absent in ["投诉类别", "报修类别", "我已阅读", "removed_field"] {
            assert!(
                !heads.iter().any(|h| h.starts_with(absent)),
                "{absent}: {heads:?}"
            );
        }
        assert_eq!(
            heads.iter().filter(|h| *h == "紧急程度").count(),
            1,
            "{heads:?}"
        );
        assert!(!text.contains("whatever"));
    }

    #[test]
    fn personal_data_only_when_asked_for() {
        let without = csv_text(false);
        for personal in ["房号", "您的称呼", "联系电话", "电子邮箱"] {
            assert!(
                !headings(&without).iter().any(|h| h == personal),
                "{personal}"
            );
        }
        for value in ["3-2-1502", "张三", "13800000000", "owner@example.org"] {
            assert!(!without.contains(value), "{value} leaked");
        }
        let with = csv_text(true);
        let heads = headings(&with);
        for personal in ["房号", "您的称呼", "联系电话", "电子邮箱"] {
            assert!(
                heads.iter().any(|h| h == personal),
                "{personal} in {heads:?}"
            );
        }
        for value in ["3-2-1502", "张三", "13800000000", "owner@example.org"] {
            assert!(with.contains(value), "{value}");
        }
    }

    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn a_period_is_whole_estate_days() {
        let tmp = tempfile::tempdir().unwrap();
        let store = crate::store::SqliteStore::open(&tmp.path().join("t.sqlite3")).unwrap();
        // 2026-11-30 23:30 and 2026-12-01 00:10 estate time.
        for (reference, received) in [
            ("BX-20261130-AAAAAA", "2026-11-30T15:30:00Z"),
            ("BX-20261201-BBBBBB", "2026-11-30T16:10:00Z"),
        ] {
            let t = ticket(reference, "repair", "lift", "engineering", received);
            store
                .create(t, crate::store::Idempotency::Token(reference.into()))
                .await
                .unwrap();
        }
        let day = |d: &str| NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let mut out = Vec::new();
        let rows = export_csv(
            &store,
            &forms(),
            &clock(),
            day("2026-11-01"),
            day("2026-11-30"),
            false,
            &mut out,
        )
        .await
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(rows, 1);
        assert!(
            text.contains("BX-20261130-AAAAAA") && !text.contains("BX-20261201-BBBBBB"),
            "{text}"
        );

        let backwards = export_csv(
            &store,
            &forms(),
            &clock(),
            day("2026-11-30"),
            day("2026-11-01"),
            false,
            &mut Vec::new(),
        )
        .await;
        assert!(
            matches!(backwards, Err(ExportError::BadRange { .. })),
            "{backwards:?}"
        );
    }
}
