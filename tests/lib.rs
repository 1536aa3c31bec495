//! Shared helpers for the whole-behaviour tests.
