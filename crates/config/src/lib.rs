//! The site configuration: `config.yaml` at the root of a site.
//!
//! Both the generator and the request desk read this one file, so the site
//! title, the theme and the public addresses are stated once.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod facts;

pub use facts::{Fact, FactUse, Facts};

/// The file name of the configuration at a site's root.
pub const FILE_NAME: &str = "config.yaml";

/// A site file (the configuration, a form definition) that cannot be read
/// or says something invalid, with where.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
}

impl FileError {
    /// `message` about the file at `path`, at no particular line.
    pub fn invalid(path: &Path, message: impl Into<String>) -> FileError {
        FileError::Invalid {
            path: path.to_owned(),
            line: None,
            message: message.into(),
        }
    }

    /// A YAML error in the file at `path`. serde_yaml appends "at line X
    /// column Y" to its message; the line is kept on its own instead.
    pub fn yaml(path: &Path, err: &serde_yaml::Error) -> FileError {
        let (line, message) = yaml_error(err);
        FileError::Invalid {
            path: path.to_owned(),
            line,
            message,
        }
    }

    pub fn read(path: &Path, source: std::io::Error) -> FileError {
        FileError::Read {
            path: path.to_owned(),
            source,
        }
    }
}

pub type ConfigError = FileError;

/// How owners reach the desk; shown in every page footer. With a facts
/// file it comes from there (`desk.phone`, `duty.phone`, `desk.hours`,
/// `desk.address`, `desk.email`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    /// The desk's number.
    pub phone: Option<String>,
    /// The 24-hour duty line, for emergencies.
    #[serde(default)]
    pub duty_phone: Option<String>,
    pub hours: Option<String>,
    pub address: Option<String>,
    pub email: Option<String>,
}

/// Where the request desk's functions answer.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Desk {
    /// The address the form pages post to. Empty means "the same origin as
    /// the site", which is how `site-gen serve` runs them.
    pub endpoint: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// The public address of the site, e.g. `https://handbook.example.org`.
    /// Sitemaps and pages rendered by the functions need absolute addresses.
    pub base_url: String,
    #[serde(default = "default_language")]
    pub language: String,
    #[serde(default = "default_theme")]
    pub theme: String,
    /// The estate's offset from UTC, e.g. `+08:00`: times owners and desk
    /// staff read (received, due) are shown in it.
    #[serde(default = "default_utc_offset")]
    pub utc_offset: String,
    #[serde(default)]
    pub contact: Contact,
    #[serde(default)]
    pub desk: Desk,
    /// The main navigation, in order. Links are site paths such as `/fees/`;
    /// the generator checks that each one exists.
    #[serde(default)]
    pub menu: Vec<MenuEntry>,
    #[serde(default)]
    pub search: Search,
    /// How long the lists on pages may get, however big a section grows.
    #[serde(default)]
    pub lists: Lists,
    #[serde(default)]
    pub history: History,
    /// The estate's facts from `estate.yaml` (empty without one).
    #[serde(skip)]
    pub facts: Facts,
}

/// The site search.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Search {
    /// `false` writes no index and no search page, and the header has no
    /// search box.
    pub enabled: bool,
    /// Groups of words that find each other: regional vocabulary such as
    /// `[升降機, 电梯]`. Script does not need a group (電梯 finds 电梯
    /// anyway); different words do.
    pub synonyms: Vec<Vec<String>>,
}

impl Default for Search {
    fn default() -> Self {
        Search {
            enabled: true,
            synonyms: Vec::new(),
        }
    }
}

/// Bounds on lists, so that no page grows with the size of its section.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Lists {
    /// Pages listed on each page of a section's list (`/notices/`,
    /// `/notices/page/2/`, …).
    pub page_size: usize,
    /// Once a section has more pages than this, a page's section list shows
    /// only this many around the page, plus the section's first and last.
    pub window: usize,
    /// Current notices on the home page, newest first.
    pub home_notices: usize,
}

impl Default for Lists {
    fn default() -> Self {
        Lists {
            page_size: 50,
            window: 10,
            home_notices: 10,
        }
    }
}

/// Page history read from git, where the site is a git checkout.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct History {
    /// Read the commits that touched each page: a page without `updated`
    /// takes its date from the last one, and lists them as 修订记录.
    pub git: bool,
    /// How many changes the 更新记录 page lists.
    pub recent: usize,
}

impl Default for History {
    fn default() -> Self {
        History {
            git: false,
            recent: 50,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MenuEntry {
    pub title: String,
    pub url: String,
}

fn default_language() -> String {
    "zh-Hans".to_owned()
}

fn default_utc_offset() -> String {
    "+08:00".to_owned()
}

fn default_theme() -> String {
    "default".to_owned()
}

/// A YAML error as a line and a message, so the line can be shown once
/// and, for text cut out of a larger file, corrected.
pub fn yaml_error(err: &serde_yaml::Error) -> (Option<usize>, String) {
    let raw = err.to_string();
    let message = raw.split(" at line ").next().unwrap_or(&raw).to_owned();
    (err.location().map(|l| l.line()), message)
}

/// Why a YAML alias is refused, for every site file that is YAML.
pub const ALIAS_REFUSED: &str =
    "YAML aliases (`*name`) are not allowed in site files: write the value out in full";

/// The line (1-based) of the first YAML alias in `text`, if it has one.
///
/// serde_yaml expands every alias into a full copy of its anchor, so a
/// small file of aliases to one large value needs gigabytes; site files
/// never need them, so they are refused before serde_yaml sees the text.
/// A syntax error ends the search: serde_yaml then reports it itself.
pub fn first_alias(text: &str) -> Option<usize> {
    saphyr_parser::Parser::new_from_str(text)
        .map_while(Result::ok)
        .find(|(event, _)| matches!(event, saphyr_parser::Event::Alias(_)))
        .map(|(_, span)| span.start.line())
}

/// Parses a whole site file of YAML (the configuration, a form
/// definition), refusing aliases; `path` names the file in errors.
pub fn from_yaml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T, FileError> {
    if let Some(line) = first_alias(text) {
        return Err(FileError::Invalid {
            path: path.to_owned(),
            line: Some(line),
            message: ALIAS_REFUSED.to_owned(),
        });
    }
    serde_yaml::from_str(text).map_err(|e| FileError::yaml(path, &e))
}

impl Config {
    /// Parses the configuration text; `path` only names the file in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let mut config: Config = from_yaml(path, text)?;
        config.base_url = config.base_url.trim_end_matches('/').to_owned();
        config.validate(path)?;
        Ok(config)
    }

    /// Reads `config.yaml` from a site root, and `estate.yaml` beside it
    /// when there is one.
    pub fn from_root(root: &Path) -> Result<Config, ConfigError> {
        let path = root.join(FILE_NAME);
        let text =
            std::fs::read_to_string(&path).map_err(|source| FileError::read(&path, source))?;
        let mut config = Config::parse(&path, &text)?;
        let facts = Facts::from_root(root)?;
        if !facts.is_empty() {
            config.use_facts(&path, facts)?;
        }
        Ok(config)
    }

    /// Takes the desk's contact details from the facts, which must then be
    /// their only source.
    pub fn use_facts(&mut self, path: &Path, facts: Facts) -> Result<(), ConfigError> {
        if self.contact != Contact::default() {
            return Err(FileError::invalid(
                path,
                format!(
                    "`contact` is set here and {} exists: move the phone, hours and address to {} (`desk.phone`, `duty.phone`, `desk.hours`, `desk.address`, `desk.email`) and remove `contact`",
                    facts::FILE_NAME,
                    facts::FILE_NAME
                ),
            ));
        }
        let value = |key: &str| facts.get(key).map(Fact::display).filter(|v| !v.is_empty());
        self.contact = Contact {
            phone: value("desk.phone"),
            duty_phone: value("duty.phone"),
            hours: value("desk.hours"),
            address: value("desk.address"),
            email: value("desk.email"),
        };
        self.facts = facts;
        Ok(())
    }

    /// The theme shows these facts on every page (the footer, the call
    /// buttons), whether or not a page names them.
    pub const THEME_FACTS: [&'static str; 6] = [
        "estate.name",
        "desk.phone",
        "duty.phone",
        "desk.hours",
        "desk.address",
        "desk.email",
    ];

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| FileError::invalid(path, message);
        if self.title.trim().is_empty() {
            return Err(invalid("`title` is empty: give the site a name".into()));
        }
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(invalid(format!(
                "`base_url` is {:?}: it must be the site's public address starting with https:// (or http:// for local use)",
                self.base_url
            )));
        }
        if self.theme.is_empty() || self.theme.contains(['/', '\\']) || self.theme.starts_with('.')
        {
            return Err(invalid(format!(
                "`theme` is {:?}: it must be the name of a folder under themes/",
                self.theme
            )));
        }
        if self.utc_offset_seconds().is_none() {
            return Err(invalid(format!(
                "`utc_offset` is {:?}: write it as +HH:MM, e.g. +08:00",
                self.utc_offset
            )));
        }
        let phones = [
            ("phone", &self.contact.phone),
            ("duty_phone", &self.contact.duty_phone),
        ];
        for (key, phone) in phones {
            if let Some(phone) = phone
                && (!phone.chars().any(|c| c.is_ascii_digit())
                    || !phone
                        .chars()
                        .all(|c| c.is_ascii_digit() || " +-()".contains(c)))
            {
                return Err(invalid(format!(
                    "`contact.{key}` is {phone:?}: write the number only, e.g. 0571-8888 6666, so pages can link to it"
                )));
            }
        }
        for (n, group) in self.search.synonyms.iter().enumerate() {
            if group.len() < 2 || group.iter().any(|w| w.trim().is_empty()) {
                return Err(invalid(format!(
                    "`search.synonyms` group {} is {:?}: list two or more words that should find each other, e.g. [升降機, 电梯]",
                    n + 1,
                    group
                )));
            }
        }
        let defaults = Lists::default();
        let lists = [
            ("page_size", self.lists.page_size, defaults.page_size),
            ("window", self.lists.window, defaults.window),
            (
                "home_notices",
                self.lists.home_notices,
                defaults.home_notices,
            ),
        ];
        for (key, value, example) in lists {
            if value == 0 {
                return Err(invalid(format!(
                    "`lists.{key}` is 0: write how many entries to show, 1 or more, e.g. {example}"
                )));
            }
        }
        for entry in &self.menu {
            if !entry.url.starts_with('/') || entry.url.starts_with("//") {
                return Err(invalid(format!(
                    "menu entry `{}` has url {:?}: write it as a site path such as /fees/",
                    entry.title, entry.url
                )));
            }
        }
        Ok(())
    }

    /// The path part of `base_url` without a trailing slash ("" at a domain's root).
    /// Links inside the site are written from here, so a site can live under
    /// a sub-path.
    pub fn base_path(&self) -> &str {
        let after_scheme = self
            .base_url
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(&self.base_url);
        match after_scheme.find('/') {
            Some(i) => &after_scheme[i..],
            None => "",
        }
    }

    /// `utc_offset` in seconds east of UTC.
    pub fn utc_offset_seconds(&self) -> Option<i32> {
        let text = self.utc_offset.as_str();
        let sign = match text.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let (hours, minutes) = text[1..].split_once(':')?;
        if hours.len() != 2 || minutes.len() != 2 {
            return None;
        }
        let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
        (hours <= 14 && minutes < 60).then_some(sign * (hours * 3600 + minutes * 60))
    }

    /// The address the forms post to, without a trailing slash.
    pub fn desk_endpoint(&self) -> String {
        let endpoint = self.desk.endpoint.trim_end_matches('/');
        if endpoint.is_empty() {
            self.base_path().to_owned()
        } else {
            endpoint.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("config.yaml"), text)
    }

    #[test]
    fn base_path_comes_from_base_url() {
        let c = parse("title: T\nbase_url: https://example.org/handbook/\n").unwrap();
        assert_eq!(c.base_url, "https://example.org/handbook");
        assert_eq!(c.base_path(), "/handbook");
        assert_eq!(c.desk_endpoint(), "/handbook");
        let c = parse("title: T\nbase_url: https://example.org\n").unwrap();
        assert_eq!(c.base_path(), "");
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let err = parse("title: T\nbase_url: https://e.org\ncolour: red\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("config.yaml:3"), "{text}");
        assert!(text.contains("colour"), "{text}");
    }

    #[test]
    fn list_bounds_default_and_must_be_positive() {
        let c = parse("title: T\nbase_url: https://e.org\n").unwrap();
        assert_eq!(c.lists, Lists::default());
        let c = parse("title: T\nbase_url: https://e.org\nlists: { page_size: 20 }\n").unwrap();
        assert_eq!((c.lists.page_size, c.lists.window), (20, 10));
        let err = parse("title: T\nbase_url: https://e.org\nlists: { window: 0 }\n").unwrap_err();
        assert!(err.to_string().contains("`lists.window` is 0"), "{err}");
    }

    #[test]
    fn utc_offset_is_checked() {
        let c = parse("title: T\nbase_url: https://e.org\n").unwrap();
        assert_eq!(c.utc_offset_seconds(), Some(8 * 3600));
        let c = parse("title: T\nbase_url: https://e.org\nutc_offset: \"-03:30\"\n").unwrap();
        assert_eq!(c.utc_offset_seconds(), Some(-(3 * 3600 + 1800)));
        assert!(parse("title: T\nbase_url: https://e.org\nutc_offset: CST\n").is_err());
    }

    #[test]
    fn aliases_are_refused_with_their_line() {
        let text = "title: &t T\nbase_url: https://e.org\ndescription: *t\n";
        let err = parse(text).unwrap_err().to_string();
        assert!(err.contains("config.yaml:3"), "{err}");
        assert!(err.contains("aliases"), "{err}");
        // An asterisk inside a value is no alias.
        assert_eq!(first_alias("a: \"*x\"\nb: 3*4\nc: |\n  *y\n"), None);
    }

    #[test]
    fn base_url_must_be_absolute() {
        let err = parse("title: T\nbase_url: /handbook\n").unwrap_err();
        assert!(err.to_string().contains("base_url"));
    }
}
