//! Integration tests of ledger-core on the memory store: scenarios, model-based property
//! tests, concurrency and scripted store failures.

mod scenarios;
mod support;
