//! Content: the files under `content/`, read into documents and arranged
//! into sections.

mod cache;
mod document;
mod front_matter;
mod tree;

pub use cache::DocumentCache;
pub use document::Document;
pub use front_matter::FrontMatter;
pub use tree::{Content, FORMS_DIR, NOTICES_DIR, load, load_cached};
