//! Turning PayPal's HTTP answers and transport failures into `ProviderError` at the seam.

use ledger_core::ProviderError;

use crate::wire::{ErrorBody, OAuthErrorBody};

/// The adapter could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL is not an http(s) URL.
    #[error("paypal base url `{0}` is not an http(s) url")]
    BaseUrl(String),
    /// The HTTP client could not be built.
    #[error("paypal http client: {0}")]
    HttpClient(String),
}

/// A failed PayPal call, kept as the source of `ProviderError::Unavailable`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PaypalError {
    /// The request did not reach PayPal or no answer came back (not a timeout).
    #[error("transport failure: {0}")]
    Transport(String),
    /// PayPal answered with an error status.
    #[error("http {status} {name} ({issue}), debug id {debug_id}")]
    Api {
        status: u16,
        name: String,
        issue: String,
        debug_id: String,
    },
}

/// An error answer from PayPal, parsed enough to branch on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) name: String,
    /// `details[0].issue`, or the OAuth `error`, or empty.
    pub(crate) issue: String,
    pub(crate) debug_id: String,
}

impl ApiError {
    pub(crate) fn parse(status: u16, body: &[u8], debug_header: Option<String>) -> Self {
        if let Ok(error) = serde_json::from_slice::<ErrorBody>(body)
            && (error.name.is_some() || !error.details.is_empty())
        {
            {
                return Self {
                    status,
                    name: error.name.unwrap_or_default(),
                    issue: error
                        .details
                        .into_iter()
                        .next()
                        .map(|detail| detail.issue)
                        .unwrap_or_default(),
                    debug_id: error.debug_id.or(debug_header).unwrap_or_default(),
                };
            }
        }
        if let Ok(error) = serde_json::from_slice::<OAuthErrorBody>(body) {
            return Self {
                status,
                name: error.error.clone(),
                issue: error.error,
                debug_id: debug_header.unwrap_or_default(),
            };
        }
        Self {
            status,
            name: String::new(),
            issue: String::new(),
            debug_id: debug_header.unwrap_or_default(),
        }
    }

    /// The code to report: the issue, else the name, else the status.
    pub(crate) fn code(&self) -> String {
        if !self.issue.is_empty() {
            self.issue.clone()
        } else if !self.name.is_empty() {
            self.name.clone()
        } else {
            format!("HTTP_{}", self.status)
        }
    }

    /// The generic mapping: 5xx is `Unavailable` (unknown outcome), the rest `Protocol`.
    pub(crate) fn into_provider_error(self) -> ProviderError {
        if self.status >= 500 {
            ProviderError::Unavailable(Box::new(PaypalError::Api {
                status: self.status,
                name: self.name,
                issue: self.issue,
                debug_id: self.debug_id,
            }))
        } else {
            ProviderError::Protocol(format!(
                "paypal answered {} {} (debug id {})",
                self.status,
                self.code(),
                self.debug_id
            ))
        }
    }
}

/// Maps a reqwest failure: timeouts are `Timeout`, everything else `Unavailable`.
pub(crate) fn transport(error: reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unavailable(Box::new(PaypalError::Transport(
            error.without_url().to_string(),
        )))
    }
}

/// A body PayPal sent that does not parse.
pub(crate) fn unexpected_body(what: &str, error: &serde_json::Error) -> ProviderError {
    ProviderError::Protocol(format!("paypal {what} body does not parse: {error}"))
}

/// Merchant-initiated charge errors, classified as providers.md 6.5 suggests.
pub(crate) fn classify_merchant_initiated(error: ApiError) -> ProviderError {
    let code = error.code();
    match code.as_str() {
        "AGREEMENT_ALREADY_CANCELLED"
        | "BILLING_AGREEMENT_NOT_FOUND"
        | "TOKEN_ID_NOT_FOUND"
        | "MISMATCHED_VAULT_ID_TO_PAYMENT_SOURCE"
        | "PAYMENT_SOURCE_CANNOT_BE_USED"
        | "INVALID_VAULT_ID"
        | "INVALID_RESOURCE_ID" => ProviderError::SavedMethodRevoked { code },
        "PAYER_ACTION_REQUIRED" | "REDIRECT_PAYER_FOR_ALTERNATE_FUNDING" => {
            ProviderError::NeedsCustomer { code }
        }
        "INSTRUMENT_DECLINED"
        | "PAYMENT_SOURCE_DECLINED_BY_PROCESSOR"
        | "TRANSACTION_REFUSED"
        | "PAYMENT_DENIED"
        | "PAYER_ACCOUNT_RESTRICTED"
        | "PAYER_ACCOUNT_LOCKED_OR_CLOSED"
        | "PAYER_CANNOT_PAY"
        | "TRANSACTION_LIMIT_EXCEEDED"
        | "TRANSACTION_RECEIVING_LIMIT_EXCEEDED"
        | "MAX_NUMBER_OF_PAYMENT_ATTEMPTS_EXCEEDED" => ProviderError::Declined { code },
        _ => error.into_provider_error(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_the_first_issue_of_an_orders_error() {
        let body = br#"{"name":"UNPROCESSABLE_ENTITY","message":"x","debug_id":"abc","details":[{"issue":"ORDER_ALREADY_CAPTURED"}]}"#;
        let error = ApiError::parse(422, body, None);
        assert_eq!(error.issue, "ORDER_ALREADY_CAPTURED");
        assert_eq!(error.debug_id, "abc");
    }

    #[test]
    fn parse_reads_the_oauth_error_shape() {
        let body =
            br#"{"error":"invalid_client","error_description":"Client Authentication failed"}"#;
        let error = ApiError::parse(401, body, Some("dbg".into()));
        assert_eq!(error.code(), "invalid_client");
        assert_eq!(error.debug_id, "dbg");
    }

    #[test]
    fn server_errors_are_unavailable_and_client_errors_protocol() {
        let error = ApiError::parse(503, b"", None).into_provider_error();
        assert!(matches!(error, ProviderError::Unavailable(_)));
        let error = ApiError::parse(400, b"{}", None).into_provider_error();
        assert!(matches!(error, ProviderError::Protocol(_)));
    }

    #[test]
    fn merchant_initiated_errors_are_classified() {
        let error = |issue: &str| ApiError {
            status: 422,
            name: "UNPROCESSABLE_ENTITY".into(),
            issue: issue.into(),
            debug_id: String::new(),
        };
        assert!(matches!(
            classify_merchant_initiated(error("TOKEN_ID_NOT_FOUND")),
            ProviderError::SavedMethodRevoked { .. }
        ));
        assert!(matches!(
            classify_merchant_initiated(error("PAYER_ACTION_REQUIRED")),
            ProviderError::NeedsCustomer { .. }
        ));
        assert!(matches!(
            classify_merchant_initiated(error("INSTRUMENT_DECLINED")),
            ProviderError::Declined { .. }
        ));
        assert!(matches!(
            classify_merchant_initiated(error("COMPLIANCE_VIOLATION")),
            ProviderError::Protocol(_)
        ));
    }
}
