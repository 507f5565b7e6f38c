//! Wallets: owner, currency, rate, paid and granted balances, holds, debt and lifecycle.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::LedgerError;
use crate::id::{OrgId, TeamId, UserId, WalletId};
use crate::money::{Credits, Currency};
use crate::topup_rule::TopupRule;

/// What kind of thing owns a wallet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerType {
    /// A user.
    User,
    /// A team.
    Team,
    /// An organization.
    Organization,
}

impl OwnerType {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Team => "team",
            Self::Organization => "organization",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Self::User),
            "team" => Some(Self::Team),
            "organization" => Some(Self::Organization),
            _ => None,
        }
    }

    /// The depth in the tree: organization 0, team 1, user 2. Allocation moves credits to a
    /// deeper owner, reclaim to a shallower one.
    pub fn depth(&self) -> u8 {
        match self {
            Self::Organization => 0,
            Self::Team => 1,
            Self::User => 2,
        }
    }
}

/// The owner of a wallet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "owner_type", content = "owner_id", rename_all = "snake_case")]
pub enum Owner {
    /// A user's wallet.
    User(UserId),
    /// A team's wallet.
    Team(TeamId),
    /// An organization's wallet.
    Organization(OrgId),
}

impl Owner {
    /// The kind of owner.
    pub fn owner_type(&self) -> OwnerType {
        match self {
            Self::User(_) => OwnerType::User,
            Self::Team(_) => OwnerType::Team,
            Self::Organization(_) => OwnerType::Organization,
        }
    }

    /// The owner's id as a string.
    pub fn id_str(&self) -> &str {
        match self {
            Self::User(id) => id.as_str(),
            Self::Team(id) => id.as_str(),
            Self::Organization(id) => id.as_str(),
        }
    }

    /// Builds an owner from its type and id string.
    ///
    /// # Errors
    /// Returns the id's parse error when the id does not carry the type's prefix.
    pub fn parse(owner_type: OwnerType, id: &str) -> Result<Self, crate::error::ParseIdError> {
        Ok(match owner_type {
            OwnerType::User => Self::User(UserId::parse(id)?),
            OwnerType::Team => Self::Team(TeamId::parse(id)?),
            OwnerType::Organization => Self::Organization(OrgId::parse(id)?),
        })
    }
}

/// A wallet's lifecycle status (seed 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WalletStatus {
    /// Created, not usable until activated.
    Pending,
    /// Usable.
    Active,
    /// Final: refuses every change; its credits were forfeited.
    Terminated,
}

impl WalletStatus {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Active => "ACTIVE",
            Self::Terminated => "TERMINATED",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "PENDING" => Some(Self::Pending),
            "ACTIVE" => Some(Self::Active),
            "TERMINATED" => Some(Self::Terminated),
            _ => None,
        }
    }

    /// PENDING → ACTIVE.
    ///
    /// # Errors
    /// [`LedgerError::InvalidTransition`] from any other status.
    pub fn activate(self) -> Result<Self, LedgerError> {
        match self {
            Self::Pending => Ok(Self::Active),
            Self::Active | Self::Terminated => Err(self.refuse(Self::Active)),
        }
    }

    /// PENDING or ACTIVE → TERMINATED.
    ///
    /// # Errors
    /// [`LedgerError::InvalidTransition`] when already terminated.
    pub fn terminate(self) -> Result<Self, LedgerError> {
        match self {
            Self::Pending | Self::Active => Ok(Self::Terminated),
            Self::Terminated => Err(self.refuse(Self::Terminated)),
        }
    }

    fn refuse(self, to: Self) -> LedgerError {
        LedgerError::InvalidTransition {
            kind: "wallet",
            from: self.as_str().to_owned(),
            to: to.as_str().to_owned(),
        }
    }
}

impl fmt::Display for WalletStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of fee a charge pays for; a wallet names the kinds it may pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FeeType {
    /// Subscription fees.
    Subscription,
    /// Minimum commitments.
    Commitment,
    /// Usage-based charges (AI requests).
    Charge,
}

impl FeeType {
    /// All fee types: what a wallet pays for when it names none.
    pub const ALL: [Self; 3] = [Self::Subscription, Self::Commitment, Self::Charge];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Subscription => "SUBSCRIPTION",
            Self::Commitment => "COMMITMENT",
            Self::Charge => "CHARGE",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "SUBSCRIPTION" => Some(Self::Subscription),
            "COMMITMENT" => Some(Self::Commitment),
            "CHARGE" => Some(Self::Charge),
            _ => None,
        }
    }
}

/// A prepaid wallet.
///
/// Invariants (checked by [`Wallet::check_invariants`] after every change):
/// `paid >= 0`, `granted >= 0`, `held >= 0`, `debt >= 0`, `held <= paid + granted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wallet {
    /// Its id.
    pub id: WalletId,
    /// Its organization.
    pub org_id: OrgId,
    /// Who owns it.
    pub owner: Owner,
    /// A display name.
    pub name: Option<String>,
    /// Lifecycle status.
    pub status: WalletStatus,
    /// Its currency.
    pub currency: Currency,
    /// Money per credit.
    pub rate_amount: Decimal,
    /// Paid credits, including those under holds.
    pub paid: Credits,
    /// Granted credits, including those under holds.
    pub granted: Credits,
    /// Credits under open reservations.
    pub held: Credits,
    /// Credits owed after a reversal took back credits already spent.
    pub debt: Credits,
    /// Credits charged by settles and charges, ever.
    pub total_spent: Credits,
    /// Credits received by allocation, net of reclaim.
    pub total_allocated: Credits,
    /// When the wallet expires (is terminated and its credits forfeited).
    pub expiration_at: Option<OffsetDateTime>,
    /// When a PENDING wallet becomes ACTIVE.
    pub activates_at: Option<OffsetDateTime>,
    /// Lower is tried first inside one owner.
    pub priority: i32,
    /// The fee types it pays.
    pub fee_types: Vec<FeeType>,
    /// Automatic top-up rules.
    pub rules: Vec<TopupRule>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// How healthy a wallet's balance is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Above the organization's low-balance threshold.
    Healthy,
    /// At or below the threshold, above zero.
    Low,
    /// Nothing available.
    Depleted,
}

impl Wallet {
    /// `paid + granted`: everything in the wallet, held or not.
    pub fn balance(&self) -> Credits {
        self.paid.plus(self.granted)
    }

    /// What one new reservation may take: `paid + granted - held`, or zero while in debt.
    pub fn available(&self) -> Credits {
        if !self.debt.is_zero() {
            return Credits::ZERO;
        }
        self.balance().saturating_minus(self.held)
    }

    /// Whether the wallet has expired at `now`.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expiration_at.is_some_and(|at| at <= now)
    }

    /// Whether the wallet is ACTIVE and not past its expiry at `now` (the sweeper may not have
    /// terminated an expired wallet yet).
    pub fn is_active_at(&self, now: OffsetDateTime) -> bool {
        self.status == WalletStatus::Active && !self.is_expired(now)
    }

    /// Whether the wallet may pay a charge of `fee_type` in `currency` at `now`.
    pub fn is_usable(&self, now: OffsetDateTime, currency: Currency, fee_type: FeeType) -> bool {
        self.is_active_at(now)
            && self.currency == currency
            && self.debt.is_zero()
            && self.pays(fee_type)
    }

    /// Whether the wallet pays this fee type.
    pub fn pays(&self, fee_type: FeeType) -> bool {
        self.fee_types.is_empty() || self.fee_types.contains(&fee_type)
    }

    /// The health at a low-balance threshold.
    pub fn health(&self, low_balance_threshold: Credits) -> Health {
        let available = self.available();
        if available.is_zero() {
            Health::Depleted
        } else if available <= low_balance_threshold {
            Health::Low
        } else {
            Health::Healthy
        }
    }

    /// Refuses changes to a terminated wallet.
    ///
    /// # Errors
    /// [`LedgerError::Conflict`] `wallet_terminated` when the wallet is TERMINATED.
    pub fn ensure_not_terminated(&self) -> Result<(), LedgerError> {
        if self.status == WalletStatus::Terminated {
            return Err(LedgerError::conflict(
                "wallet_terminated",
                format!("wallet {} is terminated and refuses every change", self.id),
            ));
        }
        Ok(())
    }

    /// Checks the balance invariants.
    ///
    /// # Panics
    /// When `held > paid + granted`: a corrupt ledger must stop, not limp on. (The other
    /// non-negativity invariants hold by the type of [`Credits`].)
    pub fn check_invariants(&self) {
        assert!(
            self.held <= self.balance(),
            "wallet {} holds {} of {}",
            self.id,
            self.held,
            self.balance()
        );
    }
}
