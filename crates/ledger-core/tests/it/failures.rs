//! Scripted store failures. A store that fails in the middle of an operation must leave
//! nothing half-done: the error surfaces, nothing is committed, and a retryable
//! `StoreError::Conflict` runs the whole unit again, at most `ATTEMPTS_MAX` times, without
//! applying anything twice.
//!
//! The first tests script the ports with mockall and check what the service asks of them.
//! The last ones put a fault-injecting decorator in front of the real memory store and check
//! the stored state itself.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use ledger_core::Ledger;
use ledger_core::error::{LedgerError, StoreError};
use ledger_core::journal::JournalTransaction;
use ledger_core::ports::{AuditSnapshot, MockLedgerStore, MockUnitOfWork};
use ledger_core::reservation::{Reservation, ReservationStatus};
use ledger_core::service::ATTEMPTS_MAX;
use ledger_core::tenancy::WalletSettings;
use ledger_core::wallet::{Owner, Wallet};
use mockall::predicate::always;
use rust_decimal_macros::dec;
use testkit::tapped_store::{Tap, TappedStore, UnitCall, UnitTap};
use testkit::{CounterIds, ManualClock};

use crate::support::{Fixture, credits};

fn unavailable() -> StoreError {
    StoreError::Unavailable("connection reset".into())
}

/// A real wallet and a real held reservation on it, made on the memory store, to feed mocks.
async fn wallet_and_hold() -> (Wallet, Reservation) {
    let fx = Fixture::new();
    let wallet = fx
        .ledger
        .create_wallet(&fx.new_wallet(Owner::User(fx.user.clone()), dec!(10), dec!(0)))
        .await
        .unwrap();
    let hold = fx
        .ledger
        .reserve(&fx.reserve_request(dec!(4)))
        .await
        .unwrap();
    let wallet_after = fx.ledger.store().wallet(&wallet.id).await.unwrap().unwrap();
    (wallet_after, hold)
}

fn ledger_on(store: MockLedgerStore) -> Ledger {
    Ledger::new(
        Arc::new(store),
        Arc::new(ManualClock::default()),
        Arc::new(CounterIds::default()),
    )
}

#[tokio::test]
async fn reserve_whose_journal_append_fails_surfaces_the_error_and_commits_nothing() {
    let (wallet, _) = wallet_and_hold().await;
    let mut uow = MockUnitOfWork::new();
    uow.expect_wallet_settings()
        .returning(|_| Ok(WalletSettings::default()));
    let candidates = vec![wallet.clone()];
    uow.expect_cascade_wallets()
        .returning(move |_, _, _| Ok(candidates.clone()));
    uow.expect_lock_wallet()
        .returning(move |_| Ok(Some(wallet.clone())));
    uow.expect_insert_reservation().returning(|_| Ok(()));
    uow.expect_update_wallet().returning(|_| Ok(()));
    uow.expect_append_journal()
        .times(1)
        .returning(|_| Err(unavailable()));
    uow.expect_commit().never();
    let mut store = MockLedgerStore::new();
    store
        .expect_begin()
        .times(1)
        .return_once(move || Ok(Box::new(uow)));
    let ledger = ledger_on(store);
    let fx = Fixture::new();

    let result = ledger.reserve(&fx.reserve_request(dec!(1))).await;

    assert!(
        matches!(result, Err(LedgerError::Store(StoreError::Unavailable(_)))),
        "the store's failure surfaces, not retried: {result:?}"
    );
}

#[tokio::test]
async fn settle_whose_wallet_write_fails_commits_nothing() {
    let (wallet, hold) = wallet_and_hold().await;
    let mut uow = MockUnitOfWork::new();
    uow.expect_lock_wallet()
        .returning(move |_| Ok(Some(wallet.clone())));
    let locked = hold.clone();
    uow.expect_lock_reservation()
        .returning(move |_| Ok(Some(locked.clone())));
    uow.expect_update_reservation()
        .withf(|reservation: &Reservation| reservation.status == ReservationStatus::Settled)
        .returning(|_| Ok(()));
    uow.expect_update_wallet()
        .times(1)
        .returning(|_| Err(unavailable()));
    uow.expect_append_journal().never();
    uow.expect_commit().never();
    let mut store = MockLedgerStore::new();
    let snapshot = hold.clone();
    store
        .expect_reservation()
        .returning(move |_| Ok(Some(snapshot.clone())));
    store
        .expect_begin()
        .times(1)
        .return_once(move || Ok(Box::new(uow)));
    let ledger = ledger_on(store);

    let result = ledger.settle(&hold.id, credits(dec!(3)), "gateway").await;

    assert!(matches!(
        result,
        Err(LedgerError::Store(StoreError::Unavailable(_)))
    ));
}

/// A unit of work for an admin credit whose commit answers `outcome`, recording what the
/// attempt wrote.
fn credit_unit(
    wallet: &Wallet,
    outcome: fn() -> Result<(), StoreError>,
    writes: &Arc<Mutex<Vec<(Wallet, JournalTransaction)>>>,
) -> MockUnitOfWork {
    let mut uow = MockUnitOfWork::new();
    let stored = wallet.clone();
    uow.expect_lock_wallet()
        .with(always())
        .returning(move |_| Ok(Some(stored.clone())));
    let pending: Arc<Mutex<Option<Wallet>>> = Arc::default();
    let pending_wallet = pending.clone();
    uow.expect_update_wallet()
        .times(1)
        .returning(move |wallet| {
            *pending_wallet.lock().unwrap() = Some(wallet.clone());
            Ok(())
        });
    let writes = writes.clone();
    uow.expect_append_journal()
        .times(1)
        .returning(move |transaction| {
            let wallet = pending.lock().unwrap().take().unwrap();
            writes.lock().unwrap().push((wallet, transaction));
            Ok(())
        });
    uow.expect_commit().times(1).returning(outcome);
    uow
}

#[tokio::test]
async fn a_conflicting_commit_is_retried_and_applies_the_credit_once() {
    let (wallet, _) = wallet_and_hold().await;
    let writes: Arc<Mutex<Vec<(Wallet, JournalTransaction)>>> = Arc::default();
    let attempts = Arc::new(AtomicU32::new(0));
    let mut store = MockLedgerStore::new();
    let (stored, recorded, counter) = (wallet.clone(), writes.clone(), attempts.clone());
    store.expect_begin().returning(move || {
        // The first commit is refused (a serialization failure); the second goes through.
        let outcome = if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            || {
                Err(StoreError::Conflict(
                    "could not serialize access".to_owned(),
                ))
            }
        } else {
            || Ok(())
        };
        Ok(Box::new(credit_unit(&stored, outcome, &recorded)))
    });
    let ledger = ledger_on(store);

    let credited = ledger
        .credit(&wallet.id, credits(dec!(5)), credits(dec!(0)), "admin")
        .await
        .unwrap();

    assert_eq!(attempts.load(Ordering::SeqCst), 2);
    assert_eq!(credited.paid.value(), wallet.paid.value() + dec!(5));
    let writes = writes.lock().unwrap();
    assert_eq!(writes.len(), 2, "one write set per attempt");
    for (written, transaction) in writes.iter() {
        // Each attempt starts from the stored wallet, not from the failed attempt's result.
        assert_eq!(written.paid.value(), wallet.paid.value() + dec!(5));
        let moved: rust_decimal::Decimal = transaction
            .postings
            .iter()
            .filter(|posting| posting.amount.is_sign_positive())
            .map(|posting| posting.amount)
            .sum();
        assert_eq!(moved, dec!(5));
    }
    assert_ne!(
        writes[0].1.id, writes[1].1.id,
        "a retry is a new transaction"
    );
}

#[tokio::test]
async fn a_commit_that_keeps_conflicting_gives_up_after_attempts_max() {
    let (wallet, _) = wallet_and_hold().await;
    let writes: Arc<Mutex<Vec<(Wallet, JournalTransaction)>>> = Arc::default();
    let attempts = Arc::new(AtomicU32::new(0));
    let mut store = MockLedgerStore::new();
    let (stored, recorded, counter) = (wallet.clone(), writes.clone(), attempts.clone());
    store.expect_begin().returning(move || {
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(Box::new(credit_unit(
            &stored,
            || Err(StoreError::Conflict("deadlock detected".to_owned())),
            &recorded,
        )))
    });
    let ledger = ledger_on(store);

    let result = ledger
        .credit(&wallet.id, credits(dec!(5)), credits(dec!(0)), "admin")
        .await;

    assert!(matches!(
        result,
        Err(LedgerError::Store(StoreError::Conflict(_)))
    ));
    assert_eq!(attempts.load(Ordering::SeqCst), ATTEMPTS_MAX);
}

// A fault-injecting tap on the real memory store.

/// Which call of a unit of work fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// `append_journal` answers `Unavailable`.
    AppendJournal,
    /// `update_reservation` answers `Unavailable`.
    UpdateReservation,
    /// `commit` answers `Conflict` without committing, this many times.
    CommitConflict(u32),
}

/// The armed fault, and how many commits the units begun since it was armed asked for (the
/// refused ones and the one that went through; shared with the units' taps).
#[derive(Debug, Default)]
struct FaultyStore {
    fault: Mutex<Option<Fault>>,
    commits_seen: Arc<AtomicU32>,
}

impl FaultyStore {
    fn arm(&self, fault: Fault) {
        *self.fault.lock().unwrap() = Some(fault);
        self.commits_seen.store(0, Ordering::SeqCst);
    }
}

impl Tap for FaultyStore {
    fn unit(&self) -> Box<dyn UnitTap> {
        Box::new(FaultyUnit {
            fault: *self.fault.lock().unwrap(),
            commits_seen: self.commits_seen.clone(),
        })
    }
}

/// The tap of one unit: the fault armed when it began.
struct FaultyUnit {
    fault: Option<Fault>,
    commits_seen: Arc<AtomicU32>,
}

impl UnitTap for FaultyUnit {
    fn before(&mut self, call: UnitCall) -> Result<(), StoreError> {
        match (self.fault, call) {
            (Some(Fault::AppendJournal), UnitCall::AppendJournal)
            | (Some(Fault::UpdateReservation), UnitCall::UpdateReservation) => Err(unavailable()),
            (Some(Fault::CommitConflict(times)), UnitCall::Commit)
                if self.commits_seen.fetch_add(1, Ordering::SeqCst) < times =>
            {
                Err(StoreError::Conflict(
                    "could not serialize access".to_owned(),
                ))
            }
            _ => Ok(()),
        }
    }
}

struct FaultyFixture {
    fx: Fixture,
    faulty: Arc<FaultyStore>,
    ledger: Ledger,
}

impl FaultyFixture {
    fn new() -> Self {
        let fx = Fixture::new();
        let faulty = Arc::new(FaultyStore::default());
        let ledger = Ledger::new(
            Arc::new(TappedStore::new(
                Arc::new((*fx.store).clone()),
                faulty.clone(),
            )),
            fx.clock.clone(),
            Arc::new(CounterIds::default()),
        );
        Self { fx, faulty, ledger }
    }

    async fn snapshot(&self) -> AuditSnapshot {
        self.fx.ledger.store().audit_snapshot().await.unwrap()
    }
}

#[tokio::test]
async fn a_settle_failing_at_the_journal_leaves_wallet_and_hold_as_they_were() {
    let ff = FaultyFixture::new();
    let wallet = ff
        .ledger
        .create_wallet(
            &ff.fx
                .new_wallet(Owner::User(ff.fx.user.clone()), dec!(10), dec!(2)),
        )
        .await
        .unwrap();
    let hold = ff
        .ledger
        .reserve(&ff.fx.reserve_request(dec!(6)))
        .await
        .unwrap();
    let before = ff.snapshot().await;

    ff.faulty.arm(Fault::AppendJournal);
    let settle = ff
        .ledger
        .settle(&hold.id, credits(dec!(5)), "gateway")
        .await;
    ff.faulty.arm(Fault::UpdateReservation);
    let release = ff.ledger.release(&hold.id, "gateway").await;

    assert!(matches!(
        settle,
        Err(LedgerError::Store(StoreError::Unavailable(_)))
    ));
    assert!(matches!(
        release,
        Err(LedgerError::Store(StoreError::Unavailable(_)))
    ));
    assert_eq!(
        ff.snapshot().await,
        before,
        "nothing of the failed units is visible"
    );
    let stored = ff
        .fx
        .ledger
        .store()
        .reservation(&hold.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, hold, "the hold is still open, untouched");
    let stored_wallet = ff
        .fx
        .ledger
        .store()
        .wallet(&wallet.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored_wallet.held.value(), dec!(6));
    ff.fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_reserve_and_a_settle_retried_after_conflicts_apply_once() {
    let ff = FaultyFixture::new();
    let wallet = ff
        .ledger
        .create_wallet(
            &ff.fx
                .new_wallet(Owner::User(ff.fx.user.clone()), dec!(10), dec!(2)),
        )
        .await
        .unwrap();

    ff.faulty.arm(Fault::CommitConflict(3));
    let hold = ff
        .ledger
        .reserve(&ff.fx.reserve_request(dec!(6)))
        .await
        .unwrap();
    assert_eq!(
        ff.faulty.commits_seen.load(Ordering::SeqCst),
        4,
        "three commits refused, the fourth applied"
    );
    ff.faulty.arm(Fault::CommitConflict(ATTEMPTS_MAX - 1));
    let settlement = ff
        .ledger
        .settle(&hold.id, credits(dec!(5)), "gateway")
        .await
        .unwrap();
    assert_eq!(ff.faulty.commits_seen.load(Ordering::SeqCst), ATTEMPTS_MAX);

    assert_eq!(settlement.settled_amount.value(), dec!(5));
    let stored = ff
        .fx
        .ledger
        .store()
        .wallet(&wallet.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.balance().value(),
        dec!(7),
        "charged once, not once per attempt"
    );
    assert_eq!(stored.held.value(), dec!(0));
    assert_eq!(stored.granted.value(), dec!(0));
    let snapshot = ff.snapshot().await;
    let consumed: rust_decimal::Decimal = snapshot
        .account_sums
        .iter()
        .filter(|(code, _)| code == "system:consumption")
        .map(|(_, sum)| *sum)
        .sum();
    assert_eq!(consumed, dec!(5));
    ff.fx.assert_audit_clean().await;
}

#[tokio::test]
async fn a_reserve_whose_commit_always_conflicts_holds_nothing() {
    let ff = FaultyFixture::new();
    ff.ledger
        .create_wallet(
            &ff.fx
                .new_wallet(Owner::User(ff.fx.user.clone()), dec!(10), dec!(0)),
        )
        .await
        .unwrap();
    let before = ff.snapshot().await;

    ff.faulty.arm(Fault::CommitConflict(u32::MAX));
    let result = ff.ledger.reserve(&ff.fx.reserve_request(dec!(4))).await;

    assert!(matches!(
        result,
        Err(LedgerError::Store(StoreError::Conflict(_)))
    ));
    assert_eq!(ff.faulty.commits_seen.load(Ordering::SeqCst), ATTEMPTS_MAX);
    assert_eq!(ff.snapshot().await, before);
    ff.fx.assert_audit_clean().await;
}
