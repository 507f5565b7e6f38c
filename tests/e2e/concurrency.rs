//! Two `purse` processes on one PostgreSQL database, hammering one hot wallet.

use std::str::FromStr;

use purse_e2e::{Backend, TestApp};
use rust_decimal::Decimal;
use serde_json::json;

use crate::scenarios::tenant;

const WORKERS_PER_INSTANCE: usize = 6;
const PAIRS_PER_WORKER: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_never_overdraw_a_hot_wallet() {
    // Arrange: 100 credits, and 2 × 6 × 12 = 144 reserve+settle pairs of 1 credit each.
    let Some(first) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let second = TestApp::spawn_on(&first.database_url).await;
    let t = tenant(&first, "hot").await;
    let wallet = first
        .create_wallet(&t.org_admin, json!({"owner_type": "organization", "owner_id": t.org, "currency": "USD", "rate_amount": 1, "paid_credits": 100}))
        .await
        .text("id");

    // Act
    let mut tasks = Vec::new();
    for instance in [&first, &second] {
        for _ in 0..WORKERS_PER_INSTANCE {
            let base = instance.base_url.clone();
            let gateway = t.gateway.clone();
            let user = t.user.clone();
            let client = reqwest::Client::new();
            tasks.push(tokio::spawn(async move {
                let (mut settled, mut refused) = (0_u32, 0_u32);
                for _ in 0..PAIRS_PER_WORKER {
                    let reserve = client
                        .post(format!("{base}/v1/gateway/wallets/reserve"))
                        .bearer_auth(&gateway)
                        .json(&json!({"user_id": user, "amount": "1"}))
                        .send()
                        .await
                        .unwrap();
                    match reserve.status().as_u16() {
                        201 => {}
                        402 => {
                            refused += 1;
                            continue;
                        }
                        other => panic!(
                            "reserve answered {other}: {}",
                            reserve.text().await.unwrap()
                        ),
                    }
                    let reservation: serde_json::Value = reserve.json().await.unwrap();
                    let settle = client
                        .post(format!("{base}/v1/gateway/wallets/settle"))
                        .bearer_auth(&gateway)
                        .json(&json!({"reservation_id": reservation["id"], "amount": "1"}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(
                        settle.status().as_u16(),
                        200,
                        "{}",
                        settle.text().await.unwrap()
                    );
                    settled += 1;
                }
                (settled, refused)
            }));
        }
    }
    let mut settled = 0;
    let mut refused = 0;
    for task in tasks {
        let (s, r) = task.await.unwrap();
        settled += s;
        refused += r;
    }

    // Assert: exactly the 100 credits were spent, nothing more, and the ledger is sound.
    let wallet = first.wallet(&first.bootstrap, &wallet).await.expect(200);
    let paid = Decimal::from_str(wallet["paid_credits"].as_str().unwrap()).unwrap();
    assert_eq!(settled, 100);
    assert_eq!(refused, 44);
    assert_eq!(paid, Decimal::ZERO);
    assert_eq!(wallet["held_credits"], "0");
    assert_eq!(wallet["total_spent"], "100");
    let report = first.audit().await;
    assert!(report.is_clean(), "{:?}", report.breaches);
    second.stop().await;
    first.cleanup().await;
}
