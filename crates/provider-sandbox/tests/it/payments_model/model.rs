//! The reference model of the payment paths: plain numbers per wallet, payment session,
//! sandbox order and reservation, changed by the rules of `domain.md` and the documented
//! decisions of `docs/architecture.md` ("Money and rounding", "Debt, refunds and reversals")
//! in the most direct way, with no journal and no ports.
//!
//! The rules it applies:
//! - a capture credits `money / rate_amount` rounded **down** to 9 decimals, once; paid
//!   credits repay debt first;
//! - a partial refund takes back `money / rate` rounded **up**, capped at what is left; a full
//!   refund exactly what is left; the money refunded is capped at what was captured;
//! - a refund takes paid credits only, never credits under a hold (held credits count as spent:
//!   at most `min(paid, paid + granted - held)`);
//! - an admin refund is refused when those credits are not there (or the wallet is in debt);
//!   a provider refund or reversal takes what is there and books the rest as debt;
//! - a wallet in debt cannot reserve; a charge burns granted credits first.

use std::collections::HashSet;

use ledger_core::id::{PaymentSessionId, ReservationId, WalletId};
use ledger_core::payment_session::PaymentStatus;
use ledger_core::reservation::ReservationStatus;
use provider_sandbox::SandboxOrderStatus;
use rust_decimal::{Decimal, RoundingStrategy};
use time::{Duration, OffsetDateTime};

/// How long an unapproved session lives (`SESSION_TTL_SECONDS_DEFAULT`).
const SESSION_TTL_SECONDS: i64 = 3 * 3600;
/// The credits' decimal places.
pub(super) const CREDIT_SCALE: u32 = 9;

/// What an operation answered, reduced to what the rules decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    Done,
    /// Refused: invalid input.
    Invalid,
    /// Refused: a state conflict, by its code.
    Conflict(&'static str),
    /// Refused: a state machine does not allow the move.
    InvalidTransition,
    /// A reserve found no wallet to cover it (a cost ticket).
    InsufficientBalance,
    /// The provider refused or failed.
    Provider,
    /// The sandbox answered a capture with a decline.
    CaptureDeclined,
}

#[derive(Debug, Clone)]
pub(super) struct ModelWallet {
    pub(super) id: WalletId,
    pub(super) rate: Decimal,
    pub(super) paid: Decimal,
    pub(super) granted: Decimal,
    pub(super) held: Decimal,
    pub(super) debt: Decimal,
    pub(super) spent: Decimal,
}

impl ModelWallet {
    /// What a reserve may take: nothing while in debt.
    pub(super) fn available(&self) -> Decimal {
        if self.debt.is_zero() {
            self.paid + self.granted - self.held
        } else {
            Decimal::ZERO
        }
    }

    /// Paid credits a refund may take: held credits count as spent.
    pub(super) fn takeable(&self) -> Decimal {
        self.paid.min(self.paid + self.granted - self.held)
    }

    /// Paid credits come in: debt is repaid first.
    pub(super) fn add_paid(&mut self, credits: Decimal) {
        let repay = credits.min(self.debt);
        self.debt -= repay;
        self.paid += credits - repay;
    }
}

#[derive(Debug, Clone)]
pub(super) struct ModelSession {
    pub(super) id: PaymentSessionId,
    pub(super) order_id: String,
    pub(super) wallet: usize,
    pub(super) amount: Decimal,
    pub(super) status: PaymentStatus,
    pub(super) expires_at: OffsetDateTime,
    pub(super) credited: Option<Decimal>,
    pub(super) refunded_money: Decimal,
    pub(super) refunded_credits: Decimal,
    /// Refund and reversal ids applied, in order.
    pub(super) refund_ids: Vec<String>,
    /// The admin refunds applied: `(refund id, money)`.
    pub(super) admin_refunds: Vec<(String, Decimal)>,
    /// The sandbox order.
    pub(super) order: SandboxOrderStatus,
    /// Money refunded at the sandbox (admin refunds only: provider-started refunds are reports).
    pub(super) order_refunded: Decimal,
}

impl ModelSession {
    pub(super) fn is_credited(&self) -> bool {
        matches!(
            self.status,
            PaymentStatus::Confirmed | PaymentStatus::Completed | PaymentStatus::Refunded
        )
    }

    /// Money not refunded yet.
    pub(super) fn left(&self) -> Decimal {
        self.amount - self.refunded_money
    }
}

#[derive(Debug, Clone)]
pub(super) struct ModelHold {
    pub(super) id: ReservationId,
    pub(super) wallet: usize,
    pub(super) amount: Decimal,
    pub(super) status: ReservationStatus,
    pub(super) expires_at: OffsetDateTime,
    /// The amount a settle asked for.
    pub(super) requested: Option<Decimal>,
}

/// What a sweep did, counted by the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct SweepCounts {
    pub(super) reservations_expired: u64,
    pub(super) sessions_expired: u64,
}

#[derive(Debug, Clone)]
pub(super) struct Model {
    pub(super) now: OffsetDateTime,
    pub(super) wallets: Vec<ModelWallet>,
    /// The wallet of each checkout target (organization, team, user Ada, user Bob).
    pub(super) owner_wallet: [Option<usize>; 4],
    pub(super) sessions: Vec<ModelSession>,
    pub(super) holds: Vec<ModelHold>,
    /// Provider event ids recorded as applied.
    pub(super) events: HashSet<String>,
}

/// `money / rate` rounded down: the credits a capture buys.
pub(super) fn credits_bought(money: Decimal, rate: Decimal) -> Decimal {
    (money / rate).round_dp_with_strategy(CREDIT_SCALE, RoundingStrategy::ToZero)
}

impl Model {
    pub(super) fn new(now: OffsetDateTime) -> Self {
        Self {
            now,
            wallets: Vec::new(),
            owner_wallet: [None; 4],
            sessions: Vec::new(),
            holds: Vec::new(),
            events: HashSet::new(),
        }
    }

    pub(super) fn add_wallet(&mut self, owner: usize, wallet: ModelWallet) -> usize {
        self.wallets.push(wallet);
        let index = self.wallets.len() - 1;
        self.owner_wallet[owner] = Some(index);
        index
    }

    /// A checkout for the target `owner`'s wallet, made (rate 1, empty) when it has none.
    /// `started` is what the service answered: the session, its order and its wallet.
    pub(super) fn start(
        &mut self,
        owner: usize,
        amount: Decimal,
        started: Option<(PaymentSessionId, String, WalletId)>,
    ) -> Outcome {
        if amount <= Decimal::ZERO {
            return Outcome::Invalid;
        }
        let (id, order_id, wallet_id) =
            started.expect("the model started a checkout the service did not");
        let wallet = match self.owner_wallet[owner] {
            Some(wallet) => wallet,
            None => self.add_wallet(
                owner,
                ModelWallet {
                    id: wallet_id,
                    rate: Decimal::ONE,
                    paid: Decimal::ZERO,
                    granted: Decimal::ZERO,
                    held: Decimal::ZERO,
                    debt: Decimal::ZERO,
                    spent: Decimal::ZERO,
                },
            ),
        };
        self.sessions.push(ModelSession {
            id,
            order_id,
            wallet,
            amount,
            status: PaymentStatus::Created,
            expires_at: self.now + Duration::seconds(SESSION_TTL_SECONDS),
            credited: None,
            refunded_money: Decimal::ZERO,
            refunded_credits: Decimal::ZERO,
            refund_ids: Vec::new(),
            admin_refunds: Vec::new(),
            order: SandboxOrderStatus::Created,
            order_refunded: Decimal::ZERO,
        });
        Outcome::Done
    }

    /// Crediting a capture: `captured → … → completed` in one unit.
    pub(super) fn credit(&mut self, session: usize) {
        let wallet_index = self.sessions[session].wallet;
        let credits = credits_bought(
            self.sessions[session].amount,
            self.wallets[wallet_index].rate,
        );
        self.wallets[wallet_index].add_paid(credits);
        let session = &mut self.sessions[session];
        session.credited = Some(credits);
        session.status = PaymentStatus::Completed;
    }

    /// The sandbox's capture: only an approved order is captured.
    fn sandbox_capture(&mut self, session: usize) -> Outcome {
        let order = &mut self.sessions[session].order;
        match *order {
            SandboxOrderStatus::Created => Outcome::Provider,
            SandboxOrderStatus::Canceled => Outcome::CaptureDeclined,
            SandboxOrderStatus::Approved | SandboxOrderStatus::Completed => {
                *order = SandboxOrderStatus::Completed;
                Outcome::Done
            }
        }
    }

    /// `Payments::capture` of a `created` session.
    fn capture(&mut self, session: usize) -> Outcome {
        match self.sandbox_capture(session) {
            Outcome::Done => {
                self.credit(session);
                Outcome::Done
            }
            Outcome::CaptureDeclined => {
                self.sessions[session].status = PaymentStatus::Failed;
                Outcome::Done
            }
            _ => Outcome::Conflict("payment_not_approved"),
        }
    }

    /// The console confirms.
    pub(super) fn confirm(&mut self, session: usize) -> Outcome {
        match self.sessions[session].status {
            PaymentStatus::Created => self.capture(session),
            PaymentStatus::Canceled | PaymentStatus::Expired | PaymentStatus::Failed => {
                Outcome::Conflict("payment_session_closed")
            }
            _ => Outcome::Done,
        }
    }

    /// The buyer presses Approve on the sandbox page.
    pub(super) fn approve(&mut self, session: usize) -> Outcome {
        let order = &mut self.sessions[session].order;
        match *order {
            SandboxOrderStatus::Canceled => Outcome::Provider,
            SandboxOrderStatus::Created => {
                *order = SandboxOrderStatus::Approved;
                Outcome::Done
            }
            SandboxOrderStatus::Approved | SandboxOrderStatus::Completed => Outcome::Done,
        }
    }

    /// An order-approved event: applied once; captures a `created` session (a refused capture
    /// leaves it as it was).
    pub(super) fn approved_event(&mut self, session: usize, event_id: &str) {
        if !self.events.insert(event_id.to_owned()) {
            return;
        }
        if self.sessions[session].status == PaymentStatus::Created {
            self.capture(session);
        }
    }

    /// The buyer presses Cancel on the sandbox page; `tell`: the page also cancels the session.
    pub(super) fn cancel(&mut self, session: usize, tell: bool) -> Outcome {
        let session = &mut self.sessions[session];
        if session.order == SandboxOrderStatus::Completed {
            return Outcome::Provider;
        }
        session.order = SandboxOrderStatus::Canceled;
        if tell && session.status == PaymentStatus::Created {
            session.status = PaymentStatus::Canceled;
        }
        Outcome::Done
    }

    /// The provider captures on its own (our process died after asking).
    pub(super) fn provider_capture(&mut self, session: usize) -> Outcome {
        self.sandbox_capture(session)
    }

    /// A capture-completed webhook: applied once; credits a session not credited yet.
    pub(super) fn capture_event(&mut self, session: usize, event_id: &str) {
        if !self.events.insert(event_id.to_owned()) {
            return;
        }
        if !self.sessions[session].is_credited() {
            self.credit(session);
        }
    }

    /// A capture-denied webhook: applied once; fails a session not captured yet.
    pub(super) fn denied_event(&mut self, session: usize, event_id: &str) {
        if !self.events.insert(event_id.to_owned()) {
            return;
        }
        let session = &mut self.sessions[session];
        if matches!(
            session.status,
            PaymentStatus::Created | PaymentStatus::Capturing | PaymentStatus::Captured
        ) {
            session.status = PaymentStatus::Failed;
        }
    }
}
