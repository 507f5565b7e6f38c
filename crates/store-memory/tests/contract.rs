//! The storage contract suite on the memory store.

use std::sync::Arc;

use store_memory::MemoryStore;
use testkit::contract::StoreUnderTest;

async fn memory_store() -> Option<StoreUnderTest> {
    let store = Arc::new(MemoryStore::new());
    Some(StoreUnderTest::new(store.clone(), store.clone(), store.clone()).with_payments(store))
}

testkit::storage_contract!(memory_store);
