//! Links between pages: written as relative links to Markdown files (as in
//! any Markdown preview), rewritten to page addresses, and all checked.

// Fx: the index is rebuilt on every rebuild under `serve`, from the
// site's own names, so SipHash's flood resistance buys nothing here.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::Path;

use percent_encoding::percent_decode_str;

use crate::diagnostics::Diagnostic;
use crate::markdown::{Heading, LinkRef};
use crate::urls::{ContentPath, SECTION_INDEX, resolve_relative};

/// What a link as written points at.
#[derive(Debug, PartialEq)]
pub enum Target {
    /// Another site, `mailto:`, `tel:`: left alone.
    External,
    /// `#heading` on the same page.
    SamePage(String),
    /// `/forms/repair/`: an address on this site.
    SitePath {
        path: String,
        fragment: Option<String>,
    },
    /// `../fees/payment.md#逾期缴费`: another content file.
    Content {
        path: ContentPath,
        fragment: Option<String>,
    },
    /// A relative link that climbs above `content/`.
    Outside,
}

fn has_scheme(dest: &str) -> bool {
    match dest.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

pub fn classify(from: &ContentPath, dest: &str) -> Target {
    if has_scheme(dest) || dest.starts_with("//") {
        return Target::External;
    }
    let (before_fragment, fragment) = match dest.split_once('#') {
        Some((p, f)) => (p, Some(decode(f))),
        None => (dest, None),
    };
    let path = before_fragment.split('?').next().unwrap_or("");
    if path.is_empty() {
        return match fragment {
            Some(f) => Target::SamePage(f),
            None => Target::External,
        };
    }
    if path.starts_with('/') {
        return Target::SitePath {
            path: decode(path),
            fragment,
        };
    }
    let decoded = decode(path);
    let Some(mut resolved) = resolve_relative(from, &decoded) else {
        return Target::Outside;
    };
    if decoded.ends_with('/') || decoded == "." || decoded == ".." || decoded.ends_with("/..") {
        let mut parts = resolved.parts().to_vec();
        parts.push(SECTION_INDEX.to_owned());
        resolved = ContentPath::from_parts(parts);
    }
    Target::Content {
        path: resolved,
        fragment,
    }
}

/// The address to write instead of `dest`, or `None` to keep it.
pub fn rewrite(from: &ContentPath, dest: &str, base_path: &str) -> Option<String> {
    let with_fragment = |url: String, fragment: Option<String>| match fragment {
        Some(f) => format!("{url}#{f}"),
        None => url,
    };
    match classify(from, dest) {
        Target::Content { path, fragment } => Some(with_fragment(
            format!("{base_path}{}", path.url()),
            fragment,
        )),
        Target::SitePath { .. } if !base_path.is_empty() => Some(format!("{base_path}{dest}")),
        _ => None,
    }
}

/// Everything a link may point to.
#[derive(Debug, Default)]
pub struct LinkIndex {
    /// Each page and section, with the ids of its headings.
    anchors: HashMap<ContentPath, HashSet<String>>,
    /// Site path → the content file rendered there.
    pages_by_url: HashMap<String, ContentPath>,
    /// Other addresses the build writes (assets, form pages, static files).
    other_urls: HashSet<String>,
    /// Documents whose headings are unknown because they did not parse.
    unchecked: HashSet<ContentPath>,
}

impl LinkIndex {
    pub fn add_document(&mut self, path: &ContentPath, headings: &[Heading]) {
        self.pages_by_url.insert(path.url(), path.clone());
        self.anchors.insert(
            path.clone(),
            headings.iter().map(|h| h.id.clone()).collect(),
        );
    }

    /// A document that exists but could not be read: links to it count,
    /// its headings are unknown.
    pub fn add_unchecked(&mut self, path: &ContentPath) {
        self.pages_by_url.insert(path.url(), path.clone());
        self.unchecked.insert(path.clone());
    }

    pub fn add_url(&mut self, url: String) {
        self.other_urls.insert(url);
    }

    pub fn has_url(&self, url: &str) -> bool {
        self.pages_by_url.contains_key(url) || self.other_urls.contains(url)
    }

    /// Checks every link of one document; `headings` are its own.
    pub fn check(
        &self,
        from: &ContentPath,
        file: &Path,
        headings: &[Heading],
        links: &[LinkRef],
    ) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        for link in links {
            let at = |message: String| Diagnostic::new(file, Some(link.line), message);
            match classify(from, &link.dest) {
                Target::External => {}
                Target::Outside => problems.push(
                    at(format!(
                        "the link `{}` climbs above the content folder",
                        link.dest
                    ))
                    .help("links are relative to this file's folder; remove a `../`"),
                ),
                Target::SamePage(fragment) => {
                    if !headings.iter().any(|h| h.id == fragment) {
                        problems.push(missing_anchor(
                            at,
                            &link.dest,
                            &fragment,
                            "this page",
                            headings.iter().map(|h| h.id.as_str()),
                        ));
                    }
                }
                Target::SitePath { path, fragment } => {
                    let page = self.pages_by_url.get(&path);
                    if page.is_none() && !self.other_urls.contains(&path) {
                        problems.push(
                            at(format!("the link `{}` points to no address of this site", link.dest))
                                .help("to link to a page, write a relative link to its .md file, e.g. ../fees/payment.md"),
                        );
                    } else if let (Some(page), Some(fragment)) =
                        (page.filter(|p| !self.unchecked.contains(*p)), fragment)
                    {
                        problems.extend(self.check_anchor(page, &fragment, &link.dest, at));
                    }
                }
                Target::Content { path, fragment } => {
                    if path.is_markdown() {
                        if self.unchecked.contains(&path) {
                        } else if !self.anchors.contains_key(&path) {
                            problems.push(
                                at(format!(
                                    "the link `{}` points to content/{}, which does not exist",
                                    link.dest,
                                    path.to_path().display()
                                ))
                                .help("check the file name and the `../`; a draft page is only built with --drafts"),
                            );
                        } else if let Some(fragment) = fragment {
                            problems.extend(self.check_anchor(&path, &fragment, &link.dest, at));
                        }
                    } else if !self.other_urls.contains(&path.url()) {
                        problems.push(
                            at(format!(
                                "the link `{}` points to content/{}, which does not exist",
                                link.dest,
                                path.to_path().display()
                            ))
                            .help("put the file in the content folder beside the page, or correct the name"),
                        );
                    }
                }
            }
        }
        problems
    }

    fn check_anchor(
        &self,
        page: &ContentPath,
        fragment: &str,
        dest: &str,
        at: impl Fn(String) -> Diagnostic,
    ) -> Option<Diagnostic> {
        let ids = self.anchors.get(page)?;
        if ids.contains(fragment) {
            return None;
        }
        let mut known: Vec<&str> = ids.iter().map(String::as_str).collect();
        known.sort_unstable();
        let where_ = format!("content/{}", page.to_path().display());
        Some(missing_anchor(
            at,
            dest,
            fragment,
            &where_,
            known.into_iter(),
        ))
    }
}

fn missing_anchor<'a>(
    at: impl Fn(String) -> Diagnostic,
    dest: &str,
    fragment: &str,
    page: &str,
    known: impl Iterator<Item = &'a str>,
) -> Diagnostic {
    let known: Vec<String> = known.take(12).map(|id| format!("#{id}")).collect();
    let help = if known.is_empty() {
        format!("{page} has no headings; link to the page without `#`")
    } else {
        format!("headings there: {}", known.join(" "))
    };
    at(format!(
        "the link `{dest}` names the heading `#{fragment}`, which {page} does not have"
    ))
    .help(help)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(s: &str) -> ContentPath {
        ContentPath::new(Path::new(s)).unwrap()
    }

    #[test]
    fn classifies_what_authors_write() {
        let from = cp("fees/payment.md");
        assert_eq!(classify(&from, "https://gov.cn"), Target::External);
        assert_eq!(classify(&from, "tel:12345"), Target::External);
        assert_eq!(
            classify(&from, "#逾期缴费"),
            Target::SamePage("逾期缴费".into())
        );
        assert_eq!(
            classify(&from, "../renovation/rules.md#%E6%8A%BC%E9%87%91"),
            Target::Content {
                path: cp("renovation/rules.md"),
                fragment: Some("押金".into())
            }
        );
        assert_eq!(
            classify(&from, "../renovation/"),
            Target::Content {
                path: cp("renovation/_index.md"),
                fragment: None
            }
        );
        assert_eq!(classify(&from, "../../secret.md"), Target::Outside);
        assert_eq!(
            classify(&from, "/forms/repair/"),
            Target::SitePath {
                path: "/forms/repair/".into(),
                fragment: None
            }
        );
    }

    #[test]
    fn rewrites_to_page_addresses() {
        let from = cp("fees/payment.md");
        assert_eq!(
            rewrite(&from, "invoices.md#发票", ""),
            Some("/fees/invoices/#发票".into())
        );
        assert_eq!(rewrite(&from, "_index.md", "/hb"), Some("/hb/fees/".into()));
        assert_eq!(
            rewrite(&from, "/forms/repair/", "/hb"),
            Some("/hb/forms/repair/".into())
        );
        assert_eq!(rewrite(&from, "/forms/repair/", ""), None);
        assert_eq!(rewrite(&from, "https://x.org", ""), None);
    }

    #[test]
    fn reports_missing_pages_and_anchors() {
        let mut index = LinkIndex::default();
        let heading = |id: &str| Heading {
            level: 2,
            id: id.into(),
            title: id.into(),
            line: 1,
        };
        index.add_document(&cp("fees/payment.md"), &[heading("逾期缴费")]);
        index.add_url("/forms/repair/".into());
        let from = cp("fees/invoices.md");
        let link = |dest: &str, line| LinkRef {
            dest: dest.into(),
            line,
        };
        let problems = index.check(
            &from,
            Path::new("content/fees/invoices.md"),
            &[heading("发票")],
            &[
                link("payment.md#逾期缴费", 3),
                link("payment.md#滞纳金", 4),
                link("paymnet.md", 5),
                link("#发票", 6),
                link("#没有", 7),
                link("/forms/repair/", 8),
                link("/forms/nothing/", 9),
            ],
        );
        let lines: Vec<_> = problems.iter().map(|d| d.line.unwrap()).collect();
        assert_eq!(lines, vec![4, 5, 7, 9]);
        assert!(problems[0].help.as_deref().unwrap().contains("#逾期缴费"));
    }
}
