//! The small, typed views every template gets. Templates see these, not
//! the generator's or the desk's internal structures.

use config::{Config, Contact};
use serde::Serialize;

use crate::theme::Theme;

/// How addresses in a rendered page are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `/fees/`: pages of the static site.
    SitePath,
    /// `https://handbook.example.org/fees/`: pages the desk functions
    /// render, which may be served from another origin than the site.
    Absolute,
}

#[derive(Debug, Clone, Serialize)]
pub struct MenuItem {
    pub title: String,
    pub url: String,
    pub active: bool,
}

/// What every template knows about the site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub title: String,
    pub description: String,
    pub lang: String,
    pub home_url: String,
    pub stylesheet_url: String,
    pub script_url: String,
    /// The search page, which the header's search box submits to; empty
    /// when the site has no search.
    pub search_url: String,
    pub live_reload: bool,
    pub menu: Vec<MenuItem>,
    pub contact: Contact,
    /// The estate's facts as shown to owners: `site.facts.desk.phone`.
    pub facts: serde_json::Map<String, serde_json::Value>,
    /// Atom feeds the pages announce in `<head>`; the generator sets them.
    pub feeds: Vec<FeedLink>,
}

/// A feed as `<link rel="alternate" type="application/atom+xml">` names it.
#[derive(Debug, Clone, Serialize)]
pub struct FeedLink {
    pub title: String,
    pub url: String,
}

impl SiteView {
    pub fn new(config: &Config, theme: &Theme, addressing: Addressing) -> SiteView {
        let prefix = match addressing {
            Addressing::SitePath => config.base_path().to_owned(),
            Addressing::Absolute => config.base_url.clone(),
        };
        let asset = |name: &str| match theme.fingerprint(name) {
            Some(hash) => format!("{prefix}/static/{name}?v={hash}"),
            None => format!("{prefix}/static/{name}"),
        };
        SiteView {
            title: config.title.clone(),
            description: config.description.clone(),
            lang: config.language.clone(),
            home_url: format!("{prefix}/"),
            stylesheet_url: asset("style.css"),
            script_url: asset("forms.js"),
            search_url: if config.search.enabled {
                format!("{prefix}/search/")
            } else {
                String::new()
            },
            live_reload: false,
            menu: config
                .menu
                .iter()
                .map(|m| MenuItem {
                    title: m.title.clone(),
                    url: format!("{prefix}{}", m.url),
                    active: false,
                })
                .collect(),
            contact: config.contact.clone(),
            facts: config.facts.tree(),
            feeds: Vec::new(),
        }
    }

    /// The same view with the menu entry that contains `url` marked.
    pub fn at(&self, url: &str) -> SiteView {
        let mut view = self.clone();
        for item in &mut view.menu {
            item.active = item.url != view.home_url && url.starts_with(&item.url);
        }
        view
    }
}

/// The owner's status page: the thank-you page after a request was
/// stored, and later where the owner follows it. It carries nothing
/// personal and nothing internal (no staff names, no notes): its address
/// may be shared with family.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptView {
    pub form_title: String,
    /// What was received, in one word: 报修, 投诉, 建议.
    pub noun: String,
    pub reference: String,
    /// The category chosen, in the form's words.
    pub category: String,
    pub received: String,
    pub due: String,
    /// Whether the promise is being kept: on time, late, done on time.
    pub due_note: String,
    pub late: bool,
    pub commitment: String,
    /// For an emergency, what was done beyond the queue: the duty alert
    /// and its escalation. Empty when no alert was planned.
    pub duty_note: String,
    /// An option the owner chose is an emergency's (`alert: true`).
    pub emergency: bool,
    /// Where the request is, in words for the owner.
    pub status: String,
    /// The work is over (done, followed up, closed or cancelled).
    pub finished: bool,
    /// What has happened so far, oldest first.
    pub steps: Vec<ReceiptStep>,
    /// This page's own address, to bookmark or share.
    pub status_url: String,
    /// The lookup by reference and phone digits.
    pub track_url: String,
    /// Asked once the work is done: is it solved, and a rating.
    pub acceptance: Option<AcceptanceView>,
    pub form_url: String,
    pub home_url: String,
}

/// The owner's acceptance form on the status page, with what they typed
/// when it came back refused.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AcceptanceView {
    pub version: u64,
    pub solved: String,
    pub satisfaction: String,
    pub comment: String,
    pub error: Option<String>,
    /// The field the error is about.
    pub error_field: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReceiptStep {
    /// As people read it, and as machines do (RFC 3339).
    pub at: String,
    pub datetime: String,
    pub text: String,
}

/// The context of `form.html`.
#[derive(Debug, Serialize)]
pub struct FormContext<'a> {
    pub form: forms::FormView<'a>,
}

/// The context of `received.html`.
#[derive(Debug, Serialize)]
pub struct ReceiptContext<'a> {
    pub receipt: &'a ReceiptView,
}
