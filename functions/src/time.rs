//! The estate's clock: now, and times shown in the estate's own zone.

use chrono::{DateTime, FixedOffset, Offset, Utc};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    offset: FixedOffset,
    /// Tests pin the time; everything else reads the system clock.
    pinned: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn new(offset: FixedOffset) -> Clock {
        Clock {
            offset,
            pinned: None,
        }
    }

    pub fn pinned(offset: FixedOffset, now: DateTime<Utc>) -> Clock {
        Clock {
            offset,
            pinned: Some(now),
        }
    }

    pub fn from_config(config: &config::Config) -> Clock {
        let seconds = config.utc_offset_seconds().unwrap_or(8 * 3600);
        Clock::new(FixedOffset::east_opt(seconds).unwrap_or_else(|| Utc.fix()))
    }

    pub fn offset(&self) -> FixedOffset {
        self.offset
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.pinned.unwrap_or_else(Utc::now)
    }

    pub fn local(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.offset)
    }

    /// As owners and staff read it: `2026年11月23日 21:30`.
    pub fn display(&self, t: DateTime<Utc>) -> String {
        self.local(t).format("%Y年%-m月%-d日 %H:%M").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_estate_time() {
        let clock = Clock::new(FixedOffset::east_opt(8 * 3600).unwrap());
        let t = DateTime::parse_from_rfc3339("2026-11-23T18:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(clock.display(t), "2026年11月24日 02:30");
    }
}
