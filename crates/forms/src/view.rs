//! What the form templates see: the definition merged with what an owner
//! typed and what was wrong with it.

use serde::Serialize;

use crate::definition::{FieldType, FormDefinition};
use crate::validate::{Submission, ValidationErrors};

#[derive(Debug, Serialize)]
pub struct FormView<'a> {
    pub kind: &'a str,
    pub title: &'a str,
    pub intro: Option<&'a str>,
    pub action: String,
    /// Where an owner who filed before follows their request (the desk's
    /// lookup page, beside the address the form posts to).
    pub track_url: String,
    pub submit_label: &'a str,
    pub commitments: Vec<CommitmentView<'a>>,
    pub privacy_notice: &'a str,
    pub honeypot: &'a str,
    pub errors: Vec<ErrorView<'a>>,
    pub fields: Vec<FieldView<'a>>,
}

#[derive(Debug, Serialize)]
pub struct CommitmentView<'a> {
    pub label: &'a str,
    pub text: &'a str,
}

#[derive(Debug, Serialize)]
pub struct ErrorView<'a> {
    pub id: String,
    pub label: &'a str,
    pub message: &'a str,
}

#[derive(Debug, Serialize)]
pub struct FieldView<'a> {
    pub name: &'a str,
    pub id: String,
    pub label: &'a str,
    pub hint: Option<&'a str>,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub required: bool,
    pub minlength: Option<usize>,
    pub maxlength: Option<usize>,
    pub pattern: Option<&'a str>,
    pub pattern_message: Option<&'a str>,
    pub placeholder: Option<&'a str>,
    pub autocomplete: Option<&'a str>,
    pub inputmode: Option<&'a str>,
    pub options: Vec<OptionView<'a>>,
    pub value: &'a str,
    pub checked: bool,
    pub error: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct OptionView<'a> {
    pub value: &'a str,
    pub label: &'a str,
    pub selected: bool,
}

impl<'a> FormView<'a> {
    /// The empty form, as the static page shows it.
    pub fn blank(form: &'a FormDefinition, action: String) -> FormView<'a> {
        FormView::build(form, action, None, None)
    }

    /// The form again after a rejected submission: every typed value kept,
    /// each error beside its field and listed at the top.
    pub fn with_errors(
        form: &'a FormDefinition,
        action: String,
        submission: &'a Submission,
        errors: &'a ValidationErrors,
    ) -> FormView<'a> {
        FormView::build(form, action, Some(submission), Some(errors))
    }

    fn build(
        form: &'a FormDefinition,
        action: String,
        submission: Option<&'a Submission>,
        errors: Option<&'a ValidationErrors>,
    ) -> FormView<'a> {
        let input_id = |name: &str| format!("f-{name}");
        let fields: Vec<FieldView<'a>> = form
            .fields
            .iter()
            .map(|f| {
                let value = submission.and_then(|s| s.get(&f.name)).unwrap_or("");
                FieldView {
                    name: &f.name,
                    id: input_id(&f.name),
                    label: &f.label,
                    hint: f.hint.as_deref(),
                    kind: f.kind.as_str(),
                    required: f.required,
                    minlength: f.min_length,
                    maxlength: f.max_length,
                    pattern: f.pattern.as_deref(),
                    pattern_message: f.pattern_message.as_deref(),
                    placeholder: f.placeholder.as_deref(),
                    autocomplete: f.autocomplete.as_deref(),
                    inputmode: f.inputmode.as_deref(),
                    options: f
                        .options
                        .iter()
                        .map(|c| OptionView {
                            value: &c.value,
                            label: &c.label,
                            selected: c.value == value,
                        })
                        .collect(),
                    value,
                    checked: f.kind == FieldType::Checkbox && !value.is_empty(),
                    error: errors.and_then(|e| e.get(&f.name)),
                }
            })
            .collect();
        let errors = fields
            .iter()
            .filter_map(|f| {
                Some(ErrorView {
                    id: f.id.clone(),
                    label: f.label,
                    message: f.error?,
                })
            })
            .collect();
        let desk = action
            .strip_suffix(&format!("/forms/{}", form.kind))
            .unwrap_or("");
        FormView {
            kind: &form.kind,
            title: &form.title,
            intro: form.intro.as_deref(),
            track_url: format!("{desk}/track"),
            action,
            submit_label: &form.submit_label,
            commitments: form
                .commitments
                .iter()
                .map(|c| CommitmentView {
                    label: &c.label,
                    text: &c.text,
                })
                .collect(),
            privacy_notice: &form.privacy_notice,
            honeypot: &form.honeypot,
            errors,
            fields,
        }
    }
}

/// Typed text as people read it: an empty answer as （未填写）.
pub fn shown_text(value: &str) -> &str {
    if value.is_empty() {
        "（未填写）"
    } else {
        value
    }
}

/// What an owner filled in, in the form's order, each with its field and
/// as people read it: a choice as its label, a checkbox as 是/否, an empty
/// answer as （未填写）. Fields the form no longer has are left out.
pub fn answers<'a>(
    form: &'a FormDefinition,
    values: &'a [(String, String)],
) -> Vec<(&'a crate::Field, String)> {
    form.fields
        .iter()
        .filter_map(|field| {
            let value = values
                .iter()
                .find(|(n, _)| *n == field.name)
                .map(|(_, v)| v.as_str())?;
            let shown = field
                .reading(value)
                .unwrap_or_else(|| shown_text(value).to_owned());
            Some((field, shown))
        })
        .collect()
}
