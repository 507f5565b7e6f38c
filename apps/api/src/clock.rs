//! The production clock and the test clock (`PURSE_TEST_CLOCK=1`): real time plus an offset.

use std::sync::atomic::{AtomicI64, Ordering};

use ledger_core::ports::Clock;
use time::{Duration, OffsetDateTime};

/// The wall clock, UTC.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Real time plus an offset that only grows: not frozen between advances, so TTLs keep
/// running the way they do in production.
#[derive(Debug, Default)]
pub struct TestClock {
    offset_seconds: AtomicI64,
}

/// The largest single advance: ten years.
pub const ADVANCE_SECONDS_MAX: i64 = 10 * 366 * 24 * 3600;

impl TestClock {
    /// Moves the clock forward by `seconds` and answers the new offset.
    pub fn advance(&self, seconds: i64) -> i64 {
        let seconds = seconds.clamp(0, ADVANCE_SECONDS_MAX);
        self.offset_seconds.fetch_add(seconds, Ordering::SeqCst) + seconds
    }

    /// The current offset from real time.
    pub fn offset_seconds(&self) -> i64 {
        self.offset_seconds.load(Ordering::SeqCst)
    }
}

impl Clock for TestClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::seconds(self.offset_seconds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_clock_runs_ahead_of_real_time_by_its_offset() {
        let clock = TestClock::default();
        let before = OffsetDateTime::now_utc();

        let offset = clock.advance(3600);

        assert_eq!(offset, 3600);
        assert!(clock.now() >= before + Duration::seconds(3600));
        assert_eq!(clock.advance(-5), 3600, "the clock never goes back");
    }
}
