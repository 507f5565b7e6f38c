//! The ledger operations that meet the payments: reserves and settles that spend credits a
//! refund may later want back, admin credits, and the clock with the worker's sweeps.

use ledger_core::ports::Clock;
use ledger_core::reservation::ReservationStatus;
use ledger_core::service::ReserveRequest;
use ledger_core::wallet::FeeType;
use rust_decimal::{Decimal, RoundingStrategy};
use time::Duration;

use super::checkout_steps::Answer;
use super::model::{Outcome, SweepCounts};
use super::world::{World, credits, outcome, scope};

/// How long a spend's hold lives: it is settled at once.
const SPEND_TTL_SECONDS: i64 = 3_600;

impl World {
    /// A reserve through the cascade of `scope_index`.
    pub(super) async fn reserve(
        &mut self,
        scope_index: usize,
        amount: Decimal,
        ttl_seconds: i64,
    ) -> Answer {
        let (scope, owners) = scope(scope_index);
        let result = self
            .ledger
            .reserve(&ReserveRequest {
                scope,
                amount: credits(amount),
                currency: self.usd,
                fee_type: FeeType::Charge,
                ttl_seconds: Some(ttl_seconds),
                metadata: None,
                principal: "gateway".to_owned(),
            })
            .await;
        let id = result
            .as_ref()
            .ok()
            .map(|reservation| reservation.id.clone());
        let expected = self.model.reserve(owners, amount, ttl_seconds, id);
        if let Ok(reservation) = &result {
            let hold = self.model.holds.last().unwrap();
            assert_eq!(
                reservation.wallet_id, self.model.wallets[hold.wallet].id,
                "the cascade held on another wallet than the model's"
            );
        }
        (expected, outcome(&result))
    }

    /// The gateway spends `percent` of what the first wallet of the cascade with anything
    /// available has: a reserve settled in full at once.
    pub(super) async fn spend(&mut self, scope_index: usize, percent: u32) -> Option<Answer> {
        let (_, owners) = scope(scope_index);
        let available = owners
            .iter()
            .filter_map(|owner| self.model.owner_wallet[*owner])
            .map(|wallet| self.model.wallets[wallet].available())
            .find(|available| !available.is_zero())?;
        let amount = (available * Decimal::from(percent) / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(9, RoundingStrategy::ToZero);
        if amount.is_zero() {
            return None;
        }
        let (expected, actual) = self.reserve(scope_index, amount, SPEND_TTL_SECONDS).await;
        assert_eq!(
            actual, expected,
            "service and model disagree on a spend's reserve"
        );
        assert_eq!(
            actual,
            Outcome::Done,
            "a spend's reserve fits by construction"
        );
        Some(self.settle(self.model.holds.len() - 1, 100).await)
    }

    /// Settles a hold at `percent` of it (above 100: more than was held).
    pub(super) async fn settle(&mut self, hold: usize, percent: u32) -> Answer {
        let actual = (self.model.holds[hold].amount * Decimal::from(percent)
            / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(9, RoundingStrategy::ToZero);
        let id = self.model.holds[hold].id.clone();
        let result = self.ledger.settle(&id, credits(actual), "gateway").await;
        if let Ok(settlement) = &result {
            assert_eq!(settlement.status, ReservationStatus::Settled);
        }
        (self.model.settle(hold, actual), outcome(&result))
    }

    pub(super) async fn release(&mut self, hold: usize) -> Answer {
        let id = self.model.holds[hold].id.clone();
        let result = self.ledger.release(&id, "gateway").await;
        (self.model.release(hold), outcome(&result))
    }

    /// An admin credit: paid credits repay debt first.
    pub(super) async fn credit(
        &mut self,
        wallet: usize,
        paid: Decimal,
        granted: Decimal,
    ) -> Answer {
        let id = self.model.wallets[wallet].id.clone();
        let result = self
            .ledger
            .credit(&id, credits(paid), credits(granted), "admin")
            .await;
        (
            self.model.credit_wallet(wallet, paid, granted),
            outcome(&result),
        )
    }

    /// Moves the clock, then sweeps the ledger and the payments, as the worker does.
    pub(super) async fn advance_and_sweep(&mut self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
        let ledger_report = self.ledger.sweep().await.unwrap();
        let payment_report = self.payments.sweep().await.unwrap();
        let expected = self.model.advance_and_sweep(Duration::seconds(seconds));
        let actual = SweepCounts {
            reservations_expired: ledger_report.reservations_expired,
            sessions_expired: payment_report.sessions_expired,
        };
        assert_eq!(actual, expected, "the sweeps disagree with the model");
        assert_eq!(self.clock.now(), self.model.now);
    }
}
