//! Shared helpers for the whole-behaviour tests.

#[path = "src/site.rs"]
pub mod site;

#[path = "src/desk.rs"]
pub mod desk;

#[path = "src/store_contract.rs"]
pub mod store_contract;

#[path = "src/aws.rs"]
pub mod aws;

#[path = "src/staff.rs"]
pub mod staff;

#[path = "src/webhook.rs"]
pub mod webhook;
