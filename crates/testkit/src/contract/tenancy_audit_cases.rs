//! The audit's tenancy check (invariant 7): records of one organization that name a wallet or
//! owner of another are reported with their ids; a sound ledger reports none (every other case
//! ends with a clean audit).

use ledger_core::id::{OrgId, TransactionId};
use ledger_core::journal::{EntryKind, JournalTransaction, WalletLine};
use ledger_core::money::Credits;
use ledger_core::wallet::Owner;
use rust_decimal::Decimal;

use super::Harness;
use super::fixtures::credits;

/// A reservation and a journal transaction of another organization on this organization's
/// wallet, and a wallet owned by another organization, each show up as a `tenancy` breach.
pub async fn audit_reports_records_that_cross_organizations(h: &Harness) {
    let other = OrgId::parse("org_other").expect("fixture id");
    let wallet = h.raw_wallet(h.user_owner());
    h.insert_raw_wallet(&wallet).await;
    let foreign_owned = h.raw_wallet(Owner::Organization(other.clone()));
    h.insert_raw_wallet(&foreign_owned).await;
    let mut reservation = h.raw_reservation(&wallet, credits(1));
    reservation.org_id = other.clone();
    reservation.status = ledger_core::reservation::ReservationStatus::Released;
    let transaction_id = TransactionId::from_suffix(&h.suffix());
    let transaction = JournalTransaction {
        id: transaction_id.clone(),
        org_id: other.clone(),
        kind: EntryKind::Credit,
        reference_type: "admin".to_owned(),
        reference_id: "contract".to_owned(),
        principal: "contract".to_owned(),
        created_at: h.now(),
        postings: Vec::new(),
        wallet_lines: vec![WalletLine {
            transaction_id: transaction_id.clone(),
            wallet_id: wallet.id.clone(),
            kind: EntryKind::Credit,
            paid_delta: Decimal::ZERO,
            granted_delta: Decimal::ZERO,
            held_delta: Decimal::ZERO,
            debt_delta: Decimal::ZERO,
            balance_after: Credits::ZERO,
            held_after: Credits::ZERO,
            reference_type: "admin".to_owned(),
            reference_id: "contract".to_owned(),
            created_at: h.now(),
        }],
    };
    let mut uow = h.store.ledger.begin().await.expect("begin");
    uow.insert_reservation(&reservation).await.expect("insert");
    uow.append_journal(transaction).await.expect("append");
    uow.commit().await.expect("commit");

    let report = h.ledger.audit().await.expect("audit");

    let tenancy: Vec<(&str, &str)> = report
        .breaches
        .iter()
        .filter(|breach| breach.invariant == "tenancy")
        .map(|breach| (breach.subject.as_str(), breach.detail.as_str()))
        .collect();
    let named = |id: &str, detail_part: &str| {
        tenancy
            .iter()
            .any(|(subject, detail)| *subject == id && detail.contains(detail_part))
    };
    assert!(
        named(reservation.id.as_str(), wallet.id.as_str()),
        "{report:#?}"
    );
    assert!(
        named(transaction_id.as_str(), wallet.id.as_str()),
        "{report:#?}"
    );
    assert!(named(foreign_owned.id.as_str(), "org_other"), "{report:#?}");
    assert_eq!(tenancy.len(), 3, "nothing else is reported: {report:#?}");
}
