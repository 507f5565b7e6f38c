//! The production id source: random suffixes.

use ledger_core::ports::IdSource;
use rand::Rng;

/// The alphabet of id suffixes: lowercase base32 (no 0, 1, 8, 9 look-alikes).
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Random 20-character suffixes: 100 bits, unique across processes without coordination.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomIds;

/// The length of a suffix.
pub const SUFFIX_LEN: usize = 20;

impl IdSource for RandomIds {
    fn next_suffix(&self) -> String {
        random_string(SUFFIX_LEN)
    }
}

/// `len` random characters of the id alphabet.
pub fn random_string(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_are_twenty_lowercase_base32_characters_and_differ() {
        let a = RandomIds.next_suffix();
        let b = RandomIds.next_suffix();

        assert_eq!(a.len(), SUFFIX_LEN);
        assert!(a.bytes().all(|byte| ALPHABET.contains(&byte)));
        assert_ne!(a, b);
    }
}
