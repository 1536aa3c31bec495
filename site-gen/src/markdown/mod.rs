//! Markdown bodies into HTML, with the headings and links found on the way.

mod outline;
mod render;
mod slug;

pub use outline::{OutlineProblem, TocEntry, outline_problems, table_of_contents};
pub use render::{Heading, LinkRef, Outline, Rendered, outline, render};
pub use slug::HeadingIds;
