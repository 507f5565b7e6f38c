//! Wallet creation and admin movements: credit, debit, allocate, reclaim, patch.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Ledger, found, retry_on_conflict};
use crate::error::{LedgerError, ValidationError};
use crate::id::{OrgId, RuleId, TransactionId, WalletId};
use crate::journal::{Account, EntryKind, JournalBuilder, WalletPool};
use crate::money::{Credits, Currency, check_rate_amount};
use crate::ports::UnitOfWork;
use crate::topup_rule::TopupRule;
use crate::wallet::{FeeType, Owner, Wallet, WalletStatus};

/// What a new wallet is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWallet {
    /// The organization.
    pub org_id: OrgId,
    /// The owner (checked to exist in the organization by the caller).
    pub owner: Owner,
    /// A display name.
    pub name: Option<String>,
    /// The currency.
    pub currency: Currency,
    /// Money per credit.
    pub rate_amount: Decimal,
    /// Opening paid credits.
    pub paid: Credits,
    /// Opening granted credits.
    pub granted: Credits,
    /// When it expires.
    pub expiration_at: Option<OffsetDateTime>,
    /// When it activates (PENDING until then).
    pub activates_at: Option<OffsetDateTime>,
    /// Priority inside its owner (lower first).
    pub priority: i32,
    /// The fee types it pays (empty: all).
    pub fee_types: Vec<FeeType>,
    /// Its top-up rules (validated here).
    pub rules: Vec<TopupRule>,
    /// Who asks.
    pub principal: String,
}

/// Changes to a wallet's settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalletPatch {
    /// A new name.
    pub name: Option<Option<String>>,
    /// A new expiry (`Some(None)` removes it).
    pub expiration_at: Option<Option<OffsetDateTime>>,
    /// A new priority.
    pub priority: Option<i32>,
    /// New fee types.
    pub fee_types: Option<Vec<FeeType>>,
    /// New rules (replacing all).
    pub rules: Option<Vec<TopupRule>>,
}

/// Both wallets after an allocation or reclaim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationResult {
    /// The wallet credits left.
    pub from_wallet: Wallet,
    /// The wallet credits went to.
    pub to_wallet: Wallet,
}

impl Ledger {
    /// Creates a wallet, with its opening credits in the journal. It is PENDING when
    /// `activates_at` is in the future, else ACTIVE.
    ///
    /// # Errors
    /// [`LedgerError::Invalid`] for a bad rate, an expiry in the past or invalid rules.
    pub async fn create_wallet(&self, new: &NewWallet) -> Result<Wallet, LedgerError> {
        let now = self.now();
        check_rate_amount(new.rate_amount)
            .map_err(|error| ValidationError::field("rate_amount", error.to_string()))?;
        if let Some(expiration_at) = new.expiration_at
            && expiration_at <= now
        {
            return Err(ValidationError::field(
                "expiration_at",
                "expiration_at must be in the future",
            )
            .into());
        }
        if let (Some(activates_at), Some(expiration_at)) = (new.activates_at, new.expiration_at)
            && activates_at >= expiration_at
        {
            return Err(ValidationError::field(
                "activates_at",
                "activates_at must be before expiration_at",
            )
            .into());
        }
        let rules = prepare_rules(&new.rules, &[], now, || self.new_id(RuleId::from_suffix))?;
        let pending = new.activates_at.is_some_and(|at| at > now);
        let mut wallet = Wallet {
            id: self.new_id(WalletId::from_suffix),
            org_id: new.org_id.clone(),
            owner: new.owner.clone(),
            name: new.name.clone(),
            status: if pending {
                WalletStatus::Pending
            } else {
                WalletStatus::Active
            },
            currency: new.currency,
            rate_amount: new.rate_amount.normalize(),
            paid: Credits::ZERO,
            granted: Credits::ZERO,
            held: Credits::ZERO,
            debt: Credits::ZERO,
            total_spent: Credits::ZERO,
            total_allocated: Credits::ZERO,
            expiration_at: new.expiration_at,
            activates_at: new.activates_at,
            priority: new.priority,
            fee_types: dedup(&new.fee_types),
            rules,
            created_at: now,
            updated_at: now,
        };
        let mut journal = self.admin_journal(&wallet, EntryKind::Opening, &new.principal, now);
        journal.move_wallet(
            &mut wallet,
            WalletPool::Paid,
            new.paid.value(),
            Account::AdminAdjustments,
        );
        journal.move_wallet(
            &mut wallet,
            WalletPool::Granted,
            new.granted.value(),
            Account::PromotionalGrants,
        );
        let mut uow = self.store.begin().await?;
        uow.insert_wallet(&wallet).await?;
        if !journal.is_empty() {
            uow.append_journal(journal.finish()).await?;
        }
        uow.commit().await?;
        Ok(wallet)
    }

    pub(super) fn admin_journal(
        &self,
        wallet: &Wallet,
        kind: EntryKind,
        principal: &str,
        now: OffsetDateTime,
    ) -> JournalBuilder {
        JournalBuilder::new(
            self.new_id(TransactionId::from_suffix),
            wallet.org_id.clone(),
            kind,
            ("wallet", wallet.id.as_str()),
            principal,
            now,
        )
    }

    /// Adds credits to an ACTIVE wallet. Paid credits repay debt first.
    ///
    /// # Errors
    /// [`LedgerError::Conflict`] when the wallet is not ACTIVE; [`LedgerError::Invalid`] when
    /// both amounts are zero.
    pub async fn credit(
        &self,
        wallet_id: &WalletId,
        paid: Credits,
        granted: Credits,
        principal: &str,
    ) -> Result<Wallet, LedgerError> {
        if paid.is_zero() && granted.is_zero() {
            return Err(ValidationError::field(
                "paid_credits",
                "paid_credits or granted_credits must be above zero",
            )
            .into());
        }
        retry_on_conflict!(self.credit_once(wallet_id, paid, granted, principal).await)
    }

    async fn credit_once(
        &self,
        wallet_id: &WalletId,
        paid: Credits,
        granted: Credits,
        principal: &str,
    ) -> Result<Wallet, LedgerError> {
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let mut wallet = lock_active(uow.as_mut(), wallet_id, now).await?;
        let mut journal = self.admin_journal(&wallet, EntryKind::Credit, principal, now);
        add_paid(&mut journal, &mut wallet, paid, Account::AdminAdjustments);
        journal.move_wallet(
            &mut wallet,
            WalletPool::Granted,
            granted.value(),
            Account::PromotionalGrants,
        );
        self.write_wallet(uow.as_mut(), &mut wallet, journal.finish())
            .await?;
        uow.commit().await?;
        Ok(wallet)
    }

    /// Removes credits from an ACTIVE wallet; never below zero and never credits under holds.
    ///
    /// # Errors
    /// [`LedgerError::InsufficientFunds`] when a pool or the available balance is short.
    pub async fn debit(
        &self,
        wallet_id: &WalletId,
        paid: Credits,
        granted: Credits,
        principal: &str,
    ) -> Result<Wallet, LedgerError> {
        if paid.is_zero() && granted.is_zero() {
            return Err(ValidationError::field(
                "paid_credits",
                "paid_credits or granted_credits must be above zero",
            )
            .into());
        }
        retry_on_conflict!(self.debit_once(wallet_id, paid, granted, principal).await)
    }

    async fn debit_once(
        &self,
        wallet_id: &WalletId,
        paid: Credits,
        granted: Credits,
        principal: &str,
    ) -> Result<Wallet, LedgerError> {
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let mut wallet = lock_active(uow.as_mut(), wallet_id, now).await?;
        let free = wallet.balance().saturating_minus(wallet.held);
        if paid > wallet.paid || granted > wallet.granted || paid.plus(granted) > free {
            return Err(LedgerError::InsufficientFunds {
                available: wallet.available(),
            });
        }
        let mut journal = self.admin_journal(&wallet, EntryKind::Debit, principal, now);
        journal.move_wallet(
            &mut wallet,
            WalletPool::Paid,
            -paid.value(),
            Account::AdminAdjustments,
        );
        journal.move_wallet(
            &mut wallet,
            WalletPool::Granted,
            -granted.value(),
            Account::PromotionalGrants,
        );
        self.write_wallet(uow.as_mut(), &mut wallet, journal.finish())
            .await?;
        uow.commit().await?;
        Ok(wallet)
    }

    /// Moves available credits down the tree (organization → team → user) inside one
    /// organization and currency. Granted credits move first and stay granted.
    ///
    /// # Errors
    /// [`LedgerError::Invalid`] `invalid_allocation` across organizations or currencies or up
    /// the tree; [`LedgerError::InsufficientFunds`] when the source is short.
    pub async fn allocate(
        &self,
        from: &WalletId,
        to: &WalletId,
        amount: Credits,
        principal: &str,
    ) -> Result<AllocationResult, LedgerError> {
        retry_on_conflict!(
            self.transfer_once(from, to, Some(amount), Direction::Down, principal)
                .await
        )
    }

    /// Moves unused credits back up the tree; all available credits when `amount` is `None`.
    ///
    /// # Errors
    /// As [`Ledger::allocate`], with the direction reversed.
    pub async fn reclaim(
        &self,
        from: &WalletId,
        to: &WalletId,
        amount: Option<Credits>,
        principal: &str,
    ) -> Result<AllocationResult, LedgerError> {
        retry_on_conflict!(
            self.transfer_once(from, to, amount, Direction::Up, principal)
                .await
        )
    }

    async fn transfer_once(
        &self,
        from_id: &WalletId,
        to_id: &WalletId,
        amount: Option<Credits>,
        direction: Direction,
        principal: &str,
    ) -> Result<AllocationResult, LedgerError> {
        let now = self.now();
        if from_id == to_id {
            return Err(invalid_allocation(
                "from_wallet_id and to_wallet_id are the same wallet",
            ));
        }
        let mut uow = self.store.begin().await?;
        // Lock in ascending id order: the port's deadlock-free lock order.
        let (mut from, mut to) = if from_id < to_id {
            let from = found(uow.lock_wallet(from_id).await, "wallet", from_id)?;
            let to = found(uow.lock_wallet(to_id).await, "wallet", to_id)?;
            (from, to)
        } else {
            let to = found(uow.lock_wallet(to_id).await, "wallet", to_id)?;
            let from = found(uow.lock_wallet(from_id).await, "wallet", from_id)?;
            (from, to)
        };
        check_transfer(&from, &to, direction)?;
        for wallet in [&from, &to] {
            ensure_not_expired(wallet, now)?;
            if wallet.status != WalletStatus::Active {
                return Err(LedgerError::conflict(
                    "wallet_not_active",
                    format!("wallet {} is {}", wallet.id, wallet.status),
                ));
            }
        }
        let available = from.available();
        let amount = amount.unwrap_or(available);
        if amount.is_zero() {
            return Err(
                ValidationError::field("amount", "amount must be greater than zero").into(),
            );
        }
        if amount > available {
            return Err(LedgerError::InsufficientFunds { available });
        }
        let kind = match direction {
            Direction::Down => EntryKind::Allocate,
            Direction::Up => EntryKind::Reclaim,
        };
        let mut journal = self.admin_journal(&from, kind, principal, now);
        let from_granted = amount.min(from.granted);
        let from_paid = amount.saturating_minus(from_granted);
        journal.move_between(
            &mut from,
            &mut to,
            WalletPool::Granted,
            from_granted.value(),
        );
        // Paid credits repay the receiving wallet's debt first; granted credits never do.
        let repay = from_paid.min(to.debt);
        journal.repay_between(&mut from, &mut to, repay.value());
        journal.move_between(
            &mut from,
            &mut to,
            WalletPool::Paid,
            from_paid.saturating_minus(repay).value(),
        );
        match direction {
            Direction::Down => to.total_allocated = to.total_allocated.plus(amount),
            Direction::Up => from.total_allocated = from.total_allocated.saturating_minus(amount),
        }
        let transaction = journal.finish();
        let rule_transactions = self
            .evaluate_thresholds(uow.as_mut(), &mut from, now, true)
            .await?;
        uow.update_wallet(&from).await?;
        uow.update_wallet(&to).await?;
        uow.append_journal(transaction).await?;
        for rule_transaction in rule_transactions {
            uow.append_journal(rule_transaction).await?;
        }
        uow.commit().await?;
        Ok(AllocationResult {
            from_wallet: from,
            to_wallet: to,
        })
    }

    /// Changes a wallet's settings.
    ///
    /// # Errors
    /// [`LedgerError::Conflict`] on a TERMINATED wallet; [`LedgerError::Invalid`] for invalid
    /// rules or an expiry in the past.
    pub async fn patch_wallet(
        &self,
        wallet_id: &WalletId,
        patch: &WalletPatch,
    ) -> Result<Wallet, LedgerError> {
        retry_on_conflict!(self.patch_once(wallet_id, patch).await)
    }

    async fn patch_once(
        &self,
        wallet_id: &WalletId,
        patch: &WalletPatch,
    ) -> Result<Wallet, LedgerError> {
        let now = self.now();
        let mut uow = self.store.begin().await?;
        let mut wallet = found(uow.lock_wallet(wallet_id).await, "wallet", wallet_id)?;
        wallet.ensure_not_terminated()?;
        // Past its expiry a wallet is over, sweeper or not: a new expiry must not revive it.
        ensure_not_expired(&wallet, now)?;
        if let Some(name) = &patch.name {
            wallet.name.clone_from(name);
        }
        if let Some(expiration_at) = patch.expiration_at {
            if expiration_at.is_some_and(|at| at <= now) {
                return Err(ValidationError::field(
                    "expiration_at",
                    "expiration_at must be in the future",
                )
                .into());
            }
            if let (Some(activates_at), Some(expiration_at)) = (wallet.activates_at, expiration_at)
                && wallet.status == WalletStatus::Pending
                && activates_at >= expiration_at
            {
                return Err(ValidationError::field(
                    "expiration_at",
                    "expiration_at must be after the pending wallet's activates_at",
                )
                .into());
            }
            wallet.expiration_at = expiration_at;
        }
        if let Some(priority) = patch.priority {
            wallet.priority = priority;
        }
        if let Some(fee_types) = &patch.fee_types {
            wallet.fee_types = dedup(fee_types);
        }
        if let Some(rules) = &patch.rules {
            wallet.rules = prepare_rules(rules, &wallet.rules, now, || {
                self.new_id(RuleId::from_suffix)
            })?;
        }
        wallet.updated_at = now;
        uow.update_wallet(&wallet).await?;
        uow.commit().await?;
        Ok(wallet)
    }
}

/// Adds paid credits, repaying debt first.
pub(crate) fn add_paid(
    journal: &mut JournalBuilder,
    wallet: &mut Wallet,
    paid: Credits,
    counter: Account,
) {
    let repay = paid.min(wallet.debt);
    journal.move_wallet(wallet, WalletPool::Debt, -repay.value(), counter.clone());
    journal.move_wallet(
        wallet,
        WalletPool::Paid,
        paid.saturating_minus(repay).value(),
        counter,
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Down,
    Up,
}

fn invalid_allocation(message: &str) -> LedgerError {
    ValidationError::with_code("invalid_allocation", message).into()
}

fn check_transfer(from: &Wallet, to: &Wallet, direction: Direction) -> Result<(), LedgerError> {
    if from.org_id != to.org_id {
        return Err(invalid_allocation(
            "the wallets belong to different organizations",
        ));
    }
    if from.currency != to.currency {
        return Err(invalid_allocation("the wallets have different currencies"));
    }
    let (from_depth, to_depth) = (
        from.owner.owner_type().depth(),
        to.owner.owner_type().depth(),
    );
    let legal = match direction {
        Direction::Down => to_depth > from_depth,
        Direction::Up => to_depth < from_depth,
    };
    if !legal {
        let message = match direction {
            Direction::Down => "allocate moves credits down the tree (organization → team → user)",
            Direction::Up => "reclaim moves credits up the tree (user → team → organization)",
        };
        return Err(invalid_allocation(message));
    }
    Ok(())
}

async fn lock_active(
    uow: &mut dyn UnitOfWork,
    wallet_id: &WalletId,
    now: OffsetDateTime,
) -> Result<Wallet, LedgerError> {
    let wallet = found(uow.lock_wallet(wallet_id).await, "wallet", wallet_id)?;
    wallet.ensure_not_terminated()?;
    ensure_not_expired(&wallet, now)?;
    if wallet.status != WalletStatus::Active {
        return Err(LedgerError::conflict(
            "wallet_not_active",
            format!(
                "wallet {} is {} and cannot move credits",
                wallet.id, wallet.status
            ),
        ));
    }
    Ok(wallet)
}

/// A wallet past its `expiration_at` is never usable, whether the sweeper terminated it yet
/// or not.
pub(super) fn ensure_not_expired(wallet: &Wallet, now: OffsetDateTime) -> Result<(), LedgerError> {
    if wallet.is_expired(now) {
        return Err(LedgerError::conflict(
            "wallet_expired",
            format!("wallet {} expired and refuses every change", wallet.id),
        ));
    }
    Ok(())
}

fn dedup(fee_types: &[FeeType]) -> Vec<FeeType> {
    let mut fee_types = fee_types.to_vec();
    fee_types.sort();
    fee_types.dedup();
    fee_types
}

/// The id a caller gives a rule it wants the ledger to name.
pub const RULE_ID_UNSET: &str = "rule_unset";

/// How many periods of an interval rule's schedule have come by `now` (0 for a THRESHOLD rule).
fn periods_passed(rule: &TopupRule, now: OffsetDateTime) -> u32 {
    let mut passed = 0;
    while rule.period_at(passed + 1).is_some_and(|at| at <= now) {
        passed += 1;
    }
    passed
}

/// `at` without its sub-microsecond digits.
fn whole_microseconds(at: OffsetDateTime) -> OffsetDateTime {
    let nanosecond = at.nanosecond();
    at.replace_nanosecond(nanosecond - nanosecond % 1_000)
        .unwrap_or(at)
}

/// Validates rules and fills their ids and anchors.
fn prepare_rules(
    rules: &[TopupRule],
    existing: &[TopupRule],
    now: OffsetDateTime,
    new_id: impl Fn() -> RuleId,
) -> Result<Vec<TopupRule>, LedgerError> {
    // One rule, one entry: two copies of a rule would both inherit its state and fire twice
    // for one period (or one crossing).
    for (index, rule) in rules.iter().enumerate() {
        if rule.id.as_str() != RULE_ID_UNSET
            && rules[..index].iter().any(|earlier| earlier.id == rule.id)
        {
            return Err(ValidationError::field(
                &format!("recurring_transaction_rules[{index}].id"),
                format!("rule {} is listed twice", rule.id),
            )
            .into());
        }
    }
    rules
        .iter()
        .map(|rule| {
            rule.validate()?;
            let mut rule = rule.clone();
            if rule.id.as_str() == RULE_ID_UNSET {
                rule.id = new_id();
            }
            let old = existing.iter().find(|old| old.id == rule.id);
            // A rule saved again without `started_at` keeps its anchor: re-anchoring it at now
            // while keeping its period count would skip periods.
            if rule.started_at.is_none() {
                rule.started_at = old.and_then(|old| old.started_at);
            }
            if rule.trigger == crate::topup_rule::RuleTrigger::Interval && rule.started_at.is_none()
            {
                rule.started_at = Some(now);
            }
            // Anchors are kept to the microsecond, as the stores keep instants, so an anchor
            // read back and saved again compares equal to the stored one.
            rule.started_at = rule.started_at.map(whole_microseconds);
            match old {
                // A rule saved again keeps what makes it fire once (its last period, its
                // arming, the month's total, a pending charge) but is no longer paused.
                Some(old) => {
                    rule.last_period_fired = old.last_period_fired;
                    // A new schedule (anchor or interval) counts from now, as a new rule
                    // does: the old count means nothing against it, and periods of the new
                    // schedule that already passed must not all fire at once.
                    if rule.started_at != old.started_at || rule.interval != old.interval {
                        rule.last_period_fired = periods_passed(&rule, now);
                    }
                    rule.armed = old.armed;
                    rule.state = old.state.clone();
                    rule.state.paused = false;
                    rule.state.paused_reason = None;
                    rule.state.consecutive_declines = 0;
                    rule.state.backoff_until = None;
                }
                // A new rule anchored in the past starts counting from now: it does not
                // fire for periods that ended before it existed.
                None => {
                    rule.last_period_fired = 0;
                    rule.armed = true;
                    rule.state = crate::topup_rule::RuleState::default();
                    rule.last_period_fired = periods_passed(&rule, now);
                }
            }
            Ok(rule)
        })
        .collect()
}
