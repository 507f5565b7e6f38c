//! Contract cases of payment storage: sessions through the unit of work (insert, lock,
//! update, rollback, duplicates), provider events, the lookup by provider order, saved payment
//! methods and settings documents. Lists and due work are in `payment_list_cases`.
//!
//! No case reads through the payment port while a unit of work is open: the memory store's
//! unit holds the store-wide lock until it ends.

use std::sync::Arc;

use ledger_core::error::StoreError;
use ledger_core::id::{OrgId, PaymentMethodId, PaymentSessionId, TransactionId, UserId};
use ledger_core::money::{Credits, Currency};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::{PaymentStore, SavedPaymentMethod};
use ledger_core::wallet::Owner;
use rust_decimal::Decimal;
use time::{Duration, OffsetDateTime};

use super::Harness;
use super::fixtures::credits_str;

pub(super) fn payments(h: &Harness) -> &Arc<dyn PaymentStore> {
    h.store.payments()
}

/// An exact money amount.
fn money(text: &str) -> Decimal {
    Decimal::from_str_exact(text).expect("a decimal")
}

/// A fresh `created` session of the fixture user: every optional field empty.
pub(super) fn raw_session(h: &Harness) -> PaymentSession {
    let now = h.now();
    PaymentSession {
        id: PaymentSessionId::from_suffix(&h.suffix()),
        org_id: h.org.clone(),
        user_id: Some(h.user.clone()),
        provider: "paypal".to_owned(),
        surface: "console".to_owned(),
        target_owner: h.user_owner(),
        wallet_id: ledger_core::id::WalletId::from_suffix(&h.suffix()),
        amount: money("25"),
        currency: h.usd,
        status: PaymentStatus::Created,
        checkout_state: format!("state_{}", h.suffix()),
        provider_order_id: None,
        provider_capture_id: None,
        approval_url: None,
        return_url: None,
        cancel_url: None,
        save_payment_method: false,
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
        expires_at: now + Duration::minutes(30),
    }
}

/// A session with every field set, to values a careless mapping would lose: sub-unit
/// decimals, a team owner, microsecond instants, text needing escapes.
fn full_session(h: &Harness) -> PaymentSession {
    let created_at = h.now() + Duration::microseconds(123_457);
    PaymentSession {
        user_id: Some(UserId::parse("user_grace").expect("id")),
        provider: "revolut".to_owned(),
        surface: "auto_topup".to_owned(),
        target_owner: Owner::Team(h.team.clone()),
        amount: money("1234.567"),
        currency: Currency::parse("EUR").expect("currency"),
        status: PaymentStatus::Captured,
        provider_order_id: Some("ORDER-9X".to_owned()),
        provider_capture_id: Some("CAP-1".to_owned()),
        approval_url: Some("https://pay.example/approve?token=a&b=c".to_owned()),
        return_url: Some("https://app.example/return".to_owned()),
        cancel_url: Some("https://app.example/cancel".to_owned()),
        save_payment_method: true,
        payment_method_id: Some(PaymentMethodId::from_suffix(&h.suffix())),
        credited_amount: Some(credits_str("1234.567")),
        wallet_balance_after: Some(credits_str("2000.000001")),
        wallet_transaction_id: Some(TransactionId::from_suffix(&h.suffix())),
        refunded_amount: money("0.5"),
        refunded_credits: credits_str("0.5"),
        applied_refund_ids: vec!["REF-1".to_owned(), "REV-\"2\"".to_owned()],
        provider_refund_id: Some("REF-1".to_owned()),
        error_code: Some("INSTRUMENT_DECLINED".to_owned()),
        error_message: Some("the card's issuer said «no»; try again".to_owned()),
        created_at,
        updated_at: created_at + Duration::microseconds(1),
        expires_at: created_at + Duration::hours(1),
        ..raw_session(h)
    }
}

/// Inserts and commits sessions, one unit each.
pub(super) async fn insert_sessions(h: &Harness, sessions: &[&PaymentSession]) {
    for session in sessions {
        let mut uow = h.store.ledger.begin().await.expect("begin");
        uow.insert_payment_session(session)
            .await
            .expect("insert payment session");
        uow.commit().await.expect("commit");
    }
}

async fn stored_session(h: &Harness, id: &PaymentSessionId) -> Option<PaymentSession> {
    payments(h).payment_session(id).await.expect("read session")
}

pub(super) fn session_ids(sessions: &[PaymentSession]) -> Vec<PaymentSessionId> {
    sessions.iter().map(|session| session.id.clone()).collect()
}

/// Every field survives insert, lock and update; an update replaces every field, clearing
/// the ones set to `None`.
pub async fn payment_session_round_trips_every_field_through_insert_lock_and_update(h: &Harness) {
    let full = full_session(h);
    let bare = raw_session(h);
    insert_sessions(h, &[&full, &bare]).await;

    let mut uow = h.store.ledger.begin().await.expect("begin");
    let locked = uow
        .lock_payment_session(&full.id)
        .await
        .expect("lock")
        .expect("session exists");
    let locked_bare = uow
        .lock_payment_session(&bare.id)
        .await
        .expect("lock")
        .expect("session exists");
    let unknown = uow
        .lock_payment_session(&PaymentSessionId::from_suffix("missing"))
        .await
        .expect("lock");
    let mut changed = locked.clone();
    changed.status = PaymentStatus::Confirming;
    changed.provider_capture_id = Some("CAP-2".to_owned());
    changed.approval_url = None;
    changed.payment_method_id = None;
    changed.credited_amount = Some(credits_str("99.99"));
    changed.wallet_balance_after = None;
    changed.wallet_transaction_id = None;
    changed.refunded_amount = money("12.3");
    changed.refunded_credits = credits_str("12.3");
    changed.applied_refund_ids.push("REF-3".to_owned());
    changed.error_code = None;
    changed.error_message = None;
    changed.save_payment_method = false;
    changed.updated_at += Duration::seconds(5);
    uow.update_payment_session(&changed).await.expect("update");
    uow.commit().await.expect("commit");

    assert_eq!(locked, full);
    assert_eq!(locked_bare, bare);
    assert_eq!(unknown, None);
    assert_eq!(stored_session(h, &full.id).await, Some(changed));
    assert_eq!(stored_session(h, &bare.id).await, Some(bare));
}

/// A unit dropped without commit leaves no session, no update and no provider event behind.
pub async fn a_dropped_unit_writes_no_payment_session_nor_provider_event(h: &Harness) {
    let existing = raw_session(h);
    insert_sessions(h, &[&existing]).await;
    let fresh = raw_session(h);

    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.insert_payment_session(&fresh).await.expect("insert");
    let mut locked = uow
        .lock_payment_session(&existing.id)
        .await
        .expect("lock")
        .expect("session exists");
    locked.status = PaymentStatus::Capturing;
    uow.update_payment_session(&locked).await.expect("update");
    let recorded = uow
        .record_provider_event("paypal", "WH-1")
        .await
        .expect("record event");
    drop(uow);

    assert!(recorded);
    assert_eq!(stored_session(h, &fresh.id).await, None);
    assert_eq!(stored_session(h, &existing.id).await, Some(existing));
    let mut uow = h.store.ledger.begin().await.expect("begin");
    assert!(
        uow.record_provider_event("paypal", "WH-1")
            .await
            .expect("record event"),
        "a rolled-back event must be recordable again"
    );
}

/// A second insert of one session id is `Duplicate`.
pub async fn inserting_a_payment_session_twice_is_a_duplicate(h: &Harness) {
    let session = raw_session(h);
    insert_sessions(h, &[&session]).await;
    let mut again = raw_session(h);
    again.id = session.id.clone();

    let mut uow = h.store.ledger.begin().await.expect("begin");
    let outcome = uow.insert_payment_session(&again).await;
    drop(uow);

    assert!(
        matches!(outcome, Err(StoreError::Duplicate(_))),
        "{outcome:?}"
    );
    assert_eq!(stored_session(h, &session.id).await, Some(session));
}

/// A (provider, event id) pair is recorded once, in or across units; the provider is part
/// of the key.
pub async fn a_provider_event_is_recorded_once_per_provider(h: &Harness) {
    let mut uow = h.store.ledger.begin().await.expect("begin");
    let first = uow.record_provider_event("paypal", "WH-1").await;
    let same_unit = uow.record_provider_event("paypal", "WH-1").await;
    uow.commit().await.expect("commit");

    let mut uow = h.store.ledger.begin().await.expect("begin");
    let later_unit = uow.record_provider_event("paypal", "WH-1").await;
    let other_provider = uow.record_provider_event("revolut", "WH-1").await;
    let other_event = uow.record_provider_event("paypal", "WH-2").await;
    uow.commit().await.expect("commit");

    assert!(first.expect("record"));
    assert!(!same_unit.expect("record"));
    assert!(!later_unit.expect("record"));
    assert!(other_provider.expect("record"));
    assert!(other_event.expect("record"));
}

/// A session is found by its provider and order id, and by nothing else.
pub async fn a_session_is_found_by_its_provider_order(h: &Harness) {
    let mut paypal = raw_session(h);
    paypal.provider_order_id = Some("ORDER-1".to_owned());
    let mut revolut = raw_session(h);
    revolut.provider = "revolut".to_owned();
    revolut.provider_order_id = Some("ORDER-2".to_owned());
    let without_order = raw_session(h);
    insert_sessions(h, &[&paypal, &revolut, &without_order]).await;
    let port = payments(h);

    let found = port.payment_session_by_order("paypal", "ORDER-1").await;
    let found_other = port.payment_session_by_order("revolut", "ORDER-2").await;
    let wrong_provider = port.payment_session_by_order("revolut", "ORDER-1").await;
    let unknown = port.payment_session_by_order("paypal", "ORDER-404").await;

    assert_eq!(found.expect("read"), Some(paypal));
    assert_eq!(found_other.expect("read"), Some(revolut));
    assert_eq!(wrong_provider.expect("read"), None);
    assert_eq!(unknown.expect("read"), None);
}

fn saved_method(h: &Harness, org_id: &OrgId, created_at: OffsetDateTime) -> SavedPaymentMethod {
    SavedPaymentMethod {
        id: PaymentMethodId::from_suffix(&h.suffix()),
        org_id: org_id.clone(),
        provider: "paypal".to_owned(),
        owner: h.user_owner(),
        provider_token: format!("vault_{}", h.suffix()),
        provider_customer_id: Some("CUST-1".to_owned()),
        label: "PayPal wallet a***@example.com".to_owned(),
        created_at,
    }
}

/// Saved methods round-trip, are unique by id, list per organization oldest first, and
/// delete once.
pub async fn saved_payment_methods_are_stored_listed_per_organization_and_deleted(h: &Harness) {
    let other_org = OrgId::parse("org_other").expect("id");
    let now = h.now();
    let newer = saved_method(h, &h.org, now + Duration::microseconds(1));
    let mut older = saved_method(h, &h.org, now);
    older.owner = Owner::Organization(h.org.clone());
    older.provider = "revolut".to_owned();
    older.provider_customer_id = None;
    let same_instant = saved_method(h, &h.org, now);
    let elsewhere = saved_method(h, &other_org, now);
    let port = payments(h);
    for method in [&newer, &older, &elsewhere, &same_instant] {
        port.insert_payment_method(method).await.expect("insert");
    }

    let mut same_id = saved_method(h, &h.org, now);
    same_id.id = newer.id.clone();
    let again = port.insert_payment_method(&same_id).await;
    let read = port.payment_method(&older.id).await.expect("read");
    let listed = port.list_payment_methods(&h.org).await.expect("list");
    let listed_elsewhere = port.list_payment_methods(&other_org).await.expect("list");
    let deleted = port.delete_payment_method(&newer.id).await.expect("delete");
    let deleted_again = port.delete_payment_method(&newer.id).await.expect("delete");
    let read_deleted = port.payment_method(&newer.id).await.expect("read");
    let listed_after = port.list_payment_methods(&h.org).await.expect("list");

    assert!(matches!(again, Err(StoreError::Duplicate(_))), "{again:?}");
    assert_eq!(read, Some(older.clone()));
    // `older` and `same_instant` share an instant: the id (issued first) decides.
    assert_eq!(
        listed,
        vec![older.clone(), same_instant.clone(), newer.clone()]
    );
    assert_eq!(listed_elsewhere, vec![elsewhere]);
    assert!(deleted);
    assert!(!deleted_again);
    assert_eq!(read_deleted, None);
    assert_eq!(listed_after, vec![older, same_instant]);
}

/// A token finds every method of that provider with exactly that token, in every
/// organization, oldest first; another provider's or another token's method is not found.
pub async fn saved_payment_methods_are_found_by_provider_and_exact_token(h: &Harness) {
    let other_org = OrgId::parse("org_other").expect("id");
    let now = h.now();
    let token = format!("vault_{}", h.suffix());
    let mut here = saved_method(h, &h.org, now + Duration::microseconds(1));
    here.provider_token.clone_from(&token);
    let mut elsewhere = saved_method(h, &other_org, now);
    elsewhere.provider_token.clone_from(&token);
    let mut other_provider = saved_method(h, &h.org, now);
    other_provider.provider_token.clone_from(&token);
    other_provider.provider = "revolut".to_owned();
    let mut longer_token = saved_method(h, &h.org, now);
    longer_token.provider_token = format!("{token}x");
    let other_token = saved_method(h, &h.org, now);
    let port = payments(h);
    for method in [
        &here,
        &elsewhere,
        &other_provider,
        &longer_token,
        &other_token,
    ] {
        port.insert_payment_method(method).await.expect("insert");
    }

    let found = port
        .payment_methods_by_token("paypal", &token)
        .await
        .expect("find");
    let unknown = port
        .payment_methods_by_token("paypal", "vault_unknown")
        .await
        .expect("find");
    let prefix = port
        .payment_methods_by_token("paypal", &token[..token.len() - 1])
        .await
        .expect("find");

    assert_eq!(found, vec![elsewhere, here]);
    assert_eq!(unknown, Vec::new());
    assert_eq!(
        prefix,
        Vec::new(),
        "the token matches exactly, not as a prefix"
    );
}

/// A settings document reads `None` until stored, then the last value stored; keys are
/// independent.
pub async fn settings_documents_read_none_until_put_then_the_latest(h: &Harness) {
    let port = payments(h);
    let key = format!("payment_settings:{}", h.org);
    let first = r#"{"providers":["paypal"],"min_amount":"5"}"#;
    let second = r#"{"providers":["paypal","revolut"],"note":"d'accord «ok»"}"#;

    let before = port.setting(&key).await.expect("read");
    port.put_setting(&key, first).await.expect("put");
    let after_put = port.setting(&key).await.expect("read");
    port.put_setting(&key, second).await.expect("put");
    let after_overwrite = port.setting(&key).await.expect("read");
    let other_key = port.setting("payments_config").await.expect("read");

    assert_eq!(before, None);
    assert_eq!(after_put.as_deref(), Some(first));
    assert_eq!(after_overwrite.as_deref(), Some(second));
    assert_eq!(other_key, None);
}
