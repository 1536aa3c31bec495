//! Loading and checking the form definitions.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

/// The departments every estate has: the desk sees every request, the
/// manager every serious one.
pub const DESK: &str = "desk";
pub const MANAGER: &str = "manager";

/// The file beside the forms that names the departments requests go to.
pub const DEPARTMENTS_FILE: &str = "departments.yaml";

/// What goes wrong loading a form: the same as for any site file.
pub type FormError = config::FileError;

/// A desk department a request can be routed to.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub name: String,
    /// Where the desk email for this department goes.
    pub email: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DepartmentsFile {
    departments: BTreeMap<String, Department>,
}

/// A response-time promise, shown on the form, in the confirmation and in
/// the desk email, and used to compute a ticket's due time.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Commitment {
    pub id: String,
    pub label: String,
    pub text: String,
    #[serde(with = "humantime_duration")]
    pub within: Duration,
}

mod humantime_duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        if let Some(duration) = chinese(&text) {
            return Ok(duration);
        }
        humantime::parse_duration(&text).map_err(|e| {
            serde::de::Error::custom(format!(
                "`within: {text}` is not a duration ({e}); write e.g. 30m, 24h or 3days"
            ))
        })
    }

    /// A duration as the facts file shows it to owners: `30 分钟`,
    /// `24 小时`, `3 天`.
    fn chinese(text: &str) -> Option<Duration> {
        let (number, unit) = text.trim().split_once(' ')?;
        let number: u64 = number.parse().ok()?;
        let seconds = match unit {
            "分钟" => 60,
            "小时" => 3600,
            "天" => 86_400,
            _ => return None,
        };
        Some(Duration::from_secs(number.checked_mul(seconds)?))
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    Text,
    Tel,
    Email,
    Textarea,
    Select,
    Radio,
    Checkbox,
    Date,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Tel => "tel",
            FieldType::Email => "email",
            FieldType::Textarea => "textarea",
            FieldType::Select => "select",
            FieldType::Radio => "radio",
            FieldType::Checkbox => "checkbox",
            FieldType::Date => "date",
        }
    }

    fn has_options(self) -> bool {
        matches!(self, FieldType::Select | FieldType::Radio)
    }
}

/// One allowed value of a select or radio field. Choosing it may route the
/// request to a department or select the response-time commitment.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub department: Option<String>,
    pub commitment: Option<String>,
    /// Sent straight to `department` when filed; otherwise the request
    /// waits in the desk's "new" queue for the desk to dispatch it.
    #[serde(default)]
    pub auto_dispatch: bool,
    /// The choice itself makes the request serious: the manager is told
    /// at once.
    #[serde(default)]
    pub serious: bool,
    /// The choice makes the request an emergency: the duty alert channel
    /// is told at once, besides the queue and the email.
    #[serde(default)]
    pub alert: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    pub hint: Option<String>,
    pub placeholder: Option<String>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    /// A regular expression the whole value must match; it is used both as
    /// the HTML `pattern` attribute and on the server, so keep it to the
    /// syntax both understand.
    pub pattern: Option<String>,
    /// Said when `pattern` does not match, e.g. "请填写 11 位手机号".
    pub pattern_message: Option<String>,
    pub autocomplete: Option<String>,
    pub inputmode: Option<String>,
    /// Names, phones, emails and addresses: never logged, never shown on a
    /// receipt.
    #[serde(default)]
    pub personal: bool,
    #[serde(default)]
    pub options: Vec<Choice>,
    /// For a `date` field, which days make sense.
    #[serde(default)]
    pub dates: DateRange,
    #[serde(skip)]
    pub(crate) compiled_pattern: Option<regex::Regex>,
}

/// The days a `date` field accepts, counted from the day it is submitted
/// (in the estate's time zone).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DateRange {
    /// Within ten years either side of today: a typo such as 1900 or
    /// 20266 is caught.
    #[default]
    Any,
    /// Today to a year ahead, e.g. a visit the owner would like.
    Upcoming,
    /// The last ten years up to today, e.g. when something happened.
    Past,
}

impl DateRange {
    /// The first and last day accepted when submitted on `today`.
    pub fn bounds(self, today: chrono::NaiveDate) -> (chrono::NaiveDate, chrono::NaiveDate) {
        let ahead = |years: u32| {
            today
                .checked_add_months(chrono::Months::new(12 * years))
                .unwrap_or(chrono::NaiveDate::MAX)
        };
        let back = |years: u32| {
            today
                .checked_sub_months(chrono::Months::new(12 * years))
                .unwrap_or(chrono::NaiveDate::MIN)
        };
        match self {
            DateRange::Any => (back(10), ahead(10)),
            DateRange::Upcoming => (today, ahead(1)),
            DateRange::Past => (back(10), today),
        }
    }
}

impl Field {
    pub fn choice(&self, value: &str) -> Option<&Choice> {
        self.options.iter().find(|c| c.value == value)
    }

    /// How a value reads when it is not the owner's own words: a choice as
    /// its label, a checkbox as 是/否. `None` for typed text.
    pub fn reading(&self, value: &str) -> Option<String> {
        match self.choice(value) {
            Some(choice) => Some(choice.label.clone()),
            None if self.kind == FieldType::Checkbox => {
                Some(if value.is_empty() { "否" } else { "是" }.to_owned())
            }
            None => None,
        }
    }

    pub(crate) fn pattern_regex(&self) -> Option<&regex::Regex> {
        self.compiled_pattern.as_ref()
    }
}

/// One form, as written in `content/forms/<kind>.yaml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormDefinition {
    #[serde(skip)]
    pub kind: String,
    pub title: String,
    /// The Chinese word for the request, used in the desk email subject
    /// (投诉, 报修, 建议).
    pub noun: String,
    pub intro: Option<String>,
    pub submit_label: String,
    /// Two capital letters starting every reference, e.g. `BX` for 报修.
    pub reference_prefix: String,
    pub privacy_notice: String,
    /// The department when no chosen option names one.
    pub department: String,
    /// The commitment when no chosen option names one.
    pub commitment: String,
    pub commitments: Vec<Commitment>,
    pub fields: Vec<Field>,
    #[serde(default = "default_honeypot")]
    pub honeypot: String,
}

fn default_honeypot() -> String {
    "website".to_owned()
}

/// Field names the desk itself uses in a submission.
pub(crate) const RESERVED_NAMES: [&str; 1] = ["submission_token"];

impl FormDefinition {
    /// Parses one definition; `kind` comes from the file name.
    pub fn parse(
        path: &Path,
        kind: &str,
        text: &str,
        departments: &BTreeMap<String, Department>,
    ) -> Result<FormDefinition, FormError> {
        let mut form: FormDefinition = config::from_yaml(path, text)?;
        form.kind = kind.to_owned();
        form.check(path, departments)?;
        for field in &mut form.fields {
            if let Some(pattern) = &field.pattern {
                let anchored = format!("^(?:{pattern})$");
                let regex = regex::Regex::new(&anchored).map_err(|e| {
                    FormError::invalid(
                        path,
                        format!(
                            "field `{}`: `pattern` is not a valid regular expression: {e}",
                            field.name
                        ),
                    )
                })?;
                field.compiled_pattern = Some(regex);
            }
        }
        Ok(form)
    }

    fn check(
        &self,
        path: &Path,
        departments: &BTreeMap<String, Department>,
    ) -> Result<(), FormError> {
        let fail = |message: String| Err(FormError::invalid(path, message));
        if !is_slug(&self.kind) {
            return fail(format!(
                "the file name `{}` must be lowercase letters, digits and hyphens: it becomes the form's address",
                self.kind
            ));
        }
        if self.reference_prefix.len() != 2
            || !self
                .reference_prefix
                .bytes()
                .all(|b| b.is_ascii_uppercase())
        {
            return fail(format!(
                "`reference_prefix: {}` must be two capital letters, e.g. BX",
                self.reference_prefix
            ));
        }
        if self.honeypot.is_empty() {
            return fail("`honeypot` must name a field".into());
        }
        let known_department = |id: &str| departments.contains_key(id);
        let known_commitment = |id: &str| self.commitments.iter().any(|c| c.id == id);
        if !known_department(&self.department) {
            return fail(format!(
                "`department: {}` is not in {DEPARTMENTS_FILE} (known: {})",
                self.department,
                departments.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if !known_commitment(&self.commitment) {
            return fail(format!(
                "`commitment: {}` is not one of this form's commitments",
                self.commitment
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for field in &self.fields {
            let name = &field.name;
            if !is_field_name(name) {
                return fail(format!(
                    "field name `{name}` must be lowercase letters, digits and underscores"
                ));
            }
            if !names.insert(name.as_str()) {
                return fail(format!("field `{name}` is defined twice"));
            }
            if RESERVED_NAMES.contains(&name.as_str()) || *name == self.honeypot {
                return fail(format!("field name `{name}` is reserved for the desk"));
            }
            if field.kind.has_options() == field.options.is_empty() {
                return fail(if field.kind.has_options() {
                    format!(
                        "field `{name}` is a {} and needs `options`",
                        field.kind.as_str()
                    )
                } else {
                    format!(
                        "field `{name}` is a {} and cannot have `options`",
                        field.kind.as_str()
                    )
                });
            }
            if let (Some(min), Some(max)) = (field.min_length, field.max_length)
                && min > max
            {
                return fail(format!(
                    "field `{name}`: min_length {min} is more than max_length {max}"
                ));
            }
            for choice in &field.options {
                if let Some(d) = &choice.department
                    && !known_department(d)
                {
                    return fail(format!(
                        "field `{name}`, option `{}`: department `{d}` is not in {DEPARTMENTS_FILE}",
                        choice.value
                    ));
                }
                if choice.auto_dispatch && choice.department.is_none() {
                    return fail(format!(
                        "field `{name}`, option `{}`: `auto_dispatch` needs the `department` it dispatches to",
                        choice.value
                    ));
                }
                if let Some(c) = &choice.commitment
                    && !known_commitment(c)
                {
                    return fail(format!(
                        "field `{name}`, option `{}`: commitment `{c}` is not one of this form's commitments",
                        choice.value
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    pub fn commitment_by_id(&self, id: &str) -> Option<&Commitment> {
        self.commitments.iter().find(|c| c.id == id)
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// All forms of a site with the departments they route to.
#[derive(Debug, Clone, Default)]
pub struct FormSet {
    pub departments: BTreeMap<String, Department>,
    forms: BTreeMap<String, FormDefinition>,
    /// Where the forms use the estate's facts (`{{ response.repair }}`).
    pub fact_uses: Vec<config::FactUse>,
}

impl FormSet {
    /// Reads `departments.yaml` and every other `*.yaml` in `dir`
    /// (`content/forms/` of a site), with every `{{ key }}` filled in from
    /// the site's facts file (`estate.yaml`, two folders up). A site
    /// without the folder has no forms.
    pub fn load(dir: &Path) -> Result<FormSet, FormError> {
        if !dir.is_dir() {
            return Ok(FormSet::default());
        }
        let root = dir.parent().and_then(Path::parent).unwrap_or(Path::new(""));
        let facts = config::Facts::from_root(root)?;
        FormSet::load_with(dir, &facts)
    }

    /// [`FormSet::load`] with the facts already read.
    pub fn load_with(dir: &Path, facts: &config::Facts) -> Result<FormSet, FormError> {
        if !dir.is_dir() {
            return Ok(FormSet::default());
        }
        let mut fact_uses = Vec::new();
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|source| FormError::read(path, source))
        };
        let departments_path = dir.join(DEPARTMENTS_FILE);
        let departments = FormSet::parse_departments(&departments_path, &read(&departments_path)?)?;
        let entries = std::fs::read_dir(dir).map_err(|source| FormError::read(dir, source))?;
        let mut paths = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| FormError::read(dir, source))?;
            paths.push(entry.path());
        }
        paths.sort();
        let mut forms = BTreeMap::new();
        for path in paths {
            let is_yaml = path.extension().is_some_and(|e| e == "yaml");
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if !is_yaml || path.file_name().is_some_and(|n| n == DEPARTMENTS_FILE) {
                continue;
            }
            let expanded = facts.expand(&read(&path)?, &|fact| fact.display());
            if let Some(unknown) = expanded.unknown.first() {
                return Err(FormError::Invalid {
                    path: path.clone(),
                    line: Some(unknown.line_offset + 1),
                    message: format!("{}; {}", unknown.message, unknown.help),
                });
            }
            fact_uses.extend(
                expanded
                    .used
                    .into_iter()
                    .map(|(key, line)| config::FactUse {
                        key,
                        file: path.clone(),
                        line: Some(line + 1),
                    }),
            );
            let form = FormDefinition::parse(&path, stem, &expanded.text, &departments)?;
            forms.insert(form.kind.clone(), form);
        }
        Ok(FormSet {
            departments,
            forms,
            fact_uses,
        })
    }

    pub fn parse_departments(
        path: &Path,
        text: &str,
    ) -> Result<BTreeMap<String, Department>, FormError> {
        let file: DepartmentsFile = config::from_yaml(path, text)?;
        // Every request reaches the desk, and serious ones the manager.
        for (id, who) in [
            (DESK, "the front desk, which sees every request"),
            (
                MANAGER,
                "the property manager, who is told of serious matters",
            ),
        ] {
            if !file.departments.contains_key(id) {
                return Err(FormError::invalid(
                    path,
                    format!(
                        "there is no `{id}` department: add `{id}:` with the `name` and `email` of {who}"
                    ),
                ));
            }
        }
        Ok(file.departments)
    }

    pub fn get(&self, kind: &str) -> Option<&FormDefinition> {
        self.forms.get(kind)
    }

    pub fn iter(&self) -> impl Iterator<Item = &FormDefinition> {
        self.forms.values()
    }

    pub fn is_empty(&self) -> bool {
        self.forms.is_empty()
    }

    pub fn department(&self, id: &str) -> Option<&Department> {
        self.departments.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_desk_and_the_manager_must_be_named() {
        let path = Path::new("content/forms/departments.yaml");
        let both = "departments:\n  desk: { name: 客服中心, email: d@e.org }\n  manager: { name: 经理, email: m@e.org }\n";
        assert_eq!(FormSet::parse_departments(path, both).unwrap().len(), 2);
        let no_manager = "departments:\n  desk: { name: 客服中心, email: d@e.org }\n";
        let error = FormSet::parse_departments(path, no_manager)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("departments.yaml") && error.contains("`manager`"),
            "{error}"
        );
    }
}
