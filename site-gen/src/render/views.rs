//! Pages → templates: the small views templates see, built once and shared.

use chrono::NaiveDate;
use serde::Serialize;

use crate::listing::Windowed;
use crate::markdown::TocEntry;

/// A page as other pages list it.
#[derive(Debug, Clone, Serialize, Hash)]
pub struct PageLink {
    pub title: String,
    pub url: String,
    pub summary: Option<String>,
    pub date: Option<NaiveDate>,
    pub updated: Option<NaiveDate>,
    pub expired: bool,
}

/// A section as other pages list it.
#[derive(Debug, Clone, Serialize, Hash)]
pub struct SectionLink {
    pub title: String,
    pub url: String,
    pub summary: Option<String>,
    pub page_count: usize,
}

#[derive(Debug, Clone, Serialize, Hash)]
pub struct Crumb {
    pub title: String,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct PageView<'a> {
    pub title: &'a str,
    pub url: &'a str,
    pub summary: Option<&'a str>,
    pub content: &'a str,
    pub toc: Vec<TocEntry>,
    pub date: Option<NaiveDate>,
    pub updated: Option<NaiveDate>,
    pub tags: &'a [String],
    pub expires: Option<NaiveDate>,
    pub expired: bool,
    /// Call buttons before anything else (`call:` in the front matter).
    pub call: Vec<crate::facts::CallView>,
    /// `effective`, `supersedes`, `changes`: a policy page's version.
    pub lifecycle: super::lifecycle::LifecycleView,
    /// The commits that changed the page (修订记录), newest first.
    pub revisions: Vec<&'a crate::history::Revision>,
    /// Notices: what the printed lobby poster adds to the page.
    pub poster: Option<super::poster::PosterView>,
}

#[derive(Debug, Serialize)]
pub struct PageContext<'a> {
    pub page: PageView<'a>,
    /// The page's section (none for pages beside the home page).
    pub section: Option<&'a Crumb>,
    /// The section's pages around this one (all of them in a small
    /// section), with the section's first and last.
    pub siblings: Windowed<&'a PageLink>,
    pub prev: Option<&'a PageLink>,
    pub next: Option<&'a PageLink>,
    pub breadcrumbs: &'a [Crumb],
}

#[derive(Debug, Serialize)]
pub struct SectionView<'a> {
    pub title: &'a str,
    pub url: &'a str,
    pub summary: Option<&'a str>,
    pub content: &'a str,
    pub updated: Option<NaiveDate>,
    /// Call buttons before anything else (`call:` in the front matter).
    pub call: Vec<crate::facts::CallView>,
}

#[derive(Debug, Serialize)]
pub struct SectionContext<'a> {
    pub section: SectionView<'a>,
    /// The pages on this page of the section's list.
    pub pages: Vec<&'a PageLink>,
    pub subsections: Vec<&'a SectionLink>,
    pub breadcrumbs: &'a [Crumb],
    pub is_notices: bool,
    pub paging: Paging,
    /// The notices archive's years, newest first (notices only).
    pub years: &'a [YearLink],
    /// The year this page lists, on the archive pages of one year.
    pub year: Option<i32>,
}

/// Where a page of a list is among the list's pages.
#[derive(Debug, Serialize, Hash)]
pub struct Paging {
    /// 1-based, of `count`.
    pub number: usize,
    pub count: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// Numbered links around this page, with the first and the last.
    pub pages: Windowed<PageNumber>,
}

#[derive(Debug, Serialize, Hash)]
pub struct PageNumber {
    pub number: usize,
    pub url: String,
    pub current: bool,
}

/// One year of the notices archive.
#[derive(Debug, Serialize, Hash)]
pub struct YearLink {
    pub year: i32,
    pub url: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct HomeView<'a> {
    pub title: &'a str,
    pub content: &'a str,
}

/// A request form as the home page offers it.
#[derive(Debug, Serialize)]
pub struct FormLink<'a> {
    pub title: &'a str,
    pub url: String,
    pub summary: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct HomeContext<'a> {
    pub home: HomeView<'a>,
    /// The request forms, repairs first: what owners most often come for.
    pub forms: Vec<FormLink<'a>>,
    pub sections: Vec<&'a SectionLink>,
    /// The newest current notices, at most `lists.home_notices`.
    pub notices: Vec<&'a PageLink>,
    /// More notices are current than the home page shows.
    pub notices_more: bool,
    pub notices_url: Option<&'a str>,
}

/// For templates that need nothing but `site`.
#[derive(Debug, Serialize)]
pub struct Empty {}

/// A section and its pages in the search page's site map.
#[derive(Debug, Serialize)]
pub struct SiteMapSection<'a> {
    pub title: &'a str,
    pub url: &'a str,
    /// 0 for a top-level section, 1 for one inside it, …
    pub depth: usize,
    pub pages: Vec<&'a PageLink>,
}

#[derive(Debug, Serialize)]
pub struct SearchView<'a> {
    /// The folder of this build's index, ending in `/`.
    pub index_url: String,
    pub script_url: String,
    /// Every section and page, for owners without script and for a search
    /// that found nothing.
    pub sections: Vec<SiteMapSection<'a>>,
    /// The online forms, `(title, url)`.
    pub forms: Vec<(String, String)>,
}

#[derive(Debug, Serialize)]
pub struct SearchContext<'a> {
    pub search: SearchView<'a>,
}
