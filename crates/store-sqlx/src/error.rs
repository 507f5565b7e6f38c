//! Translation of sqlx errors into the ports' [`StoreError`], at the seam.

use ledger_core::error::StoreError;

/// PostgreSQL SQLSTATEs and SQLite extended result codes that mean "run the unit again".
const RETRYABLE_CODES: &[&str] = &[
    "40001", // serialization_failure
    "40P01", // deadlock_detected
    "55P03", // lock_not_available (lock_timeout)
    "5",     // SQLITE_BUSY
    "6",     // SQLITE_LOCKED
    "261",   // SQLITE_BUSY_RECOVERY
    "517",   // SQLITE_BUSY_SNAPSHOT
    "262",   // SQLITE_LOCKED_SHAREDCACHE
];

/// Maps a sqlx error: retryable conflicts to `Conflict`, unique violations to `Duplicate`,
/// undecodable rows to `Corrupt`, the rest to `Unavailable`.
pub(crate) fn store_error(error: sqlx::Error, what: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(database_error) => {
            let code = database_error.code();
            let code = code.as_deref().unwrap_or_default();
            if RETRYABLE_CODES.contains(&code) {
                return StoreError::Conflict(format!("{what}: {}", database_error.message()));
            }
            if database_error.is_unique_violation() {
                return StoreError::Duplicate(format!("{what}: {}", database_error.message()));
            }
            StoreError::Unavailable(Box::new(error))
        }
        // No connection within the acquire timeout: the database is down or the pool is
        // exhausted. Retrying the unit would multiply the wait, so the caller gets a fault.
        sqlx::Error::PoolTimedOut => StoreError::Unavailable(Box::new(error)),
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::Decode(_) => StoreError::Corrupt(format!("{what}: {error}")),
        _ => StoreError::Unavailable(Box::new(error)),
    }
}

/// `map_err` shorthand: `.map_err(fail("lock wallet"))`.
pub(crate) fn fail(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| store_error(error, what)
}
