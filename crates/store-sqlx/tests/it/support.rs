//! Fresh databases for the tests: a SQLite temp file, a PostgreSQL test database.

use store_sqlx::{ConnectOptions, Database, PG_MIGRATOR};
use testkit::contract::StoreUnderTest;
use testkit::pg::PgTestDb;

/// A fresh, migrated SQLite file in a temp directory, and the directory (deleted on drop).
pub(crate) async fn sqlite_database(options: &ConnectOptions) -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("purse.db").display());
    let database = Database::connect(&url, options)
        .await
        .expect("connect sqlite");
    database.migrate().await.expect("migrate sqlite");
    (database, dir)
}

/// A fresh PostgreSQL test database, or `None` when the server is unreachable outside CI.
pub(crate) async fn pg_database() -> Option<PgTestDb> {
    PgTestDb::create(&PG_MIGRATOR).await
}

/// The storage ports of `database`, closed (and `teardown` run) after the case.
pub(crate) fn store_under_test(
    database: Database,
    teardown: impl Future<Output = ()> + Send + 'static,
) -> StoreUnderTest {
    StoreUnderTest::new(
        database.ledger_store(),
        database.directory(),
        database.idempotency(),
    )
    .with_payments(database.payments())
    .with_teardown(async move {
        database.close().await;
        teardown.await;
    })
}
