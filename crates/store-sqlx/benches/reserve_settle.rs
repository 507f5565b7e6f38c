//! Reserve + settle pairs per second through the `Ledger` on PostgreSQL and SQLite: one hot
//! wallet and 10,000 wallets, at 1, 16 and 64 concurrent callers. One criterion iteration is
//! one pair; the throughput line reads pairs per second.
//!
//! `cargo bench -p store-sqlx --bench reserve_settle` (PostgreSQL from `PURSE_TEST_PG_URL`,
//! skipped when unreachable). Method and figures: docs/benchmarks.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ledger_core::Ledger;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, TransactionId, UserId, WalletId};
use ledger_core::journal::{Account, EntryKind, JournalBuilder, WalletPool};
use ledger_core::money::{Credits, Currency};
use ledger_core::ports::{Clock, IdSource};
use ledger_core::service::ReserveRequest;
use ledger_core::wallet::{FeeType, Owner, Wallet, WalletStatus};
use rust_decimal::Decimal;
use store_sqlx::{ConnectOptions, Database, PG_MIGRATOR};
use testkit::pg::PgTestDb;
use testkit::{CounterIds, ManualClock};

const CALLERS: [usize; 3] = [1, 16, 64];
const WALLETS_MANY: usize = 10_000;

struct Setup {
    ledger: Ledger,
    users: Vec<UserId>,
    org: OrgId,
    usd: Currency,
}

/// Creates `count` user wallets of a billion credits each, in one unit of work.
async fn seed(database: &Database, count: usize, org: &str) -> Setup {
    let clock = Arc::new(ManualClock::default());
    let ids = Arc::new(CounterIds::default());
    let ledger = Ledger::new(database.ledger_store(), clock.clone(), ids.clone());
    let org = OrgId::parse(org).expect("id");
    let usd = Currency::parse("USD").expect("currency");
    let now = clock.now();
    let mut users = Vec::with_capacity(count);
    let mut uow = database.ledger_store().begin().await.expect("begin");
    for index in 0..count {
        let user = UserId::parse(&format!("user_{index}")).expect("id");
        let mut wallet = Wallet {
            id: WalletId::from_suffix(&ids.next_suffix()),
            org_id: org.clone(),
            owner: Owner::User(user.clone()),
            name: None,
            status: WalletStatus::Active,
            currency: usd,
            rate_amount: Decimal::ONE,
            paid: Credits::ZERO,
            granted: Credits::ZERO,
            held: Credits::ZERO,
            debt: Credits::ZERO,
            total_spent: Credits::ZERO,
            total_allocated: Credits::ZERO,
            expiration_at: None,
            activates_at: None,
            priority: 0,
            fee_types: Vec::new(),
            rules: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        let mut journal = JournalBuilder::new(
            TransactionId::from_suffix(&ids.next_suffix()),
            org.clone(),
            EntryKind::Opening,
            ("wallet", wallet.id.as_str()),
            "bench",
            now,
        );
        journal.move_wallet(
            &mut wallet,
            WalletPool::Paid,
            Decimal::from(1_000_000_000),
            Account::AdminAdjustments,
        );
        uow.insert_wallet(&wallet).await.expect("insert wallet");
        uow.append_journal(journal.finish()).await.expect("append");
        users.push(user);
    }
    uow.commit().await.expect("commit");
    Setup {
        ledger,
        users,
        org,
        usd,
    }
}

fn request(setup: &Setup, user: &UserId) -> ReserveRequest {
    ReserveRequest {
        scope: CascadeScope {
            org_id: setup.org.clone(),
            user_id: Some(user.clone()),
            team_id: None,
        },
        amount: Credits::try_new(Decimal::from(2)).expect("credits"),
        currency: setup.usd,
        fee_type: FeeType::Charge,
        ttl_seconds: Some(600),
        metadata: None,
        principal: "bench".to_owned(),
    }
}

/// Runs at least `pairs` reserve+settle pairs spread over `callers` tasks (each task runs the
/// same number); answers the wall time scaled to `pairs`.
async fn run_pairs(setup: &Arc<Setup>, callers: usize, pairs: u64) -> Duration {
    let next = Arc::new(AtomicUsize::new(0));
    let per_caller = pairs.div_ceil(callers as u64);
    let start = Instant::now();
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let setup = setup.clone();
            let next = next.clone();
            tokio::spawn(async move {
                for _ in 0..per_caller {
                    let index = next.fetch_add(1, Ordering::Relaxed) % setup.users.len();
                    let hold = setup
                        .ledger
                        .reserve(&request(&setup, &setup.users[index]))
                        .await
                        .expect("reserve");
                    setup
                        .ledger
                        .settle(
                            &hold.id,
                            Credits::try_new(Decimal::ONE).expect("credits"),
                            "bench",
                        )
                        .await
                        .expect("settle");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let ran = per_caller * callers as u64;
    start.elapsed().mul_f64(pairs as f64 / ran as f64)
}

fn bench_engine(c: &mut Criterion, runtime: &tokio::runtime::Runtime, engine: &str, url: &str) {
    let options = ConnectOptions {
        max_connections: 64,
        acquire_timeout_ms: 30_000,
    };
    let mut group = c.benchmark_group(format!("reserve_settle/{engine}"));
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for (shape, wallets) in [("hot_wallet", 1), ("wallets_10k", WALLETS_MANY)] {
        let setup = runtime.block_on(async {
            let database = Database::connect(url, &options).await.expect("connect");
            database.migrate().await.expect("migrate");
            Arc::new(seed(&database, wallets, &format!("org_{shape}")).await)
        });
        for callers in CALLERS {
            group.bench_with_input(BenchmarkId::new(shape, callers), &callers, |b, &callers| {
                b.to_async(runtime)
                    .iter_custom(|pairs| run_pairs(&setup, callers, pairs));
            });
        }
    }
    group.finish();
}

fn reserve_settle(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    for shape in ["hot_wallet", "wallets_10k"] {
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{shape}.db")).display()
        );
        bench_sqlite_shape(c, &runtime, &url, shape);
    }
    if let Some(test_db) = runtime.block_on(PgTestDb::create(&PG_MIGRATOR)) {
        bench_engine(c, &runtime, "postgres", test_db.url());
        runtime.block_on(test_db.cleanup());
    }
}

/// SQLite gets one file per shape so that the hot-wallet file stays small.
fn bench_sqlite_shape(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    url: &str,
    shape: &str,
) {
    let options = ConnectOptions {
        max_connections: 8,
        acquire_timeout_ms: 30_000,
    };
    let wallets = if shape == "hot_wallet" {
        1
    } else {
        WALLETS_MANY
    };
    let setup = runtime.block_on(async {
        let database = Database::connect(url, &options).await.expect("connect");
        database.migrate().await.expect("migrate");
        Arc::new(seed(&database, wallets, &format!("org_{shape}")).await)
    });
    let mut group = c.benchmark_group("reserve_settle/sqlite");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for callers in CALLERS {
        group.bench_with_input(BenchmarkId::new(shape, callers), &callers, |b, &callers| {
            b.to_async(runtime)
                .iter_custom(|pairs| run_pairs(&setup, callers, pairs));
        });
    }
    group.finish();
}

criterion_group!(benches, reserve_settle);
criterion_main!(benches);
