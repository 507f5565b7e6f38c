//! Organizations, teams and users.

use axum::extract::State;
use axum::http::StatusCode;
use ledger_core::error::StoreError;
use ledger_core::id::{OrgId, TeamId};
use ledger_core::money::Currency;
use ledger_core::tenancy::{Organization, Team, User, UserRole};
use serde::{Deserialize, Serialize};

use super::{RouteSpec, post};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Json, Path, parse_id, path_id};
use crate::http::views::rfc3339;

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        post("/v1/admin/orgs", create_org)
            .created()
            .tag("tenancy")
            .summary("Create an organization")
            .roles("platform_admin"),
        post("/v1/orgs/{org_id}/teams", create_team)
            .created()
            .tag("tenancy")
            .summary("Create a team")
            .roles("org_admin, platform_admin"),
        post("/v1/orgs/{org_id}/users", create_user)
            .created()
            .tag("tenancy")
            .summary("Create a user")
            .roles("org_admin, platform_admin"),
    ]
}

/// `POST /v1/admin/orgs` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrgBody {
    name: String,
    external_id: Option<String>,
    default_currency: Option<Currency>,
}

/// An organization.
#[derive(Debug, Serialize)]
pub struct OrgView {
    id: String,
    name: String,
    external_id: Option<String>,
    default_currency: String,
    created_at: String,
}

impl OrgView {
    fn of(org: &Organization) -> Self {
        Self {
            id: org.id.to_string(),
            name: org.name.clone(),
            external_id: org.external_id.clone(),
            default_currency: org.default_currency.code().to_owned(),
            created_at: rfc3339(org.created_at),
        }
    }
}

fn check_name(field: &str, name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::invalid(
            field,
            format!("{field} must be 1 to 200 characters"),
        ));
    }
    Ok(name.to_owned())
}

fn check_external_id(external_id: Option<String>) -> Result<Option<String>, ApiError> {
    match external_id {
        Some(id) if id.trim().is_empty() || id.len() > 200 => Err(ApiError::invalid(
            "external_id",
            "external_id must be 1 to 200 characters",
        )),
        other => Ok(other),
    }
}

async fn create_org(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<NewOrgBody>,
) -> ApiResult<(StatusCode, axum::Json<OrgView>)> {
    principal.require(Permission::Platform)?;
    let default_currency = match body.default_currency {
        Some(currency) => currency,
        None => Currency::parse("USD").map_err(|error| ApiError::internal(&error))?,
    };
    let org = Organization {
        id: OrgId::from_suffix(&state.ledger.ids().next_suffix()),
        name: check_name("name", &body.name)?,
        external_id: check_external_id(body.external_id)?,
        default_currency,
        created_at: state.ledger.clock().now(),
    };
    state
        .directory
        .insert_org(&org)
        .await
        .map_err(|error| match error {
            StoreError::Duplicate(_) => ApiError::conflict(
                "external_id_taken",
                "another organization has this external_id",
            ),
            other => other.into(),
        })?;
    tracing::info!(org.id = %org.id, "organization created");
    Ok((StatusCode::CREATED, axum::Json(OrgView::of(&org))))
}

/// The organization of a path, checked to exist and to be the caller's.
pub async fn path_org(
    state: &AppState,
    principal: &Principal,
    org_id: &str,
) -> ApiResult<Organization> {
    let id: OrgId = path_id("organization", org_id)?;
    principal.check_org(&id, "organization", org_id)?;
    state
        .directory
        .org(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("organization", org_id))
}

/// `POST /v1/orgs/{org_id}/teams` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTeamBody {
    name: String,
}

/// A team.
#[derive(Debug, Serialize)]
pub struct TeamView {
    id: String,
    org_id: String,
    name: String,
}

async fn create_team(
    State(state): State<AppState>,
    principal: Principal,
    Path(org_id): Path<String>,
    Json(body): Json<NewTeamBody>,
) -> ApiResult<(StatusCode, axum::Json<TeamView>)> {
    principal.require(Permission::ManageTenancy)?;
    let org = path_org(&state, &principal, &org_id).await?;
    let team = Team {
        id: TeamId::from_suffix(&state.ledger.ids().next_suffix()),
        org_id: org.id,
        name: check_name("name", &body.name)?,
    };
    state.directory.insert_team(&team).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(TeamView {
            id: team.id.to_string(),
            org_id: team.org_id.to_string(),
            name: team.name,
        }),
    ))
}

/// `POST /v1/orgs/{org_id}/users` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    email: String,
    name: Option<String>,
    external_id: Option<String>,
    role: UserRole,
    #[serde(default)]
    team_ids: Vec<String>,
    #[serde(default)]
    team_owner_of: Vec<String>,
}

/// A user.
#[derive(Debug, Serialize)]
pub struct UserView {
    id: String,
    org_id: String,
    email: String,
    name: Option<String>,
    external_id: Option<String>,
    role: UserRole,
    team_ids: Vec<String>,
    team_owner_of: Vec<String>,
    created_at: String,
}

impl UserView {
    /// The view of a user.
    pub fn of(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            org_id: user.org_id.to_string(),
            email: user.email.clone(),
            name: user.name.clone(),
            external_id: user.external_id.clone(),
            role: user.role,
            team_ids: user.team_ids.iter().map(ToString::to_string).collect(),
            team_owner_of: user.team_owner_of.iter().map(ToString::to_string).collect(),
            created_at: rfc3339(user.created_at),
        }
    }
}

async fn org_teams(
    state: &AppState,
    org: &Organization,
    field: &str,
    ids: &[String],
) -> ApiResult<Vec<TeamId>> {
    let mut teams = Vec::new();
    for text in ids {
        let id: TeamId = parse_id(field, text)?;
        match state.directory.team(&id).await? {
            Some(team) if team.org_id == org.id => {
                if !teams.contains(&id) {
                    teams.push(id);
                }
            }
            _ => return Err(ApiError::not_found("team", text)),
        }
    }
    Ok(teams)
}

async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(org_id): Path<String>,
    Json(body): Json<NewUserBody>,
) -> ApiResult<(StatusCode, axum::Json<UserView>)> {
    principal.require(Permission::ManageTenancy)?;
    let org = path_org(&state, &principal, &org_id).await?;
    let email = body.email.trim().to_owned();
    let well_formed = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !well_formed {
        return Err(ApiError::invalid(
            "email",
            format!("`{email}` is not an email address"),
        ));
    }
    let name = body
        .name
        .as_deref()
        .map(|name| check_name("name", name))
        .transpose()?;
    let team_ids = org_teams(&state, &org, "team_ids", &body.team_ids).await?;
    let team_owner_of = org_teams(&state, &org, "team_owner_of", &body.team_owner_of).await?;
    let user = User {
        id: ledger_core::id::UserId::from_suffix(&state.ledger.ids().next_suffix()),
        org_id: org.id.clone(),
        email,
        name,
        external_id: check_external_id(body.external_id)?,
        role: body.role,
        team_ids,
        team_owner_of,
        created_at: state.ledger.clock().now(),
    };
    state
        .directory
        .insert_user(&user)
        .await
        .map_err(|error| match error {
            StoreError::Duplicate(_) => ApiError::conflict(
                "user_exists",
                "a user of this organization has this email or external_id",
            ),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, axum::Json(UserView::of(&user))))
}
