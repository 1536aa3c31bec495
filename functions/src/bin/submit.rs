//! The form function on AWS Lambda: the same router the local server runs.
fn main() {}
