//! Counting attempts in a sliding window: form submissions per client,
//! sign-in attempts per account and per client, status lookups per client.
//!
//! On one machine (the SQLite store) the counts live in memory: a request
//! costs no write, and one flooding client cannot slow another's through
//! the database. Where instances are many (DynamoDB on Lambda) the store
//! counts, under keys that name their fixed window, and the sliding window
//! is estimated from the current and the previous window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::desk::Desk;
use crate::store::{Hit, StoreError, TicketStore};

/// Counts one attempt under `key` (at most `max` in `window`); `Some(seconds
/// to wait)` once it goes over.
pub async fn over_limit(
    desk: &Desk,
    key: &str,
    window: TimeDelta,
    max: u32,
) -> Result<Option<u64>, StoreError> {
    let limit = Limit {
        key: key.to_owned(),
        window,
        max,
    };
    desk.limiter
        .hit(&*desk.store, desk.clock.now(), &limit)
        .await
}

/// At most `max` attempts under `key` in any `window`.
#[derive(Debug, Clone)]
pub struct Limit {
    pub key: String,
    pub window: TimeDelta,
    pub max: u32,
}

pub enum Limiter {
    Memory(MemoryCounts),
    Store,
}

impl Limiter {
    /// `Some(seconds to wait)` when one more attempt would go over the
    /// limit. Counts nothing: an attempt that turns out not to count (a
    /// form sent back with errors, a retry of a stored one) is never
    /// recorded.
    pub async fn check(
        &self,
        store: &dyn TicketStore,
        now: DateTime<Utc>,
        limit: &Limit,
    ) -> Result<Option<u64>, StoreError> {
        match self {
            Limiter::Memory(counts) => Ok(counts.wait(now, limit)),
            Limiter::Store => {
                let windows = Windows::at(now, limit.window);
                let keys = [
                    windows.key(limit, windows.current),
                    windows.key(limit, windows.previous),
                ];
                let hits = store.read_hits(&keys).await?;
                let [current, previous] = hits[..] else {
                    return Err(StoreError::Backend(format!(
                        "the store gave {} rate counts for 2 windows",
                        hits.len()
                    )));
                };
                Ok(
                    (windows.estimate(now, previous, current) + 1.0 > f64::from(limit.max))
                        .then(|| windows.wait(now)),
                )
            }
        }
    }

    /// Counts one attempt.
    pub async fn record(
        &self,
        store: &dyn TicketStore,
        now: DateTime<Utc>,
        limit: &Limit,
    ) -> Result<(), StoreError> {
        match self {
            Limiter::Memory(counts) => {
                counts.record(now, limit);
                Ok(())
            }
            Limiter::Store => store.count_hit(&Windows::hit(now, limit)).await.map(|_| ()),
        }
    }

    /// The hit a new ticket's own write counts where the counts live in
    /// the store, so filing a request is one round trip; `None` where they
    /// live in memory (count those with [`Limiter::record`]).
    pub fn hit_for_store(&self, now: DateTime<Utc>, limit: &Limit) -> Option<Hit> {
        match self {
            Limiter::Memory(_) => None,
            Limiter::Store => Some(Windows::hit(now, limit)),
        }
    }

    /// Counts an attempt that always counts (a sign-in, a lookup), then
    /// says whether it went over the limit.
    pub async fn hit(
        &self,
        store: &dyn TicketStore,
        now: DateTime<Utc>,
        limit: &Limit,
    ) -> Result<Option<u64>, StoreError> {
        let wait = self.check(store, now, limit).await?;
        self.record(store, now, limit).await?;
        Ok(wait)
    }
}

/// The fixed windows a store counts in, around `now`.
struct Windows {
    current: DateTime<Utc>,
    previous: DateTime<Utc>,
    length: TimeDelta,
}

impl Windows {
    /// One attempt now, in the current window; the entry outlives the
    /// window that follows, which still reads it as its previous one.
    fn hit(now: DateTime<Utc>, limit: &Limit) -> Hit {
        let windows = Windows::at(now, limit.window);
        Hit {
            key: windows.key(limit, windows.current),
            window_end: windows.current + limit.window * 2,
        }
    }

    fn at(now: DateTime<Utc>, length: TimeDelta) -> Windows {
        let current = now.duration_trunc(length).unwrap_or(now);
        Windows {
            current,
            previous: current - length,
            length,
        }
    }

    fn key(&self, limit: &Limit, start: DateTime<Utc>) -> String {
        format!("{}#{}", limit.key, start.timestamp())
    }

    /// The previous window's attempts weighted by how much of it still
    /// lies inside the sliding window, plus the current window's.
    fn estimate(&self, now: DateTime<Utc>, previous: u32, current: u32) -> f64 {
        let into = (now - self.current).num_milliseconds() as f64;
        let share = 1.0 - into / self.length.num_milliseconds().max(1) as f64;
        f64::from(previous) * share.clamp(0.0, 1.0) + f64::from(current)
    }

    fn wait(&self, now: DateTime<Utc>) -> u64 {
        (self.current + self.length - now).num_seconds().max(1) as u64
    }
}

/// Each key's recent attempts, newest last; at most `max` kept per key.
#[derive(Default)]
pub struct MemoryCounts {
    attempts: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

/// Above this many keys, keys with no attempt left in their window are
/// dropped, so a scan over many addresses cannot grow the map for ever.
const TIDY_ABOVE: usize = 10_000;

impl MemoryCounts {
    fn wait(&self, now: DateTime<Utc>, limit: &Limit) -> Option<u64> {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        let recent = attempts.get_mut(&limit.key)?;
        forget_before(recent, now - limit.window);
        if recent.len() < limit.max as usize {
            return None;
        }
        let oldest = *recent.front()?;
        Some((oldest + limit.window - now).num_seconds().max(1) as u64)
    }

    fn record(&self, now: DateTime<Utc>, limit: &Limit) {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        if attempts.len() > TIDY_ABOVE {
            attempts.retain(|_, recent| recent.back().is_some_and(|t| *t > now - limit.window));
        }
        let recent = attempts.entry(limit.key.clone()).or_default();
        forget_before(recent, now - limit.window);
        recent.push_back(now);
        while recent.len() > limit.max.max(1) as usize {
            recent.pop_front();
        }
    }
}

fn forget_before(recent: &mut VecDeque<DateTime<Utc>>, start: DateTime<Utc>) {
    while recent.front().is_some_and(|t| *t <= start) {
        recent.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_790_000_040 + seconds, 0).unwrap()
    }

    fn limit() -> Limit {
        Limit {
            key: "rate#a".into(),
            window: TimeDelta::minutes(1),
            max: 3,
        }
    }

    #[test]
    fn the_memory_window_slides() {
        let counts = MemoryCounts::default();
        for s in [0, 10, 20] {
            assert_eq!(counts.wait(at(s), &limit()), None);
            counts.record(at(s), &limit());
        }
        // The fourth within a minute of the first waits until the first
        // leaves the window, not until a clock minute ends.
        assert_eq!(counts.wait(at(30), &limit()), Some(30));
        assert_eq!(counts.wait(at(61), &limit()), None);
        let other = Limit {
            key: "rate#b".into(),
            ..limit()
        };
        assert_eq!(
            counts.wait(at(30), &other),
            None,
            "clients are counted apart"
        );
    }

    #[test]
    fn the_store_estimate_weighs_the_previous_window() {
        let windows = Windows::at(at(30), TimeDelta::minutes(1));
        assert_eq!(windows.current, at(0));
        // Half way through the current window, half the previous counts.
        assert_eq!(windows.estimate(at(30), 4, 1), 3.0);
        assert_eq!(windows.estimate(at(0), 4, 0), 4.0);
        assert_eq!(windows.wait(at(30)), 30);
    }
}
