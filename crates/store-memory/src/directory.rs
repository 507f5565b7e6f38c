use async_trait::async_trait;
use ledger_core::error::StoreError;
use ledger_core::id::{OrgId, TeamId, TokenId, UserId};
use ledger_core::ports::{ApiToken, DirectoryStore};
use ledger_core::tenancy::{Organization, Team, User, WalletSettings};
use time::OffsetDateTime;

use crate::MemoryStore;

#[async_trait]
impl DirectoryStore for MemoryStore {
    async fn insert_org(&self, org: &Organization) -> Result<(), StoreError> {
        let mut state = self.state.lock().await;
        let taken = org.external_id.is_some()
            && state
                .orgs
                .values()
                .any(|other| other.external_id == org.external_id);
        if taken || state.orgs.contains_key(&org.id) {
            return Err(StoreError::Duplicate(format!("organization {}", org.id)));
        }
        state.orgs.insert(org.id.clone(), org.clone());
        Ok(())
    }

    async fn org(&self, id: &OrgId) -> Result<Option<Organization>, StoreError> {
        Ok(self.state.lock().await.orgs.get(id).cloned())
    }

    async fn org_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<Organization>, StoreError> {
        let state = self.state.lock().await;
        Ok(state
            .orgs
            .values()
            .find(|org| org.external_id.as_deref() == Some(external_id))
            .cloned())
    }

    async fn insert_team(&self, team: &Team) -> Result<(), StoreError> {
        self.state
            .lock()
            .await
            .teams
            .insert(team.id.clone(), team.clone());
        Ok(())
    }

    async fn team(&self, id: &TeamId) -> Result<Option<Team>, StoreError> {
        Ok(self.state.lock().await.teams.get(id).cloned())
    }

    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        let mut state = self.state.lock().await;
        let taken = state.users.values().any(|other| {
            other.org_id == user.org_id
                && (other.email == user.email
                    || (user.external_id.is_some() && other.external_id == user.external_id))
        });
        if taken || state.users.contains_key(&user.id) {
            return Err(StoreError::Duplicate(format!("user {}", user.email)));
        }
        state.users.insert(user.id.clone(), user.clone());
        Ok(())
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        Ok(self.state.lock().await.users.get(id).cloned())
    }

    async fn user_by_external_id(&self, external_id: &str) -> Result<Option<User>, StoreError> {
        let state = self.state.lock().await;
        Ok(state
            .users
            .values()
            .find(|user| user.external_id.as_deref() == Some(external_id))
            .cloned())
    }

    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        let mut state = self.state.lock().await;
        if state.tokens.values().any(|other| other.hash == token.hash) {
            return Err(StoreError::Duplicate("token".to_owned()));
        }
        state.tokens.insert(token.id.clone(), token.clone());
        Ok(())
    }

    async fn token(&self, id: &TokenId) -> Result<Option<ApiToken>, StoreError> {
        Ok(self.state.lock().await.tokens.get(id).cloned())
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let state = self.state.lock().await;
        Ok(state
            .tokens
            .values()
            .find(|token| token.hash == hash)
            .cloned())
    }

    async fn revoke_token(&self, id: &TokenId, at: OffsetDateTime) -> Result<bool, StoreError> {
        let mut state = self.state.lock().await;
        Ok(match state.tokens.get_mut(id) {
            Some(token) => {
                token.revoked_at.get_or_insert(at);
                true
            }
            None => false,
        })
    }

    async fn wallet_settings(&self, org_id: &OrgId) -> Result<WalletSettings, StoreError> {
        Ok(self
            .state
            .lock()
            .await
            .settings
            .get(org_id)
            .cloned()
            .unwrap_or_default())
    }

    async fn put_wallet_settings(
        &self,
        org_id: &OrgId,
        settings: &WalletSettings,
    ) -> Result<(), StoreError> {
        self.state
            .lock()
            .await
            .settings
            .insert(org_id.clone(), settings.clone());
        Ok(())
    }
}
