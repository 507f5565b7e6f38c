//! The refund operations: admin refunds, and refunds and reversals the provider reports.

use ledger_core::ports::ProviderEventKind;
use proptest::sample::Index;
use rust_decimal::Decimal;

use super::RefundAmount;
use super::checkout_steps::Answer;
use super::world::{World, outcome};

/// A refund or reversal the provider reports: one of a few refund ids and one of a few event
/// ids per session, so that both repeat.
#[derive(Debug, Clone, Copy)]
pub(super) struct ProviderRefund {
    pub(super) reversal: bool,
    pub(super) refund: u8,
    pub(super) event: u8,
    pub(super) amount: RefundAmount,
}

impl World {
    /// An admin refund (partial, all that is left, more than is left, sub-cent).
    pub(super) async fn admin_refund(&mut self, session: usize, amount: RefundAmount) -> Answer {
        let money = self.refund_money(session, amount);
        let (id, _) = self.session_ids(session);
        let result = self.payments.refund(&id, money).await;
        let answered = result
            .as_ref()
            .ok()
            .map(|refund| refund.provider_refund_id.clone());
        let expected = self.model.admin_refund(session, money, answered.as_deref());
        if let Ok(refund) = &result {
            let (refund_id, refunded) = self.model.sessions[session].admin_refunds.last().unwrap();
            assert_eq!(&refund.provider_refund_id, refund_id);
            assert_eq!(refund.refunded_amount, *refunded);
        }
        (expected, outcome(&result))
    }

    /// A refund or reversal webhook. USD has no sub-cent amounts: a provider reports cents.
    pub(super) async fn provider_refund(
        &mut self,
        session: usize,
        refund: ProviderRefund,
    ) -> Answer {
        let left = self.model.sessions[session].left();
        let money = match refund.amount {
            RefundAmount::SubCent(thousandths) => Decimal::new((thousandths / 10).max(1), 2),
            amount => self.refund_money(session, amount).unwrap_or(left),
        };
        let (_, order_id) = self.session_ids(session);
        let (refund_id, event_id, kind) = if refund.reversal {
            let reversal_id = format!("RV-{order_id}-{}", refund.refund);
            let kind = ProviderEventKind::Reversed {
                reversal_id: reversal_id.clone(),
                amount: self.money(money),
            };
            let event_id = format!("evt-reversal-{order_id}-{}", refund.event);
            (reversal_id, event_id, kind)
        } else {
            let refund_id = format!("RF-{order_id}-{}", refund.refund);
            let kind = ProviderEventKind::Refunded {
                refund_id: refund_id.clone(),
                amount: self.money(money),
            };
            let event_id = format!("evt-refund-{order_id}-{}", refund.event);
            (refund_id, event_id, kind)
        };
        let actual = self.deliver(session, event_id.clone(), kind).await;
        let expected = self
            .model
            .provider_refund(session, &refund_id, &event_id, money);
        (expected, actual)
    }

    /// The provider reports one of our own admin refunds back (PayPal does): nothing more is
    /// taken.
    pub(super) async fn replay_admin_refund(
        &mut self,
        session: usize,
        refund: &Index,
        event: u8,
    ) -> Option<Answer> {
        let refunds = &self.model.sessions[session].admin_refunds;
        if refunds.is_empty() {
            return None;
        }
        let (refund_id, money) = refunds[refund.index(refunds.len())].clone();
        let (_, order_id) = self.session_ids(session);
        let event_id = format!("evt-refund-{order_id}-{event}");
        let kind = ProviderEventKind::Refunded {
            refund_id: refund_id.clone(),
            amount: self.money(money),
        };
        let actual = self.deliver(session, event_id.clone(), kind).await;
        let expected = self
            .model
            .provider_refund(session, &refund_id, &event_id, money);
        Some((expected, actual))
    }
}
