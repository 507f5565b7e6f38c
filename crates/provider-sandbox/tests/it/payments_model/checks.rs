//! The checks run after every step. Besides agreement with the model, most are stated on the
//! stored values alone, so that a model and a service wrong in the same way still fail them.

use std::collections::HashMap;

use ledger_core::journal::EntryKind;
use ledger_core::payments::audit::audit_sessions;
use ledger_core::ports::{PageRequest, PaymentSessionFilter};
use rust_decimal::Decimal;

use super::Op;
use super::model::credits_bought;
use super::recording::is_reachable;
use super::world::{OTHER_ORG, World, all_lines, org};

/// What the journal says about one session: its top-up lines `(wallet index, credits)` and
/// the credits its refund and reversal lines took back (paid taken plus debt booked).
#[derive(Debug, Default)]
struct SessionLines {
    topups: Vec<(usize, Decimal)>,
    taken_back: Decimal,
}

impl World {
    pub(super) async fn check(&mut self, step: usize, op: Option<&Op>) {
        let context = format!("after step {step} ({op:?})");
        self.check_audits(&context).await;
        self.check_wallets(&context).await;
        self.check_other_org(&context).await;
        self.check_sessions(&context).await;
        self.check_journal(&context).await;
        self.check_holds(&context).await;
    }

    /// The ledger's audit (conservation, projection, non-negativity, holds, tenancy), the
    /// payments audit (credited once, money in = credits out, refunds within the capture) and
    /// the recorder of committed status moves.
    async fn check_audits(&self, context: &str) {
        let report = self.ledger.audit().await.unwrap();
        assert!(
            report.is_clean(),
            "{context}: audit found {:#?}",
            report.breaches
        );
        let sessions = audit_sessions(self.ledger.store().as_ref(), self.payments.store().as_ref())
            .await
            .unwrap();
        assert!(
            sessions.is_empty(),
            "{context}: payments audit {sessions:#?}"
        );
        let transitions = self.transitions.lock().unwrap();
        assert!(
            transitions.illegal.is_empty(),
            "{context}: status moves outside domain.md's graph: {:?}",
            transitions.illegal
        );
        assert!(transitions.writes > 0, "the recorder saw no session write");
    }

    async fn check_wallets(&self, context: &str) {
        for expected in &self.model.wallets {
            let wallet = self
                .ledger
                .store()
                .wallet(&expected.id)
                .await
                .unwrap()
                .unwrap();
            let id = &wallet.id;
            assert_eq!(wallet.org_id, org(), "{context}: organization of {id}");
            assert_eq!(wallet.rate_amount, expected.rate, "{context}: rate of {id}");
            assert_eq!(
                wallet.paid.value(),
                expected.paid,
                "{context}: paid of {id}"
            );
            assert_eq!(
                wallet.granted.value(),
                expected.granted,
                "{context}: granted of {id}"
            );
            assert_eq!(
                wallet.held.value(),
                expected.held,
                "{context}: held of {id}"
            );
            assert_eq!(
                wallet.debt.value(),
                expected.debt,
                "{context}: debt of {id}"
            );
            assert_eq!(
                wallet.total_spent.value(),
                expected.spent,
                "{context}: spent of {id}"
            );
            // No balance below zero; debt is a separate figure and blocks reserves.
            let zero = Decimal::ZERO;
            for (name, value) in [
                ("paid", wallet.paid.value()),
                ("granted", wallet.granted.value()),
                ("held", wallet.held.value()),
                ("debt", wallet.debt.value()),
                ("available", wallet.available().value()),
            ] {
                assert!(value >= zero, "{context}: {name} of {id} is {value}");
            }
            assert!(
                wallet.held <= wallet.balance(),
                "{context}: {id} holds more than it has: {wallet:?}"
            );
            if !wallet.debt.is_zero() {
                assert!(wallet.available().is_zero(), "{context}: {id} in debt");
            }
        }
    }

    /// Nothing touches the second organization: its wallet, its session and its history are
    /// exactly as set up.
    async fn check_other_org(&self, context: &str) {
        let store = self.ledger.store();
        let wallet = store.wallet(&self.other.wallet.id).await.unwrap().unwrap();
        assert_eq!(
            wallet, self.other.wallet,
            "{context}: the other organization's wallet changed"
        );
        let lines = all_lines(store.as_ref(), &wallet.id).await.len();
        assert_eq!(
            u64::try_from(lines).unwrap(),
            self.other.lines,
            "{context}: the other organization's history grew"
        );
        let session = self
            .payments
            .store()
            .payment_session(&self.other.session.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            session, self.other.session,
            "{context}: the other organization's session changed"
        );
        assert_eq!(session.org_id.as_str(), OTHER_ORG);
    }

    async fn check_sessions(&mut self, context: &str) {
        let listed = self
            .payments
            .store()
            .list_payment_sessions(&PaymentSessionFilter {
                org_id: Some(org()),
                page: PageRequest {
                    page: 1,
                    per_page: 1_000,
                },
                ..PaymentSessionFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(
            listed.items.len(),
            self.model.sessions.len(),
            "{context}: sessions of the organization"
        );
        for (index, expected) in self.model.sessions.iter().enumerate() {
            let id = &expected.id;
            let session = self
                .payments
                .store()
                .payment_session(id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(session.status, expected.status, "{context}: status of {id}");
            match self.seen.get(index) {
                Some(&before) => assert!(
                    is_reachable(before, session.status),
                    "{context}: {id} moved {before} → {}",
                    session.status
                ),
                None => self.seen.push(session.status),
            }
            self.seen[index] = session.status;
            let wallet = &self.model.wallets[expected.wallet];
            assert_eq!(session.org_id, org(), "{context}: organization of {id}");
            assert_eq!(session.wallet_id, wallet.id, "{context}: wallet of {id}");
            assert_eq!(session.amount, expected.amount, "{context}: amount of {id}");
            assert_eq!(
                session.credited_amount.map(|credits| credits.value()),
                expected.credited,
                "{context}: credited of {id}"
            );
            if let Some(credited) = session.credited_amount {
                // Money in = credits out, by the documented rule (rounded down).
                assert_eq!(
                    credited.value(),
                    credits_bought(session.amount, wallet.rate),
                    "{context}: {id} credited {credited} for {}",
                    session.amount
                );
            }
            assert_eq!(
                session.refunded_amount, expected.refunded_money,
                "{context}: refunded money of {id}"
            );
            assert_eq!(
                session.refunded_credits.value(),
                expected.refunded_credits,
                "{context}: refunded credits of {id}"
            );
            assert_eq!(
                session.applied_refund_ids, expected.refund_ids,
                "{context}: refund ids of {id}"
            );
            // Refunds never exceed the capture, in money or in credits.
            assert!(
                session.refunded_amount <= session.amount,
                "{context}: {id} refunded {} of {}",
                session.refunded_amount,
                session.amount
            );
            assert!(
                session.refunded_credits <= session.credited_amount.unwrap_or_default(),
                "{context}: {id} took back {} of {:?} credits",
                session.refunded_credits,
                session.credited_amount
            );
            let order = self
                .sandbox
                .order(&expected.order_id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(order.session_id, id.as_str());
            assert_eq!(order.status, expected.order, "{context}: order of {id}");
            assert_eq!(
                order.refunded, expected.order_refunded,
                "{context}: money refunded at the sandbox for {id}"
            );
            assert!(order.refunded <= order.amount);
        }
    }

    /// Exactly once, from the journal's side: a credited session has one top-up line, on its
    /// wallet, for what it credited; one not credited has none; its refund and reversal lines
    /// add up to the credits it took back; no line names an unknown session.
    async fn check_journal(&self, context: &str) {
        let mut by_session: HashMap<String, SessionLines> = HashMap::new();
        for (index, wallet) in self.model.wallets.iter().enumerate() {
            for line in all_lines(self.ledger.store().as_ref(), &wallet.id).await {
                if line.reference_type != "payment_session" {
                    continue;
                }
                let lines = by_session.entry(line.reference_id.clone()).or_default();
                match line.kind {
                    EntryKind::Topup => lines
                        .topups
                        .push((index, line.paid_delta - line.debt_delta)),
                    EntryKind::Refund | EntryKind::Reversal => {
                        lines.taken_back += line.debt_delta - line.paid_delta;
                    }
                    other => panic!("{context}: a {other:?} line names a payment session"),
                }
            }
        }
        for expected in &self.model.sessions {
            let lines = by_session.remove(expected.id.as_str()).unwrap_or_default();
            let topups: Vec<(usize, Decimal)> = expected
                .credited
                .map(|credits| (expected.wallet, credits))
                .into_iter()
                .collect();
            assert_eq!(
                lines.topups, topups,
                "{context}: top-up lines of {}",
                expected.id
            );
            assert_eq!(
                lines.taken_back, expected.refunded_credits,
                "{context}: credits taken back for {}",
                expected.id
            );
        }
        assert!(
            by_session.is_empty(),
            "{context}: lines name unknown sessions: {by_session:?}"
        );
    }

    async fn check_holds(&self, context: &str) {
        for expected in &self.model.holds {
            let reservation = self
                .ledger
                .store()
                .reservation(&expected.id)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                reservation.status, expected.status,
                "{context}: status of {}",
                expected.id
            );
            assert_eq!(
                reservation.wallet_id, self.model.wallets[expected.wallet].id,
                "{context}: wallet of {}",
                expected.id
            );
        }
    }
}
