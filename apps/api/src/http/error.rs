//! One error type for every answer that is not a success, in the envelope of `api.md`:
//! `{"error": {"code", "message", "details"}}` with the fitting status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ledger_core::error::{LedgerError, StoreError};
use serde_json::{Map, Value, json};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Map<String, Value>,
    /// Members beside `error` at the top level (the 402's `cost_ticket`).
    extra: Map<String, Value>,
}

impl ApiError {
    /// An error with a status, a code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Map::new(),
            extra: Map::new(),
        }
    }

    /// Adds a member to `details`.
    #[must_use]
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    /// Adds a member beside `error`.
    #[must_use]
    pub fn with_extra(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }

    /// 400 `invalid_request` about one field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message).detail("field", field)
    }

    /// 400 with a message and no field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 for a kind of thing and its id.
    pub fn not_found(kind: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{kind} `{id}` not found"),
        )
        .detail("kind", kind)
        .detail("id", id)
    }

    /// 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 500: a fault, logged with its cause; the caller sees no internals.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed with an internal fault");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "the server failed to answer; nothing was changed that is not reported",
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The body as JSON.
    pub fn to_body(&self) -> Value {
        let mut body = self.extra.clone();
        body.insert(
            "error".to_owned(),
            json!({
                "code": self.code,
                "message": self.message,
                "details": Value::Object(self.details.clone()),
            }),
        );
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.to_body())).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => {
                tracing::warn!(%message, "storage stayed busy through every retry");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_busy",
                    "the database is busy; retry the request",
                )
            }
            StoreError::Duplicate(what) => {
                Self::conflict("duplicate", format!("{what} already exists"))
            }
            StoreError::Unavailable(source) => {
                tracing::error!(error = %source, "storage unavailable");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "the database is unreachable",
                )
            }
            StoreError::Corrupt(message) => Self::internal(&message),
        }
    }
}

impl From<LedgerError> for ApiError {
    fn from(error: LedgerError) -> Self {
        let message = error.to_string();
        match error {
            LedgerError::InsufficientBalance { ticket } => {
                let ticket = crate::http::views::CostTicketView::of(&ticket, ticket.created_at);
                Self::new(
                    StatusCode::PAYMENT_REQUIRED,
                    "insufficient_balance",
                    message,
                )
                .detail("cost_ticket_id", ticket.id.clone())
                .detail("shortfall_amount", ticket.shortfall_amount.to_string())
                .with_extra("cost_ticket", crate::http::views::to_json(&ticket))
            }
            LedgerError::InsufficientFunds { available } => {
                Self::conflict("insufficient_balance", message)
                    .detail("available", available.to_string())
            }
            LedgerError::NotFound { kind, id } => Self::not_found(kind, &id),
            LedgerError::InvalidTransition { kind, from, to } => {
                Self::conflict("invalid_transition", message)
                    .detail("kind", kind)
                    .detail("from", from)
                    .detail("to", to)
            }
            LedgerError::Invalid(validation) => {
                let error = Self::new(StatusCode::BAD_REQUEST, validation.code, message);
                match validation.field {
                    Some(field) => error.detail("field", field),
                    None => error,
                }
            }
            LedgerError::Conflict { code, .. } => Self::conflict(code, message),
            LedgerError::Store(store) => store.into(),
            LedgerError::Provider(provider) => {
                tracing::error!(error = %provider, "payment provider failed");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    "provider_error",
                    "the payment provider failed",
                )
            }
        }
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_has_code_message_and_details() {
        let error = ApiError::invalid("amount", "amount must be greater than zero");

        let body = error.to_body();

        assert_eq!(body["error"]["code"], "invalid_request");
        assert_eq!(body["error"]["details"]["field"], "amount");
        assert!(body["error"]["message"].is_string());
    }

    #[test]
    fn a_retryable_store_conflict_is_503_not_500() {
        let error: ApiError = LedgerError::Store(StoreError::Conflict("busy".to_owned())).into();

        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
