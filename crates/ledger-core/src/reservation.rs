//! Reservations (holds): credits set aside on one wallet for one request.
//!
//! A reservation ends exactly once: settled, released or expired.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::LedgerError;
use crate::id::{OrgId, ReservationId, TeamId, UserId, WalletId};
use crate::money::Credits;
use crate::wallet::{FeeType, Owner};

/// A reservation's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationStatus {
    /// Open: its credits are held.
    Held,
    /// Charged and ended.
    Settled,
    /// Voided and ended.
    Released,
    /// Released automatically at `expires_at`.
    Expired,
}

impl ReservationStatus {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Settled => "settled",
            Self::Released => "released",
            Self::Expired => "expired",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "held" => Some(Self::Held),
            "settled" => Some(Self::Settled),
            "released" => Some(Self::Released),
            "expired" => Some(Self::Expired),
            _ => None,
        }
    }

    /// The move from `held` to an end status.
    ///
    /// # Errors
    /// [`LedgerError::InvalidTransition`] when the reservation has already ended.
    pub fn end(self, to: Self) -> Result<Self, LedgerError> {
        match (self, to) {
            (Self::Held, Self::Settled | Self::Released | Self::Expired) => Ok(to),
            _ => Err(self.refuse(to)),
        }
    }

    /// The outcome of refusing a move from this status to `to`.
    pub fn refuse(self, to: Self) -> LedgerError {
        LedgerError::InvalidTransition {
            kind: "reservation",
            from: self.as_str().to_owned(),
            to: to.as_str().to_owned(),
        }
    }
}

impl fmt::Display for ReservationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reservation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    /// Its id.
    pub id: ReservationId,
    /// Its organization.
    pub org_id: OrgId,
    /// The wallet holding the credits.
    pub wallet_id: WalletId,
    /// The wallet's owner.
    pub wallet_owner: Owner,
    /// The user the request runs for.
    pub user_id: Option<UserId>,
    /// The team the request runs in.
    pub team_id: Option<TeamId>,
    /// Credits held.
    pub amount: Credits,
    /// The fee type paid.
    pub fee_type: FeeType,
    /// Its status.
    pub status: ReservationStatus,
    /// When it expires if still held.
    pub expires_at: OffsetDateTime,
    /// What settle charged (set when settled).
    pub settled_amount: Option<Credits>,
    /// What settle was asked to charge (the idempotency check of a second settle).
    pub requested_amount: Option<Credits>,
    /// What settle could not collect (asked above the hold and above the available balance).
    pub uncollected_amount: Option<Credits>,
    /// What was returned to the wallet when it ended.
    pub released_amount: Option<Credits>,
    /// Why it was released (`released`, `expired`, `wallet_expired`, `wallet_terminated`).
    pub end_reason: Option<String>,
    /// The wallet's balance after the settle.
    pub wallet_balance_after: Option<Credits>,
    /// Free-form metadata of the caller (JSON text).
    pub metadata: Option<String>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it ended.
    pub ended_at: Option<OffsetDateTime>,
}

/// The metadata key that marks the hold of an admin refund's credits (its value names the
/// payment session). Reserved: a caller's reservation cannot carry it.
pub const REFUND_HOLD_KEY: &str = "refund_of";

/// Whether reservation metadata (JSON text) carries [`REFUND_HOLD_KEY`] at its top level.
pub fn metadata_marks_refund_hold(metadata: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(metadata)
        .ok()
        .is_some_and(|value| value.get(REFUND_HOLD_KEY).is_some())
}

impl Reservation {
    /// Whether this is the hold of an admin refund in flight: only the refund ends it, never a
    /// settle or a caller's release.
    pub fn is_refund_hold(&self) -> bool {
        self.user_id.is_none()
            && self.team_id.is_none()
            && self
                .metadata
                .as_deref()
                .is_some_and(metadata_marks_refund_hold)
    }

    /// The status as a reader sees it at `now`: a held reservation past `expires_at` reads as
    /// expired even before the sweeper got to it.
    pub fn status_at(&self, now: OffsetDateTime) -> ReservationStatus {
        if self.status == ReservationStatus::Held && self.expires_at <= now {
            ReservationStatus::Expired
        } else {
            self.status
        }
    }
}
