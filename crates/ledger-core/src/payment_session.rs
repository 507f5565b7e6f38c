//! Payment sessions (seed 002): one checkout at a provider for one wallet top-up.
//!
//! ```text
//! created ──confirm/approved──▶ capturing ──capture ok──▶ captured ──▶ confirming ──credited──▶ confirmed ──▶ completed
//!    ├─buyer cancels──▶ canceled      ├─declined/error──▶ failed   └─denied──▶ failed
//!    └─past expires_at──▶ expired
//! completed ──refund / reversal──▶ refunded
//! ```
//!
//! Every move is checked here; the service makes each one a compare-and-set by locking the
//! stored session inside a unit of work and checking its status before writing.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::LedgerError;
use crate::id::{OrgId, PaymentMethodId, PaymentSessionId, TransactionId, UserId, WalletId};
use crate::money::{Credits, Currency};
use crate::wallet::Owner;

/// A payment session's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Checkout created; the buyer has not approved yet.
    Created,
    /// A capture is running at the provider.
    Capturing,
    /// The provider captured (or holds a PENDING capture).
    Captured,
    /// The wallet is being credited.
    Confirming,
    /// The wallet was credited.
    Confirmed,
    /// Done: credited and recorded.
    Completed,
    /// The buyer canceled.
    Canceled,
    /// Declined or denied; nothing credited.
    Failed,
    /// Fully refunded or reversed.
    Refunded,
    /// Never approved before `expires_at`.
    Expired,
}

impl PaymentStatus {
    /// Every status, in the order of the graph.
    pub const ALL: [Self; 10] = [
        Self::Created,
        Self::Capturing,
        Self::Captured,
        Self::Confirming,
        Self::Confirmed,
        Self::Completed,
        Self::Canceled,
        Self::Failed,
        Self::Refunded,
        Self::Expired,
    ];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Capturing => "capturing",
            Self::Captured => "captured",
            Self::Confirming => "confirming",
            Self::Confirmed => "confirmed",
            Self::Completed => "completed",
            Self::Canceled => "canceled",
            Self::Failed => "failed",
            Self::Refunded => "refunded",
            Self::Expired => "expired",
        }
    }

    /// Parses the wire name.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether the move `self → to` is an edge of the graph.
    ///
    /// Besides the happy path: a capture reported after the session expired, failed or was
    /// canceled locally still credits (`expired|failed|canceled → captured`, money taken is
    /// never lost); a PENDING capture waits in `captured`; a refund or reversal moves
    /// `completed → refunded`.
    pub fn can_move_to(self, to: Self) -> bool {
        use PaymentStatus::{
            Canceled, Captured, Capturing, Completed, Confirmed, Confirming, Created, Expired,
            Failed, Refunded,
        };
        matches!(
            (self, to),
            (Created, Capturing | Canceled | Expired | Captured | Failed)
                | (Capturing, Captured | Failed | Created)
                | (Captured, Confirming | Failed)
                | (Confirming, Confirmed)
                | (Confirmed, Completed)
                | (Completed, Refunded)
                | (Expired | Failed | Canceled, Captured)
        )
    }

    /// The move `self → to`.
    ///
    /// # Errors
    /// [`LedgerError::InvalidTransition`] when it is not an edge of the graph.
    pub fn move_to(self, to: Self) -> Result<Self, LedgerError> {
        if self.can_move_to(to) {
            Ok(to)
        } else {
            Err(LedgerError::InvalidTransition {
                kind: "payment_session",
                from: self.as_str().to_owned(),
                to: to.as_str().to_owned(),
            })
        }
    }

    /// Whether the wallet was credited (or the credits taken back after).
    pub fn is_credited(self) -> bool {
        matches!(self, Self::Confirmed | Self::Completed | Self::Refunded)
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A payment session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentSession {
    /// Its id.
    pub id: PaymentSessionId,
    /// Its organization.
    pub org_id: OrgId,
    /// The user who started it (none for automatic top-ups).
    pub user_id: Option<UserId>,
    /// The provider's wire name.
    pub provider: String,
    /// Where it was started: `console`, `chat`, `auto_topup`, `api`.
    pub surface: String,
    /// The owner whose wallet is topped up.
    pub target_owner: Owner,
    /// The wallet credited.
    pub wallet_id: WalletId,
    /// The money asked for (major units).
    pub amount: Decimal,
    /// Its currency.
    pub currency: Currency,
    /// Its status.
    pub status: PaymentStatus,
    /// A random value bound to the session, required by confirm.
    pub checkout_state: String,
    /// The provider's order id.
    pub provider_order_id: Option<String>,
    /// The provider's capture id.
    pub provider_capture_id: Option<String>,
    /// Where the buyer approves.
    pub approval_url: Option<String>,
    /// Where the buyer returns after approving.
    pub return_url: Option<String>,
    /// Where the buyer returns after canceling.
    pub cancel_url: Option<String>,
    /// Whether the buyer agreed to save the payment method.
    pub save_payment_method: bool,
    /// The saved payment method this session charged (automatic top-ups) or saved.
    pub payment_method_id: Option<PaymentMethodId>,
    /// Credits put on the wallet.
    pub credited_amount: Option<Credits>,
    /// The wallet's balance after the credit.
    pub wallet_balance_after: Option<Credits>,
    /// The journal transaction of the credit.
    pub wallet_transaction_id: Option<TransactionId>,
    /// Money refunded or reversed so far.
    pub refunded_amount: Decimal,
    /// Credits taken back so far.
    pub refunded_credits: Credits,
    /// The provider ids of refunds and reversals already applied (each applies once).
    pub applied_refund_ids: Vec<String>,
    /// The last provider refund id.
    pub provider_refund_id: Option<String>,
    /// Why it failed.
    pub error_code: Option<String>,
    /// A human sentence about the failure.
    pub error_message: Option<String>,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    /// When an unapproved session expires.
    pub expires_at: OffsetDateTime,
}

impl PaymentSession {
    /// Moves the status, stamping `updated_at`.
    ///
    /// # Errors
    /// [`LedgerError::InvalidTransition`] when not an edge of the graph.
    pub fn move_to(&mut self, to: PaymentStatus, now: OffsetDateTime) -> Result<(), LedgerError> {
        self.status = self.status.move_to(to)?;
        self.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn happy_path_is_a_chain_of_legal_moves() {
        use PaymentStatus::*;
        let path = [
            Created, Capturing, Captured, Confirming, Confirmed, Completed, Refunded,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].can_move_to(pair[1]), "{} → {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn final_states_refuse_going_back() {
        use PaymentStatus::*;
        assert!(!Completed.can_move_to(Capturing));
        assert!(!Refunded.can_move_to(Completed));
        assert!(!Canceled.can_move_to(Capturing));
        assert!(!Expired.can_move_to(Created));
        assert!(Completed.move_to(Created).is_err());
    }

    #[test]
    fn a_late_capture_still_credits_after_expiry_or_failure() {
        use PaymentStatus::*;
        assert!(Expired.can_move_to(Captured));
        assert!(Failed.can_move_to(Captured));
    }

    #[test]
    fn status_names_round_trip() {
        for status in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(status.as_str()), Some(status));
        }
    }
}
