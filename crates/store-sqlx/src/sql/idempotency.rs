//! [`IdempotencyStore`]: keys scoped per organization, with the request's fingerprint and the
//! stored response. Engine-neutral: compiled once per engine.
//!
//! A claim is three single-statement steps, each atomic on its own, so no transaction (and no
//! SQLite write lock held across round trips) is needed: insert if absent; else take over a
//! stale claim that never completed; else read what is there. A key that vanishes between the
//! steps (abandoned or purged) is claimed again, a bounded number of times.

use async_trait::async_trait;
use ledger_core::error::StoreError;
use ledger_core::ports::{IdempotencyClaim, IdempotencyStore, StoredResponse};
use time::OffsetDateTime;

use super::Store;
use crate::codec::instant_to_micros;
use crate::error::fail;

/// How many times a claim restarts when its key disappears between steps.
const CLAIM_ATTEMPTS_MAX: u32 = 8;

#[async_trait]
impl IdempotencyStore for Store {
    async fn claim(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: OffsetDateTime,
        stale_before: OffsetDateTime,
    ) -> Result<IdempotencyClaim, StoreError> {
        for _ in 0..CLAIM_ATTEMPTS_MAX {
            let inserted = sqlx::query(
                r#"
                INSERT INTO idempotency_key (scope, request_key, fingerprint, created_at)
                VALUES ($1, $2, $3, $4)
                ON CONFLICT (scope, request_key) DO NOTHING
                "#,
            )
            .bind(scope)
            .bind(key)
            .bind(fingerprint)
            .bind(instant_to_micros(now))
            .execute(&self.pool)
            .await
            .map_err(fail("claim idempotency key"))?;
            if inserted.rows_affected() == 1 {
                return Ok(IdempotencyClaim::Claimed);
            }
            let taken_over = sqlx::query(
                r#"
                UPDATE idempotency_key
                SET fingerprint = $3, created_at = $4
                WHERE scope = $1 AND request_key = $2
                  AND response_status IS NULL AND created_at <= $5
                "#,
            )
            .bind(scope)
            .bind(key)
            .bind(fingerprint)
            .bind(instant_to_micros(now))
            .bind(instant_to_micros(stale_before))
            .execute(&self.pool)
            .await
            .map_err(fail("take over a stale idempotency key"))?;
            if taken_over.rows_affected() == 1 {
                return Ok(IdempotencyClaim::Claimed);
            }
            let existing: Option<(String, Option<i32>, Option<String>)> = sqlx::query_as(
                r#"
                SELECT fingerprint, response_status, response_body
                FROM idempotency_key
                WHERE scope = $1 AND request_key = $2
                "#,
            )
            .bind(scope)
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(fail("read idempotency key"))?;
            match existing {
                Some((fingerprint, Some(status), body)) => {
                    let status = u16::try_from(status).map_err(|_| {
                        StoreError::Corrupt(format!("idempotency key response status {status}"))
                    })?;
                    return Ok(IdempotencyClaim::Completed {
                        fingerprint,
                        response: StoredResponse {
                            status,
                            body: body.unwrap_or_default(),
                        },
                    });
                }
                Some((fingerprint, None, _)) => {
                    return Ok(IdempotencyClaim::InFlight { fingerprint });
                }
                None => {}
            }
        }
        Err(StoreError::Conflict(format!(
            "idempotency key `{key}` kept changing while being claimed"
        )))
    }

    async fn complete(
        &self,
        scope: &str,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        sqlx::query(
            r#"
            UPDATE idempotency_key
            SET response_status = $3, response_body = $4
            WHERE scope = $1 AND request_key = $2
            "#,
        )
        .bind(scope)
        .bind(key)
        .bind(i32::from(response.status))
        .bind(response.body.as_str())
        .execute(&self.pool)
        .await
        .map_err(fail("complete idempotency key"))?;
        Ok(())
    }

    async fn abandon(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_key WHERE scope = $1 AND request_key = $2")
            .bind(scope)
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(fail("abandon idempotency key"))?;
        Ok(())
    }

    async fn purge(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let result = sqlx::query("DELETE FROM idempotency_key WHERE created_at < $1")
            .bind(instant_to_micros(before))
            .execute(&self.pool)
            .await
            .map_err(fail("purge idempotency keys"))?;
        Ok(result.rows_affected())
    }
}
