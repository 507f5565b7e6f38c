use async_trait::async_trait;
use ledger_core::error::StoreError;
use ledger_core::id::{OrgId, PaymentMethodId, PaymentSessionId};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::{
    Page, PaymentDueWork, PaymentSessionFilter, PaymentStore, SavedPaymentMethod,
};
use time::OffsetDateTime;

use crate::MemoryStore;

fn session_matches(session: &PaymentSession, filter: &PaymentSessionFilter) -> bool {
    filter
        .org_id
        .as_ref()
        .is_none_or(|org| session.org_id == *org)
        && filter
            .provider
            .as_deref()
            .is_none_or(|provider| session.provider == provider)
        && filter.status.is_none_or(|status| session.status == status)
        && filter
            .user_id
            .as_ref()
            .is_none_or(|user| session.user_id.as_ref() == Some(user))
        && filter.from.is_none_or(|from| session.created_at >= from)
        && filter.to.is_none_or(|to| session.created_at <= to)
}

#[async_trait]
impl PaymentStore for MemoryStore {
    async fn payment_session(
        &self,
        id: &PaymentSessionId,
    ) -> Result<Option<PaymentSession>, StoreError> {
        Ok(self.state.lock().await.sessions.get(id).cloned())
    }

    async fn payment_session_by_order(
        &self,
        provider: &str,
        order_id: &str,
    ) -> Result<Option<PaymentSession>, StoreError> {
        let state = self.state.lock().await;
        Ok(state
            .sessions
            .values()
            .find(|session| {
                session.provider == provider
                    && session.provider_order_id.as_deref() == Some(order_id)
            })
            .cloned())
    }

    async fn list_payment_sessions(
        &self,
        filter: &PaymentSessionFilter,
    ) -> Result<Page<PaymentSession>, StoreError> {
        let state = self.state.lock().await;
        let mut sessions: Vec<PaymentSession> = state
            .sessions
            .values()
            .filter(|session| session_matches(session, filter))
            .cloned()
            .collect();
        sessions.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let offset = usize::try_from(filter.page.offset()).unwrap_or(usize::MAX);
        let per_page = usize::try_from(filter.page.per_page).unwrap_or(usize::MAX);
        Ok(Page {
            total: sessions.len() as u64,
            items: sessions.into_iter().skip(offset).take(per_page).collect(),
        })
    }

    async fn payment_due_work(
        &self,
        now: OffsetDateTime,
        stuck_before: OffsetDateTime,
        limit: u32,
    ) -> Result<PaymentDueWork, StoreError> {
        let state = self.state.lock().await;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut expired: Vec<PaymentSessionId> = state
            .sessions
            .values()
            .filter(|session| session.status == PaymentStatus::Created && session.expires_at <= now)
            .map(|session| session.id.clone())
            .collect();
        let mut stuck: Vec<(OffsetDateTime, PaymentSessionId)> = state
            .sessions
            .values()
            .filter(|session| {
                matches!(
                    session.status,
                    PaymentStatus::Capturing | PaymentStatus::Captured | PaymentStatus::Confirming
                ) && session.updated_at <= stuck_before
            })
            .map(|session| (session.updated_at, session.id.clone()))
            .collect();
        expired.sort();
        // Least recently updated first: sessions the reconciler re-queued come last.
        stuck.sort();
        let mut stuck: Vec<PaymentSessionId> = stuck.into_iter().map(|(_, id)| id).collect();
        expired.truncate(limit);
        stuck.truncate(limit);
        Ok(PaymentDueWork { expired, stuck })
    }

    async fn insert_payment_method(&self, method: &SavedPaymentMethod) -> Result<(), StoreError> {
        let mut state = self.state.lock().await;
        if state.payment_methods.contains_key(&method.id) {
            return Err(StoreError::Duplicate(format!(
                "payment method {}",
                method.id
            )));
        }
        state
            .payment_methods
            .insert(method.id.clone(), method.clone());
        Ok(())
    }

    async fn payment_method(
        &self,
        id: &PaymentMethodId,
    ) -> Result<Option<SavedPaymentMethod>, StoreError> {
        Ok(self.state.lock().await.payment_methods.get(id).cloned())
    }

    async fn list_payment_methods(
        &self,
        org_id: &OrgId,
    ) -> Result<Vec<SavedPaymentMethod>, StoreError> {
        let state = self.state.lock().await;
        let mut methods: Vec<SavedPaymentMethod> = state
            .payment_methods
            .values()
            .filter(|method| method.org_id == *org_id)
            .cloned()
            .collect();
        methods.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(methods)
    }

    async fn payment_methods_by_token(
        &self,
        provider: &str,
        provider_token: &str,
    ) -> Result<Vec<SavedPaymentMethod>, StoreError> {
        let state = self.state.lock().await;
        let mut methods: Vec<SavedPaymentMethod> = state
            .payment_methods
            .values()
            .filter(|method| method.provider == provider && method.provider_token == provider_token)
            .cloned()
            .collect();
        methods.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(methods)
    }

    async fn delete_payment_method(&self, id: &PaymentMethodId) -> Result<bool, StoreError> {
        Ok(self.state.lock().await.payment_methods.remove(id).is_some())
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.state.lock().await.settings_documents.get(key).cloned())
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.state
            .lock()
            .await
            .settings_documents
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }
}
