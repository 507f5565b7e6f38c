//! [`UnitOfWork`]: one database transaction. Engine-neutral: compiled once per engine, with
//! that engine's `FOR_UPDATE` suffix and `begin_unit` (see the engine's module docs for how
//! each one serializes units).

use async_trait::async_trait;
use ledger_core::cost_ticket::CostTicket;
use ledger_core::error::StoreError;
use ledger_core::id::{CostTicketId, OrgId, PaymentSessionId, ReservationId, WalletId};
use ledger_core::journal::JournalTransaction;
use ledger_core::money::Currency;
use ledger_core::payment_session::PaymentSession;
use ledger_core::ports::UnitOfWork;
use ledger_core::reservation::Reservation;
use ledger_core::tenancy::WalletSettings;
use ledger_core::topup_rule::RuleTrigger;
use ledger_core::wallet::{Owner, Wallet};
use sqlx::QueryBuilder;

use super::rows::{
    COST_TICKET_COLUMNS, CostTicketRow, RESERVATION_COLUMNS, ReservationRow, WALLET_COLUMNS,
    WalletRow, decode_all,
};
use super::{Db, FOR_UPDATE, amount};
use crate::codec::{instant_to_micros, optional_instant_to_micros, to_json};
use crate::error::fail;

/// A unit of work: an open transaction. Dropping it without `commit` rolls it back.
pub(super) struct SqlUnitOfWork {
    tx: sqlx::Transaction<'static, Db>,
}

impl SqlUnitOfWork {
    pub(super) fn new(tx: sqlx::Transaction<'static, Db>) -> Self {
        Self { tx }
    }
}

fn optional_amount(value: Option<ledger_core::money::Credits>) -> Option<super::Amount> {
    value.map(|credits| amount(credits.value()))
}

fn has_interval_rule(wallet: &Wallet) -> bool {
    wallet
        .rules
        .iter()
        .any(|rule| rule.trigger == RuleTrigger::Interval)
}

#[async_trait]
impl UnitOfWork for SqlUnitOfWork {
    async fn lock_wallet(&mut self, id: &WalletId) -> Result<Option<Wallet>, StoreError> {
        let row: Option<WalletRow> = sqlx::query_as(&format!(
            "SELECT {WALLET_COLUMNS} FROM wallet WHERE wallet_id = $1 {FOR_UPDATE}"
        ))
        .bind(id.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(fail("lock wallet"))?;
        row.map(Wallet::try_from).transpose()
    }

    async fn cascade_wallets(
        &mut self,
        org_id: &OrgId,
        owners: &[Owner],
        currency: Currency,
    ) -> Result<Vec<Wallet>, StoreError> {
        super::ledger::cascade_wallets(&mut self.tx, org_id, owners, currency).await
    }

    async fn insert_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError> {
        sqlx::query(&format!(
            r#"
            INSERT INTO wallet ({WALLET_COLUMNS}, has_interval_rule)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                    $18, $19, $20, $21, $22)
            "#
        ))
        .bind(wallet.id.as_str())
        .bind(wallet.org_id.as_str())
        .bind(wallet.owner.owner_type().as_str())
        .bind(wallet.owner.id_str())
        .bind(wallet.name.as_deref())
        .bind(wallet.status.as_str())
        .bind(wallet.currency.code())
        .bind(amount(wallet.rate_amount))
        .bind(amount(wallet.paid.value()))
        .bind(amount(wallet.granted.value()))
        .bind(amount(wallet.held.value()))
        .bind(amount(wallet.debt.value()))
        .bind(amount(wallet.total_spent.value()))
        .bind(amount(wallet.total_allocated.value()))
        .bind(optional_instant_to_micros(wallet.expiration_at))
        .bind(optional_instant_to_micros(wallet.activates_at))
        .bind(wallet.priority)
        .bind(to_json(&wallet.fee_types, "fee types")?)
        .bind(to_json(&wallet.rules, "rules")?)
        .bind(instant_to_micros(wallet.created_at))
        .bind(instant_to_micros(wallet.updated_at))
        .bind(has_interval_rule(wallet))
        .execute(&mut *self.tx)
        .await
        .map_err(fail("insert wallet"))?;
        Ok(())
    }

    async fn update_wallet(&mut self, wallet: &Wallet) -> Result<(), StoreError> {
        sqlx::query(
            r#"
            UPDATE wallet
            SET name = $2, status = $3, rate_amount = $4, paid = $5, granted = $6, held = $7,
                debt = $8, total_spent = $9, total_allocated = $10, expiration_at = $11,
                activates_at = $12, priority = $13, fee_types = $14, rules = $15,
                has_interval_rule = $16, updated_at = $17
            WHERE wallet_id = $1
            "#,
        )
        .bind(wallet.id.as_str())
        .bind(wallet.name.as_deref())
        .bind(wallet.status.as_str())
        .bind(amount(wallet.rate_amount))
        .bind(amount(wallet.paid.value()))
        .bind(amount(wallet.granted.value()))
        .bind(amount(wallet.held.value()))
        .bind(amount(wallet.debt.value()))
        .bind(amount(wallet.total_spent.value()))
        .bind(amount(wallet.total_allocated.value()))
        .bind(optional_instant_to_micros(wallet.expiration_at))
        .bind(optional_instant_to_micros(wallet.activates_at))
        .bind(wallet.priority)
        .bind(to_json(&wallet.fee_types, "fee types")?)
        .bind(to_json(&wallet.rules, "rules")?)
        .bind(has_interval_rule(wallet))
        .bind(instant_to_micros(wallet.updated_at))
        .execute(&mut *self.tx)
        .await
        .map_err(fail("update wallet"))?;
        Ok(())
    }

    async fn append_journal(&mut self, transaction: JournalTransaction) -> Result<(), StoreError> {
        sqlx::query(
            r#"
            INSERT INTO journal_transaction
                (transaction_id, organization_id, kind, reference_type, reference_id, principal,
                 created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            "#,
        )
        .bind(transaction.id.as_str())
        .bind(transaction.org_id.as_str())
        .bind(transaction.kind.as_str())
        .bind(transaction.reference_type.as_str())
        .bind(transaction.reference_id.as_str())
        .bind(transaction.principal.as_str())
        .bind(instant_to_micros(transaction.created_at))
        .execute(&mut *self.tx)
        .await
        .map_err(fail("insert journal transaction"))?;
        if !transaction.postings.is_empty() {
            let mut postings = QueryBuilder::<Db>::new(
                "INSERT INTO journal_posting (transaction_id, position, account_code, amount) ",
            );
            postings.push_values(
                transaction.postings.iter().enumerate(),
                |mut row, (position, posting)| {
                    row.push_bind(transaction.id.as_str().to_owned())
                        .push_bind(i32::try_from(position).unwrap_or(i32::MAX))
                        .push_bind(posting.account.code())
                        .push_bind(amount(posting.amount));
                },
            );
            postings
                .build()
                .execute(&mut *self.tx)
                .await
                .map_err(fail("insert journal postings"))?;
        }
        if !transaction.wallet_lines.is_empty() {
            let mut lines = QueryBuilder::<Db>::new(
                r#"
                INSERT INTO wallet_line
                    (transaction_id, wallet_id, kind, paid_delta, granted_delta, held_delta,
                     debt_delta, balance_after, held_after, reference_type, reference_id,
                     created_at)
                "#,
            );
            lines.push_values(&transaction.wallet_lines, |mut row, line| {
                row.push_bind(line.transaction_id.as_str().to_owned())
                    .push_bind(line.wallet_id.as_str().to_owned())
                    .push_bind(line.kind.as_str())
                    .push_bind(amount(line.paid_delta))
                    .push_bind(amount(line.granted_delta))
                    .push_bind(amount(line.held_delta))
                    .push_bind(amount(line.debt_delta))
                    .push_bind(amount(line.balance_after.value()))
                    .push_bind(amount(line.held_after.value()))
                    .push_bind(line.reference_type.clone())
                    .push_bind(line.reference_id.clone())
                    .push_bind(instant_to_micros(line.created_at));
            });
            lines
                .build()
                .execute(&mut *self.tx)
                .await
                .map_err(fail("insert wallet lines"))?;
        }
        Ok(())
    }

    async fn lock_reservation(
        &mut self,
        id: &ReservationId,
    ) -> Result<Option<Reservation>, StoreError> {
        let row: Option<ReservationRow> = sqlx::query_as(&format!(
            "SELECT {RESERVATION_COLUMNS} FROM reservation WHERE reservation_id = $1 {FOR_UPDATE}"
        ))
        .bind(id.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(fail("lock reservation"))?;
        row.map(Reservation::try_from).transpose()
    }

    async fn held_reservations(
        &mut self,
        wallet_id: &WalletId,
    ) -> Result<Vec<Reservation>, StoreError> {
        let rows: Vec<ReservationRow> = sqlx::query_as(&format!(
            r#"
            SELECT {RESERVATION_COLUMNS}
            FROM reservation
            WHERE wallet_id = $1 AND status = 'held'
            ORDER BY reservation_id
            "#
        ))
        .bind(wallet_id.as_str())
        .fetch_all(&mut *self.tx)
        .await
        .map_err(fail("read held reservations"))?;
        decode_all(rows)
    }

    async fn insert_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError> {
        sqlx::query(&format!(
            r#"
            INSERT INTO reservation ({RESERVATION_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                    $18, $19, $20)
            "#
        ))
        .bind(reservation.id.as_str())
        .bind(reservation.org_id.as_str())
        .bind(reservation.wallet_id.as_str())
        .bind(reservation.wallet_owner.owner_type().as_str())
        .bind(reservation.wallet_owner.id_str())
        .bind(reservation.user_id.as_ref().map(|id| id.as_str()))
        .bind(reservation.team_id.as_ref().map(|id| id.as_str()))
        .bind(amount(reservation.amount.value()))
        .bind(reservation.fee_type.as_str())
        .bind(reservation.status.as_str())
        .bind(instant_to_micros(reservation.expires_at))
        .bind(optional_amount(reservation.settled_amount))
        .bind(optional_amount(reservation.requested_amount))
        .bind(optional_amount(reservation.uncollected_amount))
        .bind(optional_amount(reservation.released_amount))
        .bind(reservation.end_reason.as_deref())
        .bind(optional_amount(reservation.wallet_balance_after))
        .bind(reservation.metadata.as_deref())
        .bind(instant_to_micros(reservation.created_at))
        .bind(optional_instant_to_micros(reservation.ended_at))
        .execute(&mut *self.tx)
        .await
        .map_err(fail("insert reservation"))?;
        Ok(())
    }

    async fn update_reservation(&mut self, reservation: &Reservation) -> Result<(), StoreError> {
        sqlx::query(
            r#"
            UPDATE reservation
            SET status = $2, expires_at = $3, settled_amount = $4, requested_amount = $5,
                uncollected_amount = $6, released_amount = $7, end_reason = $8,
                wallet_balance_after = $9, metadata = $10, ended_at = $11
            WHERE reservation_id = $1
            "#,
        )
        .bind(reservation.id.as_str())
        .bind(reservation.status.as_str())
        .bind(instant_to_micros(reservation.expires_at))
        .bind(optional_amount(reservation.settled_amount))
        .bind(optional_amount(reservation.requested_amount))
        .bind(optional_amount(reservation.uncollected_amount))
        .bind(optional_amount(reservation.released_amount))
        .bind(reservation.end_reason.as_deref())
        .bind(optional_amount(reservation.wallet_balance_after))
        .bind(reservation.metadata.as_deref())
        .bind(optional_instant_to_micros(reservation.ended_at))
        .execute(&mut *self.tx)
        .await
        .map_err(fail("update reservation"))?;
        Ok(())
    }

    async fn lock_cost_ticket(
        &mut self,
        id: &CostTicketId,
    ) -> Result<Option<CostTicket>, StoreError> {
        let row: Option<CostTicketRow> = sqlx::query_as(&format!(
            "SELECT {COST_TICKET_COLUMNS} FROM cost_ticket WHERE cost_ticket_id = $1 {FOR_UPDATE}"
        ))
        .bind(id.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(fail("lock cost ticket"))?;
        row.map(CostTicket::try_from).transpose()
    }

    async fn insert_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError> {
        sqlx::query(&format!(
            r#"
            INSERT INTO cost_ticket ({COST_TICKET_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            "#
        ))
        .bind(ticket.id.as_str())
        .bind(ticket.org_id.as_str())
        .bind(ticket.user_id.as_ref().map(|id| id.as_str()))
        .bind(ticket.team_id.as_ref().map(|id| id.as_str()))
        .bind(ticket.currency.code())
        .bind(amount(ticket.required_amount.value()))
        .bind(amount(ticket.best_available_amount.value()))
        .bind(amount(ticket.shortfall_amount.value()))
        .bind(ticket.fee_type.as_str())
        .bind(ticket.status.as_str())
        .bind(ticket.reservation_id.as_ref().map(|id| id.as_str()))
        .bind(ticket.reservation_ttl_seconds)
        .bind(ticket.metadata.as_deref())
        .bind(instant_to_micros(ticket.created_at))
        .bind(optional_instant_to_micros(ticket.resolved_at))
        .bind(instant_to_micros(ticket.expires_at))
        .execute(&mut *self.tx)
        .await
        .map_err(fail("insert cost ticket"))?;
        Ok(())
    }

    async fn update_cost_ticket(&mut self, ticket: &CostTicket) -> Result<(), StoreError> {
        sqlx::query(
            r#"
            UPDATE cost_ticket
            SET required_amount = $2, best_available_amount = $3, shortfall_amount = $4,
                status = $5, reservation_id = $6, reservation_ttl_seconds = $7, metadata = $8,
                resolved_at = $9, expires_at = $10
            WHERE cost_ticket_id = $1
            "#,
        )
        .bind(ticket.id.as_str())
        .bind(amount(ticket.required_amount.value()))
        .bind(amount(ticket.best_available_amount.value()))
        .bind(amount(ticket.shortfall_amount.value()))
        .bind(ticket.status.as_str())
        .bind(ticket.reservation_id.as_ref().map(|id| id.as_str()))
        .bind(ticket.reservation_ttl_seconds)
        .bind(ticket.metadata.as_deref())
        .bind(optional_instant_to_micros(ticket.resolved_at))
        .bind(instant_to_micros(ticket.expires_at))
        .execute(&mut *self.tx)
        .await
        .map_err(fail("update cost ticket"))?;
        Ok(())
    }

    async fn wallet_settings(&mut self, org_id: &OrgId) -> Result<WalletSettings, StoreError> {
        super::directory::wallet_settings(&mut self.tx, org_id).await
    }

    async fn lock_payment_session(
        &mut self,
        id: &PaymentSessionId,
    ) -> Result<Option<PaymentSession>, StoreError> {
        super::payments::lock_payment_session(&mut self.tx, id).await
    }

    async fn insert_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        super::payments::insert_payment_session(&mut self.tx, session).await
    }

    async fn update_payment_session(&mut self, session: &PaymentSession) -> Result<(), StoreError> {
        super::payments::update_payment_session(&mut self.tx, session).await
    }

    async fn record_provider_event(
        &mut self,
        provider: &str,
        event_id: &str,
    ) -> Result<bool, StoreError> {
        super::payments::record_provider_event(&mut self.tx, provider, event_id).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx
            .commit()
            .await
            .map_err(fail("commit a unit of work"))
    }
}
