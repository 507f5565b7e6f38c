//! Integration tests of store-sqlx on real databases: the storage contract suite on SQLite
//! and on PostgreSQL, and the concurrency proofs.

mod concurrency;
mod contract_postgres;
mod contract_sqlite;
mod support;
