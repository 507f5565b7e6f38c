use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::id::{OrgId, PaymentMethodId, PaymentSessionId};
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::ports::{Page, PageRequest};
use crate::wallet::Owner;

/// Which payment sessions a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentSessionFilter {
    /// Only this organization's (`None`: all, for platform admins).
    pub org_id: Option<OrgId>,
    /// Only this provider's.
    pub provider: Option<String>,
    /// Only this status.
    pub status: Option<PaymentStatus>,
    /// Only sessions started by this user.
    pub user_id: Option<crate::id::UserId>,
    /// Created at or after.
    pub from: Option<OffsetDateTime>,
    /// Created at or before.
    pub to: Option<OffsetDateTime>,
    /// The page. Newest first.
    pub page: PageRequest,
}

/// Payment work due at an instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentDueWork {
    /// `created` sessions past `expires_at`.
    pub expired: Vec<PaymentSessionId>,
    /// Sessions in `capturing`, `captured` or `confirming` not updated since the cut-off.
    pub stuck: Vec<PaymentSessionId>,
}

/// A payment method saved at a provider for merchant-initiated charges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedPaymentMethod {
    /// Its id.
    pub id: PaymentMethodId,
    /// Its organization.
    pub org_id: OrgId,
    /// The provider keeping it.
    pub provider: String,
    /// Whose it is.
    pub owner: Owner,
    /// The provider's token (vault id, payment method id).
    pub provider_token: String,
    /// The provider's customer id, when it has one.
    pub provider_customer_id: Option<String>,
    /// What the owner sees (`PayPal wallet a***@example.com`).
    pub label: String,
    /// When it was saved.
    pub created_at: OffsetDateTime,
}

/// Storage of payment sessions (reads), saved payment methods and settings documents.
/// Writes of sessions happen inside a [`UnitOfWork`](crate::ports::UnitOfWork).
#[async_trait]
pub trait PaymentStore: Send + Sync + std::fmt::Debug {
    /// A payment session.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `Corrupt`.
    async fn payment_session(
        &self,
        id: &PaymentSessionId,
    ) -> Result<Option<PaymentSession>, StoreError>;

    /// The session of a provider order.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `Corrupt`.
    async fn payment_session_by_order(
        &self,
        provider: &str,
        order_id: &str,
    ) -> Result<Option<PaymentSession>, StoreError>;

    /// A page of sessions, newest first.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `Corrupt`.
    async fn list_payment_sessions(
        &self,
        filter: &PaymentSessionFilter,
    ) -> Result<Page<PaymentSession>, StoreError>;

    /// Payment work due at `now`: expired sessions and sessions stuck since `stuck_before`.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `Corrupt`.
    async fn payment_due_work(
        &self,
        now: OffsetDateTime,
        stuck_before: OffsetDateTime,
        limit: u32,
    ) -> Result<PaymentDueWork, StoreError>;

    /// Stores a saved payment method.
    ///
    /// # Errors
    /// `StoreError::Duplicate` when the id exists.
    async fn insert_payment_method(&self, method: &SavedPaymentMethod) -> Result<(), StoreError>;

    /// A saved payment method.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn payment_method(
        &self,
        id: &PaymentMethodId,
    ) -> Result<Option<SavedPaymentMethod>, StoreError>;

    /// An organization's saved payment methods, oldest first.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn list_payment_methods(
        &self,
        org_id: &OrgId,
    ) -> Result<Vec<SavedPaymentMethod>, StoreError>;

    /// The saved payment methods whose provider is `provider` and whose provider token is
    /// exactly `provider_token`, in every organization, oldest first. A provider's revocation
    /// webhook names the token, not the organization; the caller acts on each method in its
    /// own organization.
    ///
    /// # Errors
    /// `StoreError::Unavailable` or `Corrupt`.
    async fn payment_methods_by_token(
        &self,
        provider: &str,
        provider_token: &str,
    ) -> Result<Vec<SavedPaymentMethod>, StoreError>;

    /// Deletes a saved payment method; `false` when it did not exist.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn delete_payment_method(&self, id: &PaymentMethodId) -> Result<bool, StoreError>;

    /// A settings document (JSON text) by key: `payments_config`, `payment_settings:{org}`.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError>;

    /// Stores a settings document.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError>;
}
