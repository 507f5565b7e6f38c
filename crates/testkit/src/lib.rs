//! # testkit
//!
//! Test support for purse, used only as a dev-dependency: a controllable clock, deterministic
//! ids, fixtures, the storage contract suite, PostgreSQL test databases and fake payment
//! providers.

mod clock;
mod ids;

pub use clock::ManualClock;
pub use ids::CounterIds;
