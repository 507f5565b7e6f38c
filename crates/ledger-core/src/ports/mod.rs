//! The ports: what the ledger needs from the outside world, as async traits.
//!
//! Adapters implement them (`store-memory`, `store-sqlx`, `provider-*`); the `Ledger` service
//! and the HTTP app call them through `Arc<dyn …>`.

mod clock;
mod directory;
mod idempotency;
mod payment_store;
mod provider;
mod store;

pub use clock::{Clock, IdSource};
pub use directory::{ApiToken, DirectoryStore};
pub use idempotency::{IdempotencyClaim, IdempotencyStore, StoredResponse};
pub use payment_store::{PaymentDueWork, PaymentSessionFilter, PaymentStore, SavedPaymentMethod};
pub use provider::{
    CaptureOutcome, CheckoutCreated, CheckoutRequest, MerchantCharge, OrderState, PaymentProvider,
    ProviderEvent, ProviderEventKind, RefundOutcome, SavedMethod, WebhookRequest,
};
pub use store::{
    AuditSnapshot, CostTicketFilter, CrossOrgReference, DueWork, LedgerStore, Page, PageRequest,
    UnitOfWork, WalletFilter, WalletLineFilter,
};

#[cfg(any(test, feature = "mock"))]
pub use directory::MockDirectoryStore;
#[cfg(any(test, feature = "mock"))]
pub use provider::MockPaymentProvider;
#[cfg(any(test, feature = "mock"))]
pub use store::{MockLedgerStore, MockUnitOfWork};
