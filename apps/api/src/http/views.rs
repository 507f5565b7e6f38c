//! The JSON shapes of `api.md`: wallets, reservations, cost tickets, settlements, history
//! lines. Credits are decimal strings; instants RFC 3339 UTC.

use ledger_core::cost_ticket::CostTicket;
use ledger_core::journal::WalletLine;
use ledger_core::money::Credits;
use ledger_core::reservation::Reservation;
use ledger_core::service::Settlement;
use ledger_core::wallet::{FeeType, Health, Wallet};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::routes::rules::RuleView;

/// Serializes a view; views are plain data, so this cannot fail in practice.
pub fn to_json<T: Serialize>(view: &T) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}

/// An instant as RFC 3339 UTC.
pub fn rfc3339(instant: OffsetDateTime) -> String {
    instant
        .to_offset(time::UtcOffset::UTC)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The fee types a wallet pays.
#[derive(Debug, Clone, Serialize)]
pub struct AppliesTo {
    /// Every fee type when the wallet names none.
    pub fee_types: Vec<FeeType>,
}

/// A wallet as `api.md` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct WalletView {
    pub id: String,
    pub org_id: String,
    pub owner_type: &'static str,
    pub owner_id: String,
    pub name: Option<String>,
    pub status: &'static str,
    pub health: Health,
    pub currency: String,
    pub rate_amount: String,
    pub paid_credits: Credits,
    pub granted_credits: Credits,
    pub held_credits: Credits,
    pub available_credits: Credits,
    pub balance_credits: Credits,
    pub debt_credits: Credits,
    pub total_allocated: Credits,
    pub total_spent: Credits,
    pub expiration_at: Option<String>,
    pub activates_at: Option<String>,
    pub priority: i32,
    pub applies_to: AppliesTo,
    pub recurring_transaction_rules: Vec<RuleView>,
    pub created_at: String,
    pub updated_at: String,
}

impl WalletView {
    /// The view of a wallet at its organization's low-balance threshold.
    pub fn of(wallet: &Wallet, low_balance_threshold: Credits) -> Self {
        let fee_types = if wallet.fee_types.is_empty() {
            FeeType::ALL.to_vec()
        } else {
            wallet.fee_types.clone()
        };
        Self {
            id: wallet.id.to_string(),
            org_id: wallet.org_id.to_string(),
            owner_type: wallet.owner.owner_type().as_str(),
            owner_id: wallet.owner.id_str().to_owned(),
            name: wallet.name.clone(),
            status: wallet.status.as_str(),
            health: wallet.health(low_balance_threshold),
            currency: wallet.currency.code().to_owned(),
            rate_amount: wallet.rate_amount.normalize().to_string(),
            paid_credits: wallet.paid,
            granted_credits: wallet.granted,
            held_credits: wallet.held,
            available_credits: wallet.available(),
            balance_credits: wallet.balance(),
            debt_credits: wallet.debt,
            total_allocated: wallet.total_allocated,
            total_spent: wallet.total_spent,
            expiration_at: wallet.expiration_at.map(rfc3339),
            activates_at: wallet.activates_at.map(rfc3339),
            priority: wallet.priority,
            applies_to: AppliesTo { fee_types },
            recurring_transaction_rules: wallet.rules.iter().map(RuleView::of).collect(),
            created_at: rfc3339(wallet.created_at),
            updated_at: rfc3339(wallet.updated_at),
        }
    }
}

/// A reservation.
#[derive(Debug, Clone, Serialize)]
pub struct ReservationView {
    pub id: String,
    pub org_id: String,
    pub status: &'static str,
    pub wallet_id: String,
    pub wallet_owner_type: &'static str,
    pub wallet_owner_id: String,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub amount: Credits,
    pub fee_type: FeeType,
    pub expires_at: String,
    pub settled_amount: Option<Credits>,
    pub released_amount: Option<Credits>,
    pub uncollected_amount: Option<Credits>,
    pub end_reason: Option<String>,
    pub metadata: Option<Value>,
    pub created_at: String,
    pub ended_at: Option<String>,
}

impl ReservationView {
    /// The view as a reader sees it at `now` (held past expiry reads as expired).
    pub fn of(reservation: &Reservation, now: OffsetDateTime) -> Self {
        Self {
            id: reservation.id.to_string(),
            org_id: reservation.org_id.to_string(),
            status: reservation.status_at(now).as_str(),
            wallet_id: reservation.wallet_id.to_string(),
            wallet_owner_type: reservation.wallet_owner.owner_type().as_str(),
            wallet_owner_id: reservation.wallet_owner.id_str().to_owned(),
            user_id: reservation.user_id.as_ref().map(ToString::to_string),
            team_id: reservation.team_id.as_ref().map(ToString::to_string),
            amount: reservation.amount,
            fee_type: reservation.fee_type,
            expires_at: rfc3339(reservation.expires_at),
            settled_amount: reservation.settled_amount,
            released_amount: reservation.released_amount,
            uncollected_amount: reservation.uncollected_amount,
            end_reason: reservation.end_reason.clone(),
            metadata: reservation
                .metadata
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            created_at: rfc3339(reservation.created_at),
            ended_at: reservation.ended_at.map(rfc3339),
        }
    }
}

/// A cost ticket.
#[derive(Debug, Clone, Serialize)]
pub struct CostTicketView {
    pub id: String,
    pub org_id: String,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub currency: String,
    pub required_amount: Credits,
    pub best_available_amount: Credits,
    pub shortfall_amount: Credits,
    pub fee_type: FeeType,
    pub status: &'static str,
    pub reservation_id: Option<String>,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub expires_at: String,
}

impl CostTicketView {
    /// The view as a reader sees it at `now` (open past expiry reads as expired).
    pub fn of(ticket: &CostTicket, now: OffsetDateTime) -> Self {
        Self {
            id: ticket.id.to_string(),
            org_id: ticket.org_id.to_string(),
            user_id: ticket.user_id.as_ref().map(ToString::to_string),
            team_id: ticket.team_id.as_ref().map(ToString::to_string),
            currency: ticket.currency.code().to_owned(),
            required_amount: ticket.required_amount,
            best_available_amount: ticket.best_available_amount,
            shortfall_amount: ticket.shortfall_amount,
            fee_type: ticket.fee_type,
            status: ticket.status_at(now).as_str(),
            reservation_id: ticket.reservation_id.as_ref().map(ToString::to_string),
            created_at: rfc3339(ticket.created_at),
            resolved_at: ticket.resolved_at.map(rfc3339),
            expires_at: rfc3339(ticket.expires_at),
        }
    }
}

/// A settlement (settle and charges).
#[derive(Debug, Clone, Serialize)]
pub struct SettlementView {
    pub reservation_id: String,
    pub status: &'static str,
    pub settled_amount: Credits,
    pub released_amount: Credits,
    pub uncollected_amount: Credits,
    pub wallet_balance_after: Credits,
}

impl SettlementView {
    /// The view of a settlement.
    pub fn of(settlement: &Settlement) -> Self {
        Self {
            reservation_id: settlement.reservation_id.to_string(),
            status: settlement.status.as_str(),
            settled_amount: settlement.settled_amount,
            released_amount: settlement.released_amount,
            uncollected_amount: settlement.uncollected_amount,
            wallet_balance_after: settlement.wallet_balance_after,
        }
    }
}

/// One line of a wallet's history.
#[derive(Debug, Clone, Serialize)]
pub struct TransactionView {
    pub id: String,
    pub wallet_id: String,
    pub kind: &'static str,
    pub paid_delta: String,
    pub granted_delta: String,
    pub held_delta: String,
    pub debt_delta: String,
    pub balance_after: Credits,
    pub held_after: Credits,
    pub reference_type: String,
    pub reference_id: String,
    pub created_at: String,
}

impl TransactionView {
    /// The view of a history line.
    pub fn of(line: &WalletLine) -> Self {
        Self {
            id: line.transaction_id.to_string(),
            wallet_id: line.wallet_id.to_string(),
            kind: line.kind.as_str(),
            paid_delta: line.paid_delta.normalize().to_string(),
            granted_delta: line.granted_delta.normalize().to_string(),
            held_delta: line.held_delta.normalize().to_string(),
            debt_delta: line.debt_delta.normalize().to_string(),
            balance_after: line.balance_after,
            held_after: line.held_after,
            reference_type: line.reference_type.clone(),
            reference_id: line.reference_id.clone(),
            created_at: rfc3339(line.created_at),
        }
    }
}
