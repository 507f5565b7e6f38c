//! Integration tests of ledger-core on the memory store: scenarios, model-based property
//! tests, concurrency and scripted store failures.
#![expect(
    clippy::unwrap_used,
    reason = "helpers outside #[test] functions unwrap as the tests do: a failed unwrap is a failed test"
)]

mod auto_topup_orders;
mod concurrency;
mod deleted_method;
mod failures;
mod interval_paging;
mod invariants;
mod model;
mod scenarios;
mod support;
mod wallet_edits;
