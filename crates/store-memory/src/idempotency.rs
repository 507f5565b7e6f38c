use async_trait::async_trait;
use ledger_core::error::StoreError;
use ledger_core::ports::{IdempotencyClaim, IdempotencyStore, StoredResponse};
use time::OffsetDateTime;

use crate::MemoryStore;
use crate::state::KeyRecord;

#[async_trait]
impl IdempotencyStore for MemoryStore {
    async fn claim(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut state = self.state.lock().await;
        let id = (scope.to_owned(), key.to_owned());
        if let Some(record) = state.keys.get(&id) {
            match &record.response {
                Some(response) => {
                    return Ok(IdempotencyClaim::Completed {
                        fingerprint: record.fingerprint.clone(),
                        response: response.clone(),
                    });
                }
                None if record.created_at > stale_before => {
                    return Ok(IdempotencyClaim::InFlight {
                        fingerprint: record.fingerprint.clone(),
                    });
                }
                None => {}
            }
        }
        state.keys.insert(
            id,
            KeyRecord {
                fingerprint: fingerprint.to_owned(),
                created_at: now,
                response: None,
            },
        );
        Ok(IdempotencyClaim::Claimed)
    }

    async fn complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let mut state = self.state.lock().await;
        if let Some(record) = state.keys.get_mut(&(scope.to_owned(), key.to_owned())) {
            record.response = Some(response.clone());
        }
        Ok(())
    }

    async fn abandon(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        self.state
            .lock()
            .await
            .keys
            .remove(&(scope.to_owned(), key.to_owned()));
        Ok(())
    }

    async fn purge(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut state = self.state.lock().await;
        let count = state.keys.len();
        state.keys.retain(|_, record| record.created_at >= before);
        Ok((count - state.keys.len()) as u64)
    }
}
