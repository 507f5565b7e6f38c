//! Our own extractors: their rejections are 400s in our envelope. Plus the input types every
//! route shares: amounts (JSON number or decimal string, parsed exactly) and pages.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use ledger_core::money::Credits;
use ledger_core::ports::PageRequest;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};

use super::error::ApiError;

/// A JSON body. Malformed JSON, wrong types, unknown fields and unknown enum values are 400
/// `invalid_request`; a body past the limit is 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

/// Parses a JSON body into `T`, with our 400 on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("the request needs a JSON body"));
    }
    serde_json::from_slice(bytes).map_err(|error| {
        let message = error.to_string();
        // serde's messages name the unknown field or variant and the position.
        ApiError::bad_request(format!("invalid JSON body: {message}"))
    })
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is larger than the limit",
        )
    } else {
        ApiError::bad_request(format!("could not read the request body: {rejection}"))
    }
}

/// Path parameters, with our 400 on failure.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection: PathRejection| {
                ApiError::bad_request(format!("invalid path: {rejection}"))
            })
    }
}

/// Query parameters, with our 400 on failure.
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Query(value))
            .map_err(|rejection: QueryRejection| {
                ApiError::bad_request(format!("invalid query: {}", rejection.body_text()))
            })
    }
}

/// An amount as given: a JSON number or a decimal string, read exactly from its text (never
/// through a float).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount(pub Decimal);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // With serde_json's `arbitrary_precision`, a number keeps its text, so `to_string`
        // gives back exactly what the client sent.
        let value = serde_json::Value::deserialize(deserializer)?;
        let text = match &value {
            serde_json::Value::String(text) => text.trim().to_owned(),
            serde_json::Value::Number(number) => number.to_string(),
            other => {
                return Err(serde::de::Error::custom(format!(
                    "an amount is a JSON number or a decimal string, not {other}"
                )));
            }
        };
        parse_decimal(&text)
            .map(Amount)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not a decimal amount")))
    }
}

/// Parses a decimal exactly: plain (`12.5`) or scientific (`1.25e1`).
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let plain = text
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
    if plain {
        Decimal::from_str_exact(text).ok()
    } else if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        None
    }
}

impl Amount {
    /// Checks a credit amount that must be above zero.
    pub fn positive_credits(self, field: &str) -> Result<Credits, ApiError> {
        Credits::try_positive(self.0).map_err(|error| ApiError::invalid(field, error.to_string()))
    }

    /// Checks a credit amount that may be zero.
    pub fn credits(self, field: &str) -> Result<Credits, ApiError> {
        Credits::try_new(self.0).map_err(|error| ApiError::invalid(field, error.to_string()))
    }
}

/// An optional credit amount, zero when absent.
pub fn credits_or_zero(amount: Option<Amount>, field: &str) -> Result<Credits, ApiError> {
    amount.map_or(Ok(Credits::ZERO), |amount| amount.credits(field))
}

/// `page` and `per_page` as `api.md` says: both from 1, `per_page` default 20, clamped to 100.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct PageParams {
    /// The page, from 1.
    pub page: Option<i64>,
    /// Items per page.
    pub per_page: Option<i64>,
}

/// The most items one page holds.
pub const PER_PAGE_MAX: u32 = 100;

impl PageParams {
    /// Checks and clamps.
    pub fn to_request(self) -> Result<PageRequest, ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if page < 1 {
            return Err(ApiError::invalid("page", "page must be 1 or more"));
        }
        if per_page < 1 {
            return Err(ApiError::invalid("per_page", "per_page must be 1 or more"));
        }
        Ok(PageRequest {
            page: u32::try_from(page).unwrap_or(u32::MAX / (PER_PAGE_MAX + 1)),
            per_page: u32::try_from(per_page.min(i64::from(PER_PAGE_MAX))).unwrap_or(PER_PAGE_MAX),
        })
    }
}

/// Which end of a date range a bare date stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeEnd {
    /// The first instant of the day.
    Start,
    /// The last instant of the day.
    End,
}

/// Parses `from_date` / `to_date`: an RFC 3339 timestamp, or a date (`YYYY-MM-DD`) standing
/// for the whole UTC day (both ends inclusive).
pub fn parse_date_bound(
    field: &str,
    text: &str,
    end: RangeEnd,
) -> Result<OffsetDateTime, ApiError> {
    if let Ok(instant) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(instant);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = Date::parse(text, &format).map_err(|_| {
        ApiError::invalid(
            field,
            format!("{field} `{text}` is neither an RFC 3339 timestamp nor a YYYY-MM-DD date"),
        )
    })?;
    let time = match end {
        RangeEnd::Start => Time::MIDNIGHT,
        RangeEnd::End => Time::from_hms_nano(23, 59, 59, 999_999_999).unwrap_or(Time::MIDNIGHT),
    };
    Ok(date.with_time(time).assume_utc())
}

/// Parses an RFC 3339 timestamp field of a body.
pub fn parse_timestamp(field: &str, text: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        ApiError::invalid(
            field,
            format!("{field} `{text}` is not an RFC 3339 timestamp"),
        )
    })
}

/// Parses a typed id given in a body or a query: a wrong prefix is a 400.
pub fn parse_id<T: FromStr>(field: &str, text: &str) -> Result<T, ApiError> {
    text.parse()
        .map_err(|_| ApiError::invalid(field, format!("`{text}` is not a valid {field}")))
}

/// Parses a typed id given in a path: a wrong prefix is simply not found.
pub fn path_id<T: FromStr>(kind: &str, text: &str) -> Result<T, ApiError> {
    text.parse().map_err(|_| ApiError::not_found(kind, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Body {
        amount: Amount,
    }

    #[test]
    fn amounts_keep_every_digit_of_numbers_and_strings() {
        let from_number: Body = serde_json::from_str(r#"{"amount": 0.1000000001}"#).unwrap();
        let from_string: Body = serde_json::from_str(r#"{"amount": "12.345"}"#).unwrap();
        let scientific: Body = serde_json::from_str(r#"{"amount": 1.5e2}"#).unwrap();

        assert_eq!(from_number.amount.0.to_string(), "0.1000000001");
        assert_eq!(from_string.amount.0.to_string(), "12.345");
        assert_eq!(scientific.amount.0, Decimal::from(150));
    }

    #[test]
    fn amounts_refuse_other_json() {
        assert!(serde_json::from_str::<Body>(r#"{"amount": "abc"}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"amount": true}"#).is_err());
        assert!(serde_json::from_str::<Body>(r#"{"amount": "1.2.3"}"#).is_err());
    }

    #[test]
    fn pages_clamp_per_page_and_refuse_zero() {
        let clamped = PageParams {
            page: Some(2),
            per_page: Some(500),
        }
        .to_request()
        .unwrap();
        assert_eq!((clamped.page, clamped.per_page), (2, 100));
        assert!(
            PageParams {
                page: Some(0),
                per_page: None
            }
            .to_request()
            .is_err()
        );
        assert!(
            PageParams {
                page: None,
                per_page: Some(0)
            }
            .to_request()
            .is_err()
        );
    }

    #[test]
    fn a_bare_date_covers_the_whole_utc_day() {
        let start = parse_date_bound("from_date", "2026-03-01", RangeEnd::Start).unwrap();
        let end = parse_date_bound("to_date", "2026-03-01", RangeEnd::End).unwrap();
        assert_eq!(start, time::macros::datetime!(2026-03-01 00:00 UTC));
        assert!(end > time::macros::datetime!(2026-03-01 23:59:59 UTC));
    }
}
