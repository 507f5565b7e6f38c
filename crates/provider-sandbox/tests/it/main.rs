//! The payments service of ledger-core driven through the sandbox provider on the memory
//! store: the payment-session state machine end to end, without HTTP.

#![expect(clippy::unwrap_used, reason = "test fixtures panic on a broken set-up")]

mod flows;
mod payments_model;
mod refund_retries;
mod review_fixes;
mod revoked_methods;
mod rules;
mod rules_props;
mod support;
