//! The reference model's ledger rules that meet the payments: reserves, settles, releases,
//! admin credits, and the clock with the worker's sweeps.

use ledger_core::id::ReservationId;
use ledger_core::payment_session::PaymentStatus;
use ledger_core::reservation::ReservationStatus;
use provider_sandbox::SandboxOrderStatus;
use rust_decimal::Decimal;
use time::Duration;

use super::model::{Model, ModelHold, Outcome, SweepCounts};

impl Model {
    /// A reserve: the first wallet of the cascade (`owners`, in order) that covers it.
    pub(super) fn reserve(
        &mut self,
        owners: &[usize],
        amount: Decimal,
        ttl_seconds: i64,
        id: Option<ReservationId>,
    ) -> Outcome {
        let covering = owners
            .iter()
            .filter_map(|owner| self.owner_wallet[*owner])
            .find(|wallet| self.wallets[*wallet].available() >= amount);
        let Some(wallet) = covering else {
            return Outcome::InsufficientBalance;
        };
        self.wallets[wallet].held += amount;
        self.holds.push(ModelHold {
            id: id.expect("the model held credits the service did not"),
            wallet,
            amount,
            status: ReservationStatus::Held,
            expires_at: self.now + Duration::seconds(ttl_seconds),
            requested: None,
        });
        Outcome::Done
    }

    fn end_hold(&mut self, hold: usize, status: ReservationStatus) {
        let hold = &mut self.holds[hold];
        hold.status = status;
        self.wallets[hold.wallet].held -= hold.amount;
    }

    /// Settles a hold with `actual` (granted burnt first, then paid).
    pub(super) fn settle(&mut self, hold: usize, actual: Decimal) -> Outcome {
        match self.holds[hold].status {
            ReservationStatus::Settled => {
                return if self.holds[hold].requested == Some(actual) {
                    Outcome::Done
                } else {
                    Outcome::Conflict("settle_amount_mismatch")
                };
            }
            ReservationStatus::Released | ReservationStatus::Expired => {
                return Outcome::InvalidTransition;
            }
            ReservationStatus::Held => {}
        }
        if self.holds[hold].expires_at <= self.now {
            self.end_hold(hold, ReservationStatus::Expired);
            return Outcome::InvalidTransition;
        }
        let amount = self.holds[hold].amount;
        self.end_hold(hold, ReservationStatus::Settled);
        self.holds[hold].requested = Some(actual);
        let wallet = &mut self.wallets[self.holds[hold].wallet];
        let charged = if actual <= amount {
            actual
        } else {
            actual.min(wallet.available().max(amount))
        };
        let from_granted = charged.min(wallet.granted);
        wallet.granted -= from_granted;
        wallet.paid -= charged - from_granted;
        wallet.spent += charged;
        Outcome::Done
    }

    /// Releases a hold (expires it when past its time).
    pub(super) fn release(&mut self, hold: usize) -> Outcome {
        match self.holds[hold].status {
            ReservationStatus::Held if self.holds[hold].expires_at <= self.now => {
                self.end_hold(hold, ReservationStatus::Expired);
            }
            ReservationStatus::Held => self.end_hold(hold, ReservationStatus::Released),
            ReservationStatus::Released | ReservationStatus::Expired => {}
            ReservationStatus::Settled => return Outcome::InvalidTransition,
        }
        Outcome::Done
    }

    /// An admin credit: paid credits repay debt first.
    pub(super) fn credit_wallet(
        &mut self,
        wallet: usize,
        paid: Decimal,
        granted: Decimal,
    ) -> Outcome {
        if paid.is_zero() && granted.is_zero() {
            return Outcome::Invalid;
        }
        let wallet = &mut self.wallets[wallet];
        wallet.add_paid(paid);
        wallet.granted += granted;
        Outcome::Done
    }

    /// The clock moves; the ledger's sweep expires holds, then the payment sweep expires
    /// unapproved sessions (crediting instead those whose order the sandbox captured).
    pub(super) fn advance_and_sweep(&mut self, by: Duration) -> SweepCounts {
        self.now += by;
        let mut counts = SweepCounts::default();
        for hold in 0..self.holds.len() {
            if self.holds[hold].status == ReservationStatus::Held
                && self.holds[hold].expires_at <= self.now
            {
                self.end_hold(hold, ReservationStatus::Expired);
                counts.reservations_expired += 1;
            }
        }
        for session in 0..self.sessions.len() {
            let due = self.sessions[session].status == PaymentStatus::Created
                && self.sessions[session].expires_at <= self.now;
            if !due {
                continue;
            }
            if self.sessions[session].order == SandboxOrderStatus::Completed {
                self.credit(session);
            } else {
                self.sessions[session].status = PaymentStatus::Expired;
                counts.sessions_expired += 1;
            }
        }
        counts
    }
}
