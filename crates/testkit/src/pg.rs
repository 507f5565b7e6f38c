//! Fresh PostgreSQL databases for tests: one per test (or suite), migrated, dropped after.
//!
//! [`PgTestDb::create`] reads `PURSE_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), creates `purse_test_<unix secs>_<random>`
//! and runs the migrator the caller passes (so testkit does not depend on store-sqlx). When the
//! server is unreachable, it panics under `CI=true` and otherwise prints one loud line and
//! answers `None`, so the caller returns early. Databases left behind by crashed runs are
//! swept once per process; only those older than an hour, because other test processes may be
//! running against the same server right now.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

/// The variable naming the server's maintenance database.
pub const PG_URL_VARIABLE: &str = "PURSE_TEST_PG_URL";

/// Where tests find PostgreSQL when the variable is not set.
pub const PG_URL_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The prefix of every database this helper creates.
const NAME_PREFIX: &str = "purse_test_";

/// How old a leftover test database must be before a sweep drops it.
const LEFTOVER_AGE_SECONDS: u64 = 3600;

/// How long connecting to the server may take before it counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

static SWEPT: AtomicBool = AtomicBool::new(false);

/// A migrated, empty test database. Call [`PgTestDb::cleanup`] at the end of the test.
#[derive(Debug)]
pub struct PgTestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl PgTestDb {
    /// Creates and migrates a fresh database, or `None` (after one loud `eprintln!`) when the
    /// server is unreachable outside CI.
    ///
    /// # Panics
    /// When the server is unreachable and `CI=true`, or when creating or migrating fails.
    pub async fn create(migrator: &Migrator) -> Option<PgTestDb> {
        let admin_url =
            std::env::var(PG_URL_VARIABLE).unwrap_or_else(|_| PG_URL_DEFAULT.to_owned());
        let mut admin = match connect(&admin_url).await {
            Ok(admin) => admin,
            Err(error) => {
                let message = format!(
                    "PostgreSQL unreachable at {} ({error}); set {PG_URL_VARIABLE} or start it \
                     (see DEVELOPERS.md)",
                    redact(&admin_url)
                );
                assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
                eprintln!("!!! SKIPPING PostgreSQL test: {message}");
                return None;
            }
        };
        if !SWEPT.swap(true, Ordering::SeqCst) {
            sweep_leftovers(&mut admin).await;
        }
        let name = format!(
            "{NAME_PREFIX}{}_{:016x}",
            unix_seconds(),
            rand::random::<u64>()
        );
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let url = with_database(&admin_url, &name);
        let mut connection = connect(&url).await.expect("connect to the test database");
        migrator
            .run(&mut connection)
            .await
            .expect("migrate the test database");
        connection.close().await.ok();
        Some(PgTestDb {
            admin_url,
            name,
            url,
        })
    }

    /// The URL of the test database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The name of the test database.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database. Close every pool on it first; remaining sessions are terminated.
    ///
    /// # Panics
    /// When the server cannot be reached to drop it.
    pub async fn cleanup(self) {
        let mut admin = connect(&self.admin_url)
            .await
            .expect("reach PostgreSQL to drop the test database");
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .expect("drop the test database");
        admin.close().await.ok();
    }
}

async fn connect(url: &str) -> Result<PgConnection, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?.disable_statement_logging();
    tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
}

/// Drops `purse_test_*` databases older than [`LEFTOVER_AGE_SECONDS`]; failures are ignored
/// (another process may be dropping the same one).
async fn sweep_leftovers(admin: &mut PgConnection) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'purse\\_test\\_%'")
            .fetch_all(&mut *admin)
            .await
            .unwrap_or_default();
    let now = unix_seconds();
    for name in names {
        let created = name
            .strip_prefix(NAME_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|seconds| seconds.parse::<u64>().ok());
        let is_leftover = created.is_none_or(|created| created + LEFTOVER_AGE_SECONDS < now);
        let is_ours = name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if is_leftover && is_ours {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *admin)
                .await;
        }
    }
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default()
}

/// `url` with its database (path) replaced by `name`, keeping any query string.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            format!("{}[credentials]{}", &url[..start + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_database_replaces_the_path_and_keeps_the_query() {
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/postgres",
                "purse_test_1"
            ),
            "postgres://postgres@127.0.0.1:5432/purse_test_1"
        );
        assert_eq!(
            with_database("postgres://u:p@db/postgres?sslmode=disable", "x"),
            "postgres://u:p@db/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://db:5432", "x"),
            "postgres://db:5432/x"
        );
    }
}
