//! Bearer tokens and roles.
//!
//! Tokens are random secrets shown once; only their SHA-256 is stored. Every request looks its
//! token up again, so a revoked token stops working at once. `PURSE_BOOTSTRAP_TOKEN` is a
//! platform admin that lives in the configuration, not the database.

use std::fmt;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use ledger_core::id::{OrgId, TeamId, TokenId, UserId};
use ledger_core::tenancy::User;
use ledger_core::wallet::{Owner, Wallet};
use ring::digest;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;

/// A token's role (team ownership is a property of the token's user, not a role of the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads and spends for itself.
    Member,
    /// Wallets and payments of its organization.
    BillingAdmin,
    /// Everything inside its organization.
    OrgAdmin,
    /// The AI gateway: reserve, settle, release and read balances for any user of its org.
    Gateway,
    /// Creates organizations, `/v1/admin/*`, acts in any organization.
    PlatformAdmin,
}

impl Role {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::BillingAdmin => "billing_admin",
            Self::OrgAdmin => "org_admin",
            Self::Gateway => "gateway",
            Self::PlatformAdmin => "platform_admin",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Member,
            Self::BillingAdmin,
            Self::OrgAdmin,
            Self::Gateway,
            Self::PlatformAdmin,
        ]
        .into_iter()
        .find(|role| role.as_str() == text)
    }

    /// Whether a holder of `self` may mint a token of `other` (never more power than its own).
    pub fn may_mint(self, other: Self) -> bool {
        match self {
            Self::PlatformAdmin => true,
            Self::OrgAdmin => other != Self::PlatformAdmin,
            Self::BillingAdmin | Self::Member | Self::Gateway => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a route needs; `Principal::require` is the one place that says which role has what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Create organizations, cross-organization admin routes, the test clock.
    Platform,
    /// Teams, users and tokens of the organization.
    ManageTenancy,
    /// Create, credit, debit, patch, activate, terminate, allocate, reclaim wallets.
    ManageWallets,
    /// Read every wallet and history line of the organization.
    ReadAllWallets,
    /// Reserve, settle, release and redeem for any user of the organization.
    SpendForAnyone,
    /// Reserve, settle, release and redeem for itself.
    SpendForSelf,
    /// One-step charges of any owner.
    Charge,
    /// Read the organization's wallet settings.
    ReadWalletSettings,
}

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token (`None` for the bootstrap token).
    pub token_id: Option<TokenId>,
    /// Its role.
    pub role: Role,
    /// Its organization (`None` for platform admins).
    pub org_id: Option<OrgId>,
    /// Its user, with the user's memberships.
    pub user: Option<User>,
}

impl Principal {
    /// Whether the role grants `permission`.
    pub fn has(&self, permission: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match (self.role, permission) {
            (R::PlatformAdmin, _) => true,
            (_, P::Platform) => false,
            (R::OrgAdmin, _) => true,
            (
                R::BillingAdmin,
                P::ManageWallets | P::ReadAllWallets | P::ReadWalletSettings | P::SpendForSelf,
            ) => true,
            (R::BillingAdmin, P::ManageTenancy | P::SpendForAnyone | P::Charge) => false,
            (R::Gateway, P::ReadAllWallets | P::SpendForAnyone | P::Charge) => true,
            (
                R::Gateway,
                P::ManageTenancy | P::ManageWallets | P::ReadWalletSettings | P::SpendForSelf,
            ) => false,
            (R::Member, P::SpendForSelf) => true,
            (
                R::Member,
                P::ManageTenancy
                | P::ManageWallets
                | P::ReadAllWallets
                | P::SpendForAnyone
                | P::Charge
                | P::ReadWalletSettings,
            ) => false,
        }
    }

    /// 403 unless the role grants `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} token may not do this",
                self.role
            )))
        }
    }

    /// Whether this is a platform admin.
    pub fn is_platform(&self) -> bool {
        self.role == Role::PlatformAdmin
    }

    /// 404 unless the principal acts in `org_id` (platform admins act in every organization).
    pub fn check_org(&self, org_id: &OrgId, kind: &str, id: &str) -> Result<(), ApiError> {
        if self.is_platform() || self.org_id.as_ref() == Some(org_id) {
            Ok(())
        } else {
            Err(ApiError::not_found(kind, id))
        }
    }

    /// The organization the principal acts in, or 400 for a platform admin that must name one.
    pub fn own_org(&self) -> Result<&OrgId, ApiError> {
        self.org_id
            .as_ref()
            .ok_or_else(|| ApiError::bad_request("a platform admin must name the organization"))
    }

    /// The user's id, when the token acts as a user.
    pub fn user_id(&self) -> Option<&UserId> {
        self.user.as_ref().map(|user| &user.id)
    }

    /// Whether the token's user owns the team.
    pub fn owns_team(&self, team: &TeamId) -> bool {
        self.user
            .as_ref()
            .is_some_and(|user| user.team_owner_of.contains(team))
    }

    /// Whether the token's user belongs to (or owns) the team.
    pub fn in_team(&self, team: &TeamId) -> bool {
        self.user.as_ref().is_some_and(|user| user.is_in_team(team))
    }

    /// The owners whose wallets and history a caller without `ReadAllWallets` sees: its user
    /// and the teams it owns.
    pub fn visible_owners(&self) -> Vec<Owner> {
        let Some(user) = &self.user else {
            return Vec::new();
        };
        let mut owners = vec![Owner::User(user.id.clone())];
        owners.extend(user.team_owner_of.iter().cloned().map(Owner::Team));
        owners
    }

    /// 404 for another organization's wallet, 403 for one of the organization the caller may
    /// not see.
    pub fn check_wallet_visible(&self, wallet: &Wallet) -> Result<(), ApiError> {
        self.check_org(&wallet.org_id, "wallet", wallet.id.as_str())?;
        if self.has(Permission::ReadAllWallets) || self.visible_owners().contains(&wallet.owner) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "wallet {} belongs to another owner",
                wallet.id
            )))
        }
    }

    /// The principal recorded in the journal: the token id, or `bootstrap`.
    pub fn journal_name(&self) -> String {
        match &self.token_id {
            Some(id) => id.to_string(),
            None => "bootstrap".to_owned(),
        }
    }

    /// The idempotency scope: the organization, or `platform`.
    pub fn idempotency_scope(&self) -> String {
        match &self.org_id {
            Some(org_id) if !self.is_platform() => org_id.to_string(),
            _ => "platform".to_owned(),
        }
    }
}

/// The hex SHA-256 of a token secret: what the database stores.
pub fn hash_token(secret: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, secret.as_bytes()))
}

/// A new token secret: `purse_` and 40 random characters (200 bits).
pub fn new_secret() -> String {
    format!("purse_{}", crate::ids::random_string(40))
}

/// Middleware of the authenticated routes: resolves the bearer token to a [`Principal`] in
/// the request's extensions, or answers 401.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let secret = bearer(request.headers())?;
    let principal = resolve(&state, &secret).await?;
    tracing::Span::current().record("principal.role", principal.role.as_str());
    request.extensions_mut().insert(principal);
    Ok(next.run(request).await)
}

fn bearer(headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
    let value = headers
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token> header"))?;
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
    let (scheme, token) = text.split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("the Authorization header is not `Bearer <token>`")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header is not `Bearer <token>`",
        ));
    }
    Ok(token.trim().to_owned())
}

async fn resolve(state: &AppState, secret: &str) -> Result<Principal, ApiError> {
    let hash = hash_token(secret);
    // Comparing hashes, not secrets: the time taken says nothing about the secret.
    if state.bootstrap_token_hash.as_deref() == Some(hash.as_str()) {
        return Ok(Principal {
            token_id: None,
            role: Role::PlatformAdmin,
            org_id: None,
            user: None,
        });
    }
    let invalid = || ApiError::unauthorized("the token is not valid");
    let token = state
        .directory
        .token_by_hash(&hash)
        .await?
        .ok_or_else(invalid)?;
    if token.revoked_at.is_some() {
        return Err(ApiError::unauthorized("the token was revoked"));
    }
    let role = Role::parse(&token.role).ok_or_else(invalid)?;
    let user = match &token.user_id {
        Some(user_id) => Some(state.directory.user(user_id).await?.ok_or_else(invalid)?),
        None => None,
    };
    Ok(Principal {
        token_id: Some(token.id),
        role,
        org_id: token.org_id,
        user,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token> header"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nobody_but_a_platform_admin_mints_more_power_than_its_own() {
        assert!(Role::OrgAdmin.may_mint(Role::Gateway));
        assert!(Role::OrgAdmin.may_mint(Role::OrgAdmin));
        assert!(!Role::OrgAdmin.may_mint(Role::PlatformAdmin));
        assert!(!Role::BillingAdmin.may_mint(Role::Member));
        assert!(Role::PlatformAdmin.may_mint(Role::PlatformAdmin));
    }

    #[test]
    fn token_hashes_are_hex_sha256() {
        assert_eq!(
            hash_token("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
