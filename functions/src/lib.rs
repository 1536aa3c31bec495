//! The request desk: complaints (投诉), repair requests (报修) and feedback
//! (建议) from form to ticket to desk email.
//!
//! A request flows through [`http`] (decode, rate limit, validate against
//! the form definition), [`desk`] (file it as a [`ticket`]), [`store`]
//! (durably written), then [`notify`] (the desk email through [`mail`]).
//! Staff then work each ticket to its end in the staff app ([`http`]'s
//! `/desk/` routes), through the actions of [`workflow`], signed in with
//! [`accounts`].

pub mod accounts;
pub mod actions;
pub mod alert;
pub mod assemble;
#[cfg(feature = "aws")]
pub mod aws;
pub mod decoy;
pub mod desk;
pub mod export;
pub mod http;
#[cfg(feature = "aws")]
pub mod lambda;
pub mod local;
pub mod logging;
pub mod mail;
pub mod notify;
pub mod outgoing;
pub mod report;
pub mod settings;
pub mod snapshot;
pub mod store;
pub mod throttle;
pub mod ticket;
pub mod time;
pub mod workflow;
