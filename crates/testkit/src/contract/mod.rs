//! The storage contract suite: the behaviour every adapter of the storage ports shares.
//!
//! [`storage_contract!`](crate::storage_contract) expands to one named `#[tokio::test]` per
//! case for an async factory of [`StoreUnderTest`] (returning `None` skips, as
//! [`PgTestDb::create`](crate::pg::PgTestDb::create) does when PostgreSQL is unreachable).
//! `store-memory` runs it once, `store-sqlx` twice (a SQLite temp file, PostgreSQL).
//!
//! Every case starts from an empty store, works through the ports (and through the `Ledger`
//! service where the port is used in its real call shapes), and checks the audit's
//! invariants after each movement of credits.

mod directory_cases;
mod fixtures;
mod idempotency_cases;
mod ledger_cases;
mod ledger_list_cases;
mod payment_cases;
mod payment_list_cases;
mod payment_order_cases;
mod tenancy_audit_cases;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ledger_core::ports::{DirectoryStore, IdempotencyStore, LedgerStore, PaymentStore};

pub use fixtures::{Harness, credits, credits_str};

/// Every case, by name, for the macro.
pub mod cases {
    pub use super::directory_cases::*;
    pub use super::idempotency_cases::*;
    pub use super::ledger_cases::*;
    pub use super::ledger_list_cases::*;
    pub use super::payment_cases::*;
    pub use super::payment_list_cases::*;
    pub use super::payment_order_cases::*;
    pub use super::tenancy_audit_cases::*;
}

/// What runs after a case: closes pools, drops the test database.
pub type Teardown = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The storage ports of one store, fresh and empty, plus how to dispose of it.
pub struct StoreUnderTest {
    /// The ledger port.
    pub ledger: Arc<dyn LedgerStore>,
    /// The directory port.
    pub directory: Arc<dyn DirectoryStore>,
    /// The idempotency-key port.
    pub idempotency: Arc<dyn IdempotencyStore>,
    payments: Option<Arc<dyn PaymentStore>>,
    teardown: Option<Teardown>,
}

impl std::fmt::Debug for StoreUnderTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreUnderTest")
            .field("ledger", &self.ledger)
            .finish_non_exhaustive()
    }
}

impl StoreUnderTest {
    /// A store under test made of its three ports.
    pub fn new(
        ledger: Arc<dyn LedgerStore>,
        directory: Arc<dyn DirectoryStore>,
        idempotency: Arc<dyn IdempotencyStore>,
    ) -> Self {
        Self {
            ledger,
            directory,
            idempotency,
            payments: None,
            teardown: None,
        }
    }

    /// Adds the payment port, which the payment cases need.
    #[must_use]
    pub fn with_payments(mut self, payments: Arc<dyn PaymentStore>) -> Self {
        self.payments = Some(payments);
        self
    }

    /// The payment port.
    ///
    /// # Panics
    /// When the factory did not give one with [`StoreUnderTest::with_payments`]: a payment
    /// case then fails loudly instead of passing without checking anything.
    pub fn payments(&self) -> &Arc<dyn PaymentStore> {
        self.payments
            .as_ref()
            .expect("the store factory gives the payment port (StoreUnderTest::with_payments)")
    }

    /// Runs `teardown` after the case.
    #[must_use]
    pub fn with_teardown(mut self, teardown: impl Future<Output = ()> + Send + 'static) -> Self {
        self.teardown = Some(Box::pin(teardown));
        self
    }

    /// Runs the teardown, if any.
    pub async fn finish(self) {
        let Self {
            ledger,
            directory,
            idempotency,
            payments,
            teardown,
        } = self;
        // Release the ports' pool handles before the teardown closes the pool.
        drop((ledger, directory, idempotency, payments));
        if let Some(teardown) = teardown {
            teardown.await;
        }
    }
}

/// Expands to one `#[tokio::test]` per contract case for `$factory`, an async function
/// returning `Option<StoreUnderTest>` (`None` skips the case).
///
/// ```ignore
/// async fn memory() -> Option<testkit::contract::StoreUnderTest> { … }
/// testkit::storage_contract!(memory);
/// ```
#[macro_export]
macro_rules! storage_contract {
    ($factory:path) => {
        $crate::storage_contract!(@cases $factory;
            wallet_round_trips_with_every_field,
            inserting_a_wallet_twice_is_a_duplicate,
            a_dropped_unit_of_work_writes_nothing,
            a_committed_unit_of_work_is_visible_to_new_units,
            reservation_round_trips_and_updates,
            cost_ticket_round_trips_and_updates,
            appending_a_transaction_twice_is_a_duplicate,
            inserting_a_reservation_or_ticket_twice_is_a_duplicate,
            reserve_settle_and_release_keep_every_invariant,
            settle_again_with_the_same_amount_answers_the_same_settlement,
            charge_and_debit_and_credit_keep_every_invariant,
            allocate_and_reclaim_lock_two_wallets_and_keep_every_invariant,
            terminate_releases_held_reservations_and_forfeits,
            redeem_resolves_a_ticket_after_a_top_up,
            sweep_expires_holds_tickets_and_wallets_and_activates_pending_ones,
            audit_reports_projection_and_hold_breaches_with_ids,
            audit_reports_an_unbalanced_transaction,
            audit_reports_records_that_cross_organizations,
            unit_wallet_settings_read_what_the_directory_stored,
            held_reservations_lists_only_open_holds_of_the_wallet,
            cascade_wallets_answer_only_the_owners_wallets_in_org_and_currency,
            wallets_list_in_creation_order_with_filters_and_pages,
            cost_tickets_list_newest_first_with_filters_and_pages,
            wallet_lines_list_newest_first_with_kind_and_date_filters,
            due_work_lists_what_is_due_and_nothing_else,
            due_work_honours_its_limit,
            interval_rule_wallets_page_active_wallets_with_an_interval_rule_by_id,
            organizations_round_trip_and_external_ids_are_unique,
            teams_round_trip_and_storing_again_replaces,
            users_round_trip_and_emails_are_unique_per_organization,
            tokens_round_trip_by_id_and_hash_and_hashes_are_unique,
            revoking_a_token_keeps_the_first_instant,
            wallet_settings_default_until_stored_then_replace,
            a_new_key_is_claimed_then_seen_in_flight,
            a_completed_key_answers_its_fingerprint_and_response,
            keys_are_scoped,
            an_abandoned_key_can_be_claimed_again,
            a_stale_claim_is_taken_over_but_a_completed_key_is_not,
            purge_deletes_only_keys_created_before_the_instant,
            completing_an_unknown_key_changes_nothing,
            concurrent_claims_of_one_key_claim_it_once,
            payment_session_round_trips_every_field_through_insert_lock_and_update,
            a_dropped_unit_writes_no_payment_session_nor_provider_event,
            inserting_a_payment_session_twice_is_a_duplicate,
            a_provider_event_is_recorded_once_per_provider,
            a_session_is_found_by_its_provider_order,
            one_provider_order_belongs_to_one_payment_session,
            payment_sessions_list_newest_first_in_pages,
            payment_sessions_list_filters_on_every_field,
            payment_due_work_lists_expired_and_stuck_sessions_only,
            payment_due_work_honours_its_limit,
            saved_payment_methods_are_stored_listed_per_organization_and_deleted,
            saved_payment_methods_are_found_by_provider_and_exact_token,
            settings_documents_read_none_until_put_then_the_latest,
        );
    };
    (@cases $factory:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let Some(store) = $factory().await else {
                    return;
                };
                let harness = $crate::contract::Harness::new(store);
                $crate::contract::cases::$case(&harness).await;
                harness.finish().await;
            }
        )*
    };
}
