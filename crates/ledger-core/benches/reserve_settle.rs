//! Reserve + settle pairs through `Ledger` on the memory store, on one thread.
//!
//! Two cases: every pair on one hot wallet, and pairs spread round-robin over 10,000 wallets
//! (one per user, so each reserve walks a one-wallet cascade among 10,000 stored wallets).
//! Each sample starts from a fresh store, so the memory store's journal (which keeps every
//! transaction) never grows past one sample's pairs.
//!
//! Run with `cargo bench -p ledger-core --bench reserve_settle`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ledger_core::Ledger;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, UserId};
use ledger_core::money::{Credits, Currency};
use ledger_core::service::{NewWallet, ReserveRequest};
use ledger_core::wallet::{FeeType, Owner};
use rust_decimal::Decimal;
use store_memory::MemoryStore;
use testkit::{CounterIds, ManualClock};

struct Setup {
    ledger: Ledger,
    requests: Vec<ReserveRequest>,
    actual: Credits,
}

async fn setup(wallets: usize) -> Setup {
    let ledger = Ledger::new(
        Arc::new(MemoryStore::new()),
        Arc::new(ManualClock::default()),
        Arc::new(CounterIds::default()),
    );
    let org_id = OrgId::parse("org_bench").expect("a valid org id");
    let usd = Currency::parse("USD").expect("USD is ISO 4217");
    let mut requests = Vec::with_capacity(wallets);
    for n in 0..wallets {
        let user_id = UserId::parse(&format!("user_{n}")).expect("a valid user id");
        ledger
            .create_wallet(&NewWallet {
                org_id: org_id.clone(),
                owner: Owner::User(user_id.clone()),
                name: None,
                currency: usd,
                rate_amount: Decimal::ONE,
                paid: Credits::try_new(Decimal::from(1_000_000_000_u64)).expect("valid credits"),
                granted: Credits::try_new(Decimal::from(1_000_u64)).expect("valid credits"),
                expiration_at: None,
                activates_at: None,
                priority: 0,
                fee_types: Vec::new(),
                rules: Vec::new(),
                principal: "bench".to_owned(),
            })
            .await
            .expect("the wallet is created");
        requests.push(ReserveRequest {
            scope: CascadeScope {
                org_id: org_id.clone(),
                user_id: Some(user_id),
                team_id: None,
            },
            amount: Credits::try_new(Decimal::from(5_u64)).expect("valid credits"),
            currency: usd,
            fee_type: FeeType::Charge,
            ttl_seconds: Some(300),
            metadata: None,
            principal: "gateway".to_owned(),
        });
    }
    Setup {
        ledger,
        requests,
        actual: Credits::try_new(Decimal::new(3_25, 2)).expect("valid credits"),
    }
}

/// Runs `iters` pairs and answers the time they took (setup excluded).
async fn pairs(setup: &Setup, iters: u64) -> Duration {
    let start = Instant::now();
    let mut next = 0;
    for _ in 0..iters {
        let request = &setup.requests[next];
        next = (next + 1) % setup.requests.len();
        let hold = setup
            .ledger
            .reserve(request)
            .await
            .expect("the wallet covers it");
        let settlement = setup
            .ledger
            .settle(&hold.id, setup.actual, "gateway")
            .await
            .expect("the hold settles");
        black_box(settlement);
    }
    start.elapsed()
}

fn reserve_settle(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime builds");
    let mut group = c.benchmark_group("reserve_settle");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    for (label, wallets) in [("hot_wallet", 1), ("10k_wallets", 10_000)] {
        group.bench_function(BenchmarkId::new("pair", label), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let setup = setup(wallets).await;
                    pairs(&setup, iters).await
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, reserve_settle);
criterion_main!(benches);
