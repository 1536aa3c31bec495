//! Pages → templates → files: every page rendered in parallel and written
//! as soon as it is rendered.

pub mod feeds;
pub mod lifecycle;
pub mod poster;
mod search_index;
mod sitemap;
pub mod updates;
mod views;

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHashSet};

pub use views::*;

use crate::build::Site;
use crate::content::Document;
use crate::diagnostics::{Diagnostic, Error};
use crate::listing::{ListPage, Window, Windowed};
use crate::markdown::{Rendered, table_of_contents};
use crate::output::Sink;
use crate::urls::ContentPath;
pub use search_index::SearchCache;

/// Files the build writes that no content file names.
pub const GENERATED: [&str; 3] = ["sitemap.xml", "robots.txt", "404.html"];

/// The most commits a page's 修订记录 lists: the rest are in git.
const MAX_REVISIONS: usize = 20;

/// The page of a form on the site, as if it were `content/forms/<kind>.md`.
pub fn form_page(kind: &str) -> ContentPath {
    ContentPath::from_parts(vec![crate::content::FORMS_DIR.into(), format!("{kind}.md")])
}

/// The small views of every page and section, built once and shared by
/// every template that lists them.
struct Links {
    pages: Vec<PageLink>,
    sections: Vec<SectionLink>,
    /// Per section: the trail from home to its parent.
    trails: Vec<Vec<Crumb>>,
    /// Per page: where it is in its section's `pages`, so that finding its
    /// neighbours never walks the section.
    positions: Vec<usize>,
    /// The notices archive's years, shared by every page of its lists.
    years: Vec<YearLink>,
}

/// What a build wrote, so that a rebuild under `serve` renders only the
/// pages whose output can have changed.
#[derive(Default)]
pub struct Produced {
    /// Output file of each page → the digest of all its page depended on.
    page_digests: FxHashMap<PathBuf, u64>,
    /// Every file the build produced, but those of the search index.
    pub files: FxHashSet<PathBuf>,
    /// The search index's folder.
    pub index_dir: Option<PathBuf>,
    /// What the last build's index had and this one's has not: files, or
    /// the whole folder.
    pub index_stale: Vec<PathBuf>,
    /// The index, kept to be updated by the next build.
    pub search: Option<SearchCache>,
    /// The parsed content, kept to be reused by the next build.
    pub reuse: crate::build::Reuse,
    /// The digests of all that pages show of each other (see
    /// [`nav_digest`]) and of the site: while both are as they were, a
    /// page whose own source is unchanged is unchanged, without working
    /// out its window of the section again.
    nav: Option<(u64, u64)>,
    /// The search page with a stand-in for its index's id, and the digest
    /// of what it is made from.
    search_page: Option<(u64, String)>,
    /// Per page, in order, when `nav` is known.
    pages: Vec<PageState>,
    /// Per list page, in order: the digest of what it is made from besides
    /// `nav`, and its digest.
    lists: Vec<(u64, u64)>,
}

/// What a page's output and search entry were made from, and their digests.
#[derive(Clone, Copy)]
struct PageState {
    source_digest: u64,
    page_key: u64,
    digest: u64,
    search_key: u64,
}

/// Everything a page or list shows of other pages and sections: the
/// links, trails, years, every section's pages and subsections in order,
/// which section each page is in, and the window's size.
fn nav_digest(site: &Site, links: &Links) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    (&links.pages, &links.sections, &links.trails).hash(&mut hasher);
    (&links.positions, &links.years).hash(&mut hasher);
    for node in &site.content.sections {
        (&node.pages, &node.subsections, node.parent).hash(&mut hasher);
    }
    (&site.content.page_section, site.config.lists.window).hash(&mut hasher);
    hasher.finish()
}

fn digest(value: impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Everything that every page shows: the site view, the templates, the day.
fn site_digest(site: &Site) -> u64 {
    let view = serde_json::to_string(&site.site_view).unwrap_or_default();
    digest((view, site.theme.templates_digest(), site.today))
}

impl Produced {
    /// After a rebuild that could not write all it meant to: nothing of
    /// the output is taken as it was.
    pub fn forget_output(&mut self) {
        self.page_digests.clear();
        self.nav = None;
        self.pages.clear();
        self.lists.clear();
        self.search = None;
    }
}

impl Links {
    fn new(site: &Site) -> Links {
        let base = site.config.base_path();
        let content = &site.content;
        let pages: Vec<PageLink> = content
            .pages
            .iter()
            .map(|doc| PageLink {
                title: doc.meta.title.clone(),
                url: format!("{base}{}", doc.path.url()),
                summary: doc.meta.summary.clone(),
                date: doc.meta.date,
                updated: doc.meta.updated,
                expired: doc.meta.expires.is_some_and(|e| e < site.today),
            })
            .collect();
        let sections: Vec<SectionLink> = content
            .sections
            .iter()
            .map(|s| SectionLink {
                title: s.doc.meta.title.clone(),
                url: format!("{base}{}", s.doc.path.url()),
                summary: s.doc.meta.summary.clone(),
                page_count: s.pages.len(),
            })
            .collect();
        let trails: Vec<Vec<Crumb>> = (0..content.sections.len())
            .map(|i| {
                let mut trail = Vec::new();
                let mut at = content.sections[i].parent;
                while let Some(p) = at {
                    trail.push(Crumb {
                        title: sections[p].title.clone(),
                        url: sections[p].url.clone(),
                    });
                    at = content.sections[p].parent;
                }
                trail.reverse();
                trail
            })
            .collect();
        let mut positions = vec![0; content.pages.len()];
        for node in &content.sections {
            for (at, &p) in node.pages.iter().enumerate() {
                positions[p] = at;
            }
        }
        let years = content
            .sections
            .iter()
            .position(|s| s.is_notices())
            .map(|n| {
                crate::listing::years(content, n)
                    .into_iter()
                    .map(|(year, run)| YearLink {
                        year,
                        url: format!(
                            "{base}{}",
                            crate::listing::year_url(&content.sections[n].doc.path.url(), year)
                        ),
                        count: run.len(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Links {
            pages,
            sections,
            trails,
            positions,
            years,
        }
    }
}

/// Renders every page of `site` and hands each file to `sink`. Pages that
/// `previous` shows to be unchanged are not rendered again (their files
/// are left as they are).
///
/// `search`, when given, is the index to update (the last build's) and
/// where this build's is left for the next.
pub fn write_site(
    site: &Site,
    sink: &dyn Sink,
    previous: Option<&Produced>,
    search: Option<&mut Option<SearchCache>>,
) -> Result<Produced, Error> {
    let mut phases = crate::timing::Phases::start("write");
    let links = Links::new(site);
    let content = &site.content;
    let mut problems: Vec<Diagnostic> = Vec::new();
    let site_digest = site_digest(site);

    let mut no_cache = None;
    let tracked = search.is_some();
    let search = search.unwrap_or(&mut no_cache);
    let mut index = match search_index::IndexRun::start(site, search, tracked) {
        Ok(index) => index,
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    let sections = content.sections.len();
    if let Some(run) = &mut index {
        run.prepare(sink);
        for i in 0..sections {
            let names = search_names(&links, content, None, i);
            let key = search_index::entry_key(names, &site.section_html[i].text);
            if !run.needs(i, key) {
                continue;
            }
            let entry = run.entry(sink, i, names, site.section_html[i].text.clone());
            if let Err(problem) = entry.and_then(|entry| run.add(i, key, entry)) {
                problems.push(problem);
            }
        }
    }
    let nav = (nav_digest(site, &links), site_digest);
    let known = previous
        .filter(|p| p.nav == Some(nav) && p.pages.len() == content.pages.len())
        .map(|p| (&p.pages[..], &p.lists[..]));
    let (maker, mut taker) = match &mut index {
        Some(run) => {
            let (maker, taker) = run.parts();
            (Some(maker), Some(taker))
        }
        None => (None, None),
    };
    // While nothing pages show of each other changed, a page whose own
    // source is as it was needs nothing done: found first, so the chunks
    // below (each a round of the thread pool) hold only pages with work.
    let mut pages: Vec<Option<Result<(PathBuf, PageState), Diagnostic>>> = content
        .pages
        .par_iter()
        .enumerate()
        .map(|(i, doc)| {
            let was = known?.0[i];
            let same = was.source_digest == doc.source_digest
                && was.page_key == site.page_keys[i]
                && !maker.is_some_and(|make| make.needs(sections + i, was.search_key));
            same.then(|| Ok((doc.path.output_file(), was)))
        })
        .collect();
    let work: Vec<usize> = (0..content.pages.len())
        .filter(|&i| pages[i].is_none())
        .collect();
    // In chunks: the index takes the pages' terms in document order, and
    // holds no more than two chunks' at once. A chunk is added on one
    // thread while the next is rendered on the others, so that adding,
    // which cannot be split, does not leave the other cores idle.
    type Done = (
        usize,
        Result<(PathBuf, PageState, Option<(u64, crate::search::PageEntry)>), Diagnostic>,
    );
    let mut rendered_before: Vec<Done> = Vec::new();
    for chunk in work.chunks(PAGE_CHUNK).map(Some).chain([None]) {
        let render = || match chunk {
            None => Vec::new(),
            Some(chunk) => chunk
                .par_iter()
                .map(|&i| {
                    let doc = &content.pages[i];
                    let file = doc.path.output_file();
                    let nav = page_nav(site, &links, i);
                    // What the page shows of other pages is all in `nav`, so
                    // a page is rendered again only when its own text, its
                    // window of the section or the site changed.
                    let digest = digest((doc.source_digest, &nav, site_digest));
                    let unchanged =
                        previous.and_then(|p| p.page_digests.get(&file)) == Some(&digest);
                    let names = search_names(&links, content, Some(i), content.page_section[i]);
                    let key = search_index::entry_key(names, site.page_keys[i]);
                    let indexed = maker.filter(|make| make.needs(sections + i, key));
                    let state = PageState {
                        source_digest: doc.source_digest,
                        page_key: site.page_keys[i],
                        digest,
                        search_key: key,
                    };
                    if unchanged && indexed.is_none() {
                        return (i, Ok((file, state, None)));
                    }
                    let rendered = match site.render_page(i) {
                        Ok(rendered) => rendered,
                        Err(problem) => return (i, Err(problem)),
                    };
                    if !unchanged
                        && let Err(problem) = write_page(site, &links, i, nav, &rendered, sink)
                    {
                        return (i, Err(problem));
                    }
                    let entry = match indexed {
                        Some(make) => match make.entry(sink, sections + i, names, rendered.text) {
                            Ok(entry) => Some((key, entry)),
                            Err(problem) => return (i, Err(problem)),
                        },
                        None => None,
                    };
                    (i, Ok((file, state, entry)))
                })
                .collect::<Vec<_>>(),
        };
        let add = || {
            for (i, written) in std::mem::take(&mut rendered_before) {
                pages[i] = Some(written.map(|(file, state, entry)| {
                    if let (Some(take), Some((key, entry))) = (taker.as_deref_mut(), entry)
                        && let Err(problem) = take.add(sections + i, key, entry)
                    {
                        problems.push(problem);
                    }
                    (file, state)
                }));
            }
        };
        let (chunk, ()) = rayon::join(render, add);
        rendered_before = chunk;
    }
    phases.lap("pages rendered and indexed");
    problems.extend(write_home(site, &links, sink).err());
    let lists: Vec<Result<(PathBuf, u64, u64), Diagnostic>> = site
        .listings
        .par_iter()
        .enumerate()
        .map(|(at, list)| {
            let source = digest((list, site.content.sections[list.section].doc.source_digest));
            let known = known.and_then(|(_, lists)| lists.get(at));
            if let Some(&(was, digest)) = known
                && was == source
            {
                return Ok((list.file(), source, digest));
            }
            write_list(site, &links, list, site_digest, previous, sink)
                .map(|(file, digest)| (file, source, digest))
        })
        .collect();
    let mut produced = Produced {
        nav: Some(nav),
        ..Produced::default()
    };
    for written in pages.into_iter().flatten() {
        match written {
            Ok((file, state)) => {
                produced.files.insert(file.clone());
                produced.page_digests.insert(file, state.digest);
                produced.pages.push(state);
            }
            Err(problem) => problems.push(problem),
        }
    }
    for written in lists {
        match written {
            Ok((file, source, digest)) => {
                produced.files.insert(file.clone());
                produced.page_digests.insert(file, digest);
                produced.lists.push((source, digest));
            }
            Err(problem) => problems.push(problem),
        }
    }
    problems.extend(write_forms(site, sink));
    let not_found = site.theme.render("404.html", &site.site_view, &Empty {});
    problems.extend(
        emit(
            sink,
            Path::new("404.html"),
            not_found,
            &site.root.join("themes"),
        )
        .err(),
    );
    let updates = site.theme.render(
        updates::TEMPLATE,
        &site
            .site_view
            .at(&format!("{}{}", site.config.base_path(), updates::PAGE_URL)),
        &updates::UpdatesContext {
            updates: updates::view(site),
        },
    );
    let updates_file = PathBuf::from(updates::PAGE_FILE);
    match emit(sink, &updates_file, updates, &site.root.join("themes")) {
        Ok(()) => {
            produced.files.insert(updates_file);
        }
        Err(problem) => problems.push(problem),
    }
    if !problems.is_empty() {
        *search = index.and_then(search_index::IndexRun::abandon);
        return Err(Error::Invalid(problems));
    }
    phases.lap("lists, forms and other pages");
    let last_index = previous.and_then(|p| p.index_dir.clone());
    // Handed over only when the whole build has succeeded: kept after a
    // failure, it would describe files that were never written.
    let mut finished_cache = None;
    match index {
        Some(run) => {
            let (finished, cache) = run.finish(sink).map_err(|p| Error::Invalid(vec![p]))?;
            finished_cache = cache;
            phases.lap("search index finished");
            let key = digest((
                nav,
                site.theme.fingerprint("search.js"),
                site.forms
                    .iter()
                    .map(|f| (&f.title, &f.kind))
                    .collect::<Vec<_>>(),
            ));
            produced.search_page =
                write_search_page(site, &links, &finished.id, sink, key, previous, tracked)
                    .map_err(|p| Error::Invalid(vec![p]))?;
            produced.files.insert(search_page());
            phases.lap("search page");
            produced.index_stale = finished.stale;
            produced
                .index_stale
                .extend(last_index.filter(|d| *d != finished.dir));
            produced.index_dir = Some(finished.dir);
        }
        None => produced.index_stale.extend(last_index),
    }

    let mut copy = |to: PathBuf, from: &Path| {
        produced.files.insert(to.clone());
        sink.copy(&to, from)
    };
    for (path, file) in &content.assets {
        copy(path.output_file(), file)?;
    }
    for (relative, file) in site.theme.static_files() {
        copy(Path::new("static").join(relative), file)?;
    }
    sink.write(Path::new("sitemap.xml"), sitemap::sitemap(site).as_bytes())?;
    sink.write(Path::new("robots.txt"), sitemap::robots(site).as_bytes())?;
    if let Some(xml) = feeds::notices(site) {
        sink.write(Path::new(feeds::NOTICES_FEED), xml.as_bytes())?;
    }
    if feeds::files(content).contains(&feeds::POLICIES_FEED) {
        sink.write(
            Path::new(feeds::POLICIES_FEED),
            feeds::policies(site).as_bytes(),
        )?;
    }
    produced
        .files
        .extend(feeds::files(content).into_iter().map(PathBuf::from));
    let home = content
        .sections
        .iter()
        .take(1)
        .map(|s| s.doc.path.output_file());
    let forms = site.forms.iter().map(|f| form_page(&f.kind).output_file());
    produced
        .files
        .extend(home.chain(forms).chain(GENERATED.iter().map(PathBuf::from)));
    *search = finished_cache;
    Ok(produced)
}

/// Writes one rendered file, or says which source it came from and why
/// the template failed.
fn emit(
    sink: &dyn Sink,
    relative: &Path,
    rendered: Result<String, templates::TemplateError>,
    source: &Path,
) -> Result<(), Diagnostic> {
    match rendered {
        Ok(html) => sink
            .write(relative, html.as_bytes())
            .map_err(|e| Diagnostic::new(source, None, e.to_string())),
        Err(e) => Err(Diagnostic::new(source, None, e.to_string())
            .help("fix the template named above, or the value this page gives it")),
    }
}

/// What a page shows of its section: the trail, the section, the window
/// of its pages and the neighbours. Made of at most `lists.window + 2`
/// links, whatever the section's size.
#[derive(Hash)]
struct PageNav<'a> {
    breadcrumbs: Vec<Crumb>,
    section: bool,
    siblings: Windowed<&'a PageLink>,
    prev: Option<&'a PageLink>,
    next: Option<&'a PageLink>,
}

fn page_nav<'a>(site: &Site, links: &'a Links, i: usize) -> PageNav<'a> {
    let content = &site.content;
    let section_index = content.page_section[i];
    let section = &content.sections[section_index];
    let position = links.positions[i];
    let neighbour = |offset: isize| {
        let at = usize::try_from(position as isize + offset).ok()?;
        Some(&links.pages[*section.pages.get(at)?])
    };
    let mut breadcrumbs = links.trails[section_index].clone();
    breadcrumbs.push(Crumb {
        title: links.sections[section_index].title.clone(),
        url: links.sections[section_index].url.clone(),
    });
    let window = Window::around(section.pages.len(), position, site.config.lists.window);
    PageNav {
        breadcrumbs,
        section: section_index != 0,
        siblings: window.pick(|at| &links.pages[section.pages[at]]),
        prev: neighbour(-1),
        next: neighbour(1),
    }
}

fn write_page(
    site: &Site,
    links: &Links,
    i: usize,
    nav: PageNav<'_>,
    rendered: &Rendered,
    sink: &dyn Sink,
) -> Result<(), Diagnostic> {
    let content = &site.content;
    let doc = &content.pages[i];
    let section = &content.sections[content.page_section[i]];
    let this = &links.pages[i];
    let context = PageContext {
        page: PageView {
            title: &doc.meta.title,
            url: &this.url,
            summary: doc.meta.summary.as_deref(),
            content: &rendered.html,
            toc: table_of_contents(&rendered.headings),
            date: doc.meta.date,
            updated: doc.meta.updated,
            tags: &doc.meta.tags,
            expires: doc.meta.expires,
            expired: this.expired,
            call: crate::facts::call_block(&site.config.facts, &doc.meta.call),
            revisions: site
                .history
                .as_ref()
                .map(|h| h.revisions(&doc.path).take(MAX_REVISIONS).collect())
                .unwrap_or_default(),
            poster: match section.is_notices() {
                true => Some(
                    poster::PosterView::new(
                        site,
                        format!("{}{}", site.config.base_url, doc.path.url()),
                    )
                    .map_err(|e| {
                        Diagnostic::new(
                            &doc.file,
                            None,
                            format!("cannot make the poster's QR code: {e}"),
                        )
                        .help(
                            "shorten the file name: the notice's address is too long for a QR code",
                        )
                    })?,
                ),
                false => None,
            },
            lifecycle: lifecycle::LifecycleView::of(
                doc,
                content,
                site.config.base_path(),
                site.today,
            ),
        },
        section: nav.section.then(|| nav.breadcrumbs.last()).flatten(),
        siblings: nav.siblings,
        prev: nav.prev,
        next: nav.next,
        breadcrumbs: &nav.breadcrumbs,
    };
    let html = site
        .theme
        .render("page.html", &site.site_view.at(&this.url), &context);
    emit(sink, &doc.path.output_file(), html, &doc.file)
}

/// The home page, with a bounded list of the current notices.
fn write_home(site: &Site, links: &Links, sink: &dyn Sink) -> Result<(), Diagnostic> {
    let content = &site.content;
    let node = &content.sections[0];
    let doc: &Document = &node.doc;
    let notices = content.sections.iter().position(|s| s.is_notices());
    let mut current = notices
        .map(|n| &content.sections[n].pages[..])
        .unwrap_or_default()
        .iter()
        .map(|&p| &links.pages[p])
        .filter(|p| !p.expired);
    let shown: Vec<&PageLink> = current
        .by_ref()
        .take(site.config.lists.home_notices)
        .collect();
    let context = HomeContext {
        home: HomeView {
            title: &doc.meta.title,
            content: &site.section_html[0].html,
        },
        forms: home_forms(site),
        sections: node
            .subsections
            .iter()
            .map(|&s| &links.sections[s])
            .collect(),
        notices: shown,
        notices_more: current.next().is_some(),
        notices_url: notices.map(|n| links.sections[n].url.as_str()),
    };
    let url = &links.sections[0].url;
    let html = site
        .theme
        .render("index.html", &site.site_view.at(url), &context);
    emit(sink, &doc.path.output_file(), html, &doc.file)
}

/// One page of a section's list (or of a year of notices); returns its
/// file and digest. Not rendered again when `previous` has the digest.
fn write_list(
    site: &Site,
    links: &Links,
    list: &ListPage,
    site_digest: u64,
    previous: Option<&Produced>,
    sink: &dyn Sink,
) -> Result<(PathBuf, u64), Diagnostic> {
    let i = list.section;
    let node = &site.content.sections[i];
    let doc: &Document = &node.doc;
    let base = site.config.base_path();
    let url = format!("{base}{}", list.url());
    let first = list.number == 1 && list.year.is_none();
    let mut breadcrumbs = links.trails[i].clone();
    if !first {
        breadcrumbs.push(Crumb {
            title: links.sections[i].title.clone(),
            url: links.sections[i].url.clone(),
        });
    }
    let page_url = |number: usize| format!("{base}{}", list.url_of(number));
    let numbers = Window::around(list.count, list.number - 1, PAGER_NUMBERS);
    let paging = Paging {
        number: list.number,
        count: list.count,
        prev: (list.number > 1).then(|| page_url(list.number - 1)),
        next: (list.number < list.count).then(|| page_url(list.number + 1)),
        pages: numbers.pick(|at| PageNumber {
            number: at + 1,
            url: page_url(at + 1),
            current: at + 1 == list.number,
        }),
    };
    let pages: Vec<&PageLink> = node.pages[list.items.clone()]
        .iter()
        .map(|&p| &links.pages[p])
        .collect();
    // The introduction and the subsections are on the section's own page;
    // the further pages and the years are more of its list.
    let subsections: Vec<&SectionLink> = if first {
        node.subsections
            .iter()
            .map(|&s| &links.sections[s])
            .collect()
    } else {
        Vec::new()
    };
    let years: &[YearLink] = if node.is_notices() { &links.years } else { &[] };
    let file = list.file();
    let digest = digest((
        doc.source_digest,
        (&pages, &subsections, &breadcrumbs),
        (&paging, years, list.year),
        site_digest,
    ));
    if previous.and_then(|p| p.page_digests.get(&file)) == Some(&digest) {
        return Ok((file, digest));
    }
    let context = SectionContext {
        section: SectionView {
            title: &doc.meta.title,
            url: &links.sections[i].url,
            summary: doc.meta.summary.as_deref(),
            content: if first {
                &site.section_html[i].html
            } else {
                ""
            },
            updated: doc.meta.last_updated(),
            call: crate::facts::call_block(&site.config.facts, &doc.meta.call),
        },
        pages,
        subsections,
        breadcrumbs: &breadcrumbs,
        is_notices: node.is_notices(),
        paging,
        years,
        year: list.year,
    };
    let html = site
        .theme
        .render("section.html", &site.site_view.at(&url), &context);
    emit(sink, &file, html, &doc.file)?;
    Ok((file, digest))
}

/// Numbered links a list page shows around itself (besides the first and
/// the last page).
const PAGER_NUMBERS: usize = 5;

/// The file of the search page.
pub fn search_page() -> PathBuf {
    PathBuf::from("search/index.html")
}

/// Pages the index takes in at once.
const PAGE_CHUNK: usize = 64;

/// A page's (`page` given) or a section's address, title and section, as
/// its search result shows them.
fn search_names<'l>(
    links: &'l Links,
    content: &crate::content::Content,
    page: Option<usize>,
    section: usize,
) -> (&'l str, &'l str, &'l str) {
    let section_title = |s: Option<usize>| s.map_or("", |s| links.sections[s].title.as_str());
    match page {
        Some(i) => (
            &links.pages[i].url,
            &links.pages[i].title,
            section_title((section != 0).then_some(section)),
        ),
        None => (
            &links.sections[section].url,
            &links.sections[section].title,
            section_title(content.sections[section].parent),
        ),
    }
}

/// The forms in the order owners need them most: repairs, complaints,
/// feedback, then any other, by name.
const HOME_FORM_ORDER: [&str; 3] = ["repair", "complaint", "feedback"];

fn home_forms(site: &Site) -> Vec<FormLink<'_>> {
    let base = site.config.base_path();
    let mut forms: Vec<&forms::FormDefinition> = site.forms.iter().collect();
    forms.sort_by_key(|f| {
        HOME_FORM_ORDER
            .iter()
            .position(|k| *k == f.kind)
            .unwrap_or(HOME_FORM_ORDER.len())
    });
    forms
        .into_iter()
        .map(|f| FormLink {
            title: &f.title,
            url: format!("{base}{}", form_page(&f.kind).url()),
            summary: None,
        })
        .collect()
}

/// The search page's HTML, loading the index `id`.
fn search_page_html(
    site: &Site,
    links: &Links,
    id: &str,
) -> Result<String, templates::TemplateError> {
    let content = &site.content;
    let mut depth = vec![0usize; content.sections.len()];
    let mut sections = Vec::new();
    for (i, node) in content.sections.iter().enumerate() {
        if let Some(parent) = node.parent {
            depth[i] = depth[parent] + 1;
        }
        if i == 0 && node.pages.is_empty() {
            continue;
        }
        sections.push(SiteMapSection {
            title: &links.sections[i].title,
            url: &links.sections[i].url,
            depth: depth[i].saturating_sub(1),
            pages: node.pages.iter().map(|&p| &links.pages[p]).collect(),
        });
    }
    let base = site.config.base_path();
    let script = match site.theme.fingerprint("search.js") {
        Some(hash) => format!("{base}/static/search.js?v={hash}"),
        None => format!("{base}/static/search.js"),
    };
    let context = SearchContext {
        search: SearchView {
            index_url: format!("{base}/search/{id}/"),
            script_url: script,
            sections,
            forms: site
                .forms
                .iter()
                .map(|f| {
                    (
                        f.title.clone(),
                        format!("{base}{}", form_page(&f.kind).url()),
                    )
                })
                .collect(),
        },
    };
    let url = format!("{base}{}", crate::search::PAGE_URL);
    site.theme
        .render("search.html", &site.site_view.at(&url), &context)
}

/// Stands for the index's `<id>` in a search page kept for the next
/// build: hexadecimal, as an id is, so a template treats both alike.
const ID_PLACEHOLDER: &str = "5e4c4d00e1d0";

/// The search page, which loads the index `id`. Its site map of every
/// page takes a while to render and changes far less often than the id
/// (every edit of a text): under `serve` the page is kept with a stand-in
/// for the id, checked once to give the very same bytes, and used while
/// the links it lists are as they were.
fn write_search_page(
    site: &Site,
    links: &Links,
    id: &str,
    sink: &dyn Sink,
    key: u64,
    previous: Option<&Produced>,
    tracked: bool,
) -> Result<Option<(u64, String)>, Diagnostic> {
    let source = site.root.join("themes");
    let kept = previous
        .and_then(|p| p.search_page.as_ref())
        .filter(|(k, _)| *k == key);
    if let Some((_, held)) = kept {
        emit(
            sink,
            &search_page(),
            Ok(held.replace(ID_PLACEHOLDER, id)),
            &source,
        )?;
        return Ok(kept.cloned());
    }
    let html = search_page_html(site, links, id);
    let held = match &html {
        Ok(html) if tracked => search_page_html(site, links, ID_PLACEHOLDER)
            .ok()
            .filter(|held| held.replace(ID_PLACEHOLDER, id) == *html),
        _ => None,
    };
    emit(sink, &search_page(), html, &source)?;
    Ok(held.map(|held| (key, held)))
}

/// The form pages, and a trial render of the thank-you page so a broken
/// template shows at build time rather than to an owner.
fn write_forms(site: &Site, sink: &dyn Sink) -> Vec<Diagnostic> {
    let forms_dir = site.root.join("content").join(crate::content::FORMS_DIR);
    let endpoint = site.config.desk_endpoint();
    let base = site.config.base_path();
    let mut problems = Vec::new();
    for form in site.forms.iter() {
        let source = forms_dir.join(format!("{}.yaml", form.kind));
        let page = form_page(&form.kind);
        let view = forms::FormView::blank(form, format!("{endpoint}/forms/{}", form.kind));
        let html = site.theme.render(
            templates::FORM_TEMPLATE,
            &site.site_view.at(&format!("{base}{}", page.url())),
            &templates::FormContext { form: view },
        );
        problems.extend(emit(sink, &page.output_file(), html, &source).err());
    }
    if let Some(form) = site.forms.iter().next() {
        let sample = templates::ReceiptView {
            form_title: form.title.clone(),
            noun: form.noun.clone(),
            reference: "BX-20260101-7K3QX9".into(),
            category: "电梯".into(),
            received: "2026年1月1日 08:00".into(),
            due: "2026年1月1日 08:30 前".into(),
            due_note: "在承诺时限内".into(),
            late: false,
            commitment: "30 分钟内响应".into(),
            duty_note: "已通知值班人员".into(),
            emergency: true,
            status: "已受理".into(),
            finished: false,
            steps: vec![templates::ReceiptStep {
                at: "2026年1月1日 08:00".into(),
                datetime: "2026-01-01T08:00:00+08:00".into(),
                text: "收到您的请求".into(),
            }],
            status_url: format!("{base}/forms/{}/received/BX-20260101-7K3QX9/key", form.kind),
            acceptance: Some(templates::AcceptanceView::default()),
            track_url: format!("{base}/track"),
            form_url: format!("{base}{}", form_page(&form.kind).url()),
            home_url: site.site_view.home_url.clone(),
        };
        if let Err(e) = site.theme.render(
            templates::RECEIPT_TEMPLATE,
            &site.site_view,
            &templates::ReceiptContext { receipt: &sample },
        ) {
            problems.push(
                Diagnostic::new(site.root.join("themes"), None, e.to_string())
                    .help("the thank-you page after a form is rendered from this template"),
            );
        }
    }
    problems
}
