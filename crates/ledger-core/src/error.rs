//! Errors: value errors of the parsers, operation outcomes of the ledger, and port errors.

use std::fmt;

use crate::cost_ticket::CostTicket;
use crate::money::Credits;

/// A currency code that is malformed or not assigned by ISO 4217.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseCurrencyError {
    /// Not exactly three uppercase ASCII letters.
    #[error("currency `{0}` is not three uppercase letters")]
    Malformed(String),
    /// Well-formed but not an assigned ISO 4217 currency with minor units.
    #[error("currency `{0}` is not an ISO 4217 currency")]
    Unknown(String),
}

/// A money amount that does not fit its currency.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseMoneyError {
    /// More decimal places than the currency's minor units.
    #[error("amount {amount} has more decimals than {currency} allows ({minor_units})")]
    TooManyDecimals {
        /// The amount as given.
        amount: String,
        /// The currency code.
        currency: String,
        /// The currency's minor units.
        minor_units: u32,
    },
    /// Below zero.
    #[error("amount {0} is negative")]
    Negative(String),
}

/// A credit amount that is malformed, negative or too precise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseCreditsError {
    /// Not a decimal number.
    #[error("`{0}` is not a decimal number")]
    Malformed(String),
    /// Below zero.
    #[error("amount {0} is negative")]
    Negative(String),
    /// Zero where a positive amount is required.
    #[error("amount {0} must be greater than zero")]
    NotPositive(String),
    /// More than nine decimal places.
    #[error("amount {0} has more than 9 decimal places")]
    TooManyDecimals(String),
}

/// An id with the wrong prefix or characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not an id starting with `{expected_prefix}`")]
pub struct ParseIdError {
    /// The prefix the id should start with.
    pub expected_prefix: &'static str,
    /// The text given.
    pub value: String,
}

/// Input that is well-formed but invalid for the operation (a 400 at the HTTP edge).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    /// A stable snake_case code.
    pub code: &'static str,
    /// The field at fault, when there is one.
    pub field: Option<String>,
    /// A human sentence naming the offending value.
    pub message: String,
}

impl ValidationError {
    /// A validation error about one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self {
            code: "invalid_request",
            field: Some(field.to_owned()),
            message: message.into(),
        }
    }

    /// A validation error with its own code.
    pub fn with_code(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            field: None,
            message: message.into(),
        }
    }
}

/// The outcome of a ledger operation that did not succeed.
///
/// Every variant but `Store` and `Provider` is a business outcome that the HTTP layer maps to
/// one status; those two are infrastructure faults.
///
/// Deliberately not `#[non_exhaustive]`: the HTTP app maps every variant to a status with an
/// exhaustive match, so a new variant must be a compile error there, not a silent 500.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// No wallet in the cascade covers a reservation; the cost ticket was stored.
    #[error("insufficient balance: {} short", ticket.shortfall_amount)]
    InsufficientBalance {
        /// The open cost ticket.
        ticket: Box<CostTicket>,
    },
    /// A debit, allocation or refund asks for more than the wallet has available.
    #[error("insufficient balance: {available} available")]
    InsufficientFunds {
        /// What was available.
        available: Credits,
    },
    /// The thing does not exist (or belongs to another organization).
    #[error("{kind} `{id}` not found")]
    NotFound {
        /// What kind of thing.
        kind: &'static str,
        /// The id asked for.
        id: String,
    },
    /// A state machine refused a move.
    #[error("{kind} cannot go from {from} to {to}")]
    InvalidTransition {
        /// What kind of thing.
        kind: &'static str,
        /// The current state.
        from: String,
        /// The state asked for.
        to: String,
    },
    /// Invalid input.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A state conflict other than a transition (settle again with another amount).
    #[error("{message}")]
    Conflict {
        /// A stable snake_case code.
        code: &'static str,
        /// A human sentence.
        message: String,
    },
    /// The storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The payment provider failed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl LedgerError {
    /// A not-found outcome.
    pub fn not_found(kind: &'static str, id: impl fmt::Display) -> Self {
        Self::NotFound {
            kind,
            id: id.to_string(),
        }
    }

    /// A conflict outcome.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
}

/// The boxed source of an infrastructure failure.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What a storage adapter reports.
///
/// Not `#[non_exhaustive]`, for the same reason as [`LedgerError`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A retryable conflict: serialization failure, deadlock, a busy database. Nothing of the
    /// unit of work was applied; the caller may run it again.
    #[error("storage conflict, retry: {0}")]
    Conflict(String),
    /// A uniqueness constraint refused an insert.
    #[error("duplicate {0}")]
    Duplicate(String),
    /// The database is unreachable or failed.
    #[error("storage unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// Stored data could not be decoded into domain values.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// What a payment-provider adapter reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// The provider declined the instrument or the charge.
    #[error("payment declined: {code}")]
    Declined {
        /// The provider's decline code.
        code: String,
    },
    /// The buyer has not approved the order yet.
    #[error("payment not approved by the buyer")]
    NotApproved,
    /// The provider did not answer in time; the outcome is unknown.
    #[error("payment provider timed out")]
    Timeout,
    /// The provider is unreachable or answered 5xx.
    #[error("payment provider unavailable: {0}")]
    Unavailable(#[source] BoxError),
    /// The provider answered something this adapter does not understand, or refused the request.
    #[error("payment provider protocol error: {0}")]
    Protocol(String),
    /// A webhook's signature did not verify.
    #[error("webhook signature is not valid")]
    BadSignature,
    /// The saved payment method is dead at the provider (deleted, revoked, expired card); stop
    /// charging it and ask the owner to save a new one.
    #[error("saved payment method is no longer usable: {code}")]
    SavedMethodRevoked {
        /// The provider's code.
        code: String,
    },
    /// A merchant-initiated charge needs the buyer present (authentication, another funding
    /// source); never retried automatically.
    #[error("payment needs the customer: {code}")]
    NeedsCustomer {
        /// The provider's code.
        code: String,
    },
    /// The provider does not support the operation.
    #[error("payment provider {0} does not support this operation")]
    Unsupported(String),
}
