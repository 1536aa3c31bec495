//! What a ticket's email, receipt and staff page say about its form, taken
//! when the ticket is stored. Staff edit the form definitions as the estate
//! changes; an email still owed, or a receipt opened a year later, must
//! read as the owner filled it in, so later edits change only new tickets.

use std::borrow::Cow;

use forms::{Field, FieldType, FormDefinition, FormSet};
use serde::{Deserialize, Serialize};

use crate::ticket::Ticket;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormSnapshot {
    /// The form's title, e.g. 在线报修.
    pub title: String,
    /// The request's word, e.g. 报修.
    pub noun: String,
    /// The commitment that applies, as the owner was promised it.
    pub promise: Option<Promise>,
    /// The label of the routing choice, e.g. 给排水（漏水、堵塞、水压）.
    pub category: Option<String>,
    /// The owner chose an option marked `alert`: the receipt leads with the
    /// duty phone.
    pub emergency: bool,
    /// Every answer in the form's order, labelled.
    pub answers: Vec<Answer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promise {
    pub label: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// The field's name, so the raw value can still be found.
    pub name: String,
    pub label: String,
    /// How the value reads when it is not the owner's own words: a choice's
    /// label, 是/否, （未填写）. Typed text stays only in the ticket's fields.
    #[serde(default)]
    pub choice: Option<String>,
    /// Personal data: shown to staff only where they need it.
    #[serde(default)]
    pub personal: bool,
    /// The owner's email address: where the owner's messages go.
    #[serde(default)]
    pub email: bool,
}

impl FormSnapshot {
    /// The snapshot of a ticket's answers in `form` as it is now.
    pub fn take(
        form: &FormDefinition,
        values: &[(String, String)],
        urgency: &str,
        category: Option<&str>,
    ) -> FormSnapshot {
        FormSnapshot {
            title: form.title.clone(),
            noun: form.noun.clone(),
            promise: form.commitment_by_id(urgency).map(|c| Promise {
                label: c.label.clone(),
                text: c.text.clone(),
            }),
            category: category
                .and_then(|c| category_label(form, c))
                .map(str::to_owned),
            emergency: form.decide(values.to_vec()).alert,
            answers: form
                .fields
                .iter()
                .filter_map(|field| {
                    let (_, value) = values.iter().find(|(n, _)| *n == field.name)?;
                    Some((field, field.reading(value)))
                })
                .map(|(field, choice)| Answer {
                    name: field.name.clone(),
                    label: field.label.clone(),
                    choice,
                    personal: field.personal,
                    email: field.kind == FieldType::Email,
                })
                .collect(),
        }
    }

    /// What a ticket whose form is gone says: its own words, unlabelled.
    fn bare(ticket: &Ticket) -> FormSnapshot {
        FormSnapshot {
            title: ticket.kind.clone(),
            noun: ticket.kind.clone(),
            promise: None,
            category: ticket.category.clone(),
            emergency: false,
            answers: ticket
                .fields
                .iter()
                .map(|(name, _)| Answer {
                    name: name.clone(),
                    label: name.clone(),
                    choice: None,
                    // Unknown fields may be anything: treat them as personal.
                    personal: true,
                    email: name == "email",
                })
                .collect(),
        }
    }

    /// Each answer with its value as people read it.
    pub fn answers<'a>(
        &'a self,
        ticket: &'a Ticket,
    ) -> impl Iterator<Item = (&'a Answer, &'a str)> {
        self.answers.iter().map(move |answer| {
            let shown = match &answer.choice {
                Some(choice) => choice.as_str(),
                None => forms::shown_text(ticket.field(&answer.name).unwrap_or_default()),
            };
            (answer, shown)
        })
    }

    /// The category as staff read it: its label, else its stored value,
    /// else nothing.
    pub fn category_shown(&self, ticket: &Ticket) -> String {
        self.category
            .clone()
            .or_else(|| ticket.category.clone())
            .unwrap_or_default()
    }

    /// The promise as one line, e.g. 紧急：30 分钟内到场; empty when none.
    pub fn promise_line(&self) -> String {
        self.promise
            .as_ref()
            .map(|p| format!("{}：{}", p.label, p.text))
            .unwrap_or_default()
    }

    /// The urgency as the desk email and the receipt name it.
    pub fn urgency_label<'a>(&'a self, ticket: &'a Ticket) -> &'a str {
        self.promise.as_ref().map_or(&ticket.urgency, |p| &p.label)
    }

    /// The owner's email address, when the owner gave a valid one, as
    /// mail carries it (an internationalised domain in ASCII). Never
    /// anything that could add a header: it must parse as one mailbox.
    pub fn owner_address(&self, ticket: &Ticket) -> Option<lettre::message::Mailbox> {
        self.answers
            .iter()
            .filter(|a| a.email)
            .find_map(|a| ticket.field(&a.name))
            .and_then(forms::deliverable_email)
            .and_then(|v| v.parse().ok())
    }
}

impl Ticket {
    /// The ticket's form as it was when stored; for a ticket stored before
    /// snapshots were kept, the form as it is now, or the ticket's own words
    /// when the form is gone.
    pub fn form<'a>(&'a self, forms: &FormSet) -> Cow<'a, FormSnapshot> {
        match &self.snapshot {
            Some(snapshot) => Cow::Borrowed(snapshot),
            None => Cow::Owned(match forms.get(&self.kind) {
                Some(form) => {
                    FormSnapshot::take(form, &self.fields, &self.urgency, self.category.as_deref())
                }
                None => FormSnapshot::bare(self),
            }),
        }
    }
}

/// The field whose choice routed a request: its choice is the ticket's
/// category (the first field with an option naming a department, as the
/// validation picks it).
pub fn routing_field(form: &FormDefinition) -> Option<&Field> {
    form.fields
        .iter()
        .find(|f| f.options.iter().any(|c| c.department.is_some()))
}

/// The label of a category value in `form`, e.g. 给排水（漏水、堵塞、水压）.
pub fn category_label<'a>(form: &'a FormDefinition, category: &str) -> Option<&'a str> {
    routing_field(form)
        .and_then(|f| f.choice(category))
        .or_else(|| form.fields.iter().find_map(|f| f.choice(category)))
        .map(|c| c.label.as_str())
}
