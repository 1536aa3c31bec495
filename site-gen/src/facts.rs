//! The estate's facts in pages: `{{ key }}` in Markdown filled in from
//! `estate.yaml`, the call buttons a page asks for with `call:`, and the
//! list of values the estate has not confirmed yet.

use std::fmt;
use std::path::{Path, PathBuf};

use config::{Fact, FactUse, Facts};
use serde::Serialize;

use crate::content::Document;
use crate::diagnostics::Diagnostic;

/// How a fact reads inside a page: phones as tap-to-call links.
pub fn html(fact: &Fact) -> String {
    let text = templates::escape_html(&fact.display());
    if fact.is_phone() && !fact.tel().is_empty() {
        format!(r#"<a class="tel" href="tel:{}">{text}</a>"#, fact.tel())
    } else {
        text
    }
}

/// `body` with its facts filled in, as [`expand_document`] fills them.
pub fn filled(facts: &Facts, body: &str) -> String {
    facts.expand(body, &html).text
}

/// Fills in the facts of `doc`'s body and checks its `call:` keys; says
/// where it used which fact.
pub fn expand_document(
    facts: &Facts,
    doc: &mut Document,
    uses: &mut Vec<FactUse>,
) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    if doc.has_placeholders {
        let expanded = facts.expand(&doc.body, &html);
        for unknown in &expanded.unknown {
            problems.push(
                Diagnostic::new(
                    &doc.file,
                    Some(doc.body_line + unknown.line_offset),
                    unknown.message.clone(),
                )
                .help(unknown.help.clone()),
            );
        }
        uses.extend(expanded.used.into_iter().map(|(key, line)| FactUse {
            key,
            file: doc.file.to_path_buf(),
            line: Some(doc.body_line + line),
        }));
        doc.body = expanded.text.into();
    }
    let call_line = doc.line_of("call");
    for key in &doc.meta.call {
        match facts.get(key) {
            Some(fact) if fact.is_phone() => uses.push(FactUse {
                key: key.clone(),
                file: doc.file.to_path_buf(),
                line: call_line,
            }),
            Some(_) => problems.push(
                Diagnostic::new(
                    &doc.file,
                    call_line,
                    format!("`call: {key}` is not a phone number"),
                )
                .help("name a key of estate.yaml ending in `phone`, or one under `national`"),
            ),
            None => problems.push(
                Diagnostic::new(
                    &doc.file,
                    call_line,
                    format!("`call` names `{key}`, which is no fact in estate.yaml"),
                )
                .help("use a key such as national.fire, or add it to estate.yaml"),
            ),
        }
    }
    problems
}

/// One call button: the 24-hour duty line, or a number a page names.
#[derive(Debug, Clone, Serialize)]
pub struct CallView {
    pub label: String,
    pub number: String,
    pub tel: String,
}

/// The buttons of a page with `call:`: the duty line first, then the
/// numbers it names. No `call:`, no buttons.
pub fn call_block(facts: &Facts, keys: &[String]) -> Vec<CallView> {
    if keys.is_empty() {
        return Vec::new();
    }
    let button = |fact: &Fact, fallback: &str| CallView {
        label: fact.label.clone().unwrap_or_else(|| fallback.to_owned()),
        number: fact.display(),
        tel: fact.tel(),
    };
    let duty = facts
        .get("duty.phone")
        .map(|f| button(f, "24 小时值班电话"));
    duty.into_iter()
        .chain(
            keys.iter()
                .filter(|k| k.as_str() != "duty.phone")
                .filter_map(|k| facts.get(k))
                .map(|f| button(f, "电话")),
        )
        .collect()
}

/// A value the estate has not confirmed, and where the site uses it.
#[derive(Debug, Clone)]
pub struct Unconfirmed {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub key: String,
    pub value: String,
    pub uses: Vec<FactUse>,
}

impl Unconfirmed {
    /// The same, as a problem that stops a `--strict` build.
    pub fn diagnostic(&self) -> Diagnostic {
        Diagnostic::new(&self.file, self.line, format!("{self}")).help(
            "confirm the value with the estate, write the real one and remove `!unconfirmed`; or build without --strict for a preview",
        )
    }
}

impl fmt::Display for Unconfirmed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ({:?}) is not confirmed", self.key, self.value)?;
        if self.uses.is_empty() {
            return write!(f, "; no page uses it");
        }
        let places: Vec<String> = self
            .uses
            .iter()
            .map(|u| match u.line {
                Some(line) => format!("{}:{line}", u.file.display()),
                None => u.file.display().to_string(),
            })
            .collect();
        write!(f, "; used in {}", places.join(", "))
    }
}

/// Every unconfirmed fact with its uses, in key order. The theme's own
/// facts (footer, call buttons) count as used by `base.html`.
pub fn unconfirmed(facts: &Facts, uses: &[FactUse], theme_dir: &Path) -> Vec<Unconfirmed> {
    let theme_file = theme_dir.join("templates").join("base.html");
    facts
        .unconfirmed()
        .map(|fact| {
            let mut used: Vec<FactUse> =
                uses.iter().filter(|u| u.key == fact.key).cloned().collect();
            if config::Config::THEME_FACTS.contains(&fact.key.as_str()) {
                used.push(FactUse {
                    key: fact.key.clone(),
                    file: theme_file.clone(),
                    line: None,
                });
            }
            used.sort();
            used.dedup();
            Unconfirmed {
                file: facts.file.clone(),
                line: fact.line,
                key: fact.key.clone(),
                value: fact.value.clone(),
                uses: used,
            }
        })
        .collect()
}
