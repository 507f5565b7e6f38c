//! [`PaymentStore`] (session reads, saved payment methods, settings documents) and the payment
//! writes of the unit of work. Engine-neutral: compiled once per engine, with that engine's
//! `FOR_UPDATE` and `Amount`.

use std::sync::LazyLock;

use async_trait::async_trait;
use ledger_core::error::StoreError;
use ledger_core::id::{OrgId, PaymentMethodId, PaymentSessionId};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::{
    Page, PaymentDueWork, PaymentSessionFilter, PaymentStore, SavedPaymentMethod,
};
use sqlx::QueryBuilder;
use time::OffsetDateTime;

use super::payment_rows::{
    PAYMENT_METHOD_COLUMNS, PAYMENT_SESSION_COLUMNS, PaymentMethodRow, PaymentSessionRow,
    optional_amount,
};
use super::rows::decode_all;
use super::{Db, FOR_UPDATE, Store, amount};
use crate::codec::{instant_to_micros, parse, to_json};
use crate::error::fail;

type Connection = <Db as sqlx::Database>::Connection;
type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

/// The statuses a session can be stuck in when the process handling it died.
const STUCK_STATUSES: [PaymentStatus; 3] = [
    PaymentStatus::Capturing,
    PaymentStatus::Captured,
    PaymentStatus::Confirming,
];

/// `UPDATE payment_session SET <column> = $2, … WHERE payment_session_id = $1`, made from
/// [`PAYMENT_SESSION_COLUMNS`] so that it binds in the same order as the insert (one binder,
/// [`bind_session`], serves both).
static UPDATE_PAYMENT_SESSION: LazyLock<String> = LazyLock::new(|| {
    let assignments = PAYMENT_SESSION_COLUMNS
        .split(',')
        .map(str::trim)
        .enumerate()
        .skip(1)
        .map(|(index, column)| format!("{column} = ${}", index + 1))
        .collect::<Vec<_>>()
        .join(", ");
    format!("UPDATE payment_session SET {assignments} WHERE payment_session_id = $1")
});

/// Binds every column of `session`, in the order of [`PAYMENT_SESSION_COLUMNS`].
fn bind_session<'q>(
    query: Query<'q>,
    session: &'q PaymentSession,
) -> Result<Query<'q>, StoreError> {
    Ok(query
        .bind(session.id.as_str())
        .bind(session.org_id.as_str())
        .bind(session.user_id.as_ref().map(|id| id.as_str()))
        .bind(session.provider.as_str())
        .bind(session.surface.as_str())
        .bind(session.target_owner.owner_type().as_str())
        .bind(session.target_owner.id_str())
        .bind(session.wallet_id.as_str())
        .bind(amount(session.amount))
        .bind(session.currency.code())
        .bind(session.status.as_str())
        .bind(session.checkout_state.as_str())
        .bind(session.provider_order_id.as_deref())
        .bind(session.provider_capture_id.as_deref())
        .bind(session.approval_url.as_deref())
        .bind(session.return_url.as_deref())
        .bind(session.cancel_url.as_deref())
        .bind(session.save_payment_method)
        .bind(session.payment_method_id.as_ref().map(|id| id.as_str()))
        .bind(optional_amount(session.credited_amount))
        .bind(optional_amount(session.wallet_balance_after))
        .bind(session.wallet_transaction_id.as_ref().map(|id| id.as_str()))
        .bind(amount(session.refunded_amount))
        .bind(amount(session.refunded_credits.value()))
        .bind(to_json(&session.applied_refund_ids, "applied refund ids")?)
        .bind(session.provider_refund_id.as_deref())
        .bind(session.error_code.as_deref())
        .bind(session.error_message.as_deref())
        .bind(instant_to_micros(session.created_at))
        .bind(instant_to_micros(session.updated_at))
        .bind(instant_to_micros(session.expires_at)))
}

/// The unit of work's `lock_payment_session`: the row, locked for change on PostgreSQL.
pub(super) async fn lock_payment_session(
    connection: &mut Connection,
    id: &PaymentSessionId,
) -> Result<Option<PaymentSession>, StoreError> {
    let row: Option<PaymentSessionRow> = sqlx::query_as(&format!(
        "SELECT {PAYMENT_SESSION_COLUMNS} FROM payment_session WHERE payment_session_id = $1 \
         {FOR_UPDATE}"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *connection)
    .await
    .map_err(fail("lock payment session"))?;
    row.map(PaymentSession::try_from).transpose()
}

/// The unit of work's `insert_payment_session`; a unique violation is `Duplicate`.
pub(super) async fn insert_payment_session(
    connection: &mut Connection,
    session: &PaymentSession,
) -> Result<(), StoreError> {
    let sql = format!(
        r#"
        INSERT INTO payment_session ({PAYMENT_SESSION_COLUMNS})
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31)
        "#
    );
    bind_session(sqlx::query(&sql), session)?
        .execute(&mut *connection)
        .await
        .map_err(fail("insert payment session"))?;
    Ok(())
}

/// The unit of work's `update_payment_session`: every field but the id is replaced.
pub(super) async fn update_payment_session(
    connection: &mut Connection,
    session: &PaymentSession,
) -> Result<(), StoreError> {
    bind_session(sqlx::query(UPDATE_PAYMENT_SESSION.as_str()), session)?
        .execute(&mut *connection)
        .await
        .map_err(fail("update payment session"))?;
    Ok(())
}

/// The unit of work's `record_provider_event`: `false` when the pair was recorded before.
/// On PostgreSQL a concurrent unit recording the same pair waits for this one to end, then
/// sees the row (and answers `false`) or inserts it after a rollback.
pub(super) async fn record_provider_event(
    connection: &mut Connection,
    provider: &str,
    event_id: &str,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        r#"
        INSERT INTO provider_event (provider, event_id)
        VALUES ($1, $2)
        ON CONFLICT DO NOTHING
        "#,
    )
    .bind(provider)
    .bind(event_id)
    .execute(&mut *connection)
    .await
    .map_err(fail("record provider event"))?;
    Ok(result.rows_affected() == 1)
}

/// Appends the filter's `WHERE` clause.
fn push_session_filter(query: &mut QueryBuilder<'_, Db>, filter: &PaymentSessionFilter) {
    query.push(" WHERE 1 = 1");
    if let Some(org_id) = &filter.org_id {
        query
            .push(" AND organization_id = ")
            .push_bind(org_id.as_str().to_owned());
    }
    if let Some(provider) = &filter.provider {
        query.push(" AND provider = ").push_bind(provider.clone());
    }
    if let Some(status) = filter.status {
        query.push(" AND status = ").push_bind(status.as_str());
    }
    if let Some(user_id) = &filter.user_id {
        query
            .push(" AND user_id = ")
            .push_bind(user_id.as_str().to_owned());
    }
    if let Some(from) = filter.from {
        query
            .push(" AND created_at >= ")
            .push_bind(instant_to_micros(from));
    }
    if let Some(to) = filter.to {
        query
            .push(" AND created_at <= ")
            .push_bind(instant_to_micros(to));
    }
}

/// Session ids matching `condition` (a `WHERE` clause on `$1`), least recently updated first
/// (so sessions the reconciler re-queued come after the others), at most `limit`.
async fn due_session_ids(
    store: &Store,
    condition: &str,
    at: OffsetDateTime,
    limit: u32,
) -> Result<Vec<PaymentSessionId>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(&format!(
        r#"
        SELECT payment_session_id
        FROM payment_session
        WHERE {condition}
        ORDER BY updated_at, payment_session_id
        LIMIT $2
        "#
    ))
    .bind(instant_to_micros(at))
    .bind(i64::from(limit))
    .fetch_all(&store.pool)
    .await
    .map_err(fail("read due payment sessions"))?;
    ids.iter()
        .map(|id| parse(id, "payment session id"))
        .collect()
}

#[async_trait]
impl PaymentStore for Store {
    async fn payment_session(
        &self,
        id: &PaymentSessionId,
    ) -> Result<Option<PaymentSession>, StoreError> {
        let row: Option<PaymentSessionRow> = sqlx::query_as(&format!(
            "SELECT {PAYMENT_SESSION_COLUMNS} FROM payment_session WHERE payment_session_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read payment session"))?;
        row.map(PaymentSession::try_from).transpose()
    }

    async fn payment_session_by_order(
        &self,
        provider: &str,
        order_id: &str,
    ) -> Result<Option<PaymentSession>, StoreError> {
        // Unique per provider (migration 0003): at most one row matches.
        let row: Option<PaymentSessionRow> = sqlx::query_as(&format!(
            r#"
            SELECT {PAYMENT_SESSION_COLUMNS}
            FROM payment_session
            WHERE provider = $1 AND provider_order_id = $2
            ORDER BY created_at, payment_session_id
            LIMIT 1
            "#
        ))
        .bind(provider)
        .bind(order_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read payment session by order"))?;
        row.map(PaymentSession::try_from).transpose()
    }

    async fn list_payment_sessions(
        &self,
        filter: &PaymentSessionFilter,
    ) -> Result<Page<PaymentSession>, StoreError> {
        super::ledger::fetch_page::<PaymentSessionRow, _>(
            &self.pool,
            "payment_session",
            PAYMENT_SESSION_COLUMNS,
            "created_at DESC, payment_session_id DESC",
            filter.page,
            |query| push_session_filter(query, filter),
            "list payment sessions",
        )
        .await
    }

    async fn payment_due_work(
        &self,
        now: OffsetDateTime,
        stuck_before: OffsetDateTime,
        limit: u32,
    ) -> Result<PaymentDueWork, StoreError> {
        let expired = due_session_ids(
            self,
            &format!(
                "status = '{}' AND expires_at <= $1",
                PaymentStatus::Created.as_str()
            ),
            now,
            limit,
        )
        .await?;
        let stuck_statuses = STUCK_STATUSES
            .iter()
            .map(|status| format!("'{}'", status.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let stuck = due_session_ids(
            self,
            &format!("status IN ({stuck_statuses}) AND updated_at <= $1"),
            stuck_before,
            limit,
        )
        .await?;
        Ok(PaymentDueWork { expired, stuck })
    }

    async fn insert_payment_method(&self, method: &SavedPaymentMethod) -> Result<(), StoreError> {
        sqlx::query(&format!(
            r#"
            INSERT INTO payment_method ({PAYMENT_METHOD_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            "#
        ))
        .bind(method.id.as_str())
        .bind(method.org_id.as_str())
        .bind(method.provider.as_str())
        .bind(method.owner.owner_type().as_str())
        .bind(method.owner.id_str())
        .bind(method.provider_token.as_str())
        .bind(method.provider_customer_id.as_deref())
        .bind(method.label.as_str())
        .bind(instant_to_micros(method.created_at))
        .execute(&self.pool)
        .await
        .map_err(fail("insert payment method"))?;
        Ok(())
    }

    async fn payment_method(
        &self,
        id: &PaymentMethodId,
    ) -> Result<Option<SavedPaymentMethod>, StoreError> {
        let row: Option<PaymentMethodRow> = sqlx::query_as(&format!(
            "SELECT {PAYMENT_METHOD_COLUMNS} FROM payment_method WHERE payment_method_id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .map_err(fail("read payment method"))?;
        row.map(SavedPaymentMethod::try_from).transpose()
    }

    async fn list_payment_methods(
        &self,
        org_id: &OrgId,
    ) -> Result<Vec<SavedPaymentMethod>, StoreError> {
        let rows: Vec<PaymentMethodRow> = sqlx::query_as(&format!(
            r#"
            SELECT {PAYMENT_METHOD_COLUMNS}
            FROM payment_method
            WHERE organization_id = $1
            ORDER BY created_at, payment_method_id
            "#
        ))
        .bind(org_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(fail("list payment methods"))?;
        decode_all(rows)
    }

    async fn payment_methods_by_token(
        &self,
        provider: &str,
        provider_token: &str,
    ) -> Result<Vec<SavedPaymentMethod>, StoreError> {
        // Served by `payment_method_provider_token_idx` (migration 0004).
        let rows: Vec<PaymentMethodRow> = sqlx::query_as(&format!(
            r#"
            SELECT {PAYMENT_METHOD_COLUMNS}
            FROM payment_method
            WHERE provider = $1
              AND provider_token = $2
            ORDER BY created_at, payment_method_id
            "#
        ))
        .bind(provider)
        .bind(provider_token)
        .fetch_all(&self.pool)
        .await
        .map_err(fail("find payment methods by token"))?;
        decode_all(rows)
    }

    async fn delete_payment_method(&self, id: &PaymentMethodId) -> Result<bool, StoreError> {
        let result = sqlx::query("DELETE FROM payment_method WHERE payment_method_id = $1")
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .map_err(fail("delete payment method"))?;
        Ok(result.rows_affected() > 0)
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT document FROM setting_document WHERE setting_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(fail("read settings document"))
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            r#"
            INSERT INTO setting_document (setting_key, document)
            VALUES ($1, $2)
            ON CONFLICT (setting_key) DO UPDATE
            SET document = excluded.document
            "#,
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(fail("store settings document"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_update_assigns_every_column_but_the_id_from_its_own_bind() {
        let columns = PAYMENT_SESSION_COLUMNS.split(',').count();

        let sql = UPDATE_PAYMENT_SESSION.as_str();

        assert_eq!(columns, 31);
        assert!(sql.contains("organization_id = $2,"));
        assert!(sql.ends_with(&format!(
            "expires_at = ${columns} WHERE payment_session_id = $1"
        )));
        assert!(!sql.contains("payment_session_id = $2"));
    }
}
