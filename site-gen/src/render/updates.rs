//! The 更新记录 page: recent changes across the site, newest first. From
//! git when the history is read (one entry per commit), otherwise from the
//! pages' own dates (one entry per page).

use chrono::NaiveDate;
use serde::Serialize;

use crate::build::Site;
use crate::content::Document;
use crate::render::feeds;
use crate::urls::ContentPath;

/// The page's address and file.
pub const PAGE_URL: &str = "/updates/";
pub const PAGE_FILE: &str = "updates/index.html";
pub const TEMPLATE: &str = "updates.html";

#[derive(Debug, Serialize)]
pub struct PageRef {
    pub title: String,
    pub url: String,
}

/// One change: a commit, or a page's last update.
#[derive(Debug, Serialize)]
pub struct Update {
    pub date: NaiveDate,
    /// The commit's subject; none for a page's own date.
    pub subject: Option<String>,
    pub pages: Vec<PageRef>,
    /// The page's `changes`, when the entry is its current version.
    pub changes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct UpdatesView {
    pub updates: Vec<Update>,
    /// Whether the list comes from the git history.
    pub from_history: bool,
    /// The feed of policy changes, when the site has policy pages.
    pub policies_feed_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct UpdatesContext {
    pub updates: UpdatesView,
}

pub fn view(site: &Site) -> UpdatesView {
    let base = site.config.base_path();
    let limit = site.config.history.recent;
    let documents = || {
        site.content
            .sections
            .iter()
            .map(|s| &s.doc)
            .chain(&site.content.pages)
    };
    let page_ref = |doc: &Document| PageRef {
        title: doc.meta.title.clone(),
        url: format!("{base}{}", doc.path.url()),
    };
    let updates = match &site.history {
        Some(history) => {
            let by_path: std::collections::HashMap<&ContentPath, &Document> =
                documents().map(|d| (&d.path, d)).collect();
            history
                .commits
                .iter()
                .filter_map(|commit| {
                    let pages: Vec<PageRef> = commit
                        .files
                        .iter()
                        .filter_map(|f| by_path.get(f).map(|d| page_ref(d)))
                        .collect();
                    (!pages.is_empty()).then(|| Update {
                        date: commit.revision.date,
                        subject: Some(commit.revision.subject.clone()),
                        pages,
                        changes: Vec::new(),
                    })
                })
                .take(limit)
                .collect()
        }
        None => {
            let mut dated: Vec<(NaiveDate, &Document)> = documents()
                .filter_map(|d| Some((d.meta.last_updated().or(d.meta.effective)?, d)))
                .collect();
            dated.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.path.cmp(&b.1.path)));
            dated
                .into_iter()
                .take(limit)
                .map(|(date, doc)| Update {
                    date,
                    subject: None,
                    pages: vec![page_ref(doc)],
                    changes: doc.meta.changes.clone(),
                })
                .collect()
        }
    };
    UpdatesView {
        updates,
        from_history: site.history.is_some(),
        policies_feed_url: feeds::files(&site.content)
            .contains(&feeds::POLICIES_FEED)
            .then(|| {
                format!(
                    "{}{}",
                    site.config.base_url,
                    feeds::feed_path(feeds::POLICIES_FEED)
                )
            }),
    }
}
