//! Atom feeds: the notices, and the policy pages' changes, for owners who
//! follow the estate in a feed reader. Every address in them is absolute,
//! from `base_url`.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Person, Text};
use chrono::{FixedOffset, NaiveDate};

use crate::build::Site;
use crate::content::Document;
use crate::render::lifecycle::LifecycleView;

/// The notices' feed, beside the notice archive.
pub const NOTICES_FEED: &str = "notices/atom.xml";
/// The feed of policy changes (pages with `effective` or `changes`).
pub const POLICIES_FEED: &str = "updates/atom.xml";
/// Entries per feed: readers poll often, and old entries are on the site.
const MAX_ENTRIES: usize = 50;

/// A feed's address on the site (`/notices/atom.xml`), for `<link>`s.
pub fn feed_path(file: &str) -> String {
    format!("/{file}")
}

/// Midnight of `day` in the estate's time zone.
fn at_midnight(day: NaiveDate, offset: FixedOffset) -> FixedDateTime {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(offset).single())
        .unwrap_or_else(|| {
            day.and_time(chrono::NaiveTime::MIN)
                .and_utc()
                .fixed_offset()
        })
}

fn offset(site: &Site) -> FixedOffset {
    site.config
        .utc_offset_seconds()
        .and_then(FixedOffset::east_opt)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("UTC is a valid offset"))
}

fn link(href: String, rel: &str, mime: Option<&str>) -> Link {
    Link {
        href,
        rel: rel.to_owned(),
        mime_type: mime.map(str::to_owned),
        ..Link::default()
    }
}

fn html_text(html: String) -> Content {
    Content {
        value: Some(html),
        content_type: Some("html".to_owned()),
        ..Content::default()
    }
}

struct FeedSpec<'a> {
    file: &'a str,
    title: String,
    /// The page a reader opens from the feed.
    alternate: String,
    entries: Vec<Entry>,
}

fn feed(site: &Site, spec: FeedSpec) -> String {
    let base = &site.config.base_url;
    let self_url = format!("{base}{}", feed_path(spec.file));
    let updated = spec
        .entries
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or_else(|| at_midnight(site.today, offset(site)));
    let feed = Feed {
        title: Text::plain(spec.title),
        id: self_url.clone(),
        updated,
        authors: vec![Person {
            name: site.config.title.clone(),
            uri: Some(format!("{base}/")),
            ..Person::default()
        }],
        links: vec![
            link(self_url, "self", Some("application/atom+xml")),
            link(spec.alternate, "alternate", Some("text/html")),
        ],
        lang: Some(site.config.language.clone()),
        // Bodies carry site paths such as /fees/; a reader resolves them
        // against the site.
        base: Some(format!("{base}/")),
        entries: spec.entries,
        ..Feed::default()
    };
    feed.to_string()
}

/// The pages of the notices feed, newest first: those it renders.
pub fn notice_pages(content: &crate::content::Content) -> &[usize] {
    match content.sections.iter().find(|s| s.is_notices()) {
        Some(section) => &section.pages[..section.pages.len().min(MAX_ENTRIES)],
        None => &[],
    }
}

/// The notices, newest first.
pub fn notices(site: &Site) -> Option<String> {
    let content = &site.content;
    let section = content.sections.iter().position(|s| s.is_notices())?;
    let base = &site.config.base_url;
    let tz = offset(site);
    let entries = notice_pages(content)
        .iter()
        .filter_map(|&i| {
            let doc = &content.pages[i];
            let url = format!("{base}{}", doc.path.url());
            let day = doc.meta.last_updated()?;
            Some(Entry {
                title: Text::plain(doc.meta.title.clone()),
                id: url.clone(),
                updated: at_midnight(day, tz),
                published: doc.meta.date.map(|d| at_midnight(d, tz)),
                summary: doc.meta.summary.clone().map(Text::plain),
                // Its body is kept for this (`Site::released`), so it is
                // not read again and cannot fail.
                content: Some(html_text(site.render_page(i).ok()?.html)),
                links: vec![link(url, "alternate", Some("text/html"))],
                ..Entry::default()
            })
        })
        .collect();
    let section_doc = &content.sections[section].doc;
    Some(feed(
        site,
        FeedSpec {
            file: NOTICES_FEED,
            title: format!("{} - {}", section_doc.meta.title, site.config.title),
            alternate: format!("{base}{}", section_doc.path.url()),
            entries,
        },
    ))
}

/// The policy pages, the latest version first: one entry per version
/// (a new `effective` day is a new entry in a reader).
pub fn policies(site: &Site) -> String {
    let base = &site.config.base_url;
    let tz = offset(site);
    let mut versions: Vec<(NaiveDate, &Document)> = site
        .content
        .pages
        .iter()
        .filter(|d| LifecycleView::is_policy(&d.meta))
        .filter_map(|d| Some((d.meta.effective.or(d.meta.last_updated())?, d)))
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.path.cmp(&b.1.path)));
    let entries = versions
        .into_iter()
        .take(MAX_ENTRIES)
        .map(|(day, doc)| {
            let url = format!("{base}{}", doc.path.url());
            let mut html = String::new();
            if let Some(effective) = doc.meta.effective {
                html.push_str(&format!(
                    "<p>自 {} 起施行</p>",
                    effective.format("%Y年%-m月%-d日")
                ));
            }
            if !doc.meta.changes.is_empty() {
                html.push_str("<p>本次修订：</p><ul>");
                for change in &doc.meta.changes {
                    html.push_str(&format!("<li>{}</li>", templates::escape_html(change)));
                }
                html.push_str("</ul>");
            }
            Entry {
                title: Text::plain(doc.meta.title.clone()),
                id: format!("{url}#{day}"),
                updated: at_midnight(doc.meta.last_updated().unwrap_or(day).max(day), tz),
                summary: doc.meta.summary.clone().map(Text::plain),
                content: Some(html_text(html)),
                links: vec![link(url, "alternate", Some("text/html"))],
                ..Entry::default()
            }
        })
        .collect();
    feed(
        site,
        FeedSpec {
            file: POLICIES_FEED,
            title: format!("规定修订 - {}", site.config.title),
            alternate: format!("{base}{}", crate::render::updates::PAGE_URL),
            entries,
        },
    )
}

/// The feeds this site has: the notices' when it has a notices section,
/// the policy changes' when any page has `effective` or `changes`.
pub fn files(content: &crate::content::Content) -> Vec<&'static str> {
    let mut files = Vec::new();
    if content.sections.iter().any(|s| s.is_notices()) {
        files.push(NOTICES_FEED);
    }
    if content
        .pages
        .iter()
        .any(|d| LifecycleView::is_policy(&d.meta))
    {
        files.push(POLICIES_FEED);
    }
    files
}

/// The `<link>`s every page's `<head>` carries, with absolute addresses.
pub fn links(
    config: &config::Config,
    content: &crate::content::Content,
) -> Vec<templates::FeedLink> {
    files(content)
        .into_iter()
        .map(|file| templates::FeedLink {
            title: if file == NOTICES_FEED {
                "通知公告".to_owned()
            } else {
                "规定修订".to_owned()
            },
            url: format!("{}{}", config.base_url, feed_path(file)),
        })
        .collect()
}
