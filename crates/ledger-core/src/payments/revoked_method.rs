//! A saved payment method that leaves: revoked at its provider (PayPal
//! `VAULT.PAYMENT-TOKEN.DELETED` and `DELETION-INITIATED`, providers.md 6.4) or deleted by the
//! organization (`DELETE /v1/payments/payment-methods/{id}`). Either way the method is deleted
//! from the organization's saved methods and every rule naming it pauses, so no rule charges a
//! method that is gone; the two differ only in the reason and code the rules show.
//!
//! The method is deleted rather than marked unusable: the stores keep no status for a saved
//! method, the API lists saved methods without one, a rule can no longer be saved naming a
//! deleted method (so a resumed rule names a working one), and a rule's charge of a method
//! that is gone already fails without calling the provider.

use super::Payments;
use super::credit::EventMark;
use crate::error::LedgerError;
use crate::id::{OrgId, PaymentSessionId, WalletId};
use crate::money::Credits;
use crate::payment_session::PaymentStatus;
use crate::ports::{PageRequest, SavedPaymentMethod, UnitOfWork, WalletFilter};
use crate::topup_rule::{RuleRun, RuleRunStatus, TopupRule};
use crate::wallet::Wallet;

/// The most pages of an organization's wallets one departure reads looking for rules.
const WALLET_PAGES_MAX: u32 = 1000;

/// Why a saved method leaves; it names the code and the reason its rules show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Departure {
    /// The provider reported the method revoked (its buyer removed it there).
    Revoked,
    /// The organization deleted it through the API.
    Deleted,
}

impl Departure {
    const ALL: [Self; 2] = [Self::Revoked, Self::Deleted];

    /// The code a rule's last run and a failed paid top-up carry.
    fn error_code(self) -> &'static str {
        match self {
            Self::Revoked => "payment_method_revoked",
            Self::Deleted => "payment_method_deleted",
        }
    }

    /// The rule's `paused_reason`: what happened and how to resume.
    fn reason(self, method: &SavedPaymentMethod) -> String {
        match self {
            Self::Revoked => format!(
                "the saved payment method {} was revoked at {}; save the rule with another payment method to resume",
                method.id, method.provider
            ),
            Self::Deleted => format!(
                "the saved payment method {} was deleted; save the rule with another payment method to resume",
                method.id
            ),
        }
    }
}

impl Payments {
    /// Deletes a saved payment method the organization no longer wants, here and at its
    /// provider, the way a revocation at the provider does: every rule of the method's
    /// organization naming it pauses with the reason on its state (`last_run.error_code:
    /// "payment_method_deleted"`), a paid top-up of such a rule that nobody charged yet
    /// (`created`) fails, and a charge already under way is left to its flow.
    ///
    /// The caller found `method` in the store and checked that its caller may delete it. The
    /// rules pause before the provider is asked, so the revocation event a provider sends for
    /// this very deletion (PayPal's `VAULT.PAYMENT-TOKEN.DELETED`) finds them paused already
    /// and leaves them as they are. When the provider refuses, the method stays saved and its
    /// rules stay paused; the same call again finishes the deletion. A provider that is not
    /// configured any more is not asked.
    ///
    /// # Errors
    /// The provider's failure to delete (`LedgerError::Provider`, nothing deleted), store
    /// failures.
    pub async fn delete_saved_method(
        &self,
        method: &SavedPaymentMethod,
    ) -> Result<(), LedgerError> {
        self.pause_rules_naming(std::slice::from_ref(method), Departure::Deleted, None)
            .await?;
        if let Some(provider) = self.providers.provider(&method.provider) {
            provider.delete_saved_method(&method.provider_token).await?;
        }
        self.store.delete_payment_method(&method.id).await?;
        Ok(())
    }

    /// Applies a revocation of the saved method `method_token` at `provider`.
    ///
    /// In one unit: the event is recorded, and every rule naming a method with that token
    /// (in that method's own organization only) pauses with the reason on its state. A paid
    /// top-up of such a rule that nobody charged yet (`created`) fails in the same unit; one
    /// already charging is left to its normal flow. After that unit the methods are deleted.
    ///
    /// A token no saved method has is acknowledged and changes nothing (nothing is recorded).
    /// A duplicate event (same event id) touches no rule; it only finishes deleting methods
    /// that token still names, which is the case only when a delivery stopped between its unit
    /// and the deletion, and deleting a dead method twice is harmless.
    pub(super) async fn revoke_saved_method(
        &self,
        provider: &str,
        event_id: &str,
        method_token: &str,
    ) -> Result<(), LedgerError> {
        let methods: Vec<SavedPaymentMethod> = self
            .store
            .payment_methods_by_token(provider, method_token)
            .await?
            .into_iter()
            // The port's contract, checked again: only this provider's method with exactly
            // this token is ever touched.
            .filter(|method| method.provider == provider && method.provider_token == method_token)
            .collect();
        if methods.is_empty() {
            return Ok(());
        }
        let event = EventMark { provider, event_id };
        self.pause_rules_naming(&methods, Departure::Revoked, Some(event))
            .await?;
        for method in &methods {
            self.store.delete_payment_method(&method.id).await?;
        }
        Ok(())
    }

    /// Pauses every rule naming one of `methods` (in that method's own organization) in one
    /// unit, which also records `event` when given; a recorded event touches no rule again.
    async fn pause_rules_naming(
        &self,
        methods: &[SavedPaymentMethod],
        departure: Departure,
        event: Option<EventMark<'_>>,
    ) -> Result<(), LedgerError> {
        let wallets = self.wallets_naming(methods).await?;
        if wallets.is_empty() && event.is_none() {
            // Nothing to pause and nothing to record: no unit at all.
            return Ok(());
        }
        crate::service::retry_on_conflict!(
            self.pause_rules_once(methods, departure, event, &wallets)
                .await
        )
    }

    /// The wallets (ascending ids: the port's lock order) of the methods' organizations that
    /// have a rule naming one of them. A snapshot: the unit checks each rule again under lock.
    async fn wallets_naming(
        &self,
        methods: &[SavedPaymentMethod],
    ) -> Result<Vec<WalletId>, LedgerError> {
        let mut orgs: Vec<&OrgId> = methods.iter().map(|method| &method.org_id).collect();
        orgs.sort();
        orgs.dedup();
        let mut found = Vec::new();
        for org in orgs {
            for page in 1..=WALLET_PAGES_MAX {
                let filter = WalletFilter {
                    org_id: Some(org.clone()),
                    page: PageRequest {
                        page,
                        per_page: 100,
                    },
                    ..WalletFilter::default()
                };
                let listed = self.ledger.store().list_wallets(&filter).await?;
                let more = listed.has_more(filter.page);
                found.extend(
                    listed
                        .items
                        .into_iter()
                        .filter(|wallet| {
                            wallet.rules.iter().any(|rule| {
                                departing_method_of(rule, &wallet.org_id, methods).is_some()
                            })
                        })
                        .map(|wallet| wallet.id),
                );
                if !more {
                    break;
                }
            }
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    async fn pause_rules_once(
        &self,
        methods: &[SavedPaymentMethod],
        departure: Departure,
        event: Option<EventMark<'_>>,
        wallets: &[WalletId],
    ) -> Result<(), LedgerError> {
        let now = self.ledger.now();
        let mut uow = self.ledger.store().begin().await?;
        if let Some(event) = event
            && !uow
                .record_provider_event(event.provider, event.event_id)
                .await?
        {
            // Applied before: the unit is dropped and writes nothing.
            return Ok(());
        }
        for wallet_id in wallets {
            let Some(mut wallet) = uow.lock_wallet(wallet_id).await? else {
                continue;
            };
            if pause_wallet_rules(uow.as_mut(), &mut wallet, methods, departure, now).await? {
                wallet.updated_at = now;
                uow.update_wallet(&wallet).await?;
            }
        }
        uow.commit().await?;
        Ok(())
    }
}

/// The departing method a rule names, if it names one of the wallet's own organization.
fn departing_method_of<'m>(
    rule: &TopupRule,
    org_id: &OrgId,
    methods: &'m [SavedPaymentMethod],
) -> Option<&'m SavedPaymentMethod> {
    let named = rule.payment_method_id.as_ref()?;
    methods
        .iter()
        .find(|method| &method.id == named && &method.org_id == org_id)
}

/// Pauses the wallet's rules that name a departing method; `true` when one changed.
///
/// A rule already paused because that very method left (revoked or deleted) keeps its first
/// pause and last run: a deletion's retry, or the provider's revocation event for a deletion
/// made here, changes nothing.
async fn pause_wallet_rules(
    uow: &mut dyn UnitOfWork,
    wallet: &mut Wallet,
    methods: &[SavedPaymentMethod],
    departure: Departure,
    now: time::OffsetDateTime,
) -> Result<bool, LedgerError> {
    let org_id = wallet.org_id.clone();
    let mut changed = false;
    for rule in &mut wallet.rules {
        let Some(method) = departing_method_of(rule, &org_id, methods) else {
            continue;
        };
        if paused_for_departure_of(rule, method) {
            continue;
        }
        let reason = departure.reason(method);
        let failed = match rule.state.pending_session_id.clone() {
            Some(session_id) => fail_uncharged(uow, &session_id, departure, &reason, now).await?,
            None => None,
        };
        pause(rule, reason, failed, departure, now);
        changed = true;
    }
    Ok(changed)
}

/// Whether the rule is paused with the reason a departure of `method` gives.
fn paused_for_departure_of(rule: &TopupRule, method: &SavedPaymentMethod) -> bool {
    let state = &rule.state;
    state.paused
        && Departure::ALL
            .iter()
            .any(|departure| state.paused_reason.as_deref() == Some(&*departure.reason(method)))
}

/// Fails a rule's paid top-up that nobody started charging (`created`), so it never reaches
/// the provider; answers its id. A session past `created` is charging: left to its flow.
async fn fail_uncharged(
    uow: &mut dyn UnitOfWork,
    session_id: &PaymentSessionId,
    departure: Departure,
    reason: &str,
    now: time::OffsetDateTime,
) -> Result<Option<PaymentSessionId>, LedgerError> {
    let Some(mut session) = uow.lock_payment_session(session_id).await? else {
        return Ok(None);
    };
    if session.status != PaymentStatus::Created {
        return Ok(None);
    }
    session.move_to(PaymentStatus::Failed, now)?;
    session.error_code = Some(departure.error_code().to_owned());
    session.error_message = Some(reason.to_owned());
    uow.update_payment_session(&session).await?;
    Ok(Some(session.id))
}

/// Pauses a rule in the vocabulary of a failed paid top-up (`paused`, `paused_reason`,
/// `last_run`). A charge still in flight keeps the rule's pending session and last run: its
/// outcome is recorded by its own flow.
fn pause(
    rule: &mut TopupRule,
    reason: String,
    failed: Option<PaymentSessionId>,
    departure: Departure,
    now: time::OffsetDateTime,
) {
    if failed.is_some() {
        // As for a declined charge: fires again once the rule is saved with another method.
        rule.rearm_after_unserved_top_up();
        rule.state.pending_session_id = None;
    }
    let state = &mut rule.state;
    state.paused = true;
    state.paused_reason = Some(reason.clone());
    if state.pending_session_id.is_some() {
        return;
    }
    let paid_credits = match (&failed, &state.last_run) {
        (Some(_), Some(run)) => run.paid_credits,
        _ => Credits::ZERO,
    };
    state.last_run = Some(RuleRun {
        at: now,
        status: RuleRunStatus::Failed,
        paid_credits,
        granted_credits: Credits::ZERO,
        payment_session_id: failed,
        error_code: Some(departure.error_code().to_owned()),
        message: Some(reason),
    });
}
