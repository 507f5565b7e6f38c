//! HTTP tests: the router driven through `tower::ServiceExt::oneshot` on the memory store.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions: a failed unwrap is a failed test"
)]

mod cli;
mod idempotency;
mod openapi;
mod payments_flows;
mod payments_http;
mod payments_refunds;
mod payments_support;
mod roles;
mod support;
mod validation;
mod wallets;
