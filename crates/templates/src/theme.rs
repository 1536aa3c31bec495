//! Loading a theme's templates (with the site's overrides) and static files.

use std::collections::BTreeSet;
use std::error::Error as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tera::{Context, Tera};

use crate::views::SiteView;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "theme `{name}` not found: there is no folder {path}; set `theme` in config.yaml to a folder under themes/"
    )]
    MissingTheme { name: String, path: PathBuf },
    #[error("{message}")]
    Load { message: String },
    /// A template file that does not parse.
    #[error("{}{}: {message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Syntax {
        file: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("template `{template}` failed: {message}")]
    Render { template: String, message: String },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Tera reports the useful part of an error in its sources, so the whole
/// chain is joined into one message.
fn describe(err: &tera::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

/// The literal `id="…"` values of a template's text.
fn literal_ids(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(id, _)| id))
        .filter(|id| !id.is_empty() && !id.contains(['{', '}', '%']))
        .map(str::to_owned)
}

/// The templates of one theme, with any the site overrides.
pub struct Theme {
    tera: Tera,
    /// Changes whenever any template's text changes.
    templates_digest: u64,
    /// Every static file as (path under `static/`, file on disk), found
    /// once at load; the site's own `static/` wins over the theme's.
    static_files: Vec<(PathBuf, PathBuf)>,
    /// The ids the templates give their own elements (`main`,
    /// `toc-title`, …), which a heading's id must not take.
    element_ids: BTreeSet<String>,
}

impl Theme {
    /// Loads `themes/<name>/templates` and the site's own `templates/`,
    /// where a file of the same name wins over the theme's.
    pub fn load(root: &Path, theme_name: &str) -> Result<Theme, TemplateError> {
        let theme_dir = root.join("themes").join(theme_name);
        if !theme_dir.is_dir() {
            return Err(TemplateError::MissingTheme {
                name: theme_name.to_owned(),
                path: theme_dir,
            });
        }
        let mut tera = parse_dir(&root.join("templates"))?;
        tera.extend(&parse_dir(&theme_dir.join("templates"))?)
            .map_err(|e| TemplateError::Load {
                message: describe(&e),
            })?;
        tera.build_inheritance_chains()
            .map_err(|e| TemplateError::Load {
                message: describe(&e),
            })?;
        tera.set_escape_fn(escape_html);
        tera.register_filter("date", crate::date_filter::date);
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let mut element_ids = BTreeSet::new();
        for dir in [root.join("templates"), theme_dir.join("templates")] {
            for entry in walkdir::WalkDir::new(&dir)
                .sort_by_file_name()
                .into_iter()
                .flatten()
            {
                let text = std::fs::read(entry.path()).unwrap_or_default();
                std::hash::Hash::hash(entry.path(), &mut hasher);
                std::hash::Hash::hash(&text, &mut hasher);
                element_ids.extend(literal_ids(&String::from_utf8_lossy(&text)));
            }
        }
        Ok(Theme {
            element_ids,
            templates_digest: std::hash::Hasher::finish(&hasher),
            tera,
            static_files: find_static_files(&[theme_dir.join("static"), root.join("static")])?,
        })
    }

    /// A theme with no templates and no files: what a site is checked
    /// against when its own theme failed to load.
    pub fn empty() -> Theme {
        Theme {
            templates_digest: 0,
            tera: Tera::default(),
            static_files: Vec::new(),
            element_ids: BTreeSet::new(),
        }
    }

    /// The ids the templates write literally (`id="main"`); ids made from
    /// a variable (`id="{{ f.id }}"`) are the templates' own business.
    pub fn element_ids(&self) -> &BTreeSet<String> {
        &self.element_ids
    }

    pub fn templates_digest(&self) -> u64 {
        self.templates_digest
    }

    /// Renders `template` with the site view and whatever else the template
    /// needs; `extra` must serialize to a map.
    pub fn render(
        &self,
        template: &str,
        site: &SiteView,
        extra: &impl Serialize,
    ) -> Result<String, TemplateError> {
        let render_error = |message: String| TemplateError::Render {
            template: template.to_owned(),
            message,
        };
        let mut context = Context::from_serialize(extra).map_err(|e| render_error(describe(&e)))?;
        context.insert("site", site);
        self.tera
            .render(template, &context)
            .map_err(|e| render_error(describe(&e)))
    }

    /// Every static file of the theme and the site as (path under
    /// `static/`, file on disk); the site's file wins on a clash.
    pub fn static_files(&self) -> &[(PathBuf, PathBuf)] {
        &self.static_files
    }

    /// A short fingerprint of a static file's content, added to its address
    /// so browsers fetch it again after it changes.
    pub fn fingerprint(&self, relative: &str) -> Option<String> {
        let (_, path) = self
            .static_files
            .iter()
            .find(|(r, _)| r == Path::new(relative))?;
        let bytes = std::fs::read(path).ok()?;
        // FNV-1a: a cache key, not a security measure.
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
        Some(format!("{:08x}", hash as u32))
    }
}

fn find_static_files(dirs: &[PathBuf]) -> Result<Vec<(PathBuf, PathBuf)>, TemplateError> {
    let mut files = std::collections::BTreeMap::new();
    for dir in dirs.iter().filter(|d| d.is_dir()) {
        for entry in walkdir::WalkDir::new(dir) {
            let entry = entry.map_err(|e| TemplateError::Read {
                path: e.path().unwrap_or(dir).to_owned(),
                source: e.into(),
            })?;
            if entry.file_type().is_file()
                && let Ok(relative) = entry.path().strip_prefix(dir)
            {
                files.insert(relative.to_owned(), entry.path().to_owned());
            }
        }
    }
    Ok(files.into_iter().collect())
}

/// Escapes text for HTML content and quoted attributes. Tera's own escaper
/// also turns every `/` into `&#x2F;`, which makes each address in a page
/// longer and harder to read for no gain inside quotes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn parse_dir(dir: &Path) -> Result<Tera, TemplateError> {
    if !dir.is_dir() {
        return Ok(Tera::default());
    }
    let glob = format!("{}/**/*.{{html,xml,txt}}", dir.display());
    Tera::parse(&glob).map_err(|e| match find_syntax_error(dir) {
        Some(found) => found,
        None => TemplateError::Load {
            message: describe(&e),
        },
    })
}

/// Tera names the broken file only inside its message; parsing the files
/// one by one finds it, so the error can point at it.
fn find_syntax_error(dir: &Path) -> Option<TemplateError> {
    let files = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten();
    for entry in files.filter(|e| e.file_type().is_file()) {
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let name = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy();
        if let Err(e) = tera::Template::new(&name, None, &text) {
            // Tera's parser says where: " --> 5:20", then the line quoted.
            let detail = describe(&e).trim().to_owned();
            let line = detail
                .split_once("--> ")
                .and_then(|(_, rest)| rest.split(':').next()?.trim().parse().ok());
            return Some(TemplateError::Syntax {
                file: entry.path().to_owned(),
                line,
                message: format!("Failed to parse the template:\n{detail}"),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_ids_are_found_and_variables_skipped() {
        let text = r#"<main id="main"><h2 id="toc-title">x</h2><p data-id="no" id="{{ f.id }}">"#;
        let ids: Vec<String> = literal_ids(text).collect();
        assert_eq!(ids, ["main", "toc-title"]);
    }

    #[test]
    fn a_syntax_error_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ok.html"), "<p>{{ x }}</p>").unwrap();
        std::fs::write(dir.path().join("page.html"), "\n<p>{{ page.summary }</p>\n").unwrap();
        match parse_dir(dir.path()) {
            Err(TemplateError::Syntax {
                file,
                line,
                message,
            }) => {
                assert!(file.ends_with("page.html"), "{}", file.display());
                assert_eq!(line, Some(2), "{message}");
            }
            Err(other) => panic!("not attributed: {other}"),
            Ok(_) => panic!("parsed"),
        }
    }
}
