//! The PostgreSQL adapter: [`PgStore`].
//!
//! A unit of work is one READ COMMITTED transaction that locks every row it reads for change
//! with `SELECT … FOR UPDATE`, in the port's lock order (wallets by ascending id, then
//! reservations and cost tickets). Two replicas reserving on one wallet queue on its row lock;
//! the second reads the first's committed balance. Deadlocks (40P01), serialization failures
//! (40001) and lock timeouts (55P03) are reported as `StoreError::Conflict` and the service
//! retries the unit.
//!
//! The engine-neutral parts (queries, row mapping, the port impls) live in `src/sql/` and are
//! compiled once per engine against the items below.

#[path = "../sql/directory.rs"]
mod directory;
#[path = "../sql/idempotency.rs"]
mod idempotency;
#[path = "../sql/ledger.rs"]
mod ledger;
#[path = "../sql/payment_rows.rs"]
mod payment_rows;
#[path = "../sql/payments.rs"]
mod payments;
#[path = "../sql/rows.rs"]
mod rows;
#[path = "../sql/tenancy_audit.rs"]
mod tenancy_audit;
#[path = "../sql/unit_of_work.rs"]
mod unit_of_work;

use std::str::FromStr;
use std::time::Duration;

use ledger_core::error::StoreError;
use ledger_core::ports::AuditSnapshot;
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::ConnectOptions;
use crate::error::fail;

/// The engine the shared SQL code is compiled for.
type Db = sqlx::Postgres;

/// How amounts travel to and from the database: `NUMERIC` as `Decimal`.
type Amount = Decimal;

/// The suffix that locks the rows a unit of work reads for change.
const FOR_UPDATE: &str = "FOR UPDATE";

/// How long a unit waits for a row lock before reporting a conflict (55P03).
const LOCK_TIMEOUT: &str = "10s";

fn amount(value: Decimal) -> Amount {
    value
}

fn decimal(stored: Amount) -> Result<Decimal, StoreError> {
    Ok(stored.normalize())
}

/// The PostgreSQL store: all three storage ports on one pool.
#[derive(Debug, Clone)]
pub(crate) struct PgStore {
    pool: PgPool,
}

type Store = PgStore;

impl PgStore {
    pub(crate) async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect_options = PgConnectOptions::from_str(url)
            .map_err(fail("parse the database url"))?
            .options([("lock_timeout", LOCK_TIMEOUT)]);
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(Duration::from_millis(options.acquire_timeout_ms))
            .connect_with(connect_options)
            .await
            .map_err(|error| StoreError::Unavailable(Box::new(error)))?;
        Ok(Self { pool })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        crate::PG_MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|error| StoreError::Unavailable(Box::new(error)))
    }

    pub(crate) async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|error| StoreError::Unavailable(Box::new(error)))
    }

    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }

    /// Opens the transaction of a unit of work.
    async fn begin_unit(&self) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
        self.pool
            .begin()
            .await
            .map_err(fail("begin a unit of work"))
    }

    /// The audit's reads, in one REPEATABLE READ snapshot; sums are made by PostgreSQL in
    /// `NUMERIC`, exactly.
    async fn audit_snapshot(&self) -> Result<AuditSnapshot, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(fail("begin the audit snapshot"))?;
        let wallets = ledger::all_wallets(&mut tx).await?;
        let account_sums = sqlx::query(
            r#"
            SELECT account_code, SUM(amount) AS total
            FROM journal_posting
            GROUP BY account_code
            ORDER BY account_code
            "#,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(fail("sum postings per account"))?
        .into_iter()
        .map(|row| {
            Ok((
                row.try_get("account_code")?,
                row.try_get::<Decimal, _>("total")?,
            ))
        })
        .collect::<Result<Vec<(String, Decimal)>, sqlx::Error>>()
        .map_err(fail("decode account sums"))?;
        let unbalanced = sqlx::query(
            r#"
            SELECT transaction_id, SUM(amount) AS total
            FROM journal_posting
            GROUP BY transaction_id
            HAVING SUM(amount) <> 0
            ORDER BY transaction_id
            "#,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(fail("find unbalanced transactions"))?;
        let mut unbalanced_transactions = Vec::with_capacity(unbalanced.len());
        for row in unbalanced {
            let id: String = row
                .try_get("transaction_id")
                .map_err(fail("decode transaction id"))?;
            let total: Decimal = row
                .try_get("total")
                .map_err(fail("decode transaction sum"))?;
            unbalanced_transactions.push((crate::codec::parse(&id, "transaction id")?, total));
        }
        let holds = sqlx::query(
            r#"
            SELECT wallet_id, SUM(amount) AS total
            FROM reservation
            WHERE status = 'held'
            GROUP BY wallet_id
            ORDER BY wallet_id
            "#,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(fail("sum open holds"))?;
        let mut open_hold_sums = Vec::with_capacity(holds.len());
        for row in holds {
            let id: String = row.try_get("wallet_id").map_err(fail("decode wallet id"))?;
            let total: Decimal = row.try_get("total").map_err(fail("decode hold sum"))?;
            open_hold_sums.push((crate::codec::parse(&id, "wallet id")?, total.normalize()));
        }
        let cross_org_references = tenancy_audit::cross_org_references(&mut tx).await?;
        tx.commit().await.map_err(fail("end the audit snapshot"))?;
        Ok(AuditSnapshot {
            wallets,
            account_sums: account_sums
                .into_iter()
                .map(|(code, total)| (code, total.normalize()))
                .collect(),
            unbalanced_transactions,
            cross_org_references,
            open_hold_sums,
        })
    }
}
