//! The tenancy: organizations, teams, users, and an organization's wallet settings.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::{OrgId, TeamId, UserId};
use crate::money::{Credits, Currency};
use crate::wallet::OwnerType;

/// An organization: the unit of tenancy. No operation crosses organizations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Its id.
    pub id: OrgId,
    /// Its display name.
    pub name: String,
    /// The caller's own id for it, unique when set.
    pub external_id: Option<String>,
    /// The currency reserves and checkouts use when they name none.
    pub default_currency: Currency,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A team of an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    /// Its id.
    pub id: TeamId,
    /// Its organization.
    pub org_id: OrgId,
    /// Its display name.
    pub name: String,
}

/// The role a user has in its organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    /// Reads and spends for itself.
    Member,
    /// Manages wallets and payments of its organization.
    BillingAdmin,
    /// Everything inside its organization.
    OrgAdmin,
}

/// A user: belongs to one organization and to zero or more of its teams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Its organization.
    pub org_id: OrgId,
    /// Its email.
    pub email: String,
    /// Its display name.
    pub name: Option<String>,
    /// The caller's own id for it.
    pub external_id: Option<String>,
    /// Its role.
    pub role: UserRole,
    /// The teams it belongs to.
    pub team_ids: Vec<TeamId>,
    /// The teams it owns (a subset of or in addition to `team_ids`).
    pub team_owner_of: Vec<TeamId>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl User {
    /// Whether the user belongs to (or owns) the team.
    pub fn is_in_team(&self, team: &TeamId) -> bool {
        self.team_ids.contains(team) || self.team_owner_of.contains(team)
    }
}

/// An organization's wallet settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletSettings {
    /// The order owners are tried in a reservation's cascade.
    pub cascade_order: Vec<OwnerType>,
    /// Below this available balance a wallet's health is `low`.
    pub low_balance_threshold: Credits,
    /// How long an open cost ticket lives.
    pub cost_ticket_ttl_seconds: i64,
    /// How long a reservation lives when the request names no TTL.
    pub default_reservation_ttl_seconds: i64,
}

impl Default for WalletSettings {
    fn default() -> Self {
        Self {
            cascade_order: vec![OwnerType::User, OwnerType::Team, OwnerType::Organization],
            low_balance_threshold: Credits::ZERO,
            cost_ticket_ttl_seconds: 3600,
            default_reservation_ttl_seconds: 300,
        }
    }
}

impl WalletSettings {
    /// Checks the settings: the cascade names each owner type at most once, TTLs are positive
    /// and bounded (at most 30 days).
    ///
    /// # Errors
    /// Returns a [`ValidationError`](crate::error::ValidationError) naming the bad field.
    pub fn validate(&self) -> Result<(), crate::error::ValidationError> {
        use crate::error::ValidationError;
        let mut seen = Vec::new();
        for owner_type in &self.cascade_order {
            if seen.contains(owner_type) {
                return Err(ValidationError::field(
                    "cascade_order",
                    format!("cascade_order names {} twice", owner_type.as_str()),
                ));
            }
            seen.push(*owner_type);
        }
        if self.cascade_order.is_empty() {
            return Err(ValidationError::field(
                "cascade_order",
                "cascade_order is empty",
            ));
        }
        const MAX_TTL_SECONDS: i64 = 30 * 24 * 3600;
        for (field, value) in [
            ("cost_ticket_ttl_seconds", self.cost_ticket_ttl_seconds),
            (
                "default_reservation_ttl_seconds",
                self.default_reservation_ttl_seconds,
            ),
        ] {
            if !(1..=MAX_TTL_SECONDS).contains(&value) {
                return Err(ValidationError::field(
                    field,
                    format!("{field} must be between 1 and {MAX_TTL_SECONDS}, got {value}"),
                ));
            }
        }
        Ok(())
    }
}
