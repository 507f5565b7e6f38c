//! The read side of [`LedgerStore`] and the queries the unit of work shares with it.
//! Engine-neutral: compiled once per engine.

use async_trait::async_trait;
use ledger_core::cost_ticket::CostTicket;
use ledger_core::error::StoreError;
use ledger_core::id::{CostTicketId, OrgId, ReservationId, WalletId};
use ledger_core::journal::WalletLine;
use ledger_core::money::Currency;
use ledger_core::ports::{
    AuditSnapshot, CostTicketFilter, DueWork, LedgerStore, Page, PageRequest, UnitOfWork,
    WalletFilter, WalletLineFilter,
};
use ledger_core::reservation::Reservation;
use ledger_core::wallet::{Owner, Wallet};
use sqlx::QueryBuilder;
use time::OffsetDateTime;

use super::rows::{
    COST_TICKET_COLUMNS, CostTicketRow, RESERVATION_COLUMNS, ReservationRow, WALLET_COLUMNS,
    WALLET_LINE_COLUMNS, WalletLineRow, WalletRow, decode_all,
};
use super::unit_of_work::SqlUnitOfWork;
use super::{Db, Store};
use crate::codec::instant_to_micros;
use crate::error::fail;

type Connection = <Db as sqlx::Database>::Connection;

/// The wallets of `owners` in one organization and currency, ordered by id.
pub(super) async fn cascade_wallets(
    connection: &mut Connection,
    org_id: &OrgId,
    owners: &[Owner],
    currency: Currency,
) -> Result<Vec<Wallet>, StoreError> {
    if owners.is_empty() {
        return Ok(Vec::new());
    }
    let mut query = QueryBuilder::<Db>::new(format!(
        "SELECT {WALLET_COLUMNS} FROM wallet WHERE organization_id = "
    ));
    query.push_bind(org_id.as_str().to_owned());
    query.push(" AND currency = ");
    query.push_bind(currency.code().to_owned());
    // Owner ids carry their type's prefix, so the id alone names the owner.
    query.push(" AND owner_id IN (");
    let mut ids = query.separated(", ");
    for owner in owners {
        ids.push_bind(owner.id_str().to_owned());
    }
    ids.push_unseparated(") ORDER BY wallet_id");
    let rows: Vec<WalletRow> = query
        .build_query_as()
        .fetch_all(&mut *connection)
        .await
        .map_err(fail("read cascade wallets"))?;
    let wallets: Vec<Wallet> = decode_all(rows)?;
    Ok(wallets
        .into_iter()
        .filter(|wallet| owners.contains(&wallet.owner))
        .collect())
}

/// Every wallet, for the audit.
pub(super) async fn all_wallets(connection: &mut Connection) -> Result<Vec<Wallet>, StoreError> {
    let rows: Vec<WalletRow> = sqlx::query_as(&format!(
        "SELECT {WALLET_COLUMNS} FROM wallet ORDER BY wallet_id"
    ))
    .fetch_all(&mut *connection)
    .await
    .map_err(fail("read every wallet"))?;
    decode_all(rows)
}

/// One page of a filtered list: the count of every matching row, then the page's rows in
/// `order_by` order. `push_filter` appends the same `WHERE` clause to both queries.
pub(super) async fn fetch_page<R, T>(
    pool: &sqlx::Pool<Db>,
    table: &str,
    columns: &str,
    order_by: &str,
    page: PageRequest,
    push_filter: impl Fn(&mut QueryBuilder<'_, Db>),
    what: &'static str,
) -> Result<Page<T>, StoreError>
where
    R: for<'r> sqlx::FromRow<'r, <Db as sqlx::Database>::Row> + Send + Unpin,
    T: TryFrom<R, Error = StoreError>,
{
    let mut count = QueryBuilder::<Db>::new(format!("SELECT COUNT(*) FROM {table}"));
    push_filter(&mut count);
    let count: i64 = count
        .build_query_scalar()
        .fetch_one(pool)
        .await
        .map_err(fail(what))?;
    let mut query = QueryBuilder::<Db>::new(format!("SELECT {columns} FROM {table}"));
    push_filter(&mut query);
    query.push(format!(" ORDER BY {order_by} LIMIT "));
    query.push_bind(i64::from(page.per_page));
    query.push(" OFFSET ");
    query.push_bind(i64::try_from(page.offset()).unwrap_or(i64::MAX));
    let rows: Vec<R> = query
        .build_query_as()
        .fetch_all(pool)
        .await
        .map_err(fail(what))?;
    Ok(Page {
        items: decode_all(rows)?,
        total: u64::try_from(count).unwrap_or_default(),
    })
}

fn push_wallet_filter(query: &mut QueryBuilder<'_, Db>, filter: &WalletFilter) {
    query.push(" WHERE 1 = 1");
    if let Some(org_id) = &filter.org_id {
        query.push(" AND organization_id = ");
        query.push_bind(org_id.as_str().to_owned());
    }
    if let Some(owner_type) = filter.owner_type {
        query.push(" AND owner_type = ");
        query.push_bind(owner_type.as_str());
    }
    if let Some(owner_id) = &filter.owner_id {
        query.push(" AND owner_id = ");
        query.push_bind(owner_id.clone());
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ");
        query.push_bind(status.as_str());
    }
    if let Some(owners) = &filter.visible_to {
        query.push(" AND owner_id IN (");
        let mut ids = query.separated(", ");
        for owner in owners {
            ids.push_bind(owner.id_str().to_owned());
        }
        ids.push_unseparated(")");
    }
}

fn push_ticket_filter(query: &mut QueryBuilder<'_, Db>, filter: &CostTicketFilter) {
    query.push(" WHERE 1 = 1");
    if let Some(org_id) = &filter.org_id {
        query.push(" AND organization_id = ");
        query.push_bind(org_id.as_str().to_owned());
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ");
        query.push_bind(status.as_str());
    }
    if let Some(user_id) = &filter.user_id {
        query.push(" AND user_id = ");
        query.push_bind(user_id.as_str().to_owned());
    }
}

fn push_line_filter(query: &mut QueryBuilder<'_, Db>, filter: &WalletLineFilter) {
    query.push(" WHERE wallet_id = ");
    query.push_bind(filter.wallet_id.as_str().to_owned());
    if let Some(kind) = filter.kind {
        query.push(" AND kind = ");
        query.push_bind(kind.as_str());
    }
    if let Some(from) = filter.from {
        query.push(" AND created_at >= ");
        query.push_bind(instant_to_micros(from));
    }
    if let Some(to) = filter.to {
        query.push(" AND created_at <= ");
        query.push_bind(instant_to_micros(to));
    }
}

/// Ids of one kind of due work: `sql` selects one text column and takes `$1` = now and
/// `$2` = limit.
async fn due_ids<T>(store: &Store, sql: &str, now: i64, limit: i64) -> Result<Vec<T>, StoreError>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let ids: Vec<String> = sqlx::query_scalar(sql)
        .bind(now)
        .bind(limit)
        .fetch_all(&store.pool)
        .await
        .map_err(fail("read due work"))?;
    ids.iter()
        .map(|id| crate::codec::parse(id, "due work id"))
        .collect()
}

#[async_trait]
impl LedgerStore for Store {
    async fn begin(&self) -> Result<Box<dyn UnitOfWork>, StoreError> {
        let tx = self.begin_unit().await?;
        Ok(Box::new(SqlUnitOfWork::new(tx)))
    }

    async fn wallet(&self, id: &WalletId) -> Result<Option<Wallet>, StoreError> {
        let row: Option<WalletRow> = sqlx::query_as(&format!(
            "SELECT {WALLET_COLUMNS} FROM wallet WHERE wallet_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read wallet"))?;
        row.map(Wallet::try_from).transpose()
    }

    async fn list_wallets(&self, filter: &WalletFilter) -> Result<Page<Wallet>, StoreError> {
        if filter.visible_to.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Page {
                items: Vec::new(),
                total: 0,
            });
        }
        fetch_page::<WalletRow, _>(
            &self.pool,
            "wallet",
            WALLET_COLUMNS,
            "created_at, wallet_id",
            filter.page,
            |query| push_wallet_filter(query, filter),
            "list wallets",
        )
        .await
    }

    async fn cascade_wallets(
        &self,
        org_id: &OrgId,
        owners: &[Owner],
        currency: Currency,
    ) -> Result<Vec<Wallet>, StoreError> {
        let mut connection = self
            .pool
            .acquire()
            .await
            .map_err(fail("acquire a connection"))?;
        cascade_wallets(&mut connection, org_id, owners, currency).await
    }

    async fn reservation(&self, id: &ReservationId) -> Result<Option<Reservation>, StoreError> {
        let row: Option<ReservationRow> = sqlx::query_as(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservation WHERE reservation_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read reservation"))?;
        row.map(Reservation::try_from).transpose()
    }

    async fn cost_ticket(&self, id: &CostTicketId) -> Result<Option<CostTicket>, StoreError> {
        let row: Option<CostTicketRow> = sqlx::query_as(&format!(
            "SELECT {COST_TICKET_COLUMNS} FROM cost_ticket WHERE cost_ticket_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read cost ticket"))?;
        row.map(CostTicket::try_from).transpose()
    }

    async fn list_cost_tickets(
        &self,
        filter: &CostTicketFilter,
    ) -> Result<Page<CostTicket>, StoreError> {
        fetch_page::<CostTicketRow, _>(
            &self.pool,
            "cost_ticket",
            COST_TICKET_COLUMNS,
            "created_at DESC, cost_ticket_id DESC",
            filter.page,
            |query| push_ticket_filter(query, filter),
            "list cost tickets",
        )
        .await
    }

    async fn wallet_lines(
        &self,
        filter: &WalletLineFilter,
    ) -> Result<Page<WalletLine>, StoreError> {
        fetch_page::<WalletLineRow, _>(
            &self.pool,
            "wallet_line",
            WALLET_LINE_COLUMNS,
            "wallet_line_id DESC",
            filter.page,
            |query| push_line_filter(query, filter),
            "list wallet lines",
        )
        .await
    }

    async fn due_work(&self, now: OffsetDateTime, limit: u32) -> Result<DueWork, StoreError> {
        let now = instant_to_micros(now);
        let limit = i64::from(limit);
        Ok(DueWork {
            expired_reservations: due_ids(
                self,
                r#"
                SELECT reservation_id
                FROM reservation
                WHERE status = 'held' AND expires_at <= $1
                ORDER BY reservation_id
                LIMIT $2
                "#,
                now,
                limit,
            )
            .await?,
            wallets_to_activate: due_ids(
                self,
                r#"
                SELECT wallet_id
                FROM wallet
                WHERE status = 'PENDING' AND activates_at <= $1
                ORDER BY wallet_id
                LIMIT $2
                "#,
                now,
                limit,
            )
            .await?,
            wallets_to_expire: due_ids(
                self,
                r#"
                SELECT wallet_id
                FROM wallet
                WHERE status <> 'TERMINATED' AND expiration_at <= $1
                ORDER BY wallet_id
                LIMIT $2
                "#,
                now,
                limit,
            )
            .await?,
            tickets_to_expire: due_ids(
                self,
                r#"
                SELECT cost_ticket_id
                FROM cost_ticket
                WHERE status = 'open' AND expires_at <= $1
                ORDER BY cost_ticket_id
                LIMIT $2
                "#,
                now,
                limit,
            )
            .await?,
        })
    }

    async fn interval_rule_wallets(
        &self,
        after: Option<WalletId>,
        limit: u32,
    ) -> Result<Vec<Wallet>, StoreError> {
        // Served by the primary key in id order. With few such wallets among many, a partial
        // index on (wallet_id) WHERE status = 'ACTIVE' AND has_interval_rule would let a page
        // skip the others.
        let mut query = QueryBuilder::<Db>::new(format!(
            "SELECT {WALLET_COLUMNS} FROM wallet WHERE status = 'ACTIVE' AND has_interval_rule"
        ));
        if let Some(after) = &after {
            query.push(" AND wallet_id > ");
            query.push_bind(after.as_str().to_owned());
        }
        query.push(" ORDER BY wallet_id LIMIT ");
        query.push_bind(i64::from(limit));
        let rows: Vec<WalletRow> = query
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(fail("read interval rule wallets"))?;
        decode_all(rows)
    }

    async fn audit_snapshot(&self) -> Result<AuditSnapshot, StoreError> {
        Store::audit_snapshot(self).await
    }
}
