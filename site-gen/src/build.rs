//! The whole build: load and check everything, then render and write.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use config::Config;
use forms::FormSet;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use rayon::prelude::*;
use templates::{Addressing, SiteView, Theme};

use crate::content::{self, Content, FORMS_DIR};
use crate::diagnostics::{Diagnostic, Error};
use crate::facts::{self, Unconfirmed};
use crate::history::History;
use crate::links::{self, LinkIndex};
use crate::listing::{self, ListPage};
use crate::markdown::{self, Heading, LinkRef, Outline, Rendered};
use crate::output::{Discard, Pending, Staging};
use crate::render;
use crate::render::Produced;
use crate::urls::ContentPath;

#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The site: `config.yaml`, `content/`, `themes/`.
    pub root: PathBuf,
    /// Defaults to `ROOT/public`.
    pub out: Option<PathBuf>,
    pub drafts: bool,
    /// The day notices expire against; defaults to today.
    pub today: Option<NaiveDate>,
    /// `site-gen serve` adds the reload script and its own address.
    pub live_reload: bool,
    pub base_url: Option<String>,
    /// For publishing: a value of `estate.yaml` not yet confirmed is a
    /// problem that stops the build.
    pub strict: bool,
}

impl BuildOptions {
    pub fn new(root: impl Into<PathBuf>) -> BuildOptions {
        BuildOptions {
            root: root.into(),
            out: None,
            drafts: false,
            today: None,
            live_reload: false,
            base_url: None,
            strict: false,
        }
    }

    pub fn out_dir(&self) -> PathBuf {
        self.out.clone().unwrap_or_else(|| self.root.join("public"))
    }
}

#[derive(Debug, Clone)]
pub struct BuildSummary {
    pub pages: usize,
    pub sections: usize,
    pub forms: usize,
    pub elapsed: Duration,
    /// The values of `estate.yaml` the estate has not confirmed yet.
    pub unconfirmed: Vec<Unconfirmed>,
}

impl std::fmt::Display for BuildSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pages, {} sections, {} forms in {} ms",
            self.pages,
            self.sections,
            self.forms,
            self.elapsed.as_millis()
        )
    }
}

/// Builds the site into the output folder, replacing it only on success.
pub fn build(options: &BuildOptions) -> Result<BuildSummary, Error> {
    let started = Instant::now();
    let site = Site::load(options)?;
    let staging = Staging::create(&options.out_dir(), &options.root)?;
    render::write_site(&site, &staging, None, None)?;
    staging.commit()?;
    Ok(site.summary(started))
}

/// [`build`], also keeping what [`rebuild`] needs: what it produced, the
/// parsed content and the search index.
pub fn build_tracked(options: &BuildOptions) -> Result<(BuildSummary, Produced), Error> {
    let started = Instant::now();
    let mut reuse = Reuse::default();
    let site = Site::load_reusing(options, Some(&mut reuse))?;
    let staging = Staging::create(&options.out_dir(), &options.root)?;
    let mut search = None;
    let mut produced = render::write_site(&site, &staging, None, Some(&mut search))?;
    staging.commit()?;
    produced.search = search;
    let summary = site.summary(started);
    reuse.theme = Some(site.theme);
    produced.reuse = reuse;
    Ok((summary, produced))
}

/// Builds again after an edit, in place: every check is made as in a full
/// build, but only files that changed are parsed again, only pages whose
/// output can have changed are rendered and written, the search index is
/// updated rather than made again, and nothing is written unless the
/// whole build succeeds. For `serve`, whose output folder is its own.
/// `previous` becomes this build's on success.
pub fn rebuild(options: &BuildOptions, previous: &mut Produced) -> Result<BuildSummary, Error> {
    previous.reuse.documents.forget_listing();
    previous.reuse.theme = None;
    rebuild_known(options, previous)
}

/// [`rebuild`] when every path changed since the last build is known
/// (from a file watcher): files and folders of the content folder not
/// among `changed` are not looked at again. `changed` accumulates across
/// failed builds until a load has taken it in.
pub fn rebuild_changed<'a>(
    options: &BuildOptions,
    previous: &mut Produced,
    changed: impl IntoIterator<Item = &'a Path>,
) -> Result<BuildSummary, Error> {
    let root = site_root(options);
    let only_content = previous
        .reuse
        .documents
        .note_changed(&root, &root.join("content"), changed);
    if !only_content {
        previous.reuse.theme = None;
    }
    rebuild_known(options, previous)
}

fn rebuild_known(options: &BuildOptions, previous: &mut Produced) -> Result<BuildSummary, Error> {
    let started = Instant::now();
    let site = Site::load_reusing(options, Some(&mut previous.reuse))?;
    let mut phases = crate::timing::Phases::start("rebuild");
    let pending = Pending::default();
    let mut search = previous.search.take();
    let mut produced = match render::write_site(&site, &pending, Some(previous), Some(&mut search))
    {
        Ok(produced) => produced,
        Err(e) => {
            previous.search = search;
            return Err(e);
        }
    };
    let mut stale: Vec<PathBuf> = previous
        .files
        .difference(&produced.files)
        .cloned()
        .collect();
    stale.append(&mut produced.index_stale);
    phases.lap("rendered");
    if let Err(e) = pending.apply(&options.out_dir(), stale.into_iter()) {
        // Partly written: the next build must not trust what this one
        // kept of the output.
        previous.forget_output();
        return Err(e);
    }
    phases.lap("written");
    produced.search = search;
    produced.reuse = std::mem::take(&mut previous.reuse);
    *previous = produced;
    let summary = site.summary(started);
    previous.reuse.theme = Some(site.theme);
    Ok(summary)
}

/// What a build keeps of its content for the next under `serve`: the
/// parsed documents and the pages' outlines, by file.
#[derive(Default)]
pub struct Reuse {
    documents: content::DocumentCache,
    outlines: rustc_hash::FxHashMap<Arc<Path>, (u64, Arc<Outline>)>,
    checked: Checked,
    /// The last good build's theme, while only `content/` has changed
    /// since: parsing the templates again is a tenth of a rebuild.
    theme: Option<Theme>,
}

/// What a build's checks found, kept by `serve` for the next: a document
/// whose headings and links are as they were need not be checked again.
#[derive(Default)]
pub struct Checked {
    /// The digest of what links can point to (see `Site::frame_digest`);
    /// `None` before any check.
    frame: Option<u64>,
    index: LinkIndex,
    /// Output files claimed twice.
    claims: Vec<Diagnostic>,
    /// Per document, sections first: what was checked, what was found.
    documents: Vec<(Arc<Outline>, Vec<Diagnostic>)>,
    menu: Vec<Diagnostic>,
}

impl Checked {
    fn problems(&self) -> Vec<Diagnostic> {
        let found = self.documents.iter().flat_map(|(_, found)| found);
        self.claims
            .iter()
            .chain(found)
            .chain(&self.menu)
            .cloned()
            .collect()
    }
}

/// One document's links and headings.
fn check_document(
    index: &LinkIndex,
    doc: &content::Document,
    outline: &Outline,
) -> Vec<Diagnostic> {
    let mut found = index.check(&doc.path, &doc.file, &outline.headings, &outline.links);
    found.extend(
        markdown::outline_problems(&outline.headings)
            .into_iter()
            .map(|p| Diagnostic::new(&doc.file, Some(p.line), p.message).help(p.help)),
    );
    found
}

/// Every check a build makes, templates included, writing nothing.
pub fn check(options: &BuildOptions) -> Result<BuildSummary, Error> {
    let started = Instant::now();
    let site = Site::load(options)?;
    render::write_site(&site, &Discard, None, None)?;
    Ok(site.summary(started))
}

/// A loaded and checked site, ready to render.
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    pub theme: Theme,
    pub forms: FormSet,
    pub content: Content,
    /// Parallel to `content.sections`.
    pub section_html: Vec<Rendered>,
    /// Parallel to `content.pages`: their headings and links, for the
    /// checks. A page's HTML is made only when it is written
    /// ([`Site::render_page`]), so the build never holds every page's.
    pub page_outlines: Vec<Arc<Outline>>,
    /// Per page, a digest of what its HTML and text are made from.
    pub page_keys: Vec<u64>,
    pub site_view: SiteView,
    /// Every page of every section's list, and of the notices by year.
    pub listings: Vec<ListPage>,
    pub today: NaiveDate,
    /// Where pages and forms use which fact of `estate.yaml`.
    pub fact_uses: Vec<config::FactUse>,
    /// Per page, whether its body was let go once outlined, to be read
    /// again from its file when the page is rendered. A one-off build does
    /// so (not `serve`, which keeps every body for the next rebuild): held
    /// from load to render, the bodies were nearly half of a 10,000-page
    /// build's peak memory. The notices feed's pages keep theirs.
    released: Vec<bool>,
    /// The git history of `content/`, when `history.git` is on and it
    /// could be read.
    pub history: Option<History>,
}

/// One file the build writes besides the pages: its address, its place in
/// the output folder, and the source it comes from (named in messages).
pub struct Output {
    pub url: String,
    pub file: PathBuf,
    pub source: PathBuf,
}

impl Site {
    /// Loads and checks everything. Every problem found in any file is
    /// reported in one go: content, links, forms and templates.
    pub fn load(options: &BuildOptions) -> Result<Site, Error> {
        Site::load_reusing(options, None)
    }

    /// [`Site::load`], reusing what `reuse` has of an earlier build and
    /// leaving there what this one found.
    pub fn load_reusing(
        options: &BuildOptions,
        mut reuse: Option<&mut Reuse>,
    ) -> Result<Site, Error> {
        let root = &site_root(options);
        let mut phases = crate::timing::Phases::start("load");
        let mut config = Config::from_root(root).map_err(|e| Error::Invalid(vec![e.into()]))?;
        if let Some(base_url) = &options.base_url {
            config.base_url = base_url.trim_end_matches('/').to_owned();
        }
        phases.lap("configuration");
        let mut problems = Vec::new();
        let kept = reuse.as_deref_mut().and_then(|r| r.theme.take());
        let theme = match kept.map_or_else(|| Theme::load(root, &config.theme), Ok) {
            Ok(theme) => Some(theme),
            Err(e) => {
                problems.push(theme_diagnostic(root, &config.theme, e));
                None
            }
        };
        phases.lap("theme");
        let forms_dir = root.join("content").join(FORMS_DIR);
        let forms = FormSet::load_with(&forms_dir, &config.facts).unwrap_or_else(|e| {
            problems.push(e.into());
            FormSet::default()
        });
        phases.lap("forms");
        let cache = reuse
            .as_deref_mut()
            .map(|r| std::mem::take(&mut r.documents));
        let (content, mut content_problems, cache) =
            content::load_cached(&root.join("content"), options.drafts, cache);
        if let (Some(reuse), Some(cache)) = (reuse.as_deref_mut(), cache) {
            reuse.documents = cache;
        }
        phases.lap("content files");
        problems.append(&mut content_problems);
        let Some(mut content) = content else {
            return Err(Error::Invalid(problems));
        };
        let history = config
            .history
            .git
            .then(|| read_history(&root.join("content")))
            .flatten();
        let mut fact_uses = forms.fact_uses.clone();
        let documents = content
            .sections
            .iter_mut()
            .map(|s| &mut s.doc)
            .chain(content.pages.iter_mut());
        for doc in documents {
            if let Some(history) = &history {
                dated_by_history(doc, history);
            }
            problems.extend(facts::expand_document(&config.facts, doc, &mut fact_uses));
        }
        phases.lap("history and facts");

        let base_path = config.base_path().to_owned();
        let no_ids = std::collections::BTreeSet::new();
        let reserved = theme.as_ref().map_or(&no_ids, |t| t.element_ids());
        let supersedes = |doc: &content::Document, links: &mut Vec<LinkRef>| {
            // `supersedes: old.md` is a link like any other: checked.
            if let Some(dest) = render::lifecycle::supersedes_link(doc) {
                links.push(LinkRef {
                    dest: dest.to_owned(),
                    line: doc.line_of("supersedes").unwrap_or(1),
                });
            }
        };
        let section_html: Vec<Rendered> = content
            .sections
            .par_iter()
            .map(|s| {
                let doc = &s.doc;
                let from = &doc.path;
                let mut rendered = markdown::render(&doc.body, doc.body_line, reserved, &|dest| {
                    links::rewrite(from, dest, &base_path)
                });
                supersedes(doc, &mut rendered.links);
                rendered
            })
            .collect();
        let reserved_digest = {
            let mut hasher = rustc_hash::FxHasher::default();
            reserved.hash(&mut hasher);
            hasher.finish()
        };
        let outlines = reuse.as_deref().map(|r| &r.outlines);
        // A one-off build lets go of each page's body as soon as it is
        // outlined (it is read again to render), so that the next pages'
        // outlines take the memory it held; the notices feed's pages keep
        // theirs.
        let mut released = Vec::new();
        if reuse.is_none() {
            released = vec![true; content.pages.len()];
            for &i in render::feeds::notice_pages(&content) {
                if let Some(release) = released.get_mut(i) {
                    *release = false;
                }
            }
        }
        // Each page's outline as its body gives it (what is kept for the
        // next build), and with the `supersedes` link (what is checked).
        let made: Vec<(u64, Arc<Outline>, Arc<Outline>)> = content
            .pages
            .par_iter_mut()
            .enumerate()
            .map(|(i, doc)| {
                // The file's digest stands for its body unless facts were
                // filled in: hashing every body was a tenth of a rebuild.
                let key = {
                    let mut hasher = rustc_hash::FxHasher::default();
                    if doc.has_placeholders {
                        doc.body.hash(&mut hasher);
                    } else {
                        doc.source_digest.hash(&mut hasher);
                    }
                    (doc.body_line, reserved_digest).hash(&mut hasher);
                    hasher.finish()
                };
                let body_outline = match outlines.and_then(|o| o.get(&*doc.file)) {
                    Some((known, outline)) if *known == key => Arc::clone(outline),
                    _ => Arc::new(markdown::outline(&doc.body, doc.body_line, reserved)),
                };
                let mut outline = Arc::clone(&body_outline);
                if render::lifecycle::supersedes_link(doc).is_some() {
                    supersedes(doc, &mut Arc::make_mut(&mut outline).links);
                }
                if released.get(i) == Some(&true) {
                    doc.body = Arc::from("");
                }
                (key, body_outline, outline)
            })
            .collect();
        if let Some(reuse) = reuse.as_deref_mut() {
            reuse.outlines = content
                .pages
                .iter()
                .zip(&made)
                .map(|(doc, (key, body_outline, _))| {
                    (doc.file.clone(), (*key, Arc::clone(body_outline)))
                })
                .collect();
        }
        let (page_keys, page_outlines) = made.into_iter().map(|(key, _, o)| (key, o)).unzip();
        phases.lap("sections rendered, pages outlined");
        let theme_loaded = theme.is_some();
        let theme = theme.unwrap_or_else(Theme::empty);
        let mut site_view = SiteView::new(&config, &theme, Addressing::SitePath);
        site_view.live_reload = options.live_reload;
        let listings = listing::list_pages(&content, config.lists.page_size);
        site_view.feeds = render::feeds::links(&config, &content);
        let site = Site {
            root: root.clone(),
            listings,
            config,
            theme,
            forms,
            content,
            section_html,
            page_outlines,
            page_keys,
            site_view,
            today: options
                .today
                .unwrap_or_else(|| chrono::Local::now().date_naive()),
            fact_uses,
            history,
            released,
        };
        phases.lap("lists and feeds");
        problems.extend(site.validate(&forms_dir, reuse.map(|r| &mut r.checked)));
        phases.lap("checks");
        if options.strict {
            problems.extend(site.unconfirmed().iter().map(Unconfirmed::diagnostic));
        }
        if problems.is_empty() {
            return Ok(site);
        }
        if theme_loaded
            && let Err(Error::Invalid(mut template_problems)) =
                render::write_site(&site, &Discard, None, None)
        {
            problems.append(&mut template_problems);
        }
        Err(Error::Invalid(problems))
    }

    /// Every document with its headings and links, sections first.
    pub fn documents(&self) -> impl Iterator<Item = (&content::Document, &[Heading], &[LinkRef])> {
        let sections = self
            .content
            .sections
            .iter()
            .zip(&self.section_html)
            .map(|(s, r)| (&s.doc, &r.headings[..], &r.links[..]));
        let pages = self
            .content
            .pages
            .iter()
            .zip(&self.page_outlines)
            .map(|(d, o)| (d, &o.headings[..], &o.links[..]));
        sections.chain(pages)
    }

    /// Page `i`'s body as HTML, with its text for search; an error only
    /// when its body was let go (see `released`) and the file changed.
    pub fn render_page(&self, i: usize) -> Result<Rendered, Diagnostic> {
        let doc = &self.content.pages[i];
        let body: Arc<str> = if self.released.get(i).copied().unwrap_or(false) {
            let read = doc.read_body_again()?;
            match doc.has_placeholders {
                true => facts::filled(&self.config.facts, &read).into(),
                false => read,
            }
        } else {
            Arc::clone(&doc.body)
        };
        let base_path = self.config.base_path();
        Ok(markdown::render(
            &body,
            doc.body_line,
            self.theme.element_ids(),
            &|dest| links::rewrite(&doc.path, dest, base_path),
        ))
    }

    /// Files written besides the pages.
    fn other_outputs(&self, forms_dir: &Path) -> Vec<Output> {
        let mut outputs = Vec::new();
        for (path, source) in &self.content.assets {
            outputs.push(Output {
                url: path.url(),
                file: path.output_file(),
                source: source.clone(),
            });
        }
        for list in self.listings.iter().filter(|l| !l.is_section_page()) {
            outputs.push(Output {
                url: list.url(),
                file: list.file(),
                source: self.content.sections[list.section].doc.file.to_path_buf(),
            });
        }
        for kind in form_kinds(&self.forms, forms_dir) {
            let page = render::form_page(&kind);
            outputs.push(Output {
                url: page.url(),
                file: page.output_file(),
                source: forms_dir.join(format!("{kind}.yaml")),
            });
        }
        for (relative, source) in self.theme.static_files() {
            if let Some(path) = ContentPath::new(&Path::new("static").join(relative)) {
                outputs.push(Output {
                    url: path.url(),
                    file: path.output_file(),
                    source: source.clone(),
                });
            }
        }
        if self.config.search.enabled {
            outputs.push(Output {
                url: crate::search::PAGE_URL.to_owned(),
                file: render::search_page(),
                source: self.root.join(config::FILE_NAME),
            });
        }
        for file in render::feeds::files(&self.content) {
            outputs.push(Output {
                url: format!("/{file}"),
                file: PathBuf::from(file),
                source: self.root.join(config::FILE_NAME),
            });
        }
        outputs.push(Output {
            url: render::updates::PAGE_URL.to_owned(),
            file: PathBuf::from(render::updates::PAGE_FILE),
            source: self.root.join(config::FILE_NAME),
        });
        for generated in render::GENERATED {
            outputs.push(Output {
                url: format!("/{generated}"),
                file: PathBuf::from(generated),
                source: self.root.join(config::FILE_NAME),
            });
        }
        outputs
    }

    /// Every check of links, headings and output names. With `memo` (the
    /// last build's findings), a document is checked again only when its
    /// own headings or links changed, as long as what links can point to
    /// is the same: the same documents, outputs and menu, and no heading
    /// id changed anywhere.
    fn validate(&self, forms_dir: &Path, memo: Option<&mut Checked>) -> Vec<Diagnostic> {
        let outputs = self.other_outputs(forms_dir);
        let frame = self.frame_digest(&outputs);
        let outlines: Vec<Arc<Outline>> = self
            .section_html
            .iter()
            .map(|r| {
                Arc::new(Outline {
                    headings: r.headings.clone(),
                    links: r.links.clone(),
                })
            })
            .chain(self.page_outlines.iter().cloned())
            .collect();
        let mut fresh = Checked::default();
        let memo = match memo {
            Some(memo) if memo.frame == Some(frame) => memo,
            other => {
                let found = self.validate_all(outputs, outlines, frame, &mut fresh);
                if let Some(memo) = other {
                    *memo = fresh;
                }
                return found;
            }
        };
        let documents: Vec<&content::Document> = self.documents().map(|(d, _, _)| d).collect();
        let mut anchors_changed = false;
        let mut stale = vec![false; documents.len()];
        for (at, (outline, (known, _))) in outlines.iter().zip(&memo.documents).enumerate() {
            if Arc::ptr_eq(outline, known)
                || (outline.headings == known.headings && outline.links == known.links)
            {
                continue;
            }
            stale[at] = true;
            let ids = |o: &Outline| o.headings.iter().map(|h| h.id.clone()).collect::<Vec<_>>();
            if ids(outline) != ids(known) {
                anchors_changed = true;
                memo.index
                    .add_document(&documents[at].path, &outline.headings);
            }
        }
        let index = &memo.index;
        let found: Vec<Option<Vec<Diagnostic>>> = documents
            .par_iter()
            .zip(&outlines)
            .zip(&stale)
            .map(|((doc, outline), stale)| {
                (anchors_changed || *stale).then(|| check_document(index, doc, outline))
            })
            .collect();
        for ((entry, found), outline) in memo.documents.iter_mut().zip(found).zip(outlines) {
            if let Some(found) = found {
                *entry = (outline, found);
            } else {
                // Equal, but keep this build's, so the next compares by
                // pointer.
                entry.0 = outline;
            }
        }
        memo.problems()
    }

    /// What links can point to and what output files are claimed by, but
    /// the headings: documents, unreadable files, other outputs, menu.
    fn frame_digest(&self, outputs: &[Output]) -> u64 {
        let mut hasher = rustc_hash::FxHasher::default();
        for (doc, _, _) in self.documents() {
            (&doc.path, &doc.file).hash(&mut hasher);
        }
        self.content.unreadable.hash(&mut hasher);
        for output in outputs {
            (&output.url, &output.file, &output.source).hash(&mut hasher);
        }
        for entry in &self.config.menu {
            (&entry.title, &entry.url).hash(&mut hasher);
        }
        self.root.hash(&mut hasher);
        hasher.finish()
    }

    fn validate_all(
        &self,
        outputs: Vec<Output>,
        outlines: Vec<Arc<Outline>>,
        frame: u64,
        into: &mut Checked,
    ) -> Vec<Diagnostic> {
        let mut problems = Vec::new();
        let mut index = LinkIndex::default();
        // Two sources writing one output file: the later would silently
        // replace the earlier.
        let mut writers: HashMap<PathBuf, PathBuf> = HashMap::new();
        let mut claim = |file: PathBuf, source: &Path, problems: &mut Vec<Diagnostic>| {
            if let Some(first) = writers.get(&file) {
                problems.push(
                    Diagnostic::new(
                        source,
                        None,
                        format!(
                            "this file and {} would both be written to {} in the output",
                            first.display(),
                            file.display()
                        ),
                    )
                    .help("rename or move one of the two files"),
                );
            } else {
                writers.insert(file, source.to_owned());
            }
        };
        for (doc, headings, _) in self.documents() {
            claim(doc.path.output_file(), &doc.file, &mut problems);
            index.add_document(&doc.path, headings);
        }
        for path in &self.content.unreadable {
            index.add_unchecked(path);
        }
        for output in outputs {
            claim(output.file, &output.source, &mut problems);
            index.add_url(output.url);
        }
        let documents: Vec<&content::Document> = self.documents().map(|(d, _, _)| d).collect();
        let checked: Vec<Vec<Diagnostic>> = documents
            .par_iter()
            .zip(&outlines)
            .map(|(doc, outline)| check_document(&index, doc, outline))
            .collect();
        let mut menu = Vec::new();
        for entry in &self.config.menu {
            let path = entry.url.split('#').next().unwrap_or("");
            if !index.has_url(path) {
                menu.push(
                    Diagnostic::new(
                        self.root.join(config::FILE_NAME),
                        None,
                        format!(
                            "the menu entry `{}` links to {}, which is no page of this site",
                            entry.title, entry.url
                        ),
                    )
                    .help("write the address of a section or page, such as /fees/"),
                );
            }
        }
        *into = Checked {
            frame: Some(frame),
            index,
            claims: problems,
            documents: outlines.into_iter().zip(checked).collect(),
            menu,
        };
        into.problems()
    }

    /// The values of `estate.yaml` not yet confirmed, with their uses.
    pub fn unconfirmed(&self) -> Vec<Unconfirmed> {
        let theme_dir = self.root.join("themes").join(&self.config.theme);
        facts::unconfirmed(&self.config.facts, &self.fact_uses, &theme_dir)
    }

    fn summary(&self, started: Instant) -> BuildSummary {
        BuildSummary {
            unconfirmed: self.unconfirmed(),
            pages: self.content.pages.len(),
            sections: self.content.sections.len(),
            forms: self.forms.iter().count(),
            elapsed: started.elapsed(),
        }
    }
}

/// The site's folder as messages name it: `content/x.md` reads better
/// than `./content/x.md`.
fn site_root(options: &BuildOptions) -> PathBuf {
    if options.root == Path::new(".") {
        PathBuf::new()
    } else {
        options.root.clone()
    }
}

/// The history of `content/`, or a warning, said once per build, of what
/// could not be read; the build goes on either way.
fn read_history(content_dir: &Path) -> Option<History> {
    match History::read(content_dir) {
        Ok(history) => {
            if history.shallow {
                eprintln!(
                    "warning: the git history is shallow: pages last changed before its oldest commit show no date or an early one\n  help: fetch the whole history (git fetch --unshallow, or fetch-depth: 0 in actions/checkout)"
                );
            }
            Some(history)
        }
        Err(e) => {
            eprintln!("warning: history.git is on, but {e}");
            None
        }
    }
}

/// A page without `updated` takes the day of its last commit; a new
/// commit changes what the page shows, so it counts as a change of the
/// page for rebuilds.
fn dated_by_history(doc: &mut content::Document, history: &History) {
    if doc.meta.updated.is_none() {
        Arc::make_mut(&mut doc.meta).updated = history.last_changed(&doc.path);
    }
    let revisions: Vec<_> = history.revisions(&doc.path).collect();
    doc.source_digest ^= {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        format!("{revisions:?}").hash(&mut hasher);
        hasher.finish()
    };
}

/// The forms the site has, even when a definition failed to load, so
/// links to its page are not reported as broken on top of that failure.
fn form_kinds(forms: &FormSet, forms_dir: &Path) -> Vec<String> {
    if !forms.is_empty() {
        return forms.iter().map(|f| f.kind.clone()).collect();
    }
    let Ok(entries) = std::fs::read_dir(forms_dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name != forms::DEPARTMENTS_FILE)
        .filter_map(|name| name.strip_suffix(".yaml").map(str::to_owned))
        .collect()
}

/// A theme that failed to load, reported against the template at fault
/// when one is named.
fn theme_diagnostic(root: &Path, theme: &str, error: templates::TemplateError) -> Diagnostic {
    match error {
        templates::TemplateError::Syntax {
            file,
            line,
            message,
        } => Diagnostic::new(file, line, message).help(
            "fix the template's syntax; Tera's documentation lists what a template may contain",
        ),
        other => Diagnostic::new(root.join("themes").join(theme), None, other.to_string()),
    }
}
