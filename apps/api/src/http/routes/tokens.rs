//! API tokens: minted by org admins (their organization) and platform admins; shown once.

use axum::extract::State;
use axum::http::StatusCode;
use ledger_core::id::{OrgId, TokenId, UserId};
use ledger_core::ports::{ApiToken, DirectoryStore, IdSource};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{RouteSpec, delete, post};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal, Role, hash_token, new_secret};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, parse_id, path_id};
use crate::http::views::rfc3339;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        post("/v1/tokens", create_token)
            .created()
            .tag("tenancy")
            .summary("Mint a bearer token (shown once)")
            .roles("org_admin (own organization), platform_admin"),
        delete("/v1/tokens/{id}", revoke_token)
            .no_content()
            .tag("tenancy")
            .summary("Revoke a token; it stops working at once")
            .roles("org_admin, platform_admin"),
    ]
}

/// `POST /v1/tokens` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTokenBody {
    org_id: Option<String>,
    user_id: Option<String>,
    role: Role,
    name: Option<String>,
}

/// A token; `token` is present only in the answer that minted it.
#[derive(Debug, Serialize)]
pub struct TokenView {
    id: String,
    token: Option<String>,
    role: String,
    org_id: Option<String>,
    user_id: Option<String>,
    name: String,
    created_at: String,
}

/// What a new token is for.
#[derive(Debug, Clone)]
pub struct MintRequest {
    /// Its organization (`None` only for platform admins).
    pub org_id: Option<OrgId>,
    /// The user it acts as.
    pub user_id: Option<UserId>,
    /// Its role.
    pub role: Role,
    /// A display name.
    pub name: String,
}

/// Checks and stores a new token; answers it with its secret (the only time it is seen).
///
/// # Errors
/// 400 for a platform admin token bound to an organization or a user, an organization token
/// without an organization, a member token without a user; 404 for an unknown organization or
/// a user of another organization.
pub async fn mint(
    directory: &dyn DirectoryStore,
    ids: &dyn IdSource,
    now: OffsetDateTime,
    request: MintRequest,
) -> ApiResult<(ApiToken, String)> {
    let name = request.name.trim().to_owned();
    if name.chars().count() > 200 {
        return Err(ApiError::invalid(
            "name",
            "name must be at most 200 characters",
        ));
    }
    let org_id = match (request.role, request.org_id) {
        (Role::PlatformAdmin, None) => None,
        (Role::PlatformAdmin, Some(_)) => {
            return Err(ApiError::invalid(
                "org_id",
                "a platform_admin token belongs to no organization",
            ));
        }
        (_, None) => {
            return Err(ApiError::invalid("org_id", "this role needs an org_id"));
        }
        (_, Some(org_id)) => {
            if directory.org(&org_id).await?.is_none() {
                return Err(ApiError::not_found("organization", org_id.as_str()));
            }
            Some(org_id)
        }
    };
    if let Some(user_id) = &request.user_id {
        let user = directory.user(user_id).await?;
        let in_org = user.is_some_and(|user| Some(&user.org_id) == org_id.as_ref());
        if !in_org {
            return Err(ApiError::not_found("user", user_id.as_str()));
        }
    } else if request.role == Role::Member {
        return Err(ApiError::invalid(
            "user_id",
            "a member token needs a user_id",
        ));
    }
    let secret = new_secret();
    let token = ApiToken {
        id: TokenId::from_suffix(&ids.next_suffix()),
        org_id,
        user_id: request.user_id,
        role: request.role.as_str().to_owned(),
        name: if name.is_empty() {
            request.role.as_str().to_owned()
        } else {
            name
        },
        hash: hash_token(&secret),
        created_at: now,
        revoked_at: None,
    };
    directory.insert_token(&token).await?;
    Ok((token, secret))
}

async fn create_token(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewTokenBody>,
) -> ApiResult<(StatusCode, axum::Json<TokenView>)> {
    principal.require(Permission::ManageTenancy)?;
    let org_id: Option<OrgId> = body
        .org_id
        .as_deref()
        .map(|text| parse_id("org_id", text))
        .transpose()?;
    let org_id = match (&org_id, principal.is_platform()) {
        (Some(org_id), _) => {
            principal.check_org(org_id, "organization", org_id.as_str())?;
            Some(org_id.clone())
        }
        (None, true) => None,
        (None, false) => principal.org_id.clone(),
    };
    if !principal.role.may_mint(body.role) {
        return Err(ApiError::forbidden(format!(
            "a {} token may not mint a {} token",
            principal.role, body.role
        )));
    }
    let user_id: Option<UserId> = body
        .user_id
        .as_deref()
        .map(|text| parse_id("user_id", text))
        .transpose()?;
    let request = MintRequest {
        org_id,
        user_id,
        role: body.role,
        name: body.name.unwrap_or_default(),
    };
    let now = state.ledger.clock().now();
    let (token, secret) = mint(
        state.directory.as_ref(),
        state.ledger.ids().as_ref(),
        now,
        request,
    )
    .await?;
    tracing::info!(token.id = %token.id, role = %token.role, "token minted");
    Ok((
        StatusCode::CREATED,
        axum::Json(TokenView {
            id: token.id.to_string(),
            token: Some(secret),
            role: token.role,
            org_id: token.org_id.map(|id| id.to_string()),
            user_id: token.user_id.map(|id| id.to_string()),
            name: token.name,
            created_at: rfc3339(token.created_at),
        }),
    ))
}

async fn revoke_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    principal.require(Permission::ManageTenancy)?;
    let token_id: TokenId = path_id("token", &id)?;
    let token = state
        .directory
        .token(&token_id)
        .await?
        .ok_or_else(|| ApiError::not_found("token", &id))?;
    let same_org = token.org_id.is_some() && token.org_id == principal.org_id;
    if !principal.is_platform() && !same_org {
        return Err(ApiError::not_found("token", &id));
    }
    state
        .directory
        .revoke_token(&token_id, state.ledger.clock().now())
        .await?;
    tracing::info!(token.id = %token_id, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}
