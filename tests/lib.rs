//! Shared helpers for the whole-behaviour tests.

#[path = "src/site.rs"]
pub mod site;
