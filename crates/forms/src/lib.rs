//! The request forms (complaint, repair, feedback), defined once as data in
//! `content/forms/*.yaml`.
//!
//! The generator renders each definition as a page and the desk functions
//! validate submissions against the very same definition, so the page and
//! the validation cannot drift apart.

mod definition;
mod invisible;
mod validate;
mod view;

pub use definition::{
    Choice, Commitment, DEPARTMENTS_FILE, DESK, DateRange, Department, Field, FieldType,
    FormDefinition, FormError, FormSet, MANAGER,
};
pub use validate::{Submission, Validated, ValidationErrors, deliverable_email};
pub use view::{CommitmentView, ErrorView, FieldView, FormView, OptionView, answers, shown_text};
