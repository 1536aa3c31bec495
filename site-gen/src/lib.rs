//! `site-gen`: the estate's Markdown handbook into a static site.
//!
//! The data flows in one direction, and the modules follow it:
//! [`content`] (files → pages and sections) → [`markdown`] (bodies → HTML,
//! headings and links) → [`links`] (every link checked) → [`render`]
//! (pages → templates) → [`output`] (files, swapped in whole).

pub mod build;
pub mod content;
pub mod diagnostics;
pub mod facts;
pub mod history;
pub mod links;
pub mod listing;
pub mod markdown;
pub mod output;
pub mod render;
pub mod search;
pub mod serve;
pub mod timing;
pub mod urls;

pub use build::{
    BuildOptions, BuildSummary, build, build_tracked, check, rebuild, rebuild_changed,
};
pub use diagnostics::{Diagnostic, Error};
