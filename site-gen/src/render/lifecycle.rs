//! A policy page's lifecycle as the page shows it: from when the rule
//! applies, what it replaces and what changed.

use chrono::NaiveDate;
use serde::Serialize;

use crate::content::{Content, Document};
use crate::links::{self, Target};

/// What the page says about this version of its rule.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LifecycleView {
    /// The day the rule takes effect.
    pub effective: Option<NaiveDate>,
    /// The effective day is still ahead of the build's today: "即将施行".
    pub upcoming: bool,
    pub supersedes: Option<Supersedes>,
    /// What changed in this version ("本次修订").
    pub changes: Vec<String>,
}

/// What the version replaces: a page of the site, or words.
#[derive(Debug, Clone, Serialize)]
pub struct Supersedes {
    pub text: String,
    /// The replaced page's address when `supersedes` links to one.
    pub url: Option<String>,
}

impl LifecycleView {
    pub fn of(doc: &Document, content: &Content, base_path: &str, today: NaiveDate) -> Self {
        let meta = &doc.meta;
        let supersedes = meta.supersedes.as_ref().map(|written| {
            let target = match supersedes_link(doc) {
                Some(_) => links::classify(&doc.path, written),
                None => Target::External,
            };
            match target {
                Target::Content { path, .. } => Supersedes {
                    // The link is checked with the page's other links;
                    // here it only needs the replaced page's title.
                    text: content
                        .sections
                        .iter()
                        .map(|s| &s.doc)
                        .chain(&content.pages)
                        .find(|d| d.path == path)
                        .map_or_else(|| written.clone(), |d| d.meta.title.clone()),
                    url: links::rewrite(&doc.path, written, base_path),
                },
                Target::SitePath { .. } => Supersedes {
                    text: written.clone(),
                    url: Some(
                        links::rewrite(&doc.path, written, base_path)
                            .unwrap_or_else(|| written.clone()),
                    ),
                },
                _ => Supersedes {
                    text: written.clone(),
                    url: None,
                },
            }
        });
        LifecycleView {
            effective: meta.effective,
            upcoming: meta.effective.is_some_and(|day| day > today),
            supersedes,
            changes: meta.changes.clone(),
        }
    }

    /// Whether the page has any lifecycle to show (and so belongs in the
    /// feed of policy changes).
    pub fn is_policy(meta: &crate::content::FrontMatter) -> bool {
        meta.effective.is_some() || !meta.changes.is_empty()
    }
}

/// The `supersedes` value when it links to another content file, so the
/// link is checked like a link in the body.
pub fn supersedes_link(doc: &Document) -> Option<&str> {
    let written = doc.meta.supersedes.as_deref()?;
    // Words such as "2024 年版" are not a file name: only a Markdown file
    // or a site path is a link.
    let path = written.split('#').next().unwrap_or("");
    let looks_like_link = path.ends_with(".md") || path.starts_with('/');
    let is_page = matches!(
        links::classify(&doc.path, written),
        Target::Content { .. } | Target::SitePath { .. }
    );
    (looks_like_link && is_page).then_some(written)
}
