//! `purse-load`: reserve+settle pairs per second over HTTP, against the app started in-process
//! on SQLite or PostgreSQL, on one hot wallet or on many wallets; and the same pairs straight
//! through the `Ledger` on the same store (the store-only rate of the same run).
//!
//! ```sh
//! cargo run --release -p purse-e2e --bin purse-load -- sqlite hot 2000 16
//! ```
//!
//! Arguments: backend (`sqlite` | `postgres`), shape (`hot` | `many`), pairs, concurrency.
//! Every loop is bounded by the pair count; the only traffic goes to 127.0.0.1.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ledger_core::Ledger;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, UserId};
use ledger_core::money::{Credits, Currency};
use ledger_core::service::ReserveRequest;
use ledger_core::wallet::FeeType;
use purse_e2e::{Backend, TestApp};
use rust_decimal::Decimal;
use serde_json::json;

/// Users (and wallets) of the `many` shape.
const MANY_USERS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Hot,
    Many,
}

#[derive(Debug)]
struct Setup {
    org: String,
    gateway: String,
    users: Vec<String>,
}

#[derive(Debug)]
struct Figures {
    pairs: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    failures: usize,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.pairs as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, permille: usize) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = sorted.len().saturating_sub(1) * permille / 1000;
        sorted.get(index).copied().unwrap_or_default()
    }
}

async fn setup(app: &TestApp, shape: Shape, pairs: usize) -> Setup {
    let boot = app.bootstrap.clone();
    let org = app
        .create_org(&boot, json!({"name": "load"}))
        .await
        .text("id");
    let gateway = app
        .create_token(
            &boot,
            json!({"org_id": org, "role": "gateway", "name": "load"}),
        )
        .await
        .text("token");
    // Enough credits that no pair is refused: each pair settles 1 credit.
    let budget = (pairs * 4 + 1000).to_string();
    let users_count = match shape {
        Shape::Hot => 1,
        Shape::Many => MANY_USERS,
    };
    let mut users = Vec::new();
    for index in 0..users_count {
        let user = app
            .create_user(
                &boot,
                &org,
                json!({"email": format!("u{index}@load.test"), "role": "member"}),
            )
            .await
            .text("id");
        if shape == Shape::Many {
            app.create_wallet(
                &boot,
                json!({"owner_type": "user", "owner_id": user, "currency": "USD",
                       "rate_amount": 1, "paid_credits": budget}),
            )
            .await
            .expect(201);
        }
        users.push(user);
    }
    if shape == Shape::Hot {
        app.create_wallet(
            &boot,
            json!({"owner_type": "organization", "owner_id": org, "currency": "USD",
                   "rate_amount": 1, "paid_credits": budget}),
        )
        .await
        .expect(201);
    }
    Setup {
        org,
        gateway,
        users,
    }
}

async fn run_http(app: &TestApp, setup: &Setup, pairs: usize, concurrency: usize) -> Figures {
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("a client");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, client) = (next.clone(), client.clone());
        let base = app.base_url.clone();
        let gateway = setup.gateway.clone();
        let users = setup.users.clone();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut failures) = (Vec::new(), 0);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= pairs {
                    break;
                }
                let user = &users[n % users.len()];
                let began = Instant::now();
                let reserve = client
                    .post(format!("{base}/v1/gateway/wallets/reserve"))
                    .bearer_auth(&gateway)
                    .json(&json!({"user_id": user, "amount": "2"}))
                    .send()
                    .await;
                let Ok(reserve) = reserve else {
                    failures += 1;
                    continue;
                };
                if reserve.status() != 201 {
                    failures += 1;
                    continue;
                }
                let body: serde_json::Value = reserve.json().await.unwrap_or_default();
                let settle = client
                    .post(format!("{base}/v1/gateway/wallets/settle"))
                    .bearer_auth(&gateway)
                    .json(&json!({"reservation_id": body["id"], "amount": "1"}))
                    .send()
                    .await;
                match settle {
                    Ok(settle) if settle.status() == 200 => latencies.push(began.elapsed()),
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    collect(tasks, started).await
}

async fn run_store(ledger: &Ledger, setup: &Setup, pairs: usize, concurrency: usize) -> Figures {
    let next = Arc::new(AtomicUsize::new(0));
    let org = OrgId::parse(&setup.org).expect("an org id");
    let usd = Currency::parse("USD").expect("USD");
    let hold = Credits::try_positive(Decimal::TWO).expect("2 credits");
    let charge = Credits::try_positive(Decimal::ONE).expect("1 credit");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (next, ledger, org) = (next.clone(), ledger.clone(), org.clone());
        let users: Vec<UserId> = setup
            .users
            .iter()
            .map(|user| UserId::parse(user).expect("a user id"))
            .collect();
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut failures) = (Vec::new(), 0);
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= pairs {
                    break;
                }
                let request = ReserveRequest {
                    scope: CascadeScope {
                        org_id: org.clone(),
                        user_id: Some(users[n % users.len()].clone()),
                        team_id: None,
                    },
                    amount: hold,
                    currency: usd,
                    fee_type: FeeType::Charge,
                    ttl_seconds: None,
                    metadata: None,
                    principal: "load".to_owned(),
                };
                let began = Instant::now();
                let settled = match ledger.reserve(&request).await {
                    Ok(reservation) => ledger.settle(&reservation.id, charge, "load").await.is_ok(),
                    Err(_) => false,
                };
                if settled {
                    latencies.push(began.elapsed());
                } else {
                    failures += 1;
                }
            }
            (latencies, failures)
        }));
    }
    collect(tasks, started).await
}

async fn collect(
    tasks: Vec<tokio::task::JoinHandle<(Vec<Duration>, usize)>>,
    started: Instant,
) -> Figures {
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (task_latencies, task_failures) = task.await.expect("a worker");
        latencies.extend(task_latencies);
        failures += task_failures;
    }
    Figures {
        pairs: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
        failures,
    }
}

#[expect(
    clippy::print_stdout,
    reason = "the load generator's report is its output"
)]
fn report(backend: &str, shape: &str, path: &str, concurrency: usize, figures: &Figures) {
    println!(
        "| {backend} | {shape} | {path} | {concurrency} | {} | {:.0} | {:.1} | {:.1} | {} |",
        figures.pairs,
        figures.rate(),
        figures.percentile(500).as_secs_f64() * 1000.0,
        figures.percentile(990).as_secs_f64() * 1000.0,
        figures.failures,
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend_name = args.get(1).map_or("sqlite", String::as_str);
    let shape_name = args.get(2).map_or("hot", String::as_str);
    let pairs: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let concurrency: usize = args.get(4).and_then(|n| n.parse().ok()).unwrap_or(16);
    let backend = match backend_name {
        "postgres" => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let shape = match shape_name {
        "many" => Shape::Many,
        _ => Shape::Hot,
    };
    let Some(app) = TestApp::spawn(backend).await else {
        eprintln!("purse-load: PostgreSQL unreachable, nothing measured");
        return;
    };
    let setup = setup(&app, shape, pairs * 2).await;
    // Warm up both paths (connections, statement caches) before measuring.
    run_http(&app, &setup, pairs / 10, concurrency).await;
    let store = run_store(&app.ledger(), &setup, pairs, concurrency).await;
    let http = run_http(&app, &setup, pairs, concurrency).await;
    report(backend_name, shape_name, "store", concurrency, &store);
    report(backend_name, shape_name, "http", concurrency, &http);
    let audit = app.audit().await;
    if !audit.is_clean() {
        eprintln!("purse-load: audit breaches: {:?}", audit.breaches);
    }
    app.cleanup().await;
}
