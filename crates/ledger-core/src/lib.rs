//! # ledger-core
//!
//! The pure domain of **purse**: prepaid credit wallets funded by payments, spent through
//! reserve-and-settle, with cost tickets when nothing can pay.
//!
//! - Value types: [`money::Currency`], [`money::Money`], [`money::Credits`], typed ids in [`id`].
//! - The domain: [`wallet::Wallet`], the double-entry [`journal`], [`reservation::Reservation`],
//!   the [`cascade`], [`cost_ticket::CostTicket`], [`topup_rule::TopupRule`].
//! - The ports in [`ports`]: storage ([`ports::LedgerStore`] with its [`ports::UnitOfWork`]),
//!   the directory, idempotency keys, payment providers, [`ports::Clock`] and [`ports::IdSource`].
//! - The service [`Ledger`], which an HTTP app or any Rust service embeds.
//!
//! This crate does no I/O, reads no clock and makes no randomness: everything arrives through
//! the ports. See `examples/embed.rs` for a service embedding it on the memory store.
#![warn(missing_docs)]
#![deny(clippy::float_arithmetic)]

pub mod cascade;
pub mod cost_ticket;
pub mod error;
pub mod id;
pub mod journal;
pub mod money;
pub mod payment_session;
pub mod payments;
pub mod ports;
pub mod reservation;
pub mod service;
pub mod tenancy;
pub mod topup_rule;
pub mod wallet;

pub use error::{LedgerError, ProviderError, StoreError, ValidationError};
pub use service::Ledger;
