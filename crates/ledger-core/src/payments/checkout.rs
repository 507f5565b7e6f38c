//! Starting a checkout.

use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};

use super::Payments;
use crate::error::{LedgerError, ValidationError};
use crate::id::{OrgId, PaymentSessionId, UserId, WalletId};
use crate::money::{Credits, Money};
use crate::payment_session::{PaymentSession, PaymentStatus};
use crate::ports::CheckoutRequest;
use crate::service::NewWallet;
use crate::wallet::Owner;

/// How long an unapproved session lives by default (3 hours).
pub const SESSION_TTL_SECONDS_DEFAULT: i64 = 3 * 3600;

/// What a checkout is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartCheckout {
    /// The organization.
    pub org_id: OrgId,
    /// The user starting it (none for automatic top-ups).
    pub user_id: Option<UserId>,
    /// The provider's wire name.
    pub provider: String,
    /// The owner whose wallet is topped up.
    pub target_owner: Owner,
    /// The money.
    pub amount: Money,
    /// `console`, `chat`, `api`, `auto_topup`.
    pub surface: String,
    /// Where the buyer returns after approving.
    pub return_url: String,
    /// Where the buyer returns after canceling.
    pub cancel_url: String,
    /// The random value bound to the session.
    pub checkout_state: String,
    /// Whether to save the buyer's payment method.
    pub save_payment_method: bool,
    /// Who asks.
    pub principal: String,
}

impl Payments {
    /// Creates the provider checkout and stores the session (`created`). The wallet credited is
    /// the owner's ACTIVE wallet in the currency of lowest priority; one is created (rate 1)
    /// when the owner has none.
    ///
    /// # Errors
    /// [`LedgerError::Provider`] when the provider refuses or fails;
    /// [`LedgerError::Conflict`] `no_payment_provider` when it is not configured.
    pub async fn start_checkout(
        &self,
        start: &StartCheckout,
    ) -> Result<PaymentSession, LedgerError> {
        if start.amount.amount() <= Decimal::ZERO {
            return Err(
                ValidationError::field("amount", "amount must be greater than zero").into(),
            );
        }
        let provider = self.provider(&start.provider)?;
        let wallet_id = self.target_wallet(start).await?;
        let now = self.ledger.clock().now();
        let id = PaymentSessionId::from_suffix(&self.ledger.ids().next_suffix());
        let created = provider
            .create_checkout(&CheckoutRequest {
                session_id: id.to_string(),
                amount: start.amount,
                return_url: start.return_url.clone(),
                cancel_url: start.cancel_url.clone(),
                description: format!("purse top-up {}", start.amount.amount()),
                save_payment_method: start.save_payment_method,
                ttl_seconds: SESSION_TTL_SECONDS_DEFAULT,
            })
            .await?;
        let session = new_session(
            start,
            id,
            wallet_id,
            created.order_id,
            created.approval_url,
            now,
        );
        let mut uow = self.ledger.store().begin().await?;
        uow.insert_payment_session(&session).await?;
        uow.commit().await?;
        Ok(session)
    }

    pub(super) async fn target_wallet(
        &self,
        start: &StartCheckout,
    ) -> Result<WalletId, LedgerError> {
        let currency = start.amount.currency();
        let wallets = self
            .ledger
            .store()
            .cascade_wallets(
                &start.org_id,
                std::slice::from_ref(&start.target_owner),
                currency,
            )
            .await?;
        let now = self.ledger.now();
        let existing = wallets
            .into_iter()
            .filter(|wallet| wallet.is_active_at(now))
            .min_by(|a, b| {
                a.priority
                    .cmp(&b.priority)
                    .then(a.created_at.cmp(&b.created_at))
            });
        if let Some(wallet) = existing {
            return Ok(wallet.id);
        }
        let wallet = self
            .ledger
            .create_wallet(&NewWallet {
                org_id: start.org_id.clone(),
                owner: start.target_owner.clone(),
                name: Some("Top-ups".to_owned()),
                currency,
                rate_amount: Decimal::ONE,
                paid: Credits::ZERO,
                granted: Credits::ZERO,
                expiration_at: None,
                activates_at: None,
                priority: 0,
                fee_types: Vec::new(),
                rules: Vec::new(),
                principal: start.principal.clone(),
            })
            .await?;
        Ok(wallet.id)
    }
}

fn new_session(
    start: &StartCheckout,
    id: PaymentSessionId,
    wallet_id: WalletId,
    order_id: String,
    approval_url: String,
    now: OffsetDateTime,
) -> PaymentSession {
    PaymentSession {
        id,
        org_id: start.org_id.clone(),
        user_id: start.user_id.clone(),
        provider: start.provider.clone(),
        surface: start.surface.clone(),
        target_owner: start.target_owner.clone(),
        wallet_id,
        amount: start.amount.amount(),
        currency: start.amount.currency(),
        status: PaymentStatus::Created,
        checkout_state: start.checkout_state.clone(),
        provider_order_id: Some(order_id),
        provider_capture_id: None,
        approval_url: Some(approval_url),
        return_url: Some(start.return_url.clone()),
        cancel_url: Some(start.cancel_url.clone()),
        save_payment_method: start.save_payment_method,
        payment_method_id: None,
        credited_amount: None,
        wallet_balance_after: None,
        wallet_transaction_id: None,
        refunded_amount: Decimal::ZERO,
        refunded_credits: Credits::ZERO,
        applied_refund_ids: Vec::new(),
        provider_refund_id: None,
        error_code: None,
        error_message: None,
        created_at: now,
        updated_at: now,
        expires_at: now + Duration::seconds(SESSION_TTL_SECONDS_DEFAULT),
    }
}
