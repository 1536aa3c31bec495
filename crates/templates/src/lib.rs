//! The theme a site is rendered with, shared by the generator and the
//! request desk so a page looks the same whoever renders it.

mod date_filter;
mod theme;
mod views;

pub use theme::{TemplateError, Theme, escape_html};
pub use views::{
    AcceptanceView, Addressing, FeedLink, FormContext, MenuItem, ReceiptContext, ReceiptStep,
    ReceiptView, SiteView,
};

/// The template of a request form page.
pub const FORM_TEMPLATE: &str = "form.html";
/// The template of the page shown after a request was stored.
pub const RECEIPT_TEMPLATE: &str = "received.html";
