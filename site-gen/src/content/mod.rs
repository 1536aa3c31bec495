//! Content: the files under `content/`, read into documents and arranged
//! into sections.

mod document;
mod front_matter;
mod tree;

pub use document::Document;
pub use front_matter::FrontMatter;
pub use tree::{Content, FORMS_DIR, NOTICES_DIR, load};
