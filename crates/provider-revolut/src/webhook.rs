//! Revolut webhook signatures (providers.md 2.10): `v1=` HMAC-SHA256 hex over
//! `v1.{timestamp}.{raw body}`, several signatures during secret rotation, a timestamp
//! tolerance. "Now" is passed in; this module never reads the wall clock.

use std::time::Duration;

use ledger_core::ProviderError;
use ledger_core::ports::WebhookRequest;
use ring::hmac;
use time::OffsetDateTime;

use crate::Secret;
use crate::wire::api;

fn header<'a>(request: &'a WebhookRequest, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// `v1=` + hex HMAC-SHA256 of `v1.{timestamp}.{body}` under `secret` (the whole secret string,
/// `wsk_` prefix included).
pub fn signature(secret: &str, timestamp_ms: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(b"v1.");
    context.update(timestamp_ms.as_bytes());
    context.update(b".");
    context.update(body);
    format!("v1={}", hex::encode(context.sign().as_ref()))
}

/// Checks a delivery against every secret we hold: any `v1=` entry of `Revolut-Signature` that
/// matches any secret passes, and the timestamp must be within `tolerance` of `now`.
///
/// # Errors
/// `ProviderError::BadSignature` for a missing or malformed header, a stale or future
/// timestamp, or no matching signature.
pub fn verify(
    request: &WebhookRequest,
    secrets: &[Secret],
    tolerance: Duration,
    now: OffsetDateTime,
) -> Result<(), ProviderError> {
    let timestamp = header(request, api::REQUEST_TIMESTAMP).ok_or(ProviderError::BadSignature)?;
    let signatures = header(request, api::SIGNATURE).ok_or(ProviderError::BadSignature)?;
    let timestamp_ms: i128 = timestamp
        .trim()
        .parse()
        .map_err(|_| ProviderError::BadSignature)?;
    let now_ms = now.unix_timestamp_nanos() / 1_000_000;
    if (now_ms - timestamp_ms).unsigned_abs() > tolerance.as_millis() {
        tracing::warn!("revolut webhook timestamp is outside the tolerance");
        return Err(ProviderError::BadSignature);
    }
    let given: Vec<&[u8]> = signatures
        .split(',')
        .map(str::trim)
        .filter(|entry| entry.starts_with("v1="))
        .map(str::as_bytes)
        .collect();
    let matches = secrets.iter().any(|secret| {
        let expected = signature(secret.expose(), timestamp.trim(), &request.body);
        // Compare every entry in constant time (ring's verify works on raw tags, so decode).
        given
            .iter()
            .any(|entry| constant_time_eq(entry, expected.as_bytes()))
    });
    if matches {
        Ok(())
    } else {
        Err(ProviderError::BadSignature)
    }
}

/// Equal length and equal bytes, without an early exit on the first difference.
fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    if left.len() != right.len() {
        return false;
    }
    left.iter()
        .zip(right)
        .fold(0_u8, |difference, (l, r)| difference | (l ^ r))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wsk_TESTSECRET0000000000000000000000";
    const BODY: &str = r#"{"event":"ORDER_COMPLETED","order_id":"6634c172-3398-ac93-aee9-50de0282e3ac","merchant_order_ext_ref":"topup-42"}"#;
    const EXPECTED: &str = "v1=e7cded3e3f143e1d1457ae5a4445d01f088835af79ba40f6ab7e8d4d120fb1f5";

    fn at_ms(ms: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).unwrap()
    }

    fn delivery(signature: &str) -> WebhookRequest {
        WebhookRequest {
            headers: vec![
                ("revolut-request-timestamp".into(), "1683650202360".into()),
                ("revolut-signature".into(), signature.into()),
            ],
            body: BODY.as_bytes().to_vec(),
        }
    }

    #[test]
    fn signature_matches_the_providers_md_vector() {
        assert_eq!(
            signature(SECRET, "1683650202360", BODY.as_bytes()),
            EXPECTED
        );
    }

    #[test]
    fn verify_accepts_any_matching_entry_and_any_held_secret() {
        let now = at_ms(1_683_650_202_360 + 1_000);
        let tolerance = Duration::from_secs(300);
        let secrets = [Secret::new("wsk_other"), Secret::new(SECRET)];
        assert!(verify(&delivery(EXPECTED), &secrets, tolerance, now).is_ok());
        let rotated = format!("v1=00,{EXPECTED}");
        assert!(verify(&delivery(&rotated), &secrets[1..], tolerance, now).is_ok());
        assert!(verify(&delivery("v1=00"), &secrets, tolerance, now).is_err());
        assert!(verify(&delivery(EXPECTED), &secrets[..1], tolerance, now).is_err());
    }

    #[test]
    fn verify_refuses_stale_and_future_timestamps() {
        let secrets = [Secret::new(SECRET)];
        let tolerance = Duration::from_secs(300);
        let late = at_ms(1_683_650_202_360 + 300_001);
        let early = at_ms(1_683_650_202_360 - 300_001);
        assert!(verify(&delivery(EXPECTED), &secrets, tolerance, late).is_err());
        assert!(verify(&delivery(EXPECTED), &secrets, tolerance, early).is_err());
    }

    #[test]
    fn constant_time_eq_compares_whole_slices() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
