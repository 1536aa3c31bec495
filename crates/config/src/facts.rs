//! The estate's facts: `estate.yaml` beside `config.yaml`.
//!
//! Every figure an estate sets or must confirm (phones, addresses, hours,
//! fees, response times) is written once in this file. Pages and form
//! definitions use a fact by its key, `{{ desk.phone }}`, so changing a
//! number is editing one line.
//!
//! ```yaml
//! desk:
//!   phone: "0571-8888 6666"            # confirmed: a plain value
//!   hours: !unconfirmed 每天 8:30–17:30  # not yet confirmed by the estate
//! national:
//!   fire: { label: 火警, value: "119" }  # a label for call buttons
//! ```
//!
//! A value tagged `!unconfirmed` is not yet confirmed; so is a placeholder
//! (an empty value, or a phone whose digits are all zeros). Keys ending in
//! `phone` (and every key under `national`) are phone numbers: they must be
//! written as digits, spaces and `+-()`, and pages show them as tap-to-call
//! links.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_yaml::Value;

use crate::FileError;

/// The file name of the facts at a site's root.
pub const FILE_NAME: &str = "estate.yaml";

/// One value of the facts file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// The dotted key, e.g. `desk.phone`.
    pub key: String,
    /// As written in the file.
    pub value: String,
    /// A short name for buttons and lists, e.g. 火警.
    pub label: Option<String>,
    /// False when tagged `!unconfirmed` or a placeholder.
    pub confirmed: bool,
    /// The line of the key in the facts file.
    pub line: Option<usize>,
}

impl Fact {
    /// A phone number: shown as a tap-to-call link.
    pub fn is_phone(&self) -> bool {
        is_phone_key(&self.key)
    }

    /// How owners read the value: durations such as `24h` in Chinese
    /// (`24 小时`), everything else as written.
    pub fn display(&self) -> String {
        display_duration(&self.value).unwrap_or_else(|| self.value.clone())
    }

    /// The value for a `tel:` address: digits and `+` only.
    pub fn tel(&self) -> String {
        self.value
            .chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect()
    }
}

fn is_phone_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    last.ends_with("phone") || key.starts_with("national.")
}

/// `30m`, `24h`, `3days` in Chinese; `None` for anything else.
fn display_duration(value: &str) -> Option<String> {
    let digits_end = value.find(|c: char| !c.is_ascii_digit())?;
    if digits_end == 0 {
        return None;
    }
    let (number, unit) = value.split_at(digits_end);
    let unit = match unit {
        "m" | "min" | "mins" | "minutes" => "分钟",
        "h" | "hour" | "hours" => "小时",
        "d" | "day" | "days" => "天",
        _ => return None,
    };
    Some(format!("{number} {unit}"))
}

/// Where a fact is used: a file and a line (or the theme, line-less).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FactUse {
    pub key: String,
    pub file: PathBuf,
    pub line: Option<usize>,
}

/// A `{{ … }}` that names no fact, at a line of the text it was found in
/// (counted from 0).
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownFact {
    pub line_offset: usize,
    pub message: String,
    pub help: String,
}

/// Text with its facts filled in, the keys it used (with the line offset
/// from the text's start), and the references that named no fact.
#[derive(Debug, Default)]
pub struct Expanded {
    pub text: String,
    pub used: Vec<(String, usize)>,
    pub unknown: Vec<UnknownFact>,
}

/// All facts of a site; empty when the site has no facts file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// The facts file, named in messages.
    pub file: PathBuf,
    facts: BTreeMap<String, Fact>,
}

impl Facts {
    /// Reads `estate.yaml` at `root`; a site without one has no facts.
    pub fn from_root(root: &Path) -> Result<Facts, FileError> {
        let path = root.join(FILE_NAME);
        if !path.exists() {
            return Ok(Facts::default());
        }
        let text =
            std::fs::read_to_string(&path).map_err(|source| FileError::read(&path, source))?;
        Facts::parse(&path, &text)
    }

    /// Parses the facts file's text; `path` only names it in messages.
    pub fn parse(path: &Path, text: &str) -> Result<Facts, FileError> {
        let root: Value = serde_yaml::from_str(text).map_err(|e| FileError::yaml(path, &e))?;
        let mut facts = Facts {
            file: path.to_owned(),
            facts: BTreeMap::new(),
        };
        match root {
            Value::Null => {}
            Value::Mapping(map) => facts.collect(path, text, "", &map)?,
            _ => {
                return Err(FileError::invalid(
                    path,
                    "the file must be a list of `key: value` lines, grouped under headings such as `desk:`",
                ));
            }
        }
        Ok(facts)
    }

    fn collect(
        &mut self,
        path: &Path,
        text: &str,
        prefix: &str,
        map: &serde_yaml::Mapping,
    ) -> Result<(), FileError> {
        for (name, value) in map {
            let Some(name) = name.as_str().filter(|n| is_key_part(n)) else {
                return Err(FileError::invalid(
                    path,
                    format!(
                        "the key {:?}{} must be lowercase letters, digits and underscores, e.g. `duty_phone`",
                        yaml_scalar(name).unwrap_or_default(),
                        if prefix.is_empty() {
                            String::new()
                        } else {
                            format!(" under `{prefix}`")
                        }
                    ),
                ));
            };
            let key = if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            };
            let line = key_line(text, &key);
            let invalid = |message: String| FileError::Invalid {
                path: path.to_owned(),
                line,
                message,
            };
            let (value, label) = match value {
                Value::Mapping(inner) if inner.contains_key("value") => {
                    let mut label = None;
                    let mut fact_value = None;
                    for (k, v) in inner {
                        match k.as_str() {
                            Some("value") => fact_value = Some(v.clone()),
                            Some("label") => label = yaml_scalar(v),
                            _ => {
                                return Err(invalid(format!(
                                    "`{key}` may only have `value` and `label`; remove {:?}",
                                    yaml_scalar(k).unwrap_or_default()
                                )));
                            }
                        }
                    }
                    (fact_value.unwrap_or(Value::Null), label)
                }
                Value::Mapping(inner) => {
                    self.collect(path, text, &key, inner)?;
                    continue;
                }
                other => (other.clone(), None),
            };
            let (value, tagged_unconfirmed) = match value {
                Value::Tagged(tagged) => {
                    if tagged.tag != "unconfirmed" {
                        return Err(invalid(format!(
                            "`{key}` has the tag {}; the only tag is `!unconfirmed`",
                            tagged.tag
                        )));
                    }
                    (tagged.value, true)
                }
                other => (other, false),
            };
            let Some(value) = yaml_scalar(&value) else {
                return Err(invalid(format!(
                    "`{key}` must be one value (text or a number), or `{{ label: …, value: … }}`"
                )));
            };
            let value = value.trim().to_owned();
            if value.contains('\n') {
                return Err(invalid(format!(
                    "`{key}` spans several lines; a fact is one line of text"
                )));
            }
            if is_phone_key(&key)
                && !value.is_empty()
                && !value
                    .chars()
                    .all(|c| c.is_ascii_digit() || " +-()".contains(c))
            {
                return Err(invalid(format!(
                    "`{key}` is {value:?}: write the number only, e.g. 0571-8888 6666, so pages can link to it"
                )));
            }
            let placeholder = value.is_empty()
                || (is_phone_key(&key)
                    && value.chars().filter(char::is_ascii_digit).all(|c| c == '0'));
            self.facts.insert(
                key.clone(),
                Fact {
                    key,
                    value,
                    label,
                    confirmed: !tagged_unconfirmed && !placeholder,
                    line,
                },
            );
        }
        Ok(())
    }

    pub fn get(&self, key: &str) -> Option<&Fact> {
        self.facts.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Fact> {
        self.facts.values()
    }

    /// The facts not yet confirmed, in key order.
    pub fn unconfirmed(&self) -> impl Iterator<Item = &Fact> {
        self.facts.values().filter(|f| !f.confirmed)
    }

    /// The facts as nested maps of their displayed values, for templates:
    /// `site.facts.desk.phone`.
    pub fn tree(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut tree = serde_json::Map::new();
        for fact in self.facts.values() {
            let mut at = &mut tree;
            let mut parts = fact.key.split('.').peekable();
            while let Some(part) = parts.next() {
                if parts.peek().is_none() {
                    at.insert(part.to_owned(), serde_json::Value::String(fact.display()));
                } else {
                    let entry = at
                        .entry(part.to_owned())
                        .or_insert_with(|| serde_json::Value::Object(Default::default()));
                    match entry {
                        serde_json::Value::Object(inner) => at = inner,
                        // A leaf and a group cannot share a key in YAML.
                        _ => break,
                    }
                }
            }
        }
        tree
    }

    /// Fills in every `{{ key }}` of `text` with `render(fact)`.
    pub fn expand(&self, text: &str, render: &dyn Fn(&Fact) -> String) -> Expanded {
        let mut out = Expanded {
            text: String::with_capacity(text.len()),
            ..Expanded::default()
        };
        let mut rest = text;
        let mut line = 0;
        while let Some(start) = rest.find("{{") {
            let before = &rest[..start];
            line += before.matches('\n').count();
            out.text.push_str(before);
            let after = &rest[start + 2..];
            let end = after.find("}}").filter(|&e| !after[..e].contains('\n'));
            let Some(end) = end else {
                out.unknown.push(UnknownFact {
                    line_offset: line,
                    message: "`{{` is never closed with `}}` on the same line".into(),
                    help: "write a fact as {{ desk.phone }}, with its key from estate.yaml".into(),
                });
                out.text.push_str("{{");
                rest = after;
                continue;
            };
            let key = after[..end].trim();
            match self.facts.get(key) {
                Some(fact) => {
                    out.text.push_str(&render(fact));
                    out.used.push((key.to_owned(), line));
                }
                None => {
                    out.unknown.push(UnknownFact {
                        line_offset: line,
                        message: format!("`{{{{ {key} }}}}` names no fact in {FILE_NAME}"),
                        help: self.suggest(key),
                    });
                    out.text.push_str(&rest[start..start + 2 + end + 2]);
                }
            }
            rest = &after[end + 2..];
        }
        out.text.push_str(rest);
        out
    }

    fn suggest(&self, key: &str) -> String {
        if self.facts.is_empty() {
            return format!("add `{key}` to {FILE_NAME} beside config.yaml");
        }
        let group = key.split('.').next().unwrap_or(key);
        let near: Vec<&str> = self
            .facts
            .keys()
            .filter(|k| k.split('.').next() == Some(group))
            .map(String::as_str)
            .collect();
        if near.is_empty() {
            format!("add `{key}` to {FILE_NAME}, or use one of its keys")
        } else {
            format!(
                "add `{key}` to {FILE_NAME}, or use one of: {}",
                near.join(", ")
            )
        }
    }
}

fn is_key_part(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn yaml_scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// The line (from 1) where the dotted `key` is written: each part is
/// looked for below its parent, indented further.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let mut from = 0;
    let mut indent: Option<usize> = None;
    let mut found = None;
    for part in key.split('.') {
        let hit = (from..lines.len()).find(|&i| {
            let line = lines[i];
            let trimmed = line.trim_start();
            let this_indent = line.len() - trimmed.len();
            indent.is_none_or(|parent| this_indent > parent)
                && (trimmed.starts_with(&format!("{part}:"))
                    || trimmed.contains(&format!("{{ {part}:"))
                    || trimmed.contains(&format!(", {part}:")))
        })?;
        let line = lines[hit];
        indent = Some(line.len() - line.trim_start().len());
        from = hit + 1;
        found = Some(hit + 1);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "desk:\n  phone: \"0571-8888 6666\"\n  hours: !unconfirmed 每天 8:30–17:30\nduty:\n  phone: \"0000-0000000\"\nnational:\n  fire: { label: 火警, value: \"119\" }\nresponse:\n  ordinary: !unconfirmed 24h\n";

    fn facts() -> Facts {
        Facts::parse(Path::new("estate.yaml"), TEXT).unwrap()
    }

    #[test]
    fn values_tags_placeholders_and_lines() {
        let f = facts();
        let phone = f.get("desk.phone").unwrap();
        assert!(phone.confirmed && phone.is_phone());
        assert_eq!(phone.tel(), "057188886666");
        assert_eq!(phone.line, Some(2));
        let hours = f.get("desk.hours").unwrap();
        assert!(!hours.confirmed);
        assert_eq!(hours.value, "每天 8:30–17:30");
        assert!(!f.get("duty.phone").unwrap().confirmed, "a placeholder");
        assert_eq!(f.get("duty.phone").unwrap().line, Some(5));
        let fire = f.get("national.fire").unwrap();
        assert_eq!(
            (fire.label.as_deref(), fire.confirmed, fire.is_phone()),
            (Some("火警"), true, true)
        );
        assert_eq!(f.get("response.ordinary").unwrap().display(), "24 小时");
        let keys: Vec<&str> = f.unconfirmed().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["desk.hours", "duty.phone", "response.ordinary"]);
    }

    #[test]
    fn expansion_notes_uses_and_unknown_keys() {
        let f = facts();
        let out = f.expand(
            "请拨 {{ desk.phone }}。\n受理后 {{response.ordinary}} 内联系。\n{{ desk.fax }}",
            &|fact| fact.display(),
        );
        assert_eq!(
            out.text,
            "请拨 0571-8888 6666。\n受理后 24 小时 内联系。\n{{ desk.fax }}"
        );
        assert_eq!(
            out.used,
            [
                ("desk.phone".to_owned(), 0),
                ("response.ordinary".to_owned(), 1)
            ]
        );
        assert_eq!(out.unknown.len(), 1);
        assert_eq!(out.unknown[0].line_offset, 2);
        assert!(out.unknown[0].help.contains("desk.phone"));
    }

    #[test]
    fn a_phone_must_be_a_number() {
        let err = Facts::parse(Path::new("estate.yaml"), "desk:\n  phone: 请拨打前台\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("estate.yaml:2") && err.contains("desk.phone"),
            "{err}"
        );
        let err = Facts::parse(Path::new("estate.yaml"), "desk:\n  hours: !maybe 9\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("!unconfirmed"), "{err}");
    }
}
