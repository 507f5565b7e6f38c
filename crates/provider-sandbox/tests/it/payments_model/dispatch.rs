//! One operation, dispatched: which session or hold it names, and the step that runs it on
//! the service and on the model.

use ledger_core::payment_session::PaymentStatus;
use ledger_core::reservation::ReservationStatus;
use proptest::sample::Index;
use provider_sandbox::SandboxOrderStatus;

use super::model::ModelSession;
use super::refund_steps::ProviderRefund;
use super::world::World;
use super::{Op, Pick};

/// The `index`th of `len` things, when there are any.
fn pick(index: &Index, len: usize) -> Option<usize> {
    (len > 0).then(|| index.index(len))
}

impl World {
    /// A session picked by an operation: with `choice.preferred`, one that `preferred` holds
    /// for (when there is one), else any. Each operation prefers the sessions where it has
    /// something to do, so that short sequences still reach the deep paths (a refund of spent
    /// credits, a late capture after expiry).
    fn pick_session(
        &self,
        choice: &Pick,
        preferred: impl Fn(&ModelSession) -> bool,
    ) -> Option<usize> {
        let matching: Vec<usize> = (0..self.model.sessions.len())
            .filter(|session| preferred(&self.model.sessions[*session]))
            .collect();
        if choice.preferred && !matching.is_empty() {
            Some(matching[choice.index.index(matching.len())])
        } else {
            pick(&choice.index, self.model.sessions.len())
        }
    }

    /// A hold picked by a settle or a release: most often one still held.
    fn pick_hold(&self, choice: &Pick) -> Option<usize> {
        let held: Vec<usize> = (0..self.model.holds.len())
            .filter(|hold| self.model.holds[*hold].status == ReservationStatus::Held)
            .collect();
        if choice.preferred && !held.is_empty() {
            Some(held[choice.index.index(held.len())])
        } else {
            pick(&choice.index, self.model.holds.len())
        }
    }

    /// Runs one operation on the service and on the model; they must answer alike.
    pub(super) async fn apply(&mut self, op: &Op) {
        let answered = match op {
            Op::Start { owner, cents } => Some(self.start(*owner, *cents).await),
            Op::Pay { owner, cents } => self.pay(*owner, *cents).await,
            Op::Approve { session, event } => {
                let Some(session) = self.pick_session(session, |session| {
                    session.order == SandboxOrderStatus::Created
                }) else {
                    return;
                };
                Some(self.approve(session, *event).await)
            }
            Op::Cancel { session, tell } => {
                let Some(session) = self.pick_session(session, not_credited) else {
                    return;
                };
                Some(self.cancel(session, *tell).await)
            }
            Op::Confirm {
                session,
                token,
                state_ok,
            } => {
                let Some(session) = self.pick_session(session, not_credited) else {
                    return;
                };
                Some(self.confirm(session, *token, *state_ok).await)
            }
            Op::ConfirmRace { session } => {
                let Some(session) = self.pick_session(session, not_credited) else {
                    return;
                };
                self.confirm_race(session).await;
                None
            }
            Op::ProviderCapture { session } => {
                // Most often behind the back of a session that gave up (expired, failed): the
                // late capture that domain.md says must still credit.
                let Some(session) = self.pick_session(session, |session| {
                    session.order == SandboxOrderStatus::Approved
                        && session.status != PaymentStatus::Created
                }) else {
                    return;
                };
                Some(self.provider_capture(session).await)
            }
            Op::LateCapture { session, event } => {
                let Some(session) = self.pick_session(session, |session| {
                    matches!(
                        session.status,
                        PaymentStatus::Expired | PaymentStatus::Failed
                    ) && session.order != SandboxOrderStatus::Canceled
                }) else {
                    return;
                };
                self.late_capture(session, *event).await
            }
            Op::CaptureWebhook { session, event } => {
                let Some(session) = self.pick_session(session, |session| {
                    session.order == SandboxOrderStatus::Completed && session.credited.is_none()
                }) else {
                    return;
                };
                self.capture_webhook(session, *event).await
            }
            Op::ApprovedWebhook { session, event } => {
                let Some(session) = self.pick_session(session, |session| {
                    session.order != SandboxOrderStatus::Created
                        && session.order != SandboxOrderStatus::Canceled
                }) else {
                    return;
                };
                self.approved_webhook(session, *event).await
            }
            Op::DeniedWebhook { session, event } => {
                let Some(session) = self.pick_session(session, |session| {
                    session.status == PaymentStatus::Created
                        && session.order != SandboxOrderStatus::Completed
                }) else {
                    return;
                };
                self.denied_webhook(session, *event).await
            }
            Op::AdminRefund { session, amount } => {
                let Some(session) = self.pick_session(session, credited) else {
                    return;
                };
                Some(self.admin_refund(session, *amount).await)
            }
            Op::ProviderRefund {
                session,
                reversal,
                refund,
                event,
                amount,
            } => {
                let Some(session) = self.pick_session(session, credited) else {
                    return;
                };
                let refund = ProviderRefund {
                    reversal: *reversal,
                    refund: *refund,
                    event: *event,
                    amount: *amount,
                };
                Some(self.provider_refund(session, refund).await)
            }
            Op::ReplayAdminRefund {
                session,
                refund,
                event,
            } => {
                let Some(session) = self.pick_session(session, credited) else {
                    return;
                };
                self.replay_admin_refund(session, refund, *event).await
            }
            Op::UnknownWebhook => {
                self.unknown_webhook().await;
                None
            }
            Op::Reserve {
                scope,
                amount,
                ttl_seconds,
            } => Some(self.reserve(*scope, *amount, *ttl_seconds).await),
            Op::Spend { scope, percent } => self.spend(*scope, *percent).await,
            Op::SpendTopUp { session, percent } => {
                let Some(session) = self.pick_session(session, credited) else {
                    return;
                };
                let wallet = self.model.sessions[session].wallet;
                // The owner's own scope tries its wallet first.
                let scope = (0..4)
                    .find(|owner| self.model.owner_wallet[*owner] == Some(wallet))
                    .unwrap();
                self.spend(scope, *percent).await
            }
            Op::Settle { hold, percent } => {
                let Some(hold) = self.pick_hold(hold) else {
                    return;
                };
                Some(self.settle(hold, *percent).await)
            }
            Op::Release { hold } => {
                let Some(hold) = self.pick_hold(hold) else {
                    return;
                };
                Some(self.release(hold).await)
            }
            Op::Credit {
                wallet,
                paid,
                granted,
            } => {
                let Some(wallet) = pick(wallet, self.model.wallets.len()) else {
                    return;
                };
                Some(self.credit(wallet, *paid, *granted).await)
            }
            Op::AdvanceAndSweep { seconds } => {
                self.advance_and_sweep(*seconds).await;
                None
            }
        };
        if let Some((expected, actual)) = answered {
            assert_eq!(actual, expected, "service and model disagree on {op:?}");
        }
    }
}

fn not_credited(session: &ModelSession) -> bool {
    session.credited.is_none()
}

fn credited(session: &ModelSession) -> bool {
    session.credited.is_some()
}
