//! The configuration of purse's model-based property tests.

use proptest::test_runner::{Config, FileFailurePersistence};

/// The cases a property test runs when `PROPTEST_CASES` does not say another number.
pub const CASES_MIN: u32 = 256;

/// `PROPTEST_CASES` cases (`CASES_MIN` when unset or not a number), shrinking at most
/// `max_shrink_iters` times, with failing cases kept in `regressions`: a path relative to the
/// package root, where `cargo test` runs the test binary.
pub fn config(regressions: &'static str, max_shrink_iters: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(CASES_MIN);
    Config {
        cases,
        max_shrink_iters,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(regressions))),
        ..Config::default()
    }
}
