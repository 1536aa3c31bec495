//! The whole build: load and check everything, then render and write.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use config::Config;
use forms::FormSet;
use rayon::prelude::*;
use templates::{Addressing, SiteView, Theme};

use crate::content::{self, Content, FORMS_DIR};
use crate::diagnostics::{Diagnostic, Error};
use crate::links::{self, LinkIndex};
use crate::markdown::{self, Rendered};
use crate::output::{Discard, Staging};
use crate::render;
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
    render::write_site(&site, &staging)?;
    staging.commit()?;
    Ok(site.summary(started))
}

/// Every check a build makes, templates included, writing nothing.
pub fn check(options: &BuildOptions) -> Result<BuildSummary, Error> {
    let started = Instant::now();
    let site = Site::load(options)?;
    render::write_site(&site, &Discard)?;
    Ok(site.summary(started))
}

/// A loaded and checked site, ready to render.
pub struct Site {
    pub root: PathBuf,
    pub config: Config,
    pub theme: Theme,
    pub forms: FormSet,
    pub content: Content,
    /// Parallel to `content.sections` and `content.pages`.
    pub section_html: Vec<Rendered>,
    pub page_html: Vec<Rendered>,
    pub site_view: SiteView,
    pub today: NaiveDate,
}

impl Site {
    pub fn load(options: &BuildOptions) -> Result<Site, Error> {
        // `content/x.md` reads better in messages than `./content/x.md`.
        let root = &if options.root == Path::new(".") {
            PathBuf::new()
        } else {
            options.root.clone()
        };
        let mut config = Config::from_root(root).map_err(|e| Error::Invalid(vec![e.into()]))?;
        if let Some(base_url) = &options.base_url {
            config.base_url = base_url.trim_end_matches('/').to_owned();
        }
        let mut problems = Vec::new();
        let theme = Theme::load(root, &config.theme)
            .map_err(|e| {
                problems.push(Diagnostic::new(
                    root.join("themes").join(&config.theme),
                    None,
                    e.to_string(),
                ))
            })
            .ok();
        let forms = FormSet::load(&root.join("content").join(FORMS_DIR))
            .map_err(|e| problems.push(e.into()))
            .ok();
        let content = content::load(&root.join("content"), options.drafts)
            .map_err(|mut d| problems.append(&mut d))
            .ok();
        let (Some(theme), Some(forms), Some(mut content)) = (theme, forms, content) else {
            return Err(Error::Invalid(problems));
        };

        let base_path = config.base_path().to_owned();
        let render_doc = |doc: &mut content::Document| {
            let body = std::mem::take(&mut doc.body);
            let from = &doc.path;
            markdown::render(&body, doc.body_line, &|dest| {
                links::rewrite(from, dest, &base_path)
            })
        };
        let section_html: Vec<Rendered> = content
            .sections
            .par_iter_mut()
            .map(|s| render_doc(&mut s.doc))
            .collect();
        let page_html: Vec<Rendered> = content.pages.par_iter_mut().map(render_doc).collect();

        let mut site_view = SiteView::new(&config, &theme, Addressing::SitePath);
        site_view.live_reload = options.live_reload;
        let site = Site {
            root: root.clone(),
            config,
            theme,
            forms,
            content,
            section_html,
            page_html,
            site_view,
            today: options
                .today
                .unwrap_or_else(|| chrono::Local::now().date_naive()),
        };
        let problems = site.validate()?;
        if problems.is_empty() {
            Ok(site)
        } else {
            Err(Error::Invalid(problems))
        }
    }

    /// Every document with its rendering, sections first.
    pub fn documents(&self) -> impl Iterator<Item = (&content::Document, &Rendered)> {
        let sections = self
            .content
            .sections
            .iter()
            .map(|s| &s.doc)
            .zip(&self.section_html);
        sections.chain(self.content.pages.iter().zip(&self.page_html))
    }

    /// Addresses written besides the pages, each with what writes it.
    pub fn other_outputs(&self) -> Result<Vec<(String, PathBuf)>, Error> {
        let mut outputs = Vec::new();
        for (path, file) in &self.content.assets {
            outputs.push((path.url(), file.clone()));
        }
        let forms_dir = self.root.join("content").join(FORMS_DIR);
        for form in self.forms.iter() {
            outputs.push((
                render::form_url(&form.kind),
                forms_dir.join(format!("{}.yaml", form.kind)),
            ));
        }
        let static_files = self
            .theme
            .static_files()
            .map_err(|e| invalid_from(&self.root, e.to_string()))?;
        for (relative, file) in static_files {
            let Some(path) = ContentPath::new(&Path::new("static").join(relative)) else {
                continue;
            };
            outputs.push((path.url(), file));
        }
        for generated in render::GENERATED {
            outputs.push((format!("/{generated}"), self.root.join("config.yaml")));
        }
        Ok(outputs)
    }

    fn validate(&self) -> Result<Vec<Diagnostic>, Error> {
        let mut problems = Vec::new();
        let mut index = LinkIndex::default();
        let mut owners: std::collections::HashMap<String, PathBuf> = Default::default();
        let mut claim = |url: String, file: &Path, problems: &mut Vec<Diagnostic>| {
            if let Some(first) = owners.get(&url) {
                problems.push(
                    Diagnostic::new(
                        file,
                        None,
                        format!(
                            "this file would be written to {url}, as {} is",
                            first.display()
                        ),
                    )
                    .help("rename or move one of the two files"),
                );
            } else {
                owners.insert(url, file.to_owned());
            }
        };
        for (doc, rendered) in self.documents() {
            claim(doc.path.url(), &doc.file, &mut problems);
            index.add_document(&doc.path, &rendered.headings);
        }
        for (url, file) in self.other_outputs()? {
            claim(url.clone(), &file, &mut problems);
            index.add_url(url);
        }
        let checked: Vec<Vec<Diagnostic>> = self
            .documents()
            .collect::<Vec<_>>()
            .par_iter()
            .map(|(doc, rendered)| {
                let mut found =
                    index.check(&doc.path, &doc.file, &rendered.headings, &rendered.links);
                found.extend(
                    markdown::outline_problems(&rendered.headings)
                        .into_iter()
                        .map(|p| Diagnostic::new(&doc.file, Some(p.line), p.message).help(p.help)),
                );
                found
            })
            .collect();
        problems.extend(checked.into_iter().flatten());
        for entry in &self.config.menu {
            let path = entry.url.split('#').next().unwrap_or("");
            if !index.has_url(path) {
                problems.push(
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
        Ok(problems)
    }

    fn summary(&self, started: Instant) -> BuildSummary {
        BuildSummary {
            pages: self.content.pages.len(),
            sections: self.content.sections.len(),
            forms: self.forms.iter().count(),
            elapsed: started.elapsed(),
        }
    }
}

fn invalid_from(root: &Path, message: String) -> Error {
    Error::Invalid(vec![Diagnostic::new(root, None, message)])
}
