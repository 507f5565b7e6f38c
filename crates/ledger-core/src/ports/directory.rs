use async_trait::async_trait;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::id::{OrgId, TeamId, TokenId, UserId};
use crate::tenancy::{Organization, Team, User, WalletSettings};

/// A bearer token as stored: only its hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Its id.
    pub id: TokenId,
    /// Its organization (`None` for platform admins).
    pub org_id: Option<OrgId>,
    /// The user it acts as, when any.
    pub user_id: Option<UserId>,
    /// Its role's wire name (`member`, `gateway`, …); the app owns the policy.
    pub role: String,
    /// A display name.
    pub name: String,
    /// The hex SHA-256 of the secret.
    pub hash: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it was revoked.
    pub revoked_at: Option<OffsetDateTime>,
}

/// Storage of the tenancy, tokens and organization settings.
#[cfg_attr(any(test, feature = "mock"), mockall::automock)]
#[async_trait]
pub trait DirectoryStore: Send + Sync + std::fmt::Debug {
    /// Stores an organization.
    ///
    /// # Errors
    /// `StoreError::Duplicate` when its `external_id` is taken.
    async fn insert_org(&self, org: &Organization) -> Result<(), StoreError>;
    /// An organization.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn org(&self, id: &OrgId) -> Result<Option<Organization>, StoreError>;
    /// An organization by its external id.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn org_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<Organization>, StoreError>;
    /// Stores a team.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn insert_team(&self, team: &Team) -> Result<(), StoreError>;
    /// A team.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn team(&self, id: &TeamId) -> Result<Option<Team>, StoreError>;
    /// Stores a user.
    ///
    /// # Errors
    /// `StoreError::Duplicate` when its email or external id is taken in its organization.
    async fn insert_user(&self, user: &User) -> Result<(), StoreError>;
    /// A user.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    /// A user by its external id, in any organization.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn user_by_external_id(&self, external_id: &str) -> Result<Option<User>, StoreError>;
    /// Stores a token.
    ///
    /// # Errors
    /// `StoreError::Duplicate` when the hash exists.
    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError>;
    /// A token by id.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn token(&self, id: &TokenId) -> Result<Option<ApiToken>, StoreError>;
    /// A token by the hash of its secret.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError>;
    /// Revokes a token; `false` when it does not exist.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn revoke_token(&self, id: &TokenId, at: OffsetDateTime) -> Result<bool, StoreError>;
    /// The organization's wallet settings, defaults when none are stored.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn wallet_settings(&self, org_id: &OrgId) -> Result<WalletSettings, StoreError>;
    /// Stores the organization's wallet settings.
    ///
    /// # Errors
    /// `StoreError::Unavailable`.
    async fn put_wallet_settings(
        &self,
        org_id: &OrgId,
        settings: &WalletSettings,
    ) -> Result<(), StoreError>;
}
