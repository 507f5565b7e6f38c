use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;

/// A response stored under an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status.
    pub status: u16,
    /// The body, as sent.
    pub body: String,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new: the caller runs the request and then completes or abandons the key.
    Claimed,
    /// Another request with the key is running.
    InFlight {
        /// The fingerprint of that request's body.
        fingerprint: String,
    },
    /// The key was used and its response stored.
    Completed {
        /// The fingerprint of the first request's body.
        fingerprint: String,
        /// The stored response.
        response: StoredResponse,
    },
}

/// Storage of idempotency keys, scoped per organization (or `platform`).
#[async_trait]
pub trait IdempotencyStore: Send + Sync + std::fmt::Debug {
    /// Claims `key` in `scope`, or reports who has it. A claim older than `stale_before` that
    /// was never completed (its process died) is taken over.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn claim(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
    ) -> Result<IdempotencyClaim, StoreError>;

    /// Stores the response of a claimed key.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;

    /// Forgets a claimed key (the request failed with a fault and may be retried).
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn abandon(&self, scope: &str, key: &str) -> Result<(), StoreError>;

    /// Deletes keys created before `before`; returns how many.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn purge(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}
