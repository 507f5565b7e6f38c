//! [`DirectoryStore`]: tenancy, tokens and wallet settings. Engine-neutral: compiled once per
//! engine.

use async_trait::async_trait;
use ledger_core::error::StoreError;
use ledger_core::id::{OrgId, TeamId, TokenId, UserId};
use ledger_core::ports::{ApiToken, DirectoryStore};
use ledger_core::tenancy::{Organization, Team, User, UserRole, WalletSettings};
use ledger_core::wallet::OwnerType;
use time::OffsetDateTime;

use super::{Amount, Db, Store, amount, decimal};
use crate::codec::{
    credits, currency, from_json, instant_from_micros, instant_to_micros,
    optional_instant_from_micros, parse, parse_optional, to_json,
};
use crate::error::fail;

type Connection = <Db as sqlx::Database>::Connection;

#[derive(Debug, sqlx::FromRow)]
struct OrganizationRow {
    organization_id: String,
    name: String,
    external_id: Option<String>,
    default_currency: String,
    created_at: i64,
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = StoreError;

    fn try_from(row: OrganizationRow) -> Result<Self, StoreError> {
        Ok(Organization {
            id: parse(&row.organization_id, "organization id")?,
            name: row.name,
            external_id: row.external_id,
            default_currency: currency(&row.default_currency)?,
            created_at: instant_from_micros(row.created_at)?,
        })
    }
}

const ORGANIZATION_COLUMNS: &str =
    "organization_id, name, external_id, default_currency, created_at";

#[derive(Debug, sqlx::FromRow)]
struct UserRow {
    user_id: String,
    organization_id: String,
    email: String,
    name: Option<String>,
    external_id: Option<String>,
    role: String,
    team_ids: String,
    team_owner_of: String,
    created_at: i64,
}

const USER_COLUMNS: &str = r#"
    user_id, organization_id, email, name, external_id, role, team_ids, team_owner_of, created_at
"#;

fn role_name(role: UserRole) -> &'static str {
    match role {
        UserRole::Member => "member",
        UserRole::BillingAdmin => "billing_admin",
        UserRole::OrgAdmin => "org_admin",
    }
}

fn parse_role(text: &str) -> Option<UserRole> {
    [UserRole::Member, UserRole::BillingAdmin, UserRole::OrgAdmin]
        .into_iter()
        .find(|role| role_name(*role) == text)
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: parse(&row.user_id, "user id")?,
            org_id: parse(&row.organization_id, "organization id")?,
            email: row.email,
            name: row.name,
            external_id: row.external_id,
            role: crate::codec::wire(&row.role, "user role", parse_role)?,
            team_ids: from_json(&row.team_ids, "user team ids")?,
            team_owner_of: from_json(&row.team_owner_of, "user owned teams")?,
            created_at: instant_from_micros(row.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct TokenRow {
    token_id: String,
    organization_id: Option<String>,
    user_id: Option<String>,
    role: String,
    name: String,
    hash: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

const TOKEN_COLUMNS: &str =
    "token_id, organization_id, user_id, role, name, hash, created_at, revoked_at";

impl TryFrom<TokenRow> for ApiToken {
    type Error = StoreError;

    fn try_from(row: TokenRow) -> Result<Self, StoreError> {
        Ok(ApiToken {
            id: parse(&row.token_id, "token id")?,
            org_id: parse_optional(row.organization_id.as_deref(), "organization id")?,
            user_id: parse_optional(row.user_id.as_deref(), "user id")?,
            role: row.role,
            name: row.name,
            hash: row.hash,
            created_at: instant_from_micros(row.created_at)?,
            revoked_at: optional_instant_from_micros(row.revoked_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
struct SettingsRow {
    cascade_order: String,
    low_balance_threshold: Amount,
    cost_ticket_ttl_seconds: i64,
    default_reservation_ttl_seconds: i64,
}

impl TryFrom<SettingsRow> for WalletSettings {
    type Error = StoreError;

    fn try_from(row: SettingsRow) -> Result<Self, StoreError> {
        Ok(WalletSettings {
            cascade_order: from_json::<Vec<OwnerType>>(&row.cascade_order, "cascade order")?,
            low_balance_threshold: credits(decimal(row.low_balance_threshold)?)?,
            cost_ticket_ttl_seconds: row.cost_ticket_ttl_seconds,
            default_reservation_ttl_seconds: row.default_reservation_ttl_seconds,
        })
    }
}

/// An organization's wallet settings, defaults when none are stored. Shared with the unit of
/// work, which reads them inside its transaction.
pub(super) async fn wallet_settings(
    connection: &mut Connection,
    org_id: &OrgId,
) -> Result<WalletSettings, StoreError> {
    let row: Option<SettingsRow> = sqlx::query_as(
        r#"
        SELECT cascade_order, low_balance_threshold, cost_ticket_ttl_seconds,
               default_reservation_ttl_seconds
        FROM wallet_settings
        WHERE organization_id = $1
        "#,
    )
    .bind(org_id.as_str())
    .fetch_optional(&mut *connection)
    .await
    .map_err(fail("read wallet settings"))?;
    row.map(WalletSettings::try_from)
        .transpose()
        .map(Option::unwrap_or_default)
}

#[async_trait]
impl DirectoryStore for Store {
    async fn insert_org(&self, org: &Organization) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO organization ({ORGANIZATION_COLUMNS}) VALUES ($1, $2, $3, $4, $5)"
        ))
        .bind(org.id.as_str())
        .bind(org.name.as_str())
        .bind(org.external_id.as_deref())
        .bind(org.default_currency.code())
        .bind(instant_to_micros(org.created_at))
        .execute(&self.pool)
        .await
        .map_err(fail("insert organization"))?;
        Ok(())
    }

    async fn org(&self, id: &OrgId) -> Result<Option<Organization>, StoreError> {
        let row: Option<OrganizationRow> = sqlx::query_as(&format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organization WHERE organization_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read organization"))?;
        row.map(Organization::try_from).transpose()
    }

    async fn org_by_external_id(
        &self,
        external_id: &str,
    ) -> Result<Option<Organization>, StoreError> {
        let row: Option<OrganizationRow> = sqlx::query_as(&format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organization WHERE external_id = $1"
        ))
        .bind(external_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read organization by external id"))?;
        row.map(Organization::try_from).transpose()
    }

    async fn insert_team(&self, team: &Team) -> Result<(), StoreError> {
        // Storing a team again replaces it, as the memory store does.
        sqlx::query(
            r#"
            INSERT INTO team (team_id, organization_id, name)
            VALUES ($1, $2, $3)
            ON CONFLICT (team_id) DO UPDATE
            SET organization_id = excluded.organization_id, name = excluded.name
            "#,
        )
        .bind(team.id.as_str())
        .bind(team.org_id.as_str())
        .bind(team.name.as_str())
        .execute(&self.pool)
        .await
        .map_err(fail("insert team"))?;
        Ok(())
    }

    async fn team(&self, id: &TeamId) -> Result<Option<Team>, StoreError> {
        let row: Option<(String, String, String)> =
            sqlx::query_as("SELECT team_id, organization_id, name FROM team WHERE team_id = $1")
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(fail("read team"))?;
        row.map(|(id, org_id, name)| {
            Ok(Team {
                id: parse(&id, "team id")?,
                org_id: parse(&org_id, "organization id")?,
                name,
            })
        })
        .transpose()
    }

    async fn insert_user(&self, user: &User) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO app_user ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(user.id.as_str())
        .bind(user.org_id.as_str())
        .bind(user.email.as_str())
        .bind(user.name.as_deref())
        .bind(user.external_id.as_deref())
        .bind(role_name(user.role))
        .bind(to_json(&user.team_ids, "team ids")?)
        .bind(to_json(&user.team_owner_of, "owned teams")?)
        .bind(instant_to_micros(user.created_at))
        .execute(&self.pool)
        .await
        .map_err(fail("insert user"))?;
        Ok(())
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM app_user WHERE user_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read user"))?;
        row.map(User::try_from).transpose()
    }

    async fn user_by_external_id(&self, external_id: &str) -> Result<Option<User>, StoreError> {
        let row: Option<UserRow> = sqlx::query_as(&format!(
            r#"
            SELECT {USER_COLUMNS}
            FROM app_user
            WHERE external_id = $1
            ORDER BY created_at, user_id
            LIMIT 1
            "#
        ))
        .bind(external_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read user by external id"))?;
        row.map(User::try_from).transpose()
    }

    async fn insert_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO api_token ({TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(token.id.as_str())
        .bind(token.org_id.as_ref().map(|id| id.as_str()))
        .bind(token.user_id.as_ref().map(|id| id.as_str()))
        .bind(token.role.as_str())
        .bind(token.name.as_str())
        .bind(token.hash.as_str())
        .bind(instant_to_micros(token.created_at))
        .bind(token.revoked_at.map(instant_to_micros))
        .execute(&self.pool)
        .await
        .map_err(fail("insert token"))?;
        Ok(())
    }

    async fn token(&self, id: &TokenId) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_token WHERE token_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read token"))?;
        row.map(ApiToken::try_from).transpose()
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_token WHERE hash = $1"
        ))
        .bind(hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read token by hash"))?;
        row.map(ApiToken::try_from).transpose()
    }

    async fn revoke_token(&self, id: &TokenId, at: OffsetDateTime) -> Result<bool, StoreError> {
        // The first revocation's instant is kept.
        let result = sqlx::query(
            r#"
            UPDATE api_token
            SET revoked_at = COALESCE(revoked_at, $2)
            WHERE token_id = $1
            "#,
        )
        .bind(id.as_str())
        .bind(instant_to_micros(at))
        .execute(&self.pool)
        .await
        .map_err(fail("revoke token"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn wallet_settings(&self, org_id: &OrgId) -> Result<WalletSettings, StoreError> {
        let mut connection = self
            .pool
            .acquire()
            .await
            .map_err(fail("acquire a connection"))?;
        wallet_settings(&mut connection, org_id).await
    }

    async fn put_wallet_settings(
        &self,
        org_id: &OrgId,
        settings: &WalletSettings,
    ) -> Result<(), StoreError> {
        sqlx::query(
            r#"
            INSERT INTO wallet_settings
                (organization_id, cascade_order, low_balance_threshold, cost_ticket_ttl_seconds,
                 default_reservation_ttl_seconds)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (organization_id) DO UPDATE
            SET cascade_order = excluded.cascade_order,
                low_balance_threshold = excluded.low_balance_threshold,
                cost_ticket_ttl_seconds = excluded.cost_ticket_ttl_seconds,
                default_reservation_ttl_seconds = excluded.default_reservation_ttl_seconds
            "#,
        )
        .bind(org_id.as_str())
        .bind(to_json(&settings.cascade_order, "cascade order")?)
        .bind(amount(settings.low_balance_threshold.value()))
        .bind(settings.cost_ticket_ttl_seconds)
        .bind(settings.default_reservation_ttl_seconds)
        .execute(&self.pool)
        .await
        .map_err(fail("store wallet settings"))?;
        Ok(())
    }
}
