//! The theme a site is rendered with, shared by the generator and the
//! request desk so a page looks the same whoever renders it.

mod theme;
mod views;

pub use theme::{TemplateError, Theme};
pub use views::{Addressing, MenuItem, ReceiptView, SiteView};
