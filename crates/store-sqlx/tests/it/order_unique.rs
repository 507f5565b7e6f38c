//! One provider order belongs to one payment session (migration 0003), on both engines: a
//! second session naming the same order is `StoreError::Duplicate`, whether inserted or
//! updated to it, while sessions without an order and the same order id at another provider
//! are fine.

use ledger_core::error::StoreError;
use ledger_core::id::{OrgId, PaymentSessionId, UserId, WalletId};
use ledger_core::money::{Credits, Currency};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::LedgerStore;
use ledger_core::wallet::Owner;
use rust_decimal::Decimal;
use store_sqlx::{ConnectOptions, Database};
use time::{Duration, OffsetDateTime};

use crate::support::{pg_database, sqlite_database};

fn options() -> ConnectOptions {
    ConnectOptions {
        max_connections: 2,
        acquire_timeout_ms: 5_000,
    }
}

fn session(suffix: &str, provider: &str, order_id: Option<&str>) -> PaymentSession {
    let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
    let user = UserId::parse("user_ada").expect("id");
    PaymentSession {
        id: PaymentSessionId::from_suffix(suffix),
        org_id: OrgId::parse("org_acme").expect("id"),
        user_id: Some(user.clone()),
        provider: provider.to_owned(),
        surface: "auto_topup".to_owned(),
        target_owner: Owner::User(user),
        wallet_id: WalletId::from_suffix(suffix),
        amount: Decimal::from(25),
        currency: Currency::parse("EUR").expect("currency"),
        status: PaymentStatus::Capturing,
        checkout_state: format!("state_{suffix}"),
        provider_order_id: order_id.map(str::to_owned),
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

async fn insert(store: &dyn LedgerStore, session: &PaymentSession) -> Result<(), StoreError> {
    let mut uow = store.begin().await?;
    uow.insert_payment_session(session).await?;
    uow.commit().await
}

async fn update(store: &dyn LedgerStore, session: &PaymentSession) -> Result<(), StoreError> {
    let mut uow = store.begin().await?;
    uow.lock_payment_session(&session.id).await?;
    uow.update_payment_session(session).await?;
    uow.commit().await
}

async fn one_order_pays_one_session(database: &Database) {
    let store = database.ledger_store();
    let store = store.as_ref();
    insert(store, &session("a1", "revolut_pro", Some("ord-1")))
        .await
        .expect("insert");
    insert(store, &session("a2", "revolut_pro", None))
        .await
        .expect("insert");
    insert(store, &session("a3", "revolut_pro", None))
        .await
        .expect("insert");
    insert(store, &session("a4", "paypal", Some("ord-1")))
        .await
        .expect("insert");

    let inserted = insert(store, &session("a5", "revolut_pro", Some("ord-1"))).await;
    let updated = update(store, &session("a2", "revolut_pro", Some("ord-1"))).await;

    assert!(
        matches!(inserted, Err(StoreError::Duplicate(_))),
        "{inserted:?}"
    );
    assert!(
        matches!(updated, Err(StoreError::Duplicate(_))),
        "{updated:?}"
    );
    let payments = database.payments();
    let found = payments
        .payment_session_by_order("revolut_pro", "ord-1")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found.id, PaymentSessionId::from_suffix("a1"));
    let untouched = payments
        .payment_session(&PaymentSessionId::from_suffix("a2"))
        .await
        .expect("read")
        .expect("found");
    assert_eq!(
        untouched.provider_order_id, None,
        "the refused update wrote nothing"
    );
}

#[tokio::test]
async fn one_order_pays_one_session_on_sqlite() {
    let (database, _dir) = sqlite_database(&options()).await;

    one_order_pays_one_session(&database).await;

    database.close().await;
}

#[tokio::test]
async fn one_order_pays_one_session_on_postgres() {
    let Some(test_db) = pg_database().await else {
        return;
    };
    let database = Database::connect(test_db.url(), &options())
        .await
        .expect("connect postgres");

    one_order_pays_one_session(&database).await;

    database.close().await;
    test_db.cleanup().await;
}
