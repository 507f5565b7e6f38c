//! The SQLite adapter: [`SqliteStore`].
//!
//! SQLite has one writer at a time. The database runs in WAL mode (readers never block the
//! writer nor each other) with a busy timeout, and every unit of work opens with
//! `BEGIN IMMEDIATE`: it takes the write lock up front, so a unit never reads under a shared
//! lock and then fails to upgrade it (the `database is locked` error a deferred `BEGIN` meets
//! despite the timeout). Units therefore run one after another, which makes them serializable
//! without row locks. A unit still busy after the timeout is reported as
//! `StoreError::Conflict` and the service retries it.
//!
//! The engine-neutral parts live in `src/sql/` and are compiled once per engine.

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

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::Duration;

use futures::TryStreamExt;
use ledger_core::error::StoreError;
use ledger_core::id::{TransactionId, WalletId};
use ledger_core::ports::AuditSnapshot;
use rust_decimal::Decimal;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::ConnectOptions;
use crate::codec::{decimal_from_text, decimal_to_text};
use crate::error::fail;

/// The engine the shared SQL code is compiled for.
type Db = sqlx::Sqlite;

/// How amounts travel to and from the database: canonical decimal text.
type Amount = String;

/// SQLite has no row locks: `BEGIN IMMEDIATE` already holds the database's write lock.
const FOR_UPDATE: &str = "";

/// How long a statement waits for the write lock before SQLite answers `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn amount(value: Decimal) -> Amount {
    decimal_to_text(value)
}

fn decimal(stored: Amount) -> Result<Decimal, StoreError> {
    decimal_from_text(&stored)
}

/// The SQLite store: all three storage ports on one pool over one file.
#[derive(Debug, Clone)]
pub(crate) struct SqliteStore {
    pool: SqlitePool,
}

type Store = SqliteStore;

impl SqliteStore {
    pub(crate) async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, StoreError> {
        let connect_options = SqliteConnectOptions::from_str(url)
            .map_err(fail("parse the database url"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a committed movement of credits survives a power cut, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(Duration::from_millis(options.acquire_timeout_ms))
            .connect_with(connect_options)
            .await
            .map_err(|error| StoreError::Unavailable(Box::new(error)))?;
        Ok(Self { pool })
    }

    pub(crate) async fn migrate(&self) -> Result<(), StoreError> {
        crate::SQLITE_MIGRATOR
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

    /// Opens the transaction of a unit of work, holding the write lock from the start.
    async fn begin_unit(&self) -> Result<sqlx::Transaction<'static, Db>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(fail("begin a unit of work"))
    }

    /// The audit's reads, in one read transaction (a WAL snapshot). SQLite cannot add TEXT
    /// decimals exactly, so the sums are made here in `Decimal` (see [`posting_sums`]).
    async fn audit_snapshot(&self) -> Result<AuditSnapshot, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(fail("begin the audit snapshot"))?;
        let wallets = ledger::all_wallets(&mut tx).await?;
        let (account_sums, unbalanced_transactions) = posting_sums(&mut tx).await?;
        let holds = sqlx::query(
            r#"
            SELECT wallet_id, amount
            FROM reservation
            WHERE status = 'held'
            "#,
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(fail("read open holds"))?;
        let mut open_hold_sums: BTreeMap<WalletId, Decimal> = BTreeMap::new();
        for row in holds {
            let wallet_id: String = row.try_get("wallet_id").map_err(fail("decode hold"))?;
            let amount = decimal_from_text(
                &row.try_get::<String, _>("amount")
                    .map_err(fail("decode hold"))?,
            )?;
            *open_hold_sums
                .entry(crate::codec::parse(&wallet_id, "wallet id")?)
                .or_default() += amount;
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
            open_hold_sums: open_hold_sums
                .into_iter()
                .map(|(id, total)| (id, total.normalize()))
                .collect(),
        })
    }
}

/// The sum of postings per account, and the transactions whose postings do not sum to zero.
///
/// The postings are streamed in primary-key order, so each transaction's postings arrive
/// together and only one running transaction sum is kept: the memory used grows with the
/// number of accounts, not with the size of the journal.
async fn posting_sums(
    tx: &mut sqlx::Transaction<'static, Db>,
) -> Result<(BTreeMap<String, Decimal>, Vec<(TransactionId, Decimal)>), StoreError> {
    let mut rows = sqlx::query(
        r#"
        SELECT transaction_id, account_code, amount
        FROM journal_posting
        ORDER BY transaction_id, position
        "#,
    )
    .fetch(&mut **tx);
    let mut account_sums: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut unbalanced = Vec::new();
    let mut current: Option<(String, Decimal)> = None;
    while let Some(row) = rows.try_next().await.map_err(fail("read postings"))? {
        let transaction_id: String = row
            .try_get("transaction_id")
            .map_err(fail("decode posting"))?;
        let account_code: String = row
            .try_get("account_code")
            .map_err(fail("decode posting"))?;
        let amount = decimal_from_text(
            &row.try_get::<String, _>("amount")
                .map_err(fail("decode posting"))?,
        )?;
        *account_sums.entry(account_code).or_default() += amount;
        match &mut current {
            Some((id, sum)) if *id == transaction_id => *sum += amount,
            _ => {
                if let Some(done) = current.replace((transaction_id, amount)) {
                    push_unbalanced(&mut unbalanced, done)?;
                }
            }
        }
    }
    if let Some(done) = current {
        push_unbalanced(&mut unbalanced, done)?;
    }
    Ok((account_sums, unbalanced))
}

fn push_unbalanced(
    unbalanced: &mut Vec<(TransactionId, Decimal)>,
    (id, sum): (String, Decimal),
) -> Result<(), StoreError> {
    if !sum.is_zero() {
        unbalanced.push((
            crate::codec::parse::<TransactionId>(&id, "transaction id")?,
            sum,
        ));
    }
    Ok(())
}
