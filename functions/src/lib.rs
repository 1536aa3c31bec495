//! The request desk.
