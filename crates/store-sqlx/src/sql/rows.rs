//! Row structs of the ledger tables and their mapping to domain values. Engine-neutral:
//! compiled once per engine, with that engine's `Amount`.

use ledger_core::cost_ticket::{CostTicket, CostTicketStatus};
use ledger_core::error::StoreError;
use ledger_core::journal::{EntryKind, WalletLine};
use ledger_core::reservation::{Reservation, ReservationStatus};
use ledger_core::wallet::{FeeType, Owner, OwnerType, Wallet, WalletStatus};

use super::{Amount, decimal};
use crate::codec::{
    credits, currency, from_json, instant_from_micros, optional_instant_from_micros, parse,
    parse_optional, wire,
};

/// The columns of `wallet`, in the order of [`WalletRow`].
pub(super) const WALLET_COLUMNS: &str = r#"
    wallet_id, organization_id, owner_type, owner_id, name, status, currency, rate_amount,
    paid, granted, held, debt, total_spent, total_allocated, expiration_at, activates_at,
    priority, fee_types, rules, created_at, updated_at
"#;

#[derive(Debug, sqlx::FromRow)]
pub(super) struct WalletRow {
    wallet_id: String,
    organization_id: String,
    owner_type: String,
    owner_id: String,
    name: Option<String>,
    status: String,
    currency: String,
    rate_amount: Amount,
    paid: Amount,
    granted: Amount,
    held: Amount,
    debt: Amount,
    total_spent: Amount,
    total_allocated: Amount,
    expiration_at: Option<i64>,
    activates_at: Option<i64>,
    priority: i32,
    fee_types: String,
    rules: String,
    created_at: i64,
    updated_at: i64,
}

fn owner(owner_type: &str, owner_id: &str) -> Result<Owner, StoreError> {
    let owner_type = wire(owner_type, "owner type", OwnerType::parse)?;
    Owner::parse(owner_type, owner_id)
        .map_err(|error| StoreError::Corrupt(format!("owner `{owner_id}`: {error}")))
}

fn optional_credits(
    stored: Option<Amount>,
) -> Result<Option<ledger_core::money::Credits>, StoreError> {
    stored.map(|value| credits(decimal(value)?)).transpose()
}

impl TryFrom<WalletRow> for Wallet {
    type Error = StoreError;

    fn try_from(row: WalletRow) -> Result<Self, StoreError> {
        Ok(Wallet {
            id: parse(&row.wallet_id, "wallet id")?,
            org_id: parse(&row.organization_id, "organization id")?,
            owner: owner(&row.owner_type, &row.owner_id)?,
            name: row.name,
            status: wire(&row.status, "wallet status", WalletStatus::parse)?,
            currency: currency(&row.currency)?,
            rate_amount: decimal(row.rate_amount)?,
            paid: credits(decimal(row.paid)?)?,
            granted: credits(decimal(row.granted)?)?,
            held: credits(decimal(row.held)?)?,
            debt: credits(decimal(row.debt)?)?,
            total_spent: credits(decimal(row.total_spent)?)?,
            total_allocated: credits(decimal(row.total_allocated)?)?,
            expiration_at: optional_instant_from_micros(row.expiration_at)?,
            activates_at: optional_instant_from_micros(row.activates_at)?,
            priority: row.priority,
            fee_types: from_json::<Vec<FeeType>>(&row.fee_types, "wallet fee types")?,
            rules: from_json(&row.rules, "wallet rules")?,
            created_at: instant_from_micros(row.created_at)?,
            updated_at: instant_from_micros(row.updated_at)?,
        })
    }
}

/// The columns of `reservation`, in the order of [`ReservationRow`].
pub(super) const RESERVATION_COLUMNS: &str = r#"
    reservation_id, organization_id, wallet_id, wallet_owner_type, wallet_owner_id, user_id,
    team_id, amount, fee_type, status, expires_at, settled_amount, requested_amount,
    uncollected_amount, released_amount, end_reason, wallet_balance_after, metadata,
    created_at, ended_at
"#;

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ReservationRow {
    reservation_id: String,
    organization_id: String,
    wallet_id: String,
    wallet_owner_type: String,
    wallet_owner_id: String,
    user_id: Option<String>,
    team_id: Option<String>,
    amount: Amount,
    fee_type: String,
    status: String,
    expires_at: i64,
    settled_amount: Option<Amount>,
    requested_amount: Option<Amount>,
    uncollected_amount: Option<Amount>,
    released_amount: Option<Amount>,
    end_reason: Option<String>,
    wallet_balance_after: Option<Amount>,
    metadata: Option<String>,
    created_at: i64,
    ended_at: Option<i64>,
}

impl TryFrom<ReservationRow> for Reservation {
    type Error = StoreError;

    fn try_from(row: ReservationRow) -> Result<Self, StoreError> {
        Ok(Reservation {
            id: parse(&row.reservation_id, "reservation id")?,
            org_id: parse(&row.organization_id, "organization id")?,
            wallet_id: parse(&row.wallet_id, "wallet id")?,
            wallet_owner: owner(&row.wallet_owner_type, &row.wallet_owner_id)?,
            user_id: parse_optional(row.user_id.as_deref(), "user id")?,
            team_id: parse_optional(row.team_id.as_deref(), "team id")?,
            amount: credits(decimal(row.amount)?)?,
            fee_type: wire(&row.fee_type, "fee type", FeeType::parse)?,
            status: wire(&row.status, "reservation status", ReservationStatus::parse)?,
            expires_at: instant_from_micros(row.expires_at)?,
            settled_amount: optional_credits(row.settled_amount)?,
            requested_amount: optional_credits(row.requested_amount)?,
            uncollected_amount: optional_credits(row.uncollected_amount)?,
            released_amount: optional_credits(row.released_amount)?,
            end_reason: row.end_reason,
            wallet_balance_after: optional_credits(row.wallet_balance_after)?,
            metadata: row.metadata,
            created_at: instant_from_micros(row.created_at)?,
            ended_at: optional_instant_from_micros(row.ended_at)?,
        })
    }
}

/// The columns of `cost_ticket`, in the order of [`CostTicketRow`].
pub(super) const COST_TICKET_COLUMNS: &str = r#"
    cost_ticket_id, organization_id, user_id, team_id, currency, required_amount,
    best_available_amount, shortfall_amount, fee_type, status, reservation_id,
    reservation_ttl_seconds, metadata, created_at, resolved_at, expires_at
"#;

#[derive(Debug, sqlx::FromRow)]
pub(super) struct CostTicketRow {
    cost_ticket_id: String,
    organization_id: String,
    user_id: Option<String>,
    team_id: Option<String>,
    currency: String,
    required_amount: Amount,
    best_available_amount: Amount,
    shortfall_amount: Amount,
    fee_type: String,
    status: String,
    reservation_id: Option<String>,
    reservation_ttl_seconds: Option<i64>,
    metadata: Option<String>,
    created_at: i64,
    resolved_at: Option<i64>,
    expires_at: i64,
}

impl TryFrom<CostTicketRow> for CostTicket {
    type Error = StoreError;

    fn try_from(row: CostTicketRow) -> Result<Self, StoreError> {
        Ok(CostTicket {
            id: parse(&row.cost_ticket_id, "cost ticket id")?,
            org_id: parse(&row.organization_id, "organization id")?,
            user_id: parse_optional(row.user_id.as_deref(), "user id")?,
            team_id: parse_optional(row.team_id.as_deref(), "team id")?,
            currency: currency(&row.currency)?,
            required_amount: credits(decimal(row.required_amount)?)?,
            best_available_amount: credits(decimal(row.best_available_amount)?)?,
            shortfall_amount: credits(decimal(row.shortfall_amount)?)?,
            fee_type: wire(&row.fee_type, "fee type", FeeType::parse)?,
            status: wire(&row.status, "cost ticket status", CostTicketStatus::parse)?,
            reservation_id: parse_optional(row.reservation_id.as_deref(), "reservation id")?,
            reservation_ttl_seconds: row.reservation_ttl_seconds,
            metadata: row.metadata,
            created_at: instant_from_micros(row.created_at)?,
            resolved_at: optional_instant_from_micros(row.resolved_at)?,
            expires_at: instant_from_micros(row.expires_at)?,
        })
    }
}

/// The columns of `wallet_line`, in the order of [`WalletLineRow`].
pub(super) const WALLET_LINE_COLUMNS: &str = r#"
    transaction_id, wallet_id, kind, paid_delta, granted_delta, held_delta, debt_delta,
    balance_after, held_after, reference_type, reference_id, created_at
"#;

#[derive(Debug, sqlx::FromRow)]
pub(super) struct WalletLineRow {
    transaction_id: String,
    wallet_id: String,
    kind: String,
    paid_delta: Amount,
    granted_delta: Amount,
    held_delta: Amount,
    debt_delta: Amount,
    balance_after: Amount,
    held_after: Amount,
    reference_type: String,
    reference_id: String,
    created_at: i64,
}

impl TryFrom<WalletLineRow> for WalletLine {
    type Error = StoreError;

    fn try_from(row: WalletLineRow) -> Result<Self, StoreError> {
        Ok(WalletLine {
            transaction_id: parse(&row.transaction_id, "transaction id")?,
            wallet_id: parse(&row.wallet_id, "wallet id")?,
            kind: wire(&row.kind, "entry kind", EntryKind::parse)?,
            paid_delta: decimal(row.paid_delta)?,
            granted_delta: decimal(row.granted_delta)?,
            held_delta: decimal(row.held_delta)?,
            debt_delta: decimal(row.debt_delta)?,
            balance_after: credits(decimal(row.balance_after)?)?,
            held_after: credits(decimal(row.held_after)?)?,
            reference_type: row.reference_type,
            reference_id: row.reference_id,
            created_at: instant_from_micros(row.created_at)?,
        })
    }
}

/// Decodes rows into domain values, failing on the first corrupt one.
pub(super) fn decode_all<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}
