//! The storage contract suite on SQLite (a temp file, several connections).

use store_sqlx::ConnectOptions;
use testkit::contract::StoreUnderTest;

use crate::support::{sqlite_database, store_under_test};

async fn sqlite_store() -> Option<StoreUnderTest> {
    let (database, dir) = sqlite_database(&ConnectOptions::default()).await;
    Some(store_under_test(database, async move { drop(dir) }))
}

testkit::storage_contract!(sqlite_store);
