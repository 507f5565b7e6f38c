use std::sync::atomic::{AtomicU64, Ordering};

use ledger_core::ports::IdSource;

/// Ids from a counter with a random per-instance prefix, so two instances (two "processes")
/// never collide and ids sort by creation inside one instance.
#[derive(Debug)]
pub struct CounterIds {
    prefix: String,
    next: AtomicU64,
}

/// The counter's width in digits: zero-padded, so ids of one instance sort by creation.
const COUNTER_DIGITS: usize = 12;

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
        // By hand rather than `format!`: three ids a reserve+settle pair, and the formatting
        // machinery was an eighth of the pair in the core benchmark.
        let mut digits = [b'0'; 20];
        let mut rest = n;
        let mut at = digits.len();
        while rest > 0 {
            at -= 1;
            digits[at] = b'0' + u8::try_from(rest % 10).unwrap_or(0);
            rest /= 10;
        }
        let start = at.min(digits.len() - COUNTER_DIGITS);
        let mut suffix = String::with_capacity(self.prefix.len() + digits.len() - start);
        suffix.push_str(&self.prefix);
        suffix.extend(digits[start..].iter().map(|&digit| char::from(digit)));
        suffix
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_the_prefix_then_a_zero_padded_counter() {
        let ids = CounterIds {
            prefix: "abcd0123".to_owned(),
            next: AtomicU64::new(7),
        };

        assert_eq!(ids.next_suffix(), "abcd0123000000000007");
        assert_eq!(ids.next_suffix(), "abcd0123000000000008");
        ids.next.store(1_234_567_890_123_456, Ordering::Relaxed);
        assert_eq!(ids.next_suffix(), "abcd01231234567890123456");
    }

    #[test]
    fn two_instances_never_share_a_suffix() {
        let (a, b) = (CounterIds::default(), CounterIds::default());

        assert_ne!(a.next_suffix(), b.next_suffix());
    }
}
