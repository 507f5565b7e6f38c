//! The reference model's refund rules: admin refunds, and refunds and reversals the provider
//! reports (see the rules listed in `model.rs`).

use ledger_core::payment_session::PaymentStatus;
use provider_sandbox::SandboxOrderStatus;
use rust_decimal::{Decimal, RoundingStrategy};

use super::model::{CREDIT_SCALE, Model, Outcome};

impl Model {
    /// The credits a refund of `money` takes back.
    fn refund_credits(&self, session: usize, money: Decimal) -> Decimal {
        let session_ref = &self.sessions[session];
        let left_credits = session_ref.credited.unwrap_or_default() - session_ref.refunded_credits;
        if money >= session_ref.left() {
            return left_credits;
        }
        let rate = self.wallets[session_ref.wallet].rate;
        (money / rate)
            .round_dp_with_strategy(CREDIT_SCALE, RoundingStrategy::AwayFromZero)
            .min(left_credits)
    }

    /// Takes back `credits` for a refund or reversal; what is not there becomes debt.
    fn take_back(
        &mut self,
        session: usize,
        refund_id: &str,
        money: Decimal,
        credits: Decimal,
    ) -> Decimal {
        let wallet = &mut self.wallets[self.sessions[session].wallet];
        let taken = credits.min(wallet.takeable());
        wallet.paid -= taken;
        wallet.debt += credits - taken;
        let session = &mut self.sessions[session];
        session.refunded_money += money;
        session.refunded_credits += credits;
        session.refund_ids.push(refund_id.to_owned());
        if session.refunded_money >= session.amount {
            session.status = PaymentStatus::Refunded;
        }
        credits - taken
    }

    /// An admin refund of `amount` (all that is left when `None`). The provider's refund id is
    /// the one the service answered (the sandbox names it by a key the service draws); the
    /// outcome comparison catches a service that did not refund when the model does.
    pub(super) fn admin_refund(
        &mut self,
        session: usize,
        amount: Option<Decimal>,
        answered_refund_id: Option<&str>,
    ) -> Outcome {
        let session_ref = &self.sessions[session];
        if session_ref.status != PaymentStatus::Completed {
            return Outcome::Conflict("payment_not_refundable");
        }
        let left = session_ref.left();
        let money = amount.unwrap_or(left);
        if money <= Decimal::ZERO || money > left || money.normalize().scale() > 2 {
            return Outcome::Invalid;
        }
        let credits = self.refund_credits(session, money);
        let wallet = &self.wallets[session_ref.wallet];
        if credits > wallet.takeable() || !wallet.debt.is_zero() {
            return Outcome::Conflict("insufficient_balance_for_refund");
        }
        if session_ref.order != SandboxOrderStatus::Completed
            || session_ref.order_refunded + money > session_ref.amount
        {
            return Outcome::Provider;
        }
        let refund_id = answered_refund_id.map_or_else(
            || format!("SBXREF-{}-refund-unanswered", session_ref.id),
            str::to_owned,
        );
        assert!(
            refund_id.starts_with(&format!("SBXREF-{}-refund-", session_ref.id)),
            "the sandbox names a refund by the service's key for the session: {refund_id}"
        );
        assert!(
            !session_ref.refund_ids.contains(&refund_id),
            "a new admin refund gets a new provider key: {refund_id}"
        );
        let missing = self.take_back(session, &refund_id, money, credits);
        assert!(missing.is_zero(), "the model's admin refund booked debt");
        let session = &mut self.sessions[session];
        session.order_refunded += money;
        session.admin_refunds.push((refund_id, money));
        Outcome::Done
    }

    /// A refund or reversal the provider reports: applied once per event and once per refund
    /// id; a session not credited yet is credited first when the sandbox captured its order,
    /// else the event is refused unrecorded (the provider delivers it again).
    pub(super) fn provider_refund(
        &mut self,
        session: usize,
        refund_id: &str,
        event_id: &str,
        money: Decimal,
    ) -> Outcome {
        if !self.sessions[session].is_credited() {
            if self.sessions[session].order == SandboxOrderStatus::Completed {
                self.credit(session);
            } else {
                return Outcome::Conflict("refund_before_capture");
            }
        }
        if !self.events.insert(event_id.to_owned()) {
            return Outcome::Done;
        }
        let session_ref = &self.sessions[session];
        if session_ref.status != PaymentStatus::Completed
            || session_ref.refund_ids.iter().any(|id| id == refund_id)
        {
            return Outcome::Done;
        }
        let money = money.min(session_ref.left());
        let credits = self.refund_credits(session, money);
        self.take_back(session, refund_id, money, credits);
        Outcome::Done
    }
}
