//! Turning Revolut's HTTP answers and transport failures into `ProviderError` at the seam.

use ledger_core::ProviderError;

use crate::wire::ErrorBody;

/// The adapter could not be built from its configuration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL is not an http(s) URL.
    #[error("revolut base url `{0}` is not an http(s) url")]
    BaseUrl(String),
    /// No webhook signing secret was given.
    #[error("revolut needs at least one webhook signing secret")]
    NoSigningSecret,
    /// The HTTP client could not be built.
    #[error("revolut http client: {0}")]
    HttpClient(String),
}

/// A failed Revolut call, kept as the source of `ProviderError::Unavailable`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RevolutError {
    #[error("transport failure: {0}")]
    Transport(String),
    #[error("http {status} {code}")]
    Api { status: u16, code: String },
}

/// An error answer, parsed enough to branch on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    /// `code` as text (Revolut sends strings or numbers), or empty.
    pub(crate) code: String,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn parse(status: u16, body: &[u8]) -> Self {
        let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
        let code = parsed
            .as_ref()
            .and_then(|error| error.code.as_ref())
            .map(|code| match code {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default();
        Self {
            status,
            code,
            message: parsed.and_then(|error| error.message).unwrap_or_default(),
        }
    }

    pub(crate) fn into_provider_error(self) -> ProviderError {
        if self.status >= 500 {
            ProviderError::Unavailable(Box::new(RevolutError::Api {
                status: self.status,
                code: self.code,
            }))
        } else {
            ProviderError::Protocol(format!(
                "revolut answered {} {} {}",
                self.status, self.code, self.message
            ))
        }
    }
}

pub(crate) fn transport(error: reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        ProviderError::Timeout
    } else {
        ProviderError::Unavailable(Box::new(RevolutError::Transport(
            error.without_url().to_string(),
        )))
    }
}

pub(crate) fn unexpected_body(what: &str, error: &serde_json::Error) -> ProviderError {
    ProviderError::Protocol(format!("revolut {what} body does not parse: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_may_be_strings_or_numbers() {
        let text = ApiError::parse(
            404,
            br#"{"code":"not_found","message":"gone","timestamp":1}"#,
        );
        assert_eq!(text.code, "not_found");
        let number = ApiError::parse(404, br#"{"errorId":"x","code":1024,"timestamp":1}"#);
        assert_eq!(number.code, "1024");
        assert!(matches!(
            ApiError::parse(502, b"").into_provider_error(),
            ProviderError::Unavailable(_)
        ));
    }
}
