//! Cost tickets: the record of a reservation nothing could cover.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::id::{CostTicketId, OrgId, ReservationId, TeamId, UserId};
use crate::money::{Credits, Currency};
use crate::wallet::FeeType;

/// A cost ticket's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostTicketStatus {
    /// The request is held, waiting for a top-up.
    Open,
    /// A redeem succeeded; the ticket names the reservation.
    Resolved,
    /// Not redeemed in time.
    Expired,
    /// Canceled by the caller.
    Canceled,
}

impl CostTicketStatus {
    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
            Self::Expired => "expired",
            Self::Canceled => "canceled",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "open" => Some(Self::Open),
            "resolved" => Some(Self::Resolved),
            "expired" => Some(Self::Expired),
            "canceled" => Some(Self::Canceled),
            _ => None,
        }
    }
}

impl fmt::Display for CostTicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cost ticket.
///
/// Invariant: `shortfall_amount = required_amount - best_available_amount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostTicket {
    /// Its id.
    pub id: CostTicketId,
    /// Its organization.
    pub org_id: OrgId,
    /// The user of the held request.
    pub user_id: Option<UserId>,
    /// The team of the held request.
    pub team_id: Option<TeamId>,
    /// The currency asked for.
    pub currency: Currency,
    /// What the request needs.
    pub required_amount: Credits,
    /// The most one wallet of the cascade could hold at the last attempt.
    pub best_available_amount: Credits,
    /// `required - best_available`.
    pub shortfall_amount: Credits,
    /// The fee type of the request.
    pub fee_type: FeeType,
    /// Its status.
    pub status: CostTicketStatus,
    /// The reservation a successful redeem made.
    pub reservation_id: Option<ReservationId>,
    /// The TTL the held request asked for its reservation.
    pub reservation_ttl_seconds: Option<i64>,
    /// The held request's metadata (JSON text).
    pub metadata: Option<String>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it was resolved.
    pub resolved_at: Option<OffsetDateTime>,
    /// When it expires if still open.
    pub expires_at: OffsetDateTime,
}

impl CostTicket {
    /// Records a new attempt's best available figure.
    pub fn update_best_available(&mut self, best_available: Credits) {
        self.best_available_amount = best_available.min(self.required_amount);
        self.shortfall_amount = self
            .required_amount
            .saturating_minus(self.best_available_amount);
    }

    /// The status as a reader sees it at `now` (open past `expires_at` reads as expired).
    pub fn status_at(&self, now: OffsetDateTime) -> CostTicketStatus {
        if self.status == CostTicketStatus::Open && self.expires_at <= now {
            CostTicketStatus::Expired
        } else {
            self.status
        }
    }
}
