//! Writing the desk email for a ticket.

use std::collections::BTreeMap;

use forms::{DESK, FormSet, MANAGER};
use lettre::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};

use super::MailError;
use crate::snapshot::FormSnapshot;
use crate::ticket::{MailPurpose, Status, Ticket};
use crate::time::Clock;

/// The desk email before it is encoded.
#[derive(Debug, Clone)]
pub struct DeskEmail {
    /// Who must act: the desk for a new ticket, the manager for a serious one.
    pub to: Mailbox,
    /// Who should know: the department a ticket went to at once, the
    /// manager of a serious new ticket, the desk of a serious alert.
    pub cc: Vec<Mailbox>,
    pub reply_to: Option<Mailbox>,
    pub subject: String,
    pub text: String,
    /// The same as `text`; every value the owner typed is escaped.
    pub html: String,
    pub message_id: String,
}

/// Everything needed to turn a ticket into the desk email.
pub struct Composer {
    pub(super) forms: FormSet,
    pub(super) from: Mailbox,
    /// Department id → address, where the environment overrides the form data.
    overrides: BTreeMap<String, Mailbox>,
    pub(super) clock: Clock,
    /// The desk's absolute address, for links in messages.
    pub(super) desk_url: String,
    /// How the owner's emails are signed: the site's title.
    pub(super) signature: String,
}

impl Composer {
    pub fn new(
        forms: FormSet,
        from: Mailbox,
        overrides: BTreeMap<String, Mailbox>,
        clock: Clock,
    ) -> Composer {
        Composer {
            forms,
            from,
            overrides,
            clock,
            desk_url: String::new(),
            signature: String::new(),
        }
    }

    /// Where links in messages point, and how the owner's are signed.
    pub fn with_links(mut self, desk_url: String, signature: String) -> Composer {
        self.desk_url = desk_url;
        self.signature = signature;
        self
    }

    pub(super) fn recipient(&self, department: &str) -> Result<Mailbox, MailError> {
        if let Some(mailbox) = self.overrides.get(department) {
            return Ok(mailbox.clone());
        }
        let dept = self.forms.department(department).ok_or_else(|| {
            MailError::Compose(format!(
                "the department `{department}` is not in departments.yaml"
            ))
        })?;
        dept.email.parse().map_err(|e| {
            MailError::Compose(format!("the address of `{department}` is not valid: {e}"))
        })
    }

    /// The desk sees every ticket; a ticket dispatched on filing also goes
    /// to its department, and a serious one to the manager.
    fn recipients(&self, ticket: &Ticket) -> Result<(Mailbox, Vec<Mailbox>), MailError> {
        let desk = self.recipient(DESK)?;
        let mut copies = Vec::new();
        let mut copy = |mailbox: Mailbox, to: &Mailbox| {
            if mailbox != *to && !copies.contains(&mailbox) {
                copies.push(mailbox);
            }
        };
        match ticket.mail.purpose {
            MailPurpose::Serious | MailPurpose::Reopened => {
                let manager = self.recipient(MANAGER)?;
                copy(desk, &manager);
                Ok((manager, copies))
            }
            MailPurpose::New => {
                if ticket.status == Status::Dispatched {
                    copy(self.recipient(&ticket.department)?, &desk);
                }
                if ticket.serious {
                    copy(self.recipient(MANAGER)?, &desk);
                }
                Ok((desk, copies))
            }
        }
    }

    /// The desk email for a ticket, as words.
    pub fn draft(&self, ticket: &Ticket) -> Result<DeskEmail, MailError> {
        let form = ticket.form(&self.forms);
        let facts = self.facts(&form, ticket);
        let urgency = form.urgency_label(ticket);
        let serious = if ticket.serious { "严重·" } else { "" };
        let subject = format!(
            "[{serious}{}·{urgency}] {} · {} · {}前",
            form.noun,
            ticket.reference,
            facts[3].1,
            self.clock.display(ticket.due_at),
        );
        let answers: Vec<(&str, String)> = form
            .answers(ticket)
            .map(|(answer, shown)| (answer.label.as_str(), shown.to_owned()))
            .collect();
        // Staff can answer the owner directly, when the owner gave an
        // address that is a valid mailbox (never anything that could add a
        // header).
        let reply_to = form.owner_address(ticket);
        let (to, cc) = self.recipients(ticket)?;
        let heading = match ticket.mail.purpose {
            MailPurpose::New => format!("新的{}：{}", form.noun, ticket.reference),
            MailPurpose::Serious => format!("严重事项，请物业经理跟进：{}", ticket.reference),
            MailPurpose::Reopened => {
                format!("业主对处理结果不满意，工单已重新处理：{}", ticket.reference)
            }
        };
        Ok(DeskEmail {
            to,
            cc,
            reply_to,
            subject,
            text: plain_text(&heading, &facts, &answers),
            html: html(&heading, &facts, &answers),
            message_id: format!("<{}@request-desk>", ticket.mail_key()),
        })
    }

    /// The desk email as an RFC 5322 message.
    pub fn compose(&self, ticket: &Ticket) -> Result<Message, MailError> {
        let email = self.draft(ticket)?;
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(email.to)
            .subject(email.subject)
            .message_id(Some(email.message_id));
        for cc in email.cc {
            builder = builder.cc(cc);
        }
        if let Some(reply_to) = email.reply_to {
            builder = builder.reply_to(reply_to);
        }
        builder
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(email.text),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(email.html),
                    ),
            )
            .map_err(|e| MailError::Compose(e.to_string()))
    }

    /// The desk's facts about the ticket, label and value.
    fn facts(&self, form: &FormSnapshot, ticket: &Ticket) -> Vec<(&'static str, String)> {
        let department = self
            .forms
            .department(&ticket.department)
            .map(|d| d.name.clone())
            .unwrap_or_else(|| ticket.department.clone());
        vec![
            ("编号", ticket.reference.clone()),
            ("类型", form.noun.clone()),
            (
                "紧急程度",
                form.promise
                    .as_ref()
                    .map(|p| format!("{}（{}）", p.label, p.text))
                    .unwrap_or_else(|| ticket.urgency.clone()),
            ),
            ("负责部门", department),
            ("收到时间", self.clock.display(ticket.received_at)),
            (
                "截止时间",
                format!("{} 前", self.clock.display(ticket.due_at)),
            ),
        ]
    }
}

fn plain_text(heading: &str, facts: &[(&str, String)], answers: &[(&str, String)]) -> String {
    let mut text = format!("{heading}\n\n");
    for (label, value) in facts {
        text.push_str(&format!("{label}：{value}\n"));
    }
    text.push_str("\n—— 业主填写的内容 ——\n");
    for (label, value) in answers {
        if value.contains('\n') {
            text.push_str(&format!("{label}：\n"));
            for line in value.lines() {
                text.push_str(&format!("    {line}\n"));
            }
        } else {
            text.push_str(&format!("{label}：{value}\n"));
        }
    }
    text.push_str(
        "\n请按“谁接待，谁跟踪”跟进到底，处理后回访业主。业主个人信息仅用于处理本单，请勿外传。\n",
    );
    text
}

fn html(heading: &str, facts: &[(&str, String)], answers: &[(&str, String)]) -> String {
    use templates::escape_html as e;
    let rows = |pairs: &[(&str, String)]| -> String {
        pairs
            .iter()
            .map(|(label, value)| {
                format!(
                    "<tr><th align=\"left\" valign=\"top\">{}</th><td style=\"white-space:pre-wrap\">{}</td></tr>",
                    e(label),
                    e(value)
                )
            })
            .collect()
    };
    format!(
        "<!doctype html><html lang=\"zh-Hans\"><body><h1>{}</h1><table>{}</table><h2>业主填写的内容</h2><table>{}</table>\
         <p>请按“谁接待，谁跟踪”跟进到底，处理后回访业主。业主个人信息仅用于处理本单，请勿外传。</p></body></html>",
        e(heading),
        rows(facts),
        rows(answers)
    )
}
