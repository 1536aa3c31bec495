//! Counting attempts per time window: form submissions per client, sign-in
//! attempts per account and per client, status lookups per client. The
//! store counts under a key that names its window, so nothing depends on
//! old counts being deleted.

use chrono::{DurationRound, TimeDelta};

use crate::desk::Desk;
use crate::store::StoreError;

/// Counts one more attempt under `key` in the current window of `length`;
/// `Some(seconds until the window ends)` once more than `limit` were made.
pub async fn over_limit(
    desk: &Desk,
    key: &str,
    length: TimeDelta,
    limit: u32,
) -> Result<Option<u64>, StoreError> {
    let now = desk.clock.now();
    let window = now.duration_trunc(length).unwrap_or(now);
    let end = window + length;
    let count = desk
        .store
        .count_hit(&format!("{key}#{}", window.timestamp()), end)
        .await?;
    Ok((count > limit).then(|| (end - now).num_seconds().max(1) as u64))
}
