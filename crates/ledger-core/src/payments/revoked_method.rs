//! A saved payment method revoked at its provider (PayPal `VAULT.PAYMENT-TOKEN.DELETED` and
//! `DELETION-INITIATED`, providers.md 6.4): the method is deleted from the organization's saved
//! methods and every rule naming it pauses, so no rule charges a method the provider refuses.
//!
//! The method is deleted rather than marked unusable: the stores keep no status for a saved
//! method, the API lists saved methods without one, a rule can no longer be saved naming a
//! deleted method (so a resumed rule names a working one), and a rule's charge of a method
//! that is gone already fails without calling the provider.

use super::Payments;
use crate::error::LedgerError;
use crate::id::{OrgId, PaymentSessionId, WalletId};
use crate::money::Credits;
use crate::payment_session::PaymentStatus;
use crate::ports::{PageRequest, SavedPaymentMethod, UnitOfWork, WalletFilter};
use crate::topup_rule::{RuleRun, RuleRunStatus, TopupRule};
use crate::wallet::Wallet;

/// The most pages of an organization's wallets one revocation reads looking for rules.
const WALLET_PAGES_MAX: u32 = 1000;

/// The code a rule's last run and a failed paid top-up carry when the method was revoked.
const PAYMENT_METHOD_REVOKED: &str = "payment_method_revoked";

impl Payments {
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
        let wallets = self.wallets_naming(&methods).await?;
        crate::service::retry_on_conflict!(
            self.pause_rules_once(provider, event_id, &methods, &wallets)
                .await
        )?;
        for method in &methods {
            self.store.delete_payment_method(&method.id).await?;
        }
        Ok(())
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
                                revoked_method_of(rule, &wallet.org_id, methods).is_some()
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
        provider: &str,
        event_id: &str,
        methods: &[SavedPaymentMethod],
        wallets: &[WalletId],
    ) -> Result<(), LedgerError> {
        let now = self.ledger.now();
        let mut uow = self.ledger.store().begin().await?;
        if !uow.record_provider_event(provider, event_id).await? {
            // Applied before: the unit is dropped and writes nothing.
            return Ok(());
        }
        for wallet_id in wallets {
            let Some(mut wallet) = uow.lock_wallet(wallet_id).await? else {
                continue;
            };
            if pause_wallet_rules(uow.as_mut(), &mut wallet, methods, now).await? {
                wallet.updated_at = now;
                uow.update_wallet(&wallet).await?;
            }
        }
        uow.commit().await?;
        Ok(())
    }
}

/// The revoked method a rule names, if it names one of the wallet's own organization.
fn revoked_method_of<'m>(
    rule: &TopupRule,
    org_id: &OrgId,
    methods: &'m [SavedPaymentMethod],
) -> Option<&'m SavedPaymentMethod> {
    let named = rule.payment_method_id.as_ref()?;
    methods
        .iter()
        .find(|method| &method.id == named && &method.org_id == org_id)
}

/// Pauses the wallet's rules that name a revoked method; `true` when one changed.
async fn pause_wallet_rules(
    uow: &mut dyn UnitOfWork,
    wallet: &mut Wallet,
    methods: &[SavedPaymentMethod],
    now: time::OffsetDateTime,
) -> Result<bool, LedgerError> {
    let org_id = wallet.org_id.clone();
    let mut changed = false;
    for rule in &mut wallet.rules {
        let Some(method) = revoked_method_of(rule, &org_id, methods) else {
            continue;
        };
        let reason = format!(
            "the saved payment method {} was revoked at {}; save the rule with another payment method to resume",
            method.id, method.provider
        );
        let failed = match rule.state.pending_session_id.clone() {
            Some(session_id) => fail_uncharged(uow, &session_id, &reason, now).await?,
            None => None,
        };
        pause(rule, reason, failed, now);
        changed = true;
    }
    Ok(changed)
}

/// Fails a rule's paid top-up that nobody started charging (`created`), so it never reaches
/// the provider; answers its id. A session past `created` is charging: left to its flow.
async fn fail_uncharged(
    uow: &mut dyn UnitOfWork,
    session_id: &PaymentSessionId,
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
    session.error_code = Some(PAYMENT_METHOD_REVOKED.to_owned());
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
        error_code: Some(PAYMENT_METHOD_REVOKED.to_owned()),
        message: Some(reason),
    });
}
