//! Reserve, settle, release, redeem and charge.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Ledger, found, retry_on_conflict};
use crate::cascade::{self, CascadeScope};
use crate::cost_ticket::{CostTicket, CostTicketStatus};
use crate::error::{LedgerError, ValidationError};
use crate::id::{CostTicketId, ReservationId, TeamId, TransactionId, UserId};
use crate::journal::{Account, EntryKind, JournalBuilder, JournalTransaction, WalletPool};
use crate::money::{Credits, Currency};
use crate::ports::UnitOfWork;
use crate::reservation::{Reservation, ReservationStatus};
use crate::wallet::{FeeType, Owner, Wallet};

/// The longest TTL a reservation may ask for (one day).
pub const RESERVATION_TTL_SECONDS_MAX: i64 = 24 * 3600;

/// A request to hold credits for one AI request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReserveRequest {
    /// Who the request runs for.
    pub scope: CascadeScope,
    /// Credits to hold (positive).
    pub amount: Credits,
    /// The currency of the wallets to use.
    pub currency: Currency,
    /// The fee type.
    pub fee_type: FeeType,
    /// The hold's TTL; the organization's default when `None`.
    pub ttl_seconds: Option<i64>,
    /// The caller's metadata (JSON text).
    pub metadata: Option<String>,
    /// Who asks.
    pub principal: String,
}

/// A one-step charge of an owner's wallets (subscription and commitment fees).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The owner charged.
    pub owner: Owner,
    /// The organization of the owner.
    pub org_id: crate::id::OrgId,
    /// Credits to charge (positive).
    pub amount: Credits,
    /// The currency.
    pub currency: Currency,
    /// The fee type.
    pub fee_type: FeeType,
    /// Who asks.
    pub principal: String,
}

/// The result of a settle (or of a charge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    /// The reservation.
    pub reservation_id: ReservationId,
    /// Always `settled`.
    pub status: ReservationStatus,
    /// Credits charged.
    pub settled_amount: Credits,
    /// Credits returned to the wallet.
    pub released_amount: Credits,
    /// Credits asked but not collected.
    pub uncollected_amount: Credits,
    /// The wallet's `paid + granted` after.
    pub wallet_balance_after: Credits,
}

impl Settlement {
    fn of(reservation: &Reservation) -> Self {
        Self {
            reservation_id: reservation.id.clone(),
            status: ReservationStatus::Settled,
            settled_amount: reservation.settled_amount.unwrap_or_default(),
            released_amount: reservation.released_amount.unwrap_or_default(),
            uncollected_amount: reservation.uncollected_amount.unwrap_or_default(),
            wallet_balance_after: reservation.wallet_balance_after.unwrap_or_default(),
        }
    }
}

/// A hold to place on a wallet the caller has locked and checked.
#[derive(Debug)]
pub(crate) struct NewHold<'a> {
    pub(crate) user_id: Option<UserId>,
    pub(crate) team_id: Option<TeamId>,
    pub(crate) amount: Credits,
    pub(crate) fee_type: FeeType,
    pub(crate) ttl_seconds: i64,
    pub(crate) metadata: Option<String>,
    pub(crate) principal: &'a str,
}

/// What a hold attempt needs to know, shared by reserve and redeem.
struct HoldAttempt<'a> {
    scope: &'a CascadeScope,
    amount: Credits,
    currency: Currency,
    fee_type: FeeType,
    ttl_seconds: i64,
    metadata: Option<String>,
    principal: &'a str,
}

impl Ledger {
    /// Holds `amount` on the first wallet of the cascade that covers all of it.
    ///
    /// # Errors
    /// [`LedgerError::InsufficientBalance`] with the stored open cost ticket when no wallet
    /// covers it; [`LedgerError::Invalid`] for a bad TTL; store failures.
    pub async fn reserve(&self, request: &ReserveRequest) -> Result<Reservation, LedgerError> {
        if request.amount.is_zero() {
            return Err(
                ValidationError::field("amount", "amount must be greater than zero").into(),
            );
        }
        check_ttl(request.ttl_seconds)?;
        if request
            .metadata
            .as_deref()
            .is_some_and(crate::reservation::metadata_marks_refund_hold)
        {
            return Err(ValidationError::field(
                "metadata",
                format!(
                    "the metadata key {} is reserved for refunds",
                    crate::reservation::REFUND_HOLD_KEY
                ),
            )
            .into());
        }
        retry_on_conflict!(self.reserve_once(request).await)
    }

    async fn reserve_once(&self, request: &ReserveRequest) -> Result<Reservation, LedgerError> {
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let settings = uow.wallet_settings(&request.scope.org_id).await?;
        let attempt = HoldAttempt {
            scope: &request.scope,
            amount: request.amount,
            currency: request.currency,
            fee_type: request.fee_type,
            ttl_seconds: request
                .ttl_seconds
                .unwrap_or(settings.default_reservation_ttl_seconds),
            metadata: request.metadata.clone(),
            principal: &request.principal,
        };
        let owners = request.scope.owners(&settings.cascade_order);
        match self.try_hold(uow.as_mut(), &attempt, &owners, now).await? {
            Ok(reservation) => {
                uow.commit().await?;
                Ok(reservation)
            }
            Err(best_available) => {
                let ticket = self.new_ticket(
                    &attempt,
                    request.ttl_seconds,
                    best_available,
                    settings.cost_ticket_ttl_seconds,
                    now,
                );
                uow.insert_cost_ticket(&ticket).await?;
                uow.commit().await?;
                Err(LedgerError::InsufficientBalance {
                    ticket: Box::new(ticket),
                })
            }
        }
    }

    /// Walks the cascade and holds on the first wallet that covers the amount. Answers the
    /// reservation, or the best available amount when nothing covers it. Writes nothing in the
    /// second case.
    async fn try_hold(
        &self,
        uow: &mut dyn UnitOfWork,
        attempt: &HoldAttempt<'_>,
        owners: &[Owner],
        now: OffsetDateTime,
    ) -> Result<Result<Reservation, Credits>, LedgerError> {
        let candidates = uow
            .cascade_wallets(&attempt.scope.org_id, owners, attempt.currency)
            .await?;
        let ordered = cascade::order(candidates, owners);
        let covers = |wallet: &Wallet| {
            wallet.is_usable(now, attempt.currency, attempt.fee_type)
                && wallet.available() >= attempt.amount
        };
        for candidate in ordered.iter().filter(|wallet| covers(wallet)) {
            // The snapshot said it covers; the locked row decides.
            let Some(mut wallet) = uow.lock_wallet(&candidate.id).await? else {
                continue;
            };
            if !covers(&wallet) {
                continue;
            }
            let (reservation, transaction) = self.new_hold(
                &mut wallet,
                &NewHold {
                    user_id: attempt.scope.user_id.clone(),
                    team_id: attempt.scope.team_id.clone(),
                    amount: attempt.amount,
                    fee_type: attempt.fee_type,
                    ttl_seconds: attempt.ttl_seconds,
                    metadata: attempt.metadata.clone(),
                    principal: attempt.principal,
                },
                now,
            );
            uow.insert_reservation(&reservation).await?;
            self.write_wallet(uow, &mut wallet, transaction).await?;
            return Ok(Ok(reservation));
        }
        let (best, _) = cascade::best_available(&ordered, now, attempt.currency, attempt.fee_type);
        Ok(Err(best))
    }

    /// Builds a held reservation on `wallet` and its `reserve` journal transaction, moving the
    /// wallet's held credits; the caller stores both (and decides how the wallet is written).
    pub(crate) fn new_hold(
        &self,
        wallet: &mut Wallet,
        hold: &NewHold<'_>,
        now: OffsetDateTime,
    ) -> (Reservation, JournalTransaction) {
        let reservation = Reservation {
            id: self.new_id(ReservationId::from_suffix),
            org_id: wallet.org_id.clone(),
            wallet_id: wallet.id.clone(),
            wallet_owner: wallet.owner.clone(),
            user_id: hold.user_id.clone(),
            team_id: hold.team_id.clone(),
            amount: hold.amount,
            fee_type: hold.fee_type,
            status: ReservationStatus::Held,
            expires_at: now + Duration::seconds(hold.ttl_seconds),
            settled_amount: None,
            requested_amount: None,
            uncollected_amount: None,
            released_amount: None,
            end_reason: None,
            wallet_balance_after: None,
            metadata: hold.metadata.clone(),
            created_at: now,
            ended_at: None,
        };
        let mut journal = self.journal(
            wallet,
            EntryKind::Reserve,
            &reservation,
            hold.principal,
            now,
        );
        journal.move_wallet(
            wallet,
            WalletPool::Held,
            hold.amount.value(),
            Account::HoldsOutstanding,
        );
        (reservation, journal.finish())
    }

    fn journal(
        &self,
        wallet: &Wallet,
        kind: EntryKind,
        reservation: &Reservation,
        principal: &str,
        now: OffsetDateTime,
    ) -> JournalBuilder {
        JournalBuilder::new(
            self.new_id(TransactionId::from_suffix),
            wallet.org_id.clone(),
            kind,
            ("reservation", reservation.id.as_str()),
            principal,
            now,
        )
    }

    /// Writes a changed wallet and its journal transaction, after evaluating the wallet's
    /// THRESHOLD rules (whose top-ups are written in the same unit).
    pub(crate) async fn write_wallet(
        &self,
        uow: &mut dyn UnitOfWork,
        wallet: &mut Wallet,
        transaction: JournalTransaction,
    ) -> Result<(), LedgerError> {
        let lowered = transaction.lowers_available(&wallet.id);
        let rule_transactions = self
            .evaluate_thresholds(uow, wallet, transaction.created_at, lowered)
            .await?;
        uow.update_wallet(wallet).await?;
        uow.append_journal(transaction).await?;
        for rule_transaction in rule_transactions {
            uow.append_journal(rule_transaction).await?;
        }
        Ok(())
    }

    /// Retries the held request of an open cost ticket. On success the ticket is resolved and
    /// names the reservation; a ticket already resolved answers its reservation.
    ///
    /// # Errors
    /// [`LedgerError::InsufficientBalance`] with the same ticket, still open, its shortfall
    /// updated; [`LedgerError::Conflict`] when the ticket expired or was canceled;
    /// [`LedgerError::NotFound`].
    pub async fn redeem(
        &self,
        ticket_id: &CostTicketId,
        ttl_seconds: Option<i64>,
        principal: &str,
    ) -> Result<Reservation, LedgerError> {
        check_ttl(ttl_seconds)?;
        retry_on_conflict!(self.redeem_once(ticket_id, ttl_seconds, principal).await)
    }

    async fn redeem_once(
        &self,
        ticket_id: &CostTicketId,
        ttl_seconds: Option<i64>,
        principal: &str,
    ) -> Result<Reservation, LedgerError> {
        let now = self.now();
        let snapshot = found(
            self.store.cost_ticket(ticket_id).await,
            "cost_ticket",
            ticket_id,
        )?;
        if let Some(done) = self.settled_ticket_outcome(&snapshot, now).await? {
            return Ok(done);
        }
        let scope = CascadeScope {
            org_id: snapshot.org_id.clone(),
            user_id: snapshot.user_id.clone(),
            team_id: snapshot.team_id.clone(),
        };
        let mut uow = self.store.begin().await?;
        let settings = uow.wallet_settings(&scope.org_id).await?;
        let attempt = HoldAttempt {
            scope: &scope,
            amount: snapshot.required_amount,
            currency: snapshot.currency,
            fee_type: snapshot.fee_type,
            ttl_seconds: ttl_seconds
                .or(snapshot.reservation_ttl_seconds)
                .unwrap_or(settings.default_reservation_ttl_seconds),
            metadata: snapshot.metadata.clone(),
            principal,
        };
        let owners = scope.owners(&settings.cascade_order);
        let outcome = self.try_hold(uow.as_mut(), &attempt, &owners, now).await?;
        let mut ticket = found(
            uow.lock_cost_ticket(ticket_id).await,
            "cost_ticket",
            ticket_id,
        )?;
        if ticket.status_at(now) != CostTicketStatus::Open {
            // Another redeem (or the sweeper) won the race: drop this unit, answer theirs.
            drop(uow);
            return match self.settled_ticket_outcome(&ticket, now).await? {
                Some(reservation) => Ok(reservation),
                None => Err(LedgerError::conflict(
                    "cost_ticket_not_open",
                    "cost ticket is not open",
                )),
            };
        }
        match outcome {
            Ok(reservation) => {
                ticket.status = CostTicketStatus::Resolved;
                ticket.reservation_id = Some(reservation.id.clone());
                ticket.resolved_at = Some(now);
                uow.update_cost_ticket(&ticket).await?;
                uow.commit().await?;
                Ok(reservation)
            }
            Err(best_available) => {
                ticket.update_best_available(best_available);
                uow.update_cost_ticket(&ticket).await?;
                uow.commit().await?;
                Err(LedgerError::InsufficientBalance {
                    ticket: Box::new(ticket),
                })
            }
        }
    }

    /// The answer for a ticket that is no longer open: its reservation when resolved, a
    /// conflict when expired or canceled, `None` when open.
    async fn settled_ticket_outcome(
        &self,
        ticket: &CostTicket,
        now: OffsetDateTime,
    ) -> Result<Option<Reservation>, LedgerError> {
        match ticket.status_at(now) {
            CostTicketStatus::Open => Ok(None),
            CostTicketStatus::Resolved => {
                let id = ticket.reservation_id.clone().ok_or_else(|| {
                    LedgerError::conflict(
                        "cost_ticket_corrupt",
                        "resolved ticket names no reservation",
                    )
                })?;
                found(self.store.reservation(&id).await, "reservation", &id).map(Some)
            }
            status @ (CostTicketStatus::Expired | CostTicketStatus::Canceled) => {
                Err(LedgerError::conflict(
                    "cost_ticket_not_open",
                    format!("cost ticket {} is {status}", ticket.id),
                ))
            }
        }
    }

    /// Charges `actual` for a held reservation (granted credits first, then paid) and
    /// releases the rest. Above the hold, the difference comes from the wallet's available
    /// balance when it suffices, else the charge is capped and the remainder recorded as
    /// uncollected. Settling again with the same amount answers the same settlement.
    ///
    /// # Errors
    /// [`LedgerError::Conflict`] when settled before with another amount;
    /// [`LedgerError::InvalidTransition`] when released or expired; [`LedgerError::NotFound`].
    pub async fn settle(
        &self,
        reservation_id: &ReservationId,
        actual: Credits,
        principal: &str,
    ) -> Result<Settlement, LedgerError> {
        retry_on_conflict!(self.settle_once(reservation_id, actual, principal).await)
    }

    async fn settle_once(
        &self,
        reservation_id: &ReservationId,
        actual: Credits,
        principal: &str,
    ) -> Result<Settlement, LedgerError> {
        let now = self.now();
        let (mut uow, mut wallet, mut reservation) = self.lock_hold(reservation_id).await?;
        if reservation.is_refund_hold() {
            return Err(refund_hold_refused(reservation_id));
        }
        match reservation.status {
            ReservationStatus::Settled => {
                return if reservation.requested_amount == Some(actual) {
                    Ok(Settlement::of(&reservation))
                } else {
                    Err(LedgerError::conflict(
                        "settle_amount_mismatch",
                        format!("reservation {reservation_id} was settled with another amount"),
                    ))
                };
            }
            ReservationStatus::Released | ReservationStatus::Expired => {
                return Err(reservation.status.refuse(ReservationStatus::Settled));
            }
            ReservationStatus::Held => {}
        }
        if wallet.is_expired(now) {
            // The wallet expired before the sweeper got to it: expire it now (its holds are
            // released with reason `wallet_expired`, its credits forfeited) and charge nothing.
            drop(uow);
            self.terminate_once(
                &wallet.id,
                super::lifecycle::TerminationCause::Expired,
                principal,
            )
            .await?;
            return Err(LedgerError::conflict(
                "wallet_expired",
                format!("wallet {} expired; its holds were released", wallet.id),
            ));
        }
        if reservation.expires_at <= now {
            self.end_hold(
                uow.as_mut(),
                &mut wallet,
                &mut reservation,
                ReservationStatus::Expired,
                "expired",
                principal,
                now,
            )
            .await?;
            uow.commit().await?;
            return Err(ReservationStatus::Expired.refuse(ReservationStatus::Settled));
        }
        let hold = reservation.amount;
        let mut journal = self.journal(&wallet, EntryKind::Settle, &reservation, principal, now);
        journal.move_wallet(
            &mut wallet,
            WalletPool::Held,
            -hold.value(),
            Account::HoldsOutstanding,
        );
        let charged = if actual <= hold {
            actual
        } else {
            // Above the hold: the extra comes from what the wallet has available (nothing while
            // in debt), never from credits other reservations hold. With this hold released,
            // `available()` counts the hold itself plus the free credits.
            actual.min(wallet.available().max(hold))
        };
        burn(&mut journal, &mut wallet, charged);
        wallet.total_spent = wallet.total_spent.plus(charged);
        reservation.status = ReservationStatus::Settled;
        reservation.settled_amount = Some(charged);
        reservation.requested_amount = Some(actual);
        reservation.uncollected_amount = Some(actual.saturating_minus(charged));
        reservation.released_amount = Some(hold.saturating_minus(charged));
        reservation.end_reason = Some("settled".to_owned());
        reservation.wallet_balance_after = Some(wallet.balance());
        reservation.ended_at = Some(now);
        uow.update_reservation(&reservation).await?;
        self.write_wallet(uow.as_mut(), &mut wallet, journal.finish())
            .await?;
        uow.commit().await?;
        Ok(Settlement::of(&reservation))
    }

    /// Locks a reservation's wallet, then the reservation (the lock order of the port).
    async fn lock_hold(
        &self,
        reservation_id: &ReservationId,
    ) -> Result<(Box<dyn UnitOfWork>, Wallet, Reservation), LedgerError> {
        let snapshot = found(
            self.store.reservation(reservation_id).await,
            "reservation",
            reservation_id,
        )?;
        let mut uow = self.store.begin().await?;
        let wallet = found(
            uow.lock_wallet(&snapshot.wallet_id).await,
            "wallet",
            &snapshot.wallet_id,
        )?;
        let reservation = found(
            uow.lock_reservation(reservation_id).await,
            "reservation",
            reservation_id,
        )?;
        Ok((uow, wallet, reservation))
    }

    /// Ends a held reservation without a charge: returns its whole hold.
    #[expect(
        clippy::too_many_arguments,
        reason = "one private step shared by release, expire and terminate"
    )]
    pub(crate) async fn end_hold(
        &self,
        uow: &mut dyn UnitOfWork,
        wallet: &mut Wallet,
        reservation: &mut Reservation,
        status: ReservationStatus,
        reason: &str,
        principal: &str,
        now: OffsetDateTime,
    ) -> Result<(), LedgerError> {
        reservation.status = reservation.status.end(status)?;
        let kind = if status == ReservationStatus::Expired {
            EntryKind::Expire
        } else {
            EntryKind::Release
        };
        let mut journal = self.journal(wallet, kind, reservation, principal, now);
        journal.move_wallet(
            wallet,
            WalletPool::Held,
            -reservation.amount.value(),
            Account::HoldsOutstanding,
        );
        reservation.released_amount = Some(reservation.amount);
        reservation.end_reason = Some(reason.to_owned());
        reservation.ended_at = Some(now);
        uow.update_reservation(reservation).await?;
        self.write_wallet(uow, wallet, journal.finish()).await
    }

    /// Returns a held reservation's whole hold. Releasing a released or expired one answers it
    /// again (a held one past `expires_at` is expired now).
    ///
    /// # Errors
    /// [`LedgerError::InvalidTransition`] when settled; [`LedgerError::NotFound`].
    pub async fn release(
        &self,
        reservation_id: &ReservationId,
        principal: &str,
    ) -> Result<Reservation, LedgerError> {
        retry_on_conflict!(self.release_once(reservation_id, principal, false).await)
    }

    /// Releases the hold of an admin refund the provider refused (callers' releases refuse
    /// refund holds).
    pub(crate) async fn release_refund_hold(
        &self,
        reservation_id: &ReservationId,
    ) -> Result<Reservation, LedgerError> {
        retry_on_conflict!(self.release_once(reservation_id, "system", true).await)
    }

    async fn release_once(
        &self,
        reservation_id: &ReservationId,
        principal: &str,
        refund_hold: bool,
    ) -> Result<Reservation, LedgerError> {
        let now = self.now();
        let (mut uow, mut wallet, mut reservation) = self.lock_hold(reservation_id).await?;
        if reservation.is_refund_hold() != refund_hold {
            return Err(refund_hold_refused(reservation_id));
        }
        // Released or expired: the credits are back already; answer the reservation as it is
        // (expired reservations are treated as released).
        if matches!(
            reservation.status,
            ReservationStatus::Released | ReservationStatus::Expired
        ) {
            return Ok(reservation);
        }
        let (status, reason) =
            if reservation.status == ReservationStatus::Held && reservation.expires_at <= now {
                (ReservationStatus::Expired, "expired")
            } else {
                (ReservationStatus::Released, "released")
            };
        self.end_hold(
            uow.as_mut(),
            &mut wallet,
            &mut reservation,
            status,
            reason,
            principal,
            now,
        )
        .await?;
        uow.commit().await?;
        Ok(reservation)
    }

    /// Charges an owner's wallets in one step (no hold): the first usable wallet of the owner
    /// that covers the amount pays it, granted credits first.
    ///
    /// # Errors
    /// [`LedgerError::InsufficientBalance`] with a cost ticket when none covers it.
    pub async fn charge(&self, request: &ChargeRequest) -> Result<Settlement, LedgerError> {
        if request.amount.is_zero() {
            return Err(
                ValidationError::field("amount", "amount must be greater than zero").into(),
            );
        }
        retry_on_conflict!(self.charge_once(request).await)
    }

    async fn charge_once(&self, request: &ChargeRequest) -> Result<Settlement, LedgerError> {
        let now = self.now();
        // The scope names the charged owner's user or team, for its cost ticket; the cascade
        // itself is only that owner.
        let scope = CascadeScope {
            org_id: request.org_id.clone(),
            user_id: match &request.owner {
                Owner::User(id) => Some(id.clone()),
                Owner::Team(_) | Owner::Organization(_) => None,
            },
            team_id: match &request.owner {
                Owner::Team(id) => Some(id.clone()),
                Owner::User(_) | Owner::Organization(_) => None,
            },
        };
        let attempt = HoldAttempt {
            scope: &scope,
            amount: request.amount,
            currency: request.currency,
            fee_type: request.fee_type,
            ttl_seconds: 1,
            metadata: None,
            principal: &request.principal,
        };
        let owners = [request.owner.clone()];
        let mut uow = self.store.begin().await?;
        let settings = uow.wallet_settings(&request.org_id).await?;
        match self.try_hold(uow.as_mut(), &attempt, &owners, now).await? {
            Ok(mut reservation) => {
                let mut wallet = found(
                    uow.lock_wallet(&reservation.wallet_id).await,
                    "wallet",
                    &reservation.wallet_id,
                )?;
                let mut journal = self.journal(
                    &wallet,
                    EntryKind::Charge,
                    &reservation,
                    &request.principal,
                    now,
                );
                journal.move_wallet(
                    &mut wallet,
                    WalletPool::Held,
                    -request.amount.value(),
                    Account::HoldsOutstanding,
                );
                burn(&mut journal, &mut wallet, request.amount);
                wallet.total_spent = wallet.total_spent.plus(request.amount);
                reservation.status = ReservationStatus::Settled;
                reservation.settled_amount = Some(request.amount);
                reservation.requested_amount = Some(request.amount);
                reservation.uncollected_amount = Some(Credits::ZERO);
                reservation.released_amount = Some(Credits::ZERO);
                reservation.end_reason = Some("charged".to_owned());
                reservation.wallet_balance_after = Some(wallet.balance());
                reservation.ended_at = Some(now);
                uow.update_reservation(&reservation).await?;
                self.write_wallet(uow.as_mut(), &mut wallet, journal.finish())
                    .await?;
                uow.commit().await?;
                Ok(Settlement::of(&reservation))
            }
            Err(best_available) => {
                let ticket = self.new_ticket(
                    &attempt,
                    None,
                    best_available,
                    settings.cost_ticket_ttl_seconds,
                    now,
                );
                uow.insert_cost_ticket(&ticket).await?;
                uow.commit().await?;
                Err(LedgerError::InsufficientBalance {
                    ticket: Box::new(ticket),
                })
            }
        }
    }
}

impl Ledger {
    /// The open cost ticket of a hold attempt nothing covered.
    fn new_ticket(
        &self,
        attempt: &HoldAttempt<'_>,
        reservation_ttl_seconds: Option<i64>,
        best_available: Credits,
        ticket_ttl_seconds: i64,
        now: OffsetDateTime,
    ) -> CostTicket {
        CostTicket {
            id: self.new_id(CostTicketId::from_suffix),
            org_id: attempt.scope.org_id.clone(),
            user_id: attempt.scope.user_id.clone(),
            team_id: attempt.scope.team_id.clone(),
            currency: attempt.currency,
            required_amount: attempt.amount,
            best_available_amount: best_available.min(attempt.amount),
            shortfall_amount: attempt.amount.saturating_minus(best_available),
            fee_type: attempt.fee_type,
            status: CostTicketStatus::Open,
            reservation_id: None,
            reservation_ttl_seconds,
            metadata: attempt.metadata.clone(),
            created_at: now,
            resolved_at: None,
            expires_at: now + Duration::seconds(ticket_ttl_seconds),
        }
    }
}

/// Takes `amount` from the wallet, granted credits first, then paid, into consumption.
fn burn(journal: &mut JournalBuilder, wallet: &mut Wallet, amount: Credits) {
    let from_granted = amount.min(wallet.granted);
    let from_paid = amount.saturating_minus(from_granted);
    journal.move_wallet(
        wallet,
        WalletPool::Granted,
        -from_granted.value(),
        Account::Consumption,
    );
    journal.move_wallet(
        wallet,
        WalletPool::Paid,
        -from_paid.value(),
        Account::Consumption,
    );
}

/// A settle or caller's release of an admin refund's hold (or the refund path naming a
/// reservation that is not its hold).
fn refund_hold_refused(reservation_id: &ReservationId) -> LedgerError {
    LedgerError::conflict(
        "refund_hold",
        format!(
            "reservation {reservation_id} holds the credits of a refund in flight; the refund ends it"
        ),
    )
}

fn check_ttl(ttl_seconds: Option<i64>) -> Result<(), LedgerError> {
    match ttl_seconds {
        Some(ttl) if !(1..=RESERVATION_TTL_SECONDS_MAX).contains(&ttl) => {
            Err(ValidationError::field(
                "ttl_seconds",
                format!(
                    "ttl_seconds must be between 1 and {RESERVATION_TTL_SECONDS_MAX}, got {ttl}"
                ),
            )
            .into())
        }
        _ => Ok(()),
    }
}
