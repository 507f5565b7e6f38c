use std::sync::atomic::{AtomicU64, Ordering};

use ledger_core::ports::IdSource;

/// Ids from a counter with a random per-instance prefix, so two instances (two "processes")
/// never collide and ids sort by creation inside one instance.
#[derive(Debug)]
pub struct CounterIds {
    prefix: String,
    next: AtomicU64,
}

impl Default for CounterIds {
    fn default() -> Self {
        let prefix: u32 = rand::random();
        Self {
            prefix: format!("{prefix:08x}"),
            next: AtomicU64::new(1),
        }
    }
}

impl IdSource for CounterIds {
    fn next_suffix(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}{n:012}", self.prefix)
    }
}
