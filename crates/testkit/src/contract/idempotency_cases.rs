//! Contract cases of the idempotency-key port.

use ledger_core::ports::{IdempotencyClaim, StoredResponse};
use time::Duration;

use super::Harness;

fn response(status: u16, body: &str) -> StoredResponse {
    StoredResponse {
        status,
        body: body.to_owned(),
    }
}

/// How old an unfinished claim must be before another request takes it over.
const STALE: Duration = Duration::minutes(5);

/// A new key is claimed; while it runs, others see it in flight with its fingerprint.
pub async fn a_new_key_is_claimed_then_seen_in_flight(h: &Harness) {
    let keys = &h.store.idempotency;
    let now = h.now();

    let first = keys
        .claim("org_acme", "k1", "fp-a", now, now - STALE)
        .await
        .expect("claim");
    let second = keys
        .claim(
            "org_acme",
            "k1",
            "fp-b",
            now + Duration::seconds(1),
            now - STALE,
        )
        .await
        .expect("claim");

    assert_eq!(first, IdempotencyClaim::Claimed);
    assert_eq!(
        second,
        IdempotencyClaim::InFlight {
            fingerprint: "fp-a".to_owned()
        }
    );
}

/// A completed key answers the first request's fingerprint and response.
pub async fn a_completed_key_answers_its_fingerprint_and_response(h: &Harness) {
    let keys = &h.store.idempotency;
    let now = h.now();
    keys.claim("org_acme", "k1", "fp-a", now, now - STALE)
        .await
        .expect("claim");
    let body = r#"{"id":"res_1","amount":"1.50","note":"ünïcode"}"#;

    keys.complete("org_acme", "k1", &response(201, body))
        .await
        .expect("complete");
    let later = now + Duration::hours(2);
    let again = keys
        .claim("org_acme", "k1", "fp-b", later, later - STALE)
        .await
        .expect("claim");

    assert_eq!(
        again,
        IdempotencyClaim::Completed {
            fingerprint: "fp-a".to_owned(),
            response: response(201, body),
        }
    );
}

/// The same key in two scopes is two keys.
pub async fn keys_are_scoped(h: &Harness) {
    let keys = &h.store.idempotency;
    let now = h.now();

    let acme = keys
        .claim("org_acme", "k1", "fp", now, now - STALE)
        .await
        .expect("claim");
    let other = keys
        .claim("org_other", "k1", "fp", now, now - STALE)
        .await
        .expect("claim");
    let platform = keys
        .claim("platform", "k1", "fp", now, now - STALE)
        .await
        .expect("claim");

    assert_eq!(
        (acme, other, platform),
        (
            IdempotencyClaim::Claimed,
            IdempotencyClaim::Claimed,
            IdempotencyClaim::Claimed
        )
    );
}

/// Abandoning a claim lets the next request run.
pub async fn an_abandoned_key_can_be_claimed_again(h: &Harness) {
    let keys = &h.store.idempotency;
    let now = h.now();
    keys.claim("org_acme", "k1", "fp-a", now, now - STALE)
        .await
        .expect("claim");

    keys.abandon("org_acme", "k1").await.expect("abandon");
    keys.abandon("org_acme", "never-claimed")
        .await
        .expect("abandon unknown");
    let again = keys
        .claim("org_acme", "k1", "fp-b", now, now - STALE)
        .await
        .expect("claim");
    let after = keys
        .claim("org_acme", "k1", "fp-c", now, now - STALE)
        .await
        .expect("claim");

    assert_eq!(again, IdempotencyClaim::Claimed);
    assert_eq!(
        after,
        IdempotencyClaim::InFlight {
            fingerprint: "fp-b".to_owned()
        }
    );
}

/// A claim whose process died is taken over once stale; a completed key never is.
pub async fn a_stale_claim_is_taken_over_but_a_completed_key_is_not(h: &Harness) {
    let keys = &h.store.idempotency;
    let start = h.now();
    keys.claim("org_acme", "dead", "fp-a", start, start - STALE)
        .await
        .expect("claim");
    keys.claim("org_acme", "done", "fp-a", start, start - STALE)
        .await
        .expect("claim");
    keys.complete("org_acme", "done", &response(200, "{}"))
        .await
        .expect("complete");
    let later = start + Duration::minutes(10);

    let taken_over = keys
        .claim("org_acme", "dead", "fp-b", later, later - STALE)
        .await
        .expect("claim");
    let fresh = keys
        .claim("org_acme", "dead", "fp-c", later, later - STALE)
        .await
        .expect("claim");
    let done = keys
        .claim("org_acme", "done", "fp-b", later, later - STALE)
        .await
        .expect("claim");

    assert_eq!(taken_over, IdempotencyClaim::Claimed);
    assert_eq!(
        fresh,
        IdempotencyClaim::InFlight {
            fingerprint: "fp-b".to_owned()
        },
        "the takeover restarted the claim's clock"
    );
    assert!(
        matches!(done, IdempotencyClaim::Completed { .. }),
        "{done:?}"
    );
}

/// Purge deletes keys created before the instant (the app keeps them at least 24 hours).
pub async fn purge_deletes_only_keys_created_before_the_instant(h: &Harness) {
    let keys = &h.store.idempotency;
    let now = h.now();
    let old = now - Duration::hours(25);
    let recent = now - Duration::hours(23);
    keys.claim("org_acme", "old", "fp", old, old - STALE)
        .await
        .expect("claim");
    keys.complete("org_acme", "old", &response(201, "{}"))
        .await
        .expect("complete");
    keys.claim("org_acme", "old-open", "fp", old, old - STALE)
        .await
        .expect("claim");
    keys.claim("org_acme", "recent", "fp", recent, recent - STALE)
        .await
        .expect("claim");
    keys.complete("org_acme", "recent", &response(201, "{}"))
        .await
        .expect("complete");
    let cutoff = now - Duration::hours(24);

    let purged = keys.purge(cutoff).await.expect("purge");
    let purged_again = keys.purge(cutoff).await.expect("purge");

    assert_eq!((purged, purged_again), (2, 0));
    let recent_claim = keys
        .claim("org_acme", "recent", "fp", now, now - STALE)
        .await
        .expect("claim");
    assert!(
        matches!(recent_claim, IdempotencyClaim::Completed { .. }),
        "{recent_claim:?}"
    );
    let old_claim = keys
        .claim("org_acme", "old", "fp", now, now - STALE)
        .await
        .expect("claim");
    assert_eq!(old_claim, IdempotencyClaim::Claimed);
}

/// Completing a key nobody claimed stores nothing.
pub async fn completing_an_unknown_key_changes_nothing(h: &Harness) {
    let keys = &h.store.idempotency;
    let now = h.now();

    keys.complete("org_acme", "ghost", &response(200, "{}"))
        .await
        .expect("complete");
    let claim = keys
        .claim("org_acme", "ghost", "fp", now, now - STALE)
        .await
        .expect("claim");

    assert_eq!(claim, IdempotencyClaim::Claimed);
}

/// Concurrent requests with one key: exactly one runs.
pub async fn concurrent_claims_of_one_key_claim_it_once(h: &Harness) {
    let now = h.now();
    let claims = (0..16).map(|index| {
        let keys = h.store.idempotency.clone();
        tokio::spawn(async move {
            keys.claim("org_acme", "race", &format!("fp-{index}"), now, now - STALE)
                .await
                .expect("claim")
        })
    });
    let mut outcomes = Vec::new();
    for claim in claims.collect::<Vec<_>>() {
        outcomes.push(claim.await.expect("task"));
    }

    let claimed = outcomes
        .iter()
        .filter(|outcome| **outcome == IdempotencyClaim::Claimed)
        .count();
    assert_eq!(claimed, 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|outcome| matches!(
        outcome,
        IdempotencyClaim::Claimed | IdempotencyClaim::InFlight { .. }
    )));
}
