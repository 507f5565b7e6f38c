//! The storage contract suite on PostgreSQL (a fresh database per case, dropped after).

use store_sqlx::{ConnectOptions, Database};
use testkit::contract::StoreUnderTest;

use crate::support::{pg_database, store_under_test};

async fn postgres_store() -> Option<StoreUnderTest> {
    let test_db = pg_database().await?;
    let options = ConnectOptions {
        max_connections: 4,
        acquire_timeout_ms: 5_000,
    };
    let database = Database::connect(test_db.url(), &options)
        .await
        .expect("connect postgres");
    Some(store_under_test(database, test_db.cleanup()))
}

testkit::storage_contract!(postgres_store);
