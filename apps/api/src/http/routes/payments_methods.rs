//! Saved payment methods: recorded when a checkout with `save_payment_method: true` completes,
//! listed per organization, deleted here and at the provider.

use axum::extract::State;
use axum::http::StatusCode;
use ledger_core::error::StoreError;
use ledger_core::id::PaymentMethodId;
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::payments::ProviderResolver;
use ledger_core::ports::{SavedMethod, SavedPaymentMethod};
use ledger_core::wallet::Owner;
use serde_json::{Value, json};

use super::payments::{acting_org, refuse_gateway};
use super::payments_views::method_view;
use super::{RouteSpec, delete, get};
use crate::http::AppState;
use crate::http::auth::{Permission, Principal};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{Path, path_id};

/// The routes of this file.
pub fn routes() -> Vec<RouteSpec> {
    vec![
        get("/v1/payments/payment-methods", list_methods)
            .tag("payments")
            .summary(
                "The organization's saved payment methods (members: their own and their teams')",
            )
            .roles("billing_admin, org_admin, member; platform_admin with ?org_id="),
        delete("/v1/payments/payment-methods/{id}", delete_method)
            .no_content()
            .tag("payments")
            .summary(
                "Delete a saved payment method, here and at the provider; the rules naming it pause",
            )
            .roles("billing_admin, org_admin, platform_admin; a member its own"),
    ]
}

/// The saved method's id for a session: one per session, so a confirm and a webhook racing to
/// record it store it once.
fn method_id(session: &PaymentSession) -> PaymentMethodId {
    let suffix = session
        .id
        .as_str()
        .strip_prefix("sess_")
        .unwrap_or(session.id.as_str());
    PaymentMethodId::from_suffix(suffix)
}

/// Records the method a completed checkout saved, once. Failures are logged, never answered:
/// the top-up itself succeeded.
pub async fn remember_saved_method(state: &AppState, session: &PaymentSession) {
    if !session.save_payment_method || session.status != PaymentStatus::Completed {
        return;
    }
    let Some(provider) = state.providers.provider(&session.provider) else {
        return;
    };
    let Some(order_id) = &session.provider_order_id else {
        return;
    };
    match provider.saved_method(order_id).await {
        Ok(Some(method)) => store_method(state, session, &method).await,
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(session.id = %session.id, %error, "saved payment method unreadable");
        }
    }
}

/// Stores a method saved by a session's checkout (also for PayPal's late vault event).
pub async fn store_method(state: &AppState, session: &PaymentSession, method: &SavedMethod) {
    let id = method_id(session);
    match state.payment_store.payment_method(&id).await {
        Ok(Some(_)) => return,
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(%error, "saved payment method lookup failed");
            return;
        }
    }
    let saved = SavedPaymentMethod {
        id,
        org_id: session.org_id.clone(),
        provider: session.provider.clone(),
        owner: session.target_owner.clone(),
        provider_token: method.token.clone(),
        provider_customer_id: method.customer_id.clone(),
        label: method.label.clone(),
        created_at: state.ledger.clock().now(),
    };
    match state.payment_store.insert_payment_method(&saved).await {
        Ok(()) => {
            tracing::info!(session.id = %session.id, method.id = %saved.id, "payment method saved")
        }
        Err(StoreError::Duplicate(_)) => {}
        Err(error) => tracing::warn!(session.id = %session.id, %error, "payment method not saved"),
    }
}

/// The owners a member's methods may belong to: itself and its teams.
fn member_owns(principal: &Principal, owner: &Owner) -> bool {
    match owner {
        Owner::User(id) => principal.user_id() == Some(id),
        Owner::Team(id) => principal.in_team(id),
        Owner::Organization(_) => false,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgQuery {
    org_id: Option<String>,
}

async fn list_methods(
    State(state): State<AppState>,
    principal: Principal,
    crate::http::extract::Query(query): crate::http::extract::Query<OrgQuery>,
) -> ApiResult<axum::Json<Value>> {
    refuse_gateway(&principal)?;
    let org = acting_org(&state, &principal, query.org_id.as_deref()).await?;
    let sees_all = principal.has(Permission::ManageWallets);
    let methods: Vec<Value> = state
        .payment_store
        .list_payment_methods(&org.id)
        .await?
        .iter()
        .filter(|method| sees_all || member_owns(&principal, &method.owner))
        .map(method_view)
        .collect();
    let total = methods.len();
    Ok(axum::Json(json!({
        "payment_methods": methods,
        "total": total,
        "has_more": false,
    })))
}

async fn delete_method(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    refuse_gateway(&principal)?;
    let method_id: PaymentMethodId = path_id("payment_method", &id)?;
    let method = state
        .payment_store
        .payment_method(&method_id)
        .await?
        .ok_or_else(|| ApiError::not_found("payment_method", &id))?;
    principal.check_org(&method.org_id, "payment_method", &id)?;
    if !principal.has(Permission::ManageWallets) && !member_owns(&principal, &method.owner) {
        return Err(ApiError::forbidden(format!(
            "payment method {id} belongs to another owner"
        )));
    }
    state.providers.refresh().await?;
    // As a revocation at the provider: the rules naming the method pause visibly, so none of
    // them fails later charging a method that is gone.
    state
        .payments
        .delete_saved_method(&method)
        .await
        .map_err(|error| super::payments::payment_error(error, None))?;
    tracing::info!(method.id = %method_id, "payment method deleted");
    Ok(StatusCode::NO_CONTENT)
}
