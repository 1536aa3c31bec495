//! The words of the messages a ticket owes besides the desk email
//! (`crate::outgoing`): the owner's emails, the duty alerts, the overdue
//! warnings and the digest. Alerts go to chat groups and phones, so they
//! name the reference, category, unit and time, never the owner's name,
//! phone or words.

use chrono::{DateTime, Utc};
use forms::{DESK, MANAGER};
use lettre::Message;
use lettre::message::{Mailbox, header::ContentType};

use super::{Composer, MailError};
use crate::outgoing::Purpose;
use crate::report::department_name;
use crate::ticket::Ticket;

impl Composer {
    /// The staff app's page of a ticket.
    pub fn staff_link(&self, reference: &str) -> String {
        format!("{}/desk/tickets/{reference}", self.desk_url)
    }

    /// The owner's status page, opened by `key`.
    pub fn status_link(&self, ticket: &Ticket, key: &str) -> String {
        format!(
            "{}/forms/{}/received/{}/{key}",
            self.desk_url, ticket.kind, ticket.reference
        )
    }

    /// The lookup by reference and phone digits, for a link without a key.
    pub fn track_link(&self) -> String {
        format!("{}/track", self.desk_url)
    }

    fn noun(&self, ticket: &Ticket) -> String {
        ticket.form(&self.forms).noun.clone()
    }

    fn category(&self, ticket: &Ticket) -> String {
        ticket
            .form(&self.forms)
            .category
            .clone()
            .unwrap_or_else(|| "未分类".to_owned())
    }

    /// Reference, category, unit and time: what a duty phone may show.
    fn alert_facts(&self, ticket: &Ticket) -> String {
        format!(
            "编号：{}\n类别：{}\n房号：{}\n提交：{}\n承诺：{} 前",
            ticket.reference,
            self.category(ticket),
            ticket.field("unit").map(str::trim).unwrap_or("—"),
            self.clock.display(ticket.received_at),
            self.clock.display(ticket.due_at),
        )
    }

    /// The text of a duty alert, an escalation or an overdue warning.
    pub fn alert_text(&self, purpose: Purpose, ticket: &Ticket, now: DateTime<Utc>) -> String {
        let noun = self.noun(ticket);
        let heading = match purpose {
            Purpose::Escalation => format!(
                "【升级·请经理跟进】紧急{noun}提交 {} 分钟，仍无人处理",
                (now - ticket.received_at).num_minutes().max(0)
            ),
            Purpose::Overdue => format!("【超时】紧急{noun}已过承诺时间，仍未完成"),
            _ => format!("【紧急{noun}】请值班人员立即处理"),
        };
        format!(
            "{heading}\n{}\n处理：{}\n业主可能同时在打值班电话；接手后请在工单上记录。",
            self.alert_facts(ticket),
            self.staff_link(&ticket.reference)
        )
    }

    /// An escalation or an overdue warning by email: to the manager for an
    /// escalation, otherwise to the desk, each with a copy to the other.
    pub fn staff_alert_email(
        &self,
        purpose: Purpose,
        ticket: &Ticket,
        now: DateTime<Utc>,
        id: &str,
    ) -> Result<Message, MailError> {
        let (to, cc) = if purpose == Purpose::Escalation {
            (MANAGER, DESK)
        } else {
            (DESK, MANAGER)
        };
        let text = self.alert_text(purpose, ticket, now);
        let subject = text.lines().next().unwrap_or_default().to_owned();
        let subject = format!("{subject} · {}", ticket.reference);
        self.plain(
            self.recipient(to)?,
            vec![self.recipient(cc)?],
            &subject,
            text,
            id,
        )
    }

    /// The day's overdue tickets, for the desk and the manager.
    pub fn digest_email(
        &self,
        overdue: &[Ticket],
        now: DateTime<Utc>,
        id: &str,
    ) -> Result<Message, MailError> {
        let day = self.clock.local(now).format("%Y年%-m月%-d日");
        let mut text = format!(
            "{day}：{} 张工单已过承诺时间仍未完成，最久的在前。\n\n",
            overdue.len()
        );
        for t in overdue {
            let late = (now - t.due_at).num_hours();
            text.push_str(&format!(
                "{} · {}{} · {} · {} · 截止 {}（已超时 {}）\n  {}\n",
                t.reference,
                if t.serious { "严重·" } else { "" },
                self.noun(t),
                self.category(t),
                department_name(&self.forms, &t.department),
                self.clock.display(t.due_at),
                if late >= 1 {
                    format!("{late} 小时")
                } else {
                    format!("{} 分钟", (now - t.due_at).num_minutes().max(0))
                },
                self.staff_link(&t.reference),
            ));
        }
        text.push_str("\n请在今天安排跟进；已经办完的，请在工单上记录完成。\n");
        let subject = format!("[每日超时汇总] {day}：{} 张工单超时", overdue.len());
        self.plain(
            self.recipient(DESK)?,
            vec![self.recipient(MANAGER)?],
            &subject,
            text,
            id,
        )
    }

    /// The owner's confirmation or milestone email; `status_url` opens
    /// the ticket's status page.
    pub fn owner_email(
        &self,
        purpose: Purpose,
        ticket: &Ticket,
        status_url: &str,
        id: &str,
    ) -> Result<Message, MailError> {
        let form = ticket.form(&self.forms);
        let to = form.owner_address(ticket).ok_or_else(|| {
            MailError::Compose(format!(
                "ticket {} has no valid address of the owner",
                ticket.reference
            ))
        })?;
        let noun = &form.noun;
        let department = department_name(&self.forms, &ticket.department);
        let (subject, lead) = match purpose {
            Purpose::Visit => (
                format!("上门时间已约好：{}", ticket.reference),
                format!(
                    "您的{noun}已约好上门时间：{}，由{department}上门处理。如需改时间，请联系客服中心。",
                    ticket.visit_at.map_or_else(
                        || "请留意客服中心的电话".to_owned(),
                        |t| self.clock.display(t)
                    ),
                ),
            ),
            Purpose::Done => (
                format!("已处理完毕，请确认：{}", ticket.reference),
                format!(
                    "您的{noun}已由{department}处理完毕。请打开下面的进度页面，告诉我们问题是否解决，并为这次服务打分。\
                     如果没有解决，请在页面上选择“没有解决”，工单会重新处理，物业经理也会收到通知。"
                ),
            ),
            _ => {
                let promise = form.promise.as_ref().map_or("", |p| p.text.as_str());
                (
                    format!("已收到您的{noun}：{}", ticket.reference),
                    format!(
                        "我们已收到您的{noun}，受理编号 {}。{promise}（{} 前）。办理的每一步都会显示在进度页面上。",
                        ticket.reference,
                        self.clock.display(ticket.due_at)
                    ),
                )
            }
        };
        let text = format!(
            "您好：\n\n{lead}\n\n查看进度：{status_url}\n\n\
             这个链接只属于这张单，凭它即可查看进度，请只转给家人。\
             紧急情况（有人被困电梯、漏水、闻到燃气味）请直接打电话给物业值班，不要只等邮件。\n\n\
             {}\n（本邮件由系统发送，回复不会被及时处理；有问题请联系客服中心。）\n",
            self.signature
        );
        self.plain(to, Vec::new(), &subject, text, id)
    }

    fn plain(
        &self,
        to: Mailbox,
        cc: Vec<Mailbox>,
        subject: &str,
        text: String,
        id: &str,
    ) -> Result<Message, MailError> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(to.clone())
            .subject(subject)
            .message_id(Some(format!("<{id}@request-desk>")));
        for copy in cc.into_iter().filter(|c| *c != to) {
            builder = builder.cc(copy);
        }
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(text)
            .map_err(|e| MailError::Compose(e.to_string()))
    }
}
