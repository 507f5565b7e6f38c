//! A small reference model of the ledger, written from `domain.md` and nothing else.
//!
//! It keeps plain numbers per wallet, reservation and cost ticket and applies the rules of the
//! spec in the most direct way it can: no journal, no ports, no service code. The property test
//! in `invariants.rs` runs every operation against both and demands that they agree. The model
//! takes the ids the service handed out only as labels, so that the two can be compared.
//!
//! The figures the spec leaves to the implementation are fixed here as the service's defaults:
//! a reservation lives 300 s when the request names no TTL, a cost ticket one hour, and the
//! cascade tries the user's wallets, then the team's, then the organization's.

use ledger_core::id::{CostTicketId, ReservationId, WalletId};
use ledger_core::money::Currency;
use ledger_core::reservation::ReservationStatus;
use ledger_core::wallet::{FeeType, Owner, OwnerType, WalletStatus};
use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};

/// The organization's default reservation TTL.
pub(crate) const DEFAULT_TTL_SECONDS: i64 = 300;
/// How long an open cost ticket lives.
pub(crate) const TICKET_TTL_SECONDS: i64 = 3600;
/// The longest TTL a reservation may ask for.
pub(crate) const TTL_SECONDS_MAX: i64 = 24 * 3600;

/// What an operation answered, reduced to what the spec decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Done, nothing more to compare than the state afterwards.
    Done,
    /// A hold was placed on this wallet.
    Held { wallet_id: WalletId },
    /// A resolved ticket answered its reservation.
    Redeemed { reservation_id: ReservationId },
    /// Nothing covered the request: a cost ticket with these figures.
    Ticket { best: Decimal, shortfall: Decimal },
    /// A settle charged these amounts.
    Settled {
        settled: Decimal,
        released: Decimal,
        uncollected: Decimal,
        balance_after: Decimal,
    },
    /// Refused: a pool or the available balance is short.
    InsufficientFunds,
    /// Refused: invalid input.
    Invalid,
    /// Refused: a state conflict.
    Conflict,
    /// Refused: a state machine does not allow the move.
    InvalidTransition,
}

#[derive(Debug, Clone)]
pub(crate) struct ModelWallet {
    pub(crate) id: WalletId,
    pub(crate) owner: Owner,
    pub(crate) currency: Currency,
    pub(crate) status: WalletStatus,
    pub(crate) paid: Decimal,
    pub(crate) granted: Decimal,
    pub(crate) held: Decimal,
    pub(crate) spent: Decimal,
    pub(crate) priority: i32,
    pub(crate) expiration_at: Option<OffsetDateTime>,
    pub(crate) activates_at: Option<OffsetDateTime>,
    pub(crate) fee_types: Vec<FeeType>,
    pub(crate) created_at: OffsetDateTime,
}

impl ModelWallet {
    fn free(&self) -> Decimal {
        self.paid + self.granted - self.held
    }

    fn depth(&self) -> u8 {
        match self.owner.owner_type() {
            OwnerType::Organization => 0,
            OwnerType::Team => 1,
            OwnerType::User => 2,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ModelReservation {
    pub(crate) id: ReservationId,
    pub(crate) wallet: usize,
    pub(crate) amount: Decimal,
    pub(crate) status: ReservationStatus,
    pub(crate) expires_at: OffsetDateTime,
    /// `(requested, settled, released, uncollected, balance_after)` once settled.
    pub(crate) settlement: Option<(Decimal, Decimal, Decimal, Decimal, Decimal)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TicketStatus {
    Open,
    Resolved,
    Expired,
}

#[derive(Debug, Clone)]
pub(crate) struct ModelTicket {
    pub(crate) id: CostTicketId,
    pub(crate) scope: Scope,
    pub(crate) currency: Currency,
    pub(crate) fee_type: FeeType,
    pub(crate) required: Decimal,
    pub(crate) best: Decimal,
    pub(crate) shortfall: Decimal,
    pub(crate) ttl_seconds: Option<i64>,
    pub(crate) status: TicketStatus,
    pub(crate) reservation: Option<usize>,
    pub(crate) expires_at: OffsetDateTime,
}

/// Who a request runs for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub(crate) user: Option<Owner>,
    pub(crate) team: Option<Owner>,
    pub(crate) org: Owner,
}

/// What a sweep did, counted by the model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SweepCounts {
    pub(crate) reservations_expired: u64,
    pub(crate) wallets_activated: u64,
    pub(crate) wallets_expired: u64,
    pub(crate) cost_tickets_expired: u64,
}

/// The parameters of a new wallet.
#[derive(Debug, Clone)]
pub(crate) struct WalletSpec {
    pub(crate) owner: Owner,
    pub(crate) currency: Currency,
    pub(crate) paid: Decimal,
    pub(crate) granted: Decimal,
    pub(crate) priority: i32,
    pub(crate) expiration_at: Option<OffsetDateTime>,
    pub(crate) activates_at: Option<OffsetDateTime>,
    pub(crate) fee_types: Vec<FeeType>,
}

/// What a hold attempt asks for.
#[derive(Debug, Clone)]
pub(crate) struct HoldSpec {
    pub(crate) scope: Scope,
    pub(crate) amount: Decimal,
    pub(crate) currency: Currency,
    pub(crate) fee_type: FeeType,
    pub(crate) ttl_seconds: Option<i64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) now: OffsetDateTime,
    pub(crate) wallets: Vec<ModelWallet>,
    pub(crate) reservations: Vec<ModelReservation>,
    pub(crate) tickets: Vec<ModelTicket>,
}

impl Model {
    pub(crate) fn new(now: OffsetDateTime) -> Self {
        Self {
            now,
            wallets: Vec::new(),
            reservations: Vec::new(),
            tickets: Vec::new(),
        }
    }

    /// Creates a wallet: PENDING while `activates_at` lies ahead, else ACTIVE.
    pub(crate) fn create_wallet(&mut self, spec: &WalletSpec, id: Option<WalletId>) -> Outcome {
        if spec.expiration_at.is_some_and(|at| at <= self.now) {
            return Outcome::Invalid;
        }
        if let (Some(activates_at), Some(expiration_at)) = (spec.activates_at, spec.expiration_at)
            && activates_at >= expiration_at
        {
            return Outcome::Invalid;
        }
        let pending = spec.activates_at.is_some_and(|at| at > self.now);
        self.wallets.push(ModelWallet {
            id: id.expect("the model created a wallet the service did not"),
            owner: spec.owner.clone(),
            currency: spec.currency,
            status: if pending {
                WalletStatus::Pending
            } else {
                WalletStatus::Active
            },
            paid: spec.paid,
            granted: spec.granted,
            held: Decimal::ZERO,
            spent: Decimal::ZERO,
            priority: spec.priority,
            expiration_at: spec.expiration_at,
            activates_at: spec.activates_at,
            fee_types: spec.fee_types.clone(),
            created_at: self.now,
        });
        Outcome::Done
    }

    /// Admin adds credits to an ACTIVE wallet.
    pub(crate) fn credit(&mut self, wallet: usize, paid: Decimal, granted: Decimal) -> Outcome {
        if paid.is_zero() && granted.is_zero() {
            return Outcome::Invalid;
        }
        let wallet = &mut self.wallets[wallet];
        if wallet.status != WalletStatus::Active {
            return Outcome::Conflict;
        }
        wallet.paid += paid;
        wallet.granted += granted;
        Outcome::Done
    }

    /// Admin removes credits from an ACTIVE wallet: never below zero, never held credits.
    pub(crate) fn debit(&mut self, wallet: usize, paid: Decimal, granted: Decimal) -> Outcome {
        if paid.is_zero() && granted.is_zero() {
            return Outcome::Invalid;
        }
        let wallet = &mut self.wallets[wallet];
        if wallet.status != WalletStatus::Active {
            return Outcome::Conflict;
        }
        if paid > wallet.paid || granted > wallet.granted || paid + granted > wallet.free() {
            return Outcome::InsufficientFunds;
        }
        wallet.paid -= paid;
        wallet.granted -= granted;
        Outcome::Done
    }

    /// Moves available credits between two wallets of one organization and currency: down
    /// the tree for an allocation, up for a reclaim (`None`: all available). Granted credits
    /// move first and stay granted.
    pub(crate) fn transfer(
        &mut self,
        from: usize,
        to: usize,
        amount: Option<Decimal>,
        down: bool,
    ) -> Outcome {
        if from == to {
            return Outcome::Invalid;
        }
        let (source, target) = (&self.wallets[from], &self.wallets[to]);
        if source.currency != target.currency {
            return Outcome::Invalid;
        }
        let legal = if down {
            target.depth() > source.depth()
        } else {
            target.depth() < source.depth()
        };
        if !legal {
            return Outcome::Invalid;
        }
        if source.status != WalletStatus::Active || target.status != WalletStatus::Active {
            return Outcome::Conflict;
        }
        let amount = amount.unwrap_or_else(|| source.free());
        if amount.is_zero() {
            return Outcome::Invalid;
        }
        if amount > source.free() {
            return Outcome::InsufficientFunds;
        }
        let granted = amount.min(source.granted);
        let paid = amount - granted;
        self.wallets[from].granted -= granted;
        self.wallets[from].paid -= paid;
        self.wallets[to].granted += granted;
        self.wallets[to].paid += paid;
        Outcome::Done
    }

    /// The wallets a request tries, in cascade order: owners user → team → organization;
    /// inside one owner lower priority first, then soonest expiry (none last), then oldest.
    fn cascade(&self, scope: &Scope) -> Vec<usize> {
        let mut order = Vec::new();
        for owner in [&scope.user, &scope.team, &Some(scope.org.clone())]
            .into_iter()
            .flatten()
        {
            let mut mine: Vec<usize> = (0..self.wallets.len())
                .filter(|&index| self.wallets[index].owner == *owner)
                .collect();
            // Creation order breaks the remaining ties (index order is creation order).
            mine.sort_by_key(|&index| {
                let wallet = &self.wallets[index];
                (
                    wallet.priority,
                    wallet.expiration_at.is_none(),
                    wallet.expiration_at,
                    wallet.created_at,
                    index,
                )
            });
            order.extend(mine);
        }
        order
    }

    fn usable(&self, wallet: &ModelWallet, currency: Currency, fee_type: FeeType) -> bool {
        wallet.status == WalletStatus::Active
            && wallet.expiration_at.is_none_or(|at| at > self.now)
            && wallet.currency == currency
            && (wallet.fee_types.is_empty() || wallet.fee_types.contains(&fee_type))
    }

    /// Holds on the first usable wallet of the cascade that covers all of the amount, or
    /// answers the most any one usable wallet could hold.
    fn try_hold(&mut self, spec: &HoldSpec, id: Option<ReservationId>) -> Result<usize, Decimal> {
        let cascade = self.cascade(&spec.scope);
        let usable: Vec<usize> = cascade
            .into_iter()
            .filter(|&index| self.usable(&self.wallets[index], spec.currency, spec.fee_type))
            .collect();
        let Some(&chosen) = usable
            .iter()
            .find(|&&index| self.wallets[index].free() >= spec.amount)
        else {
            let best = usable
                .iter()
                .map(|&index| self.wallets[index].free())
                .max()
                .unwrap_or(Decimal::ZERO);
            return Err(best);
        };
        self.wallets[chosen].held += spec.amount;
        self.reservations.push(ModelReservation {
            id: id.expect("the model placed a hold the service did not"),
            wallet: chosen,
            amount: spec.amount,
            status: ReservationStatus::Held,
            expires_at: self.now
                + Duration::seconds(spec.ttl_seconds.unwrap_or(DEFAULT_TTL_SECONDS)),
            settlement: None,
        });
        Ok(chosen)
    }

    /// Reserve: a hold on one wallet, or an open cost ticket naming the shortfall.
    pub(crate) fn reserve(
        &mut self,
        spec: &HoldSpec,
        reservation_id: Option<ReservationId>,
        ticket_id: Option<CostTicketId>,
    ) -> Outcome {
        if spec.amount.is_zero() {
            return Outcome::Invalid;
        }
        if spec
            .ttl_seconds
            .is_some_and(|ttl| !(1..=TTL_SECONDS_MAX).contains(&ttl))
        {
            return Outcome::Invalid;
        }
        match self.try_hold(spec, reservation_id) {
            Ok(wallet) => Outcome::Held {
                wallet_id: self.wallets[wallet].id.clone(),
            },
            Err(best) => {
                let best = best.min(spec.amount);
                self.tickets.push(ModelTicket {
                    id: ticket_id.expect("the model opened a ticket the service did not"),
                    scope: spec.scope.clone(),
                    currency: spec.currency,
                    fee_type: spec.fee_type,
                    required: spec.amount,
                    best,
                    shortfall: spec.amount - best,
                    ttl_seconds: spec.ttl_seconds,
                    status: TicketStatus::Open,
                    reservation: None,
                    expires_at: self.now + Duration::seconds(TICKET_TTL_SECONDS),
                });
                Outcome::Ticket {
                    best,
                    shortfall: spec.amount - best,
                }
            }
        }
    }

    /// Redeem: retries the ticket's reserve. A resolved ticket answers its reservation.
    pub(crate) fn redeem(
        &mut self,
        ticket: usize,
        reservation_id: Option<ReservationId>,
    ) -> Outcome {
        let now = self.now;
        let current = self.tickets[ticket].clone();
        match current.status {
            TicketStatus::Resolved => {
                let reservation = current.reservation.expect("a resolved ticket names a hold");
                return Outcome::Redeemed {
                    reservation_id: self.reservations[reservation].id.clone(),
                };
            }
            TicketStatus::Expired => return Outcome::Conflict,
            TicketStatus::Open if current.expires_at <= now => return Outcome::Conflict,
            TicketStatus::Open => {}
        }
        let spec = HoldSpec {
            scope: current.scope.clone(),
            amount: current.required,
            currency: current.currency,
            fee_type: current.fee_type,
            ttl_seconds: current.ttl_seconds,
        };
        match self.try_hold(&spec, reservation_id) {
            Ok(wallet) => {
                let ticket = &mut self.tickets[ticket];
                ticket.status = TicketStatus::Resolved;
                ticket.reservation = Some(self.reservations.len() - 1);
                Outcome::Held {
                    wallet_id: self.wallets[wallet].id.clone(),
                }
            }
            Err(best) => {
                let ticket = &mut self.tickets[ticket];
                ticket.best = best.min(ticket.required);
                ticket.shortfall = ticket.required - ticket.best;
                Outcome::Ticket {
                    best: ticket.best,
                    shortfall: ticket.shortfall,
                }
            }
        }
    }

    /// Ends a held reservation without a charge.
    fn end_without_charge(&mut self, reservation: usize, status: ReservationStatus) {
        let hold = &mut self.reservations[reservation];
        debug_assert_eq!(hold.status, ReservationStatus::Held);
        hold.status = status;
        let (wallet, amount) = (hold.wallet, hold.amount);
        self.wallets[wallet].held -= amount;
    }

    /// Settle: charge `actual` (granted first, then paid) and release the rest. Above the
    /// hold, the extra comes from the wallet's credits that no other hold covers, capped at
    /// what is there; the rest is recorded as uncollected.
    pub(crate) fn settle(&mut self, reservation: usize, actual: Decimal) -> Outcome {
        let hold = self.reservations[reservation].clone();
        match hold.status {
            ReservationStatus::Settled => {
                let (requested, settled, released, uncollected, balance_after) =
                    hold.settlement.expect("a settled hold has its settlement");
                return if requested == actual {
                    Outcome::Settled {
                        settled,
                        released,
                        uncollected,
                        balance_after,
                    }
                } else {
                    Outcome::Conflict
                };
            }
            ReservationStatus::Released | ReservationStatus::Expired => {
                return Outcome::InvalidTransition;
            }
            ReservationStatus::Held if hold.expires_at <= self.now => {
                self.end_without_charge(reservation, ReservationStatus::Expired);
                return Outcome::InvalidTransition;
            }
            ReservationStatus::Held => {}
        }
        let wallet = &mut self.wallets[hold.wallet];
        let held_by_others = wallet.held - hold.amount;
        let collectable = wallet.paid + wallet.granted - held_by_others;
        let charged = if actual <= hold.amount {
            actual
        } else {
            actual.min(collectable)
        };
        let from_granted = charged.min(wallet.granted);
        wallet.granted -= from_granted;
        wallet.paid -= charged - from_granted;
        wallet.held = held_by_others;
        wallet.spent += charged;
        let released = (hold.amount - charged).max(Decimal::ZERO);
        let uncollected = actual - charged;
        let balance_after = wallet.paid + wallet.granted;
        let entry = &mut self.reservations[reservation];
        entry.status = ReservationStatus::Settled;
        entry.settlement = Some((actual, charged, released, uncollected, balance_after));
        Outcome::Settled {
            settled: charged,
            released,
            uncollected,
            balance_after,
        }
    }

    /// Release: return the whole hold. Releasing a released or expired hold answers it again
    /// (expired reservations are treated as released); a settled one is refused.
    pub(crate) fn release(&mut self, reservation: usize) -> Outcome {
        let hold = &self.reservations[reservation];
        match hold.status {
            ReservationStatus::Released | ReservationStatus::Expired => Outcome::Done,
            ReservationStatus::Settled => Outcome::InvalidTransition,
            ReservationStatus::Held if hold.expires_at <= self.now => {
                self.end_without_charge(reservation, ReservationStatus::Expired);
                Outcome::Done
            }
            ReservationStatus::Held => {
                self.end_without_charge(reservation, ReservationStatus::Released);
                Outcome::Done
            }
        }
    }

    /// Terminate: release the wallet's holds, forfeit its credits. Final.
    pub(crate) fn terminate(&mut self, wallet: usize) -> Outcome {
        if self.wallets[wallet].status == WalletStatus::Terminated {
            return Outcome::InvalidTransition;
        }
        self.terminate_unchecked(wallet);
        Outcome::Done
    }

    fn terminate_unchecked(&mut self, wallet: usize) {
        let open: Vec<usize> = (0..self.reservations.len())
            .filter(|&index| {
                self.reservations[index].wallet == wallet
                    && self.reservations[index].status == ReservationStatus::Held
            })
            .collect();
        for index in open {
            self.end_without_charge(index, ReservationStatus::Released);
        }
        let wallet = &mut self.wallets[wallet];
        debug_assert!(wallet.held.is_zero());
        wallet.paid = Decimal::ZERO;
        wallet.granted = Decimal::ZERO;
        wallet.status = WalletStatus::Terminated;
    }

    /// Activate: PENDING → ACTIVE only.
    pub(crate) fn activate(&mut self, wallet: usize) -> Outcome {
        let wallet = &mut self.wallets[wallet];
        if wallet.status != WalletStatus::Pending {
            return Outcome::InvalidTransition;
        }
        if wallet.expiration_at.is_some_and(|at| at <= self.now) {
            // Expired before anyone activated it: refused; the sweeper terminates it.
            return Outcome::Conflict;
        }
        wallet.status = WalletStatus::Active;
        Outcome::Done
    }

    /// Time passes, then the sweeper runs: expired wallets are terminated (their holds
    /// released), expired holds expire, due PENDING wallets activate, old tickets expire.
    pub(crate) fn advance_and_sweep(&mut self, by: Duration) -> SweepCounts {
        self.now += by;
        let now = self.now;
        let mut counts = SweepCounts::default();
        for index in 0..self.wallets.len() {
            let wallet = &self.wallets[index];
            if wallet.status != WalletStatus::Terminated
                && wallet.expiration_at.is_some_and(|at| at <= now)
            {
                self.terminate_unchecked(index);
                counts.wallets_expired += 1;
            }
        }
        for index in 0..self.reservations.len() {
            let hold = &self.reservations[index];
            if hold.status == ReservationStatus::Held && hold.expires_at <= now {
                self.end_without_charge(index, ReservationStatus::Expired);
                counts.reservations_expired += 1;
            }
        }
        for wallet in &mut self.wallets {
            if wallet.status == WalletStatus::Pending
                && wallet.activates_at.is_some_and(|at| at <= now)
            {
                wallet.status = WalletStatus::Active;
                counts.wallets_activated += 1;
            }
        }
        for ticket in &mut self.tickets {
            if ticket.status == TicketStatus::Open && ticket.expires_at <= now {
                ticket.status = TicketStatus::Expired;
                counts.cost_tickets_expired += 1;
            }
        }
        counts
    }
}
