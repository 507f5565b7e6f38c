//! # testkit
//!
//! Test support for purse, used only as a dev-dependency: a controllable clock, deterministic
//! ids, fixtures, the storage contract suite, PostgreSQL test databases, fake payment
//! providers and a pass-through store whose units of work a test can watch or break.
//!
//! Module owners (parallel work, keep out of each other's files): `contract` and `pg` belong to
//! the storage work; `fake_paypal` and `fake_revolut` to the providers work.

mod clock;
pub mod contract;
pub mod fake_paypal;
pub mod fake_revolut;
mod ids;
pub mod pg;
pub mod props;
pub mod tapped_store;

pub use clock::ManualClock;
pub use ids::CounterIds;
