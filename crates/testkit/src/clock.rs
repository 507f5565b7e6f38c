use std::sync::Mutex;

use ledger_core::ports::Clock;
use time::{Duration, OffsetDateTime};

/// A clock that moves only when a test moves it.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<OffsetDateTime>,
}

impl ManualClock {
    /// A clock standing at `now`.
    pub fn at(now: OffsetDateTime) -> Self {
        Self {
            now: Mutex::new(now),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .now
            .lock()
            .expect("clock mutex is never poisoned: no code panics holding it");
        *now += by;
    }

    /// Sets the clock.
    pub fn set(&self, to: OffsetDateTime) {
        *self
            .now
            .lock()
            .expect("clock mutex is never poisoned: no code panics holding it") = to;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::at(time::macros::datetime!(2026-01-01 00:00 UTC))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self
            .now
            .lock()
            .expect("clock mutex is never poisoned: no code panics holding it")
    }
}

impl ManualClock {
    /// The clock's time plus `by`, without moving it.
    pub fn now_plus(&self, by: Duration) -> OffsetDateTime {
        self.now() + by
    }
}
