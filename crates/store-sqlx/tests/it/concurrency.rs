//! Concurrency proofs on real databases: many callers through several pools (as several
//! `purse` replicas would be) never hold more than the balance allows, never charge a hold
//! twice, and never take a balance below zero. The tests assert counts and the audit, never
//! timing.

use std::sync::Arc;

use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, ReservationId, UserId, WalletId};
use ledger_core::money::{Credits, Currency};
use ledger_core::service::{NewWallet, ReserveRequest, Settlement};
use ledger_core::wallet::{FeeType, Owner};
use ledger_core::{Ledger, LedgerError};
use rust_decimal::Decimal;
use store_sqlx::{ConnectOptions, Database};
use testkit::contract::credits;
use testkit::pg::PgTestDb;
use testkit::{CounterIds, ManualClock};

use crate::support::{pg_database, sqlite_database};

/// How many replicas (pools) the tests run, and how many callers in all.
const REPLICAS: usize = 4;
const CALLERS: usize = 64;

/// Several replicas of the service on one database: one pool and one `Ledger` each, one
/// shared clock.
struct Replicas {
    databases: Vec<Database>,
    ledgers: Vec<Ledger>,
    org: OrgId,
    user: UserId,
    usd: Currency,
    _sqlite_dir: Option<tempfile::TempDir>,
    pg: Option<PgTestDb>,
}

fn pool_options() -> ConnectOptions {
    ConnectOptions {
        max_connections: 8,
        acquire_timeout_ms: 30_000,
    }
}

impl Replicas {
    async fn sqlite() -> Self {
        let (first, dir) = sqlite_database(&pool_options()).await;
        let url = format!("sqlite://{}", dir.path().join("purse.db").display());
        let mut databases = vec![first];
        for _ in 1..REPLICAS {
            databases.push(
                Database::connect(&url, &pool_options())
                    .await
                    .expect("connect"),
            );
        }
        Self::over(databases, Some(dir), None)
    }

    async fn postgres() -> Option<Self> {
        let test_db = pg_database().await?;
        let mut databases = Vec::new();
        for _ in 0..REPLICAS {
            databases.push(
                Database::connect(test_db.url(), &pool_options())
                    .await
                    .expect("connect"),
            );
        }
        Some(Self::over(databases, None, Some(test_db)))
    }

    fn over(
        databases: Vec<Database>,
        sqlite_dir: Option<tempfile::TempDir>,
        pg: Option<PgTestDb>,
    ) -> Self {
        let clock = Arc::new(ManualClock::default());
        let ledgers = databases
            .iter()
            .map(|database| {
                Ledger::new(
                    database.ledger_store(),
                    clock.clone(),
                    Arc::new(CounterIds::default()),
                )
            })
            .collect();
        Self {
            databases,
            ledgers,
            org: OrgId::parse("org_hot").expect("id"),
            user: UserId::parse("user_hot").expect("id"),
            usd: Currency::parse("USD").expect("currency"),
            _sqlite_dir: sqlite_dir,
            pg,
        }
    }

    fn ledger(&self, caller: usize) -> Ledger {
        self.ledgers[caller % self.ledgers.len()].clone()
    }

    async fn hot_wallet(&self, paid: i64) -> WalletId {
        self.ledgers[0]
            .create_wallet(&NewWallet {
                org_id: self.org.clone(),
                owner: Owner::User(self.user.clone()),
                name: Some("hot".to_owned()),
                currency: self.usd,
                rate_amount: Decimal::ONE,
                paid: credits(paid),
                granted: Credits::ZERO,
                expiration_at: None,
                activates_at: None,
                priority: 0,
                fee_types: Vec::new(),
                rules: Vec::new(),
                principal: "test".to_owned(),
            })
            .await
            .expect("create wallet")
            .id
    }

    fn reserve_request(&self, amount: Credits) -> ReserveRequest {
        ReserveRequest {
            scope: CascadeScope {
                org_id: self.org.clone(),
                user_id: Some(self.user.clone()),
                team_id: None,
            },
            amount,
            currency: self.usd,
            fee_type: FeeType::Charge,
            ttl_seconds: Some(600),
            metadata: None,
            principal: "gateway".to_owned(),
        }
    }

    async fn assert_audit_clean(&self) {
        let report = self.ledgers[0].audit().await.expect("audit");
        assert!(
            report.is_clean(),
            "audit found breaches: {:#?}",
            report.breaches
        );
    }

    async fn finish(self) {
        for database in &self.databases {
            database.close().await;
        }
        if let Some(pg) = self.pg {
            pg.cleanup().await;
        }
    }
}

/// 64 callers reserve 1 credit each on a wallet of 40: exactly 40 holds, 24 cost tickets.
async fn hot_wallet_holds_exactly_what_the_balance_allows(replicas: &Replicas) {
    // Arrange
    let wallet_id = replicas.hot_wallet(40).await;

    // Act
    let tasks: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let ledger = replicas.ledger(caller);
            let request = replicas.reserve_request(credits(1));
            tokio::spawn(async move { ledger.reserve(&request).await })
        })
        .collect();
    let mut held = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(_) => held += 1,
            Err(LedgerError::InsufficientBalance { .. }) => refused += 1,
            Err(other) => panic!("a reserve failed with a fault: {other:?}"),
        }
    }

    // Assert
    assert_eq!((held, refused), (40, CALLERS - 40));
    let wallet = replicas.ledgers[0]
        .store()
        .wallet(&wallet_id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(wallet.held, credits(40));
    assert_eq!(wallet.available(), Credits::ZERO);
    replicas.assert_audit_clean().await;
}

/// Two settles of each hold race, from two replicas: each hold is charged once.
async fn concurrent_settles_of_one_hold_charge_it_once(replicas: &Replicas) {
    // Arrange
    let wallet_id = replicas.hot_wallet(1_000).await;
    let mut holds: Vec<ReservationId> = Vec::new();
    for _ in 0..16 {
        let hold = replicas.ledgers[0]
            .reserve(&replicas.reserve_request(credits(10)))
            .await
            .expect("reserve");
        holds.push(hold.id);
    }

    // Act: per hold, one settle of 4 and one of 6, on two replicas at once.
    let tasks: Vec<_> = holds
        .iter()
        .enumerate()
        .flat_map(|(index, hold)| {
            [(4, index), (6, index + 1)].map(|(amount, caller)| {
                let ledger = replicas.ledger(caller);
                let hold = hold.clone();
                tokio::spawn(async move { ledger.settle(&hold, credits(amount), "gateway").await })
            })
        })
        .collect();
    let mut settled: Vec<Settlement> = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(settlement) => settled.push(settlement),
            Err(LedgerError::Conflict { code, .. }) => {
                assert_eq!(code, "settle_amount_mismatch");
                refused += 1;
            }
            Err(other) => panic!("a settle failed with a fault: {other:?}"),
        }
    }

    // Assert
    assert_eq!(
        (settled.len(), refused),
        (16, 16),
        "one settle per hold wins"
    );
    let charged: Decimal = settled.iter().map(|s| s.settled_amount.value()).sum();
    let wallet = replicas.ledgers[0]
        .store()
        .wallet(&wallet_id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(wallet.total_spent.value(), charged);
    assert_eq!(wallet.paid.value(), Decimal::from(1_000) - charged);
    assert_eq!(wallet.held, Credits::ZERO);
    replicas.assert_audit_clean().await;
}

/// Settles above their holds race for the same free credits: the wallet never goes below
/// zero and never pays more than it had.
async fn overdraw_is_impossible(replicas: &Replicas) {
    // Arrange: 32 holds of 1 on a wallet of 40 leave 8 free credits.
    let wallet_id = replicas.hot_wallet(40).await;
    let mut holds = Vec::new();
    for _ in 0..32 {
        holds.push(
            replicas.ledgers[0]
                .reserve(&replicas.reserve_request(credits(1)))
                .await
                .expect("reserve")
                .id,
        );
    }

    // Act: every hold settles for 3, and 16 more reservers compete for the rest.
    let settles: Vec<_> = holds
        .iter()
        .enumerate()
        .map(|(caller, hold)| {
            let ledger = replicas.ledger(caller);
            let hold = hold.clone();
            tokio::spawn(async move { ledger.settle(&hold, credits(3), "gateway").await })
        })
        .collect();
    let reserves: Vec<_> = (0..16)
        .map(|caller| {
            let ledger = replicas.ledger(caller);
            let request = replicas.reserve_request(credits(1));
            tokio::spawn(async move { ledger.reserve(&request).await })
        })
        .collect();
    let mut charged = Decimal::ZERO;
    for task in settles {
        charged += task
            .await
            .expect("task")
            .expect("settle")
            .settled_amount
            .value();
    }
    let mut held = Decimal::ZERO;
    for task in reserves {
        match task.await.expect("task") {
            Ok(hold) => held += hold.amount.value(),
            Err(LedgerError::InsufficientBalance { .. }) => {}
            Err(other) => panic!("a reserve failed with a fault: {other:?}"),
        }
    }

    // Assert
    let wallet = replicas.ledgers[0]
        .store()
        .wallet(&wallet_id)
        .await
        .expect("read")
        .expect("exists");
    assert!(
        charged + held <= Decimal::from(40),
        "{charged} + {held} > 40"
    );
    assert_eq!(wallet.total_spent.value(), charged);
    assert_eq!(wallet.held.value(), held);
    assert_eq!(wallet.paid.value(), Decimal::from(40) - charged);
    replicas.assert_audit_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_hot_wallet_holds_exactly_what_the_balance_allows() {
    let Some(replicas) = Replicas::postgres().await else {
        return;
    };
    hot_wallet_holds_exactly_what_the_balance_allows(&replicas).await;
    replicas.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_hot_wallet_holds_exactly_what_the_balance_allows() {
    let replicas = Replicas::sqlite().await;
    hot_wallet_holds_exactly_what_the_balance_allows(&replicas).await;
    replicas.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_settles_of_one_hold_charge_it_once() {
    let Some(replicas) = Replicas::postgres().await else {
        return;
    };
    concurrent_settles_of_one_hold_charge_it_once(&replicas).await;
    replicas.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_concurrent_settles_of_one_hold_charge_it_once() {
    let replicas = Replicas::sqlite().await;
    concurrent_settles_of_one_hold_charge_it_once(&replicas).await;
    replicas.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_overdraw_is_impossible() {
    let Some(replicas) = Replicas::postgres().await else {
        return;
    };
    overdraw_is_impossible(&replicas).await;
    replicas.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_overdraw_is_impossible() {
    let replicas = Replicas::sqlite().await;
    overdraw_is_impossible(&replicas).await;
    replicas.finish().await;
}
