//! Contract cases of the ledger port's lists: cascade candidates, filters, pages, due work.

use ledger_core::cost_ticket::CostTicketStatus;
use ledger_core::id::{OrgId, UserId};
use ledger_core::journal::EntryKind;
use ledger_core::money::Currency;
use ledger_core::ports::{CostTicketFilter, PageRequest, WalletFilter, WalletLineFilter};
use ledger_core::topup_rule::{RuleTrigger, TopupRule};
use ledger_core::wallet::{Owner, OwnerType, Wallet, WalletStatus};
use time::Duration;

use super::Harness;
use super::fixtures::credits;

fn ids(wallets: &[Wallet]) -> Vec<String> {
    let mut ids: Vec<String> = wallets.iter().map(|w| w.id.to_string()).collect();
    ids.sort();
    ids
}

/// The cascade's candidates: the owners' wallets in one organization and currency.
pub async fn cascade_wallets_answer_only_the_owners_wallets_in_org_and_currency(h: &Harness) {
    let user_wallet = h.raw_wallet(h.user_owner());
    let team_wallet = h.raw_wallet(Owner::Team(h.team.clone()));
    let mut euro_wallet = h.raw_wallet(h.user_owner());
    euro_wallet.currency = Currency::parse("EUR").expect("currency");
    let mut other_org_wallet = h.raw_wallet(h.user_owner());
    other_org_wallet.org_id = OrgId::parse("org_other").expect("id");
    let stranger = h.raw_wallet(Owner::User(UserId::parse("user_bob").expect("id")));
    let org_wallet = h.raw_wallet(Owner::Organization(h.org.clone()));
    for wallet in [
        &user_wallet,
        &team_wallet,
        &euro_wallet,
        &other_org_wallet,
        &stranger,
        &org_wallet,
    ] {
        h.insert_raw_wallet(wallet).await;
    }
    let owners = [h.user_owner(), Owner::Team(h.team.clone())];

    let read = h
        .store
        .ledger
        .cascade_wallets(&h.org, &owners, h.usd)
        .await
        .expect("read");
    let mut uow = h.store.ledger.begin().await.expect("begin");
    let in_unit = uow
        .cascade_wallets(&h.org, &owners, h.usd)
        .await
        .expect("read");
    let empty = uow.cascade_wallets(&h.org, &[], h.usd).await.expect("read");

    let expected = ids(&[user_wallet, team_wallet]);
    assert_eq!(ids(&read), expected);
    assert_eq!(ids(&in_unit), expected);
    assert!(empty.is_empty());
}

/// Wallets list oldest first, filtered, paged, with the total.
pub async fn wallets_list_in_creation_order_with_filters_and_pages(h: &Harness) {
    let mut created = Vec::new();
    for owner in [
        h.user_owner(),
        Owner::Team(h.team.clone()),
        h.user_owner(),
        Owner::Organization(h.org.clone()),
        h.user_owner(),
    ] {
        created.push(h.create_wallet(owner, 1, 0).await);
        h.clock.advance(Duration::seconds(1));
    }
    let mut elsewhere = h.raw_wallet(h.user_owner());
    elsewhere.org_id = OrgId::parse("org_other").expect("id");
    h.insert_raw_wallet(&elsewhere).await;
    h.ledger
        .terminate(&created[2].id, "contract")
        .await
        .expect("terminate");
    let in_org = |page: u32, per_page: u32| WalletFilter {
        org_id: Some(h.org.clone()),
        page: PageRequest { page, per_page },
        ..WalletFilter::default()
    };

    let first = h
        .store
        .ledger
        .list_wallets(&in_org(1, 2))
        .await
        .expect("list");
    let third = h
        .store
        .ledger
        .list_wallets(&in_org(3, 2))
        .await
        .expect("list");
    let beyond = h
        .store
        .ledger
        .list_wallets(&in_org(4, 2))
        .await
        .expect("list");
    let users = h
        .store
        .ledger
        .list_wallets(&WalletFilter {
            owner_type: Some(OwnerType::User),
            owner_id: Some(h.user.to_string()),
            status: Some(WalletStatus::Active),
            ..in_org(1, 100)
        })
        .await
        .expect("list");
    let visible = h
        .store
        .ledger
        .list_wallets(&WalletFilter {
            visible_to: Some(vec![Owner::Team(h.team.clone())]),
            ..in_org(1, 100)
        })
        .await
        .expect("list");
    let nobody = h
        .store
        .ledger
        .list_wallets(&WalletFilter {
            visible_to: Some(Vec::new()),
            ..in_org(1, 100)
        })
        .await
        .expect("list");
    let everywhere = h
        .store
        .ledger
        .list_wallets(&WalletFilter::default())
        .await
        .expect("list");

    assert_eq!(first.total, 5);
    assert_eq!(first.items, vec![created[0].clone(), created[1].clone()]);
    assert!(first.has_more(PageRequest {
        page: 1,
        per_page: 2
    }));
    assert_eq!(third.items.len(), 1);
    assert_eq!(third.items[0].id, created[4].id);
    assert!(!third.has_more(PageRequest {
        page: 3,
        per_page: 2
    }));
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 5);
    assert_eq!(
        users.items.iter().map(|w| w.id.clone()).collect::<Vec<_>>(),
        vec![created[0].id.clone(), created[4].id.clone()]
    );
    assert_eq!(users.total, 2);
    assert_eq!(visible.items, vec![created[1].clone()]);
    assert_eq!((nobody.items.len(), nobody.total), (0, 0));
    assert_eq!(everywhere.total, 6);
}

/// Cost tickets list newest first, filtered, paged.
pub async fn cost_tickets_list_newest_first_with_filters_and_pages(h: &Harness) {
    let mut tickets = Vec::new();
    for index in 0..4 {
        let mut ticket = h.raw_ticket(credits(index + 1));
        if index == 1 {
            ticket.status = CostTicketStatus::Resolved;
        }
        if index == 2 {
            ticket.user_id = Some(UserId::parse("user_bob").expect("id"));
        }
        if index == 3 {
            ticket.org_id = OrgId::parse("org_other").expect("id");
        }
        let mut uow = h.store.ledger.begin().await.expect("begin");
        uow.insert_cost_ticket(&ticket).await.expect("insert");
        uow.commit().await.expect("commit");
        tickets.push(ticket);
        h.clock.advance(Duration::seconds(1));
    }
    let in_org = |page: u32, per_page: u32| CostTicketFilter {
        org_id: Some(h.org.clone()),
        page: PageRequest { page, per_page },
        ..CostTicketFilter::default()
    };

    let all = h
        .store
        .ledger
        .list_cost_tickets(&in_org(1, 20))
        .await
        .expect("list");
    let second_page = h
        .store
        .ledger
        .list_cost_tickets(&in_org(2, 2))
        .await
        .expect("list");
    let open_for_ada = h
        .store
        .ledger
        .list_cost_tickets(&CostTicketFilter {
            status: Some(CostTicketStatus::Open),
            user_id: Some(h.user.clone()),
            ..in_org(1, 20)
        })
        .await
        .expect("list");

    assert_eq!(
        all.items,
        vec![tickets[2].clone(), tickets[1].clone(), tickets[0].clone()]
    );
    assert_eq!(all.total, 3);
    assert_eq!(second_page.items, vec![tickets[0].clone()]);
    assert_eq!(second_page.total, 3);
    assert_eq!(open_for_ada.items, vec![tickets[0].clone()]);
}

/// A wallet's history lines, newest first, by kind and date.
pub async fn wallet_lines_list_newest_first_with_kind_and_date_filters(h: &Harness) {
    let wallet = h.create_wallet(h.user_owner(), 10, 0).await;
    let start = h.now();
    h.clock.advance(Duration::seconds(20));
    let hold = h
        .ledger
        .reserve(&h.reserve_request(credits(4)))
        .await
        .expect("reserve");
    h.clock.advance(Duration::seconds(20));
    h.ledger
        .settle(&hold.id, credits(3), "gateway")
        .await
        .expect("settle");
    let other = h.create_wallet(Owner::Team(h.team.clone()), 1, 0).await;
    let filter = |kind: Option<EntryKind>| WalletLineFilter {
        wallet_id: wallet.id.clone(),
        kind,
        from: None,
        to: None,
        page: PageRequest::default(),
    };

    let all = h
        .store
        .ledger
        .wallet_lines(&filter(None))
        .await
        .expect("lines");
    let settles = h
        .store
        .ledger
        .wallet_lines(&filter(Some(EntryKind::Settle)))
        .await
        .expect("lines");
    let middle = h
        .store
        .ledger
        .wallet_lines(&WalletLineFilter {
            from: Some(start + Duration::seconds(10)),
            to: Some(start + Duration::seconds(20)),
            ..filter(None)
        })
        .await
        .expect("lines");
    let paged = h
        .store
        .ledger
        .wallet_lines(&WalletLineFilter {
            page: PageRequest {
                page: 2,
                per_page: 2,
            },
            ..filter(None)
        })
        .await
        .expect("lines");
    let others = h
        .store
        .ledger
        .wallet_lines(&WalletLineFilter {
            wallet_id: other.id.clone(),
            ..filter(None)
        })
        .await
        .expect("lines");

    assert_eq!(
        all.items.iter().map(|l| l.kind).collect::<Vec<_>>(),
        vec![EntryKind::Settle, EntryKind::Reserve, EntryKind::Opening]
    );
    assert_eq!(all.total, 3);
    let settle = &all.items[0];
    assert_eq!(settle.held_delta, -credits(4).value());
    assert_eq!(settle.paid_delta, -credits(3).value());
    assert_eq!(settle.balance_after, credits(7));
    assert_eq!(settle.held_after, credits(0));
    assert_eq!(settle.reference_type, "reservation");
    assert_eq!(settle.reference_id, hold.id.to_string());
    assert_eq!(settles.items, vec![settle.clone()]);
    assert_eq!(
        middle.items.iter().map(|l| l.kind).collect::<Vec<_>>(),
        vec![EntryKind::Reserve]
    );
    assert_eq!(paged.items.len(), 1);
    assert_eq!(paged.items[0].kind, EntryKind::Opening);
    assert_eq!(others.total, 1);
}

fn interval_rule() -> Vec<TopupRule> {
    serde_json::from_value(serde_json::json!([{
        "id": "rule_weekly",
        "method": "FIXED",
        "trigger": "INTERVAL",
        "interval": "weekly",
        "granted_credits": "1",
        "started_at": "2026-01-01T00:00:00Z"
    }]))
    .expect("rule fixture")
}

/// What the sweeper is told to do, and only that.
pub async fn due_work_lists_what_is_due_and_nothing_else(h: &Harness) {
    let now = h.now();
    let active = h.raw_wallet(h.user_owner());
    let mut pending_due = h.raw_wallet(h.user_owner());
    pending_due.status = WalletStatus::Pending;
    pending_due.activates_at = Some(now - Duration::seconds(1));
    let mut pending_later = h.raw_wallet(h.user_owner());
    pending_later.status = WalletStatus::Pending;
    pending_later.activates_at = Some(now + Duration::hours(1));
    let mut expired = h.raw_wallet(h.user_owner());
    expired.expiration_at = Some(now);
    let mut expired_terminated = h.raw_wallet(h.user_owner());
    expired_terminated.status = WalletStatus::Terminated;
    expired_terminated.expiration_at = Some(now - Duration::days(1));
    for wallet in [
        &active,
        &pending_due,
        &pending_later,
        &expired,
        &expired_terminated,
    ] {
        h.insert_raw_wallet(wallet).await;
    }
    let mut hold_due = h.raw_reservation(&active, credits(1));
    hold_due.expires_at = now;
    let hold_later = h.raw_reservation(&active, credits(1));
    let mut settled_due = h.raw_reservation(&active, credits(1));
    settled_due.expires_at = now - Duration::seconds(5);
    settled_due.status = ledger_core::reservation::ReservationStatus::Settled;
    let mut ticket_due = h.raw_ticket(credits(1));
    ticket_due.expires_at = now - Duration::seconds(1);
    let ticket_later = h.raw_ticket(credits(1));
    let mut ticket_resolved = h.raw_ticket(credits(1));
    ticket_resolved.expires_at = now - Duration::seconds(1);
    ticket_resolved.status = CostTicketStatus::Resolved;
    let mut uow = h.store.ledger.begin().await.expect("begin");
    for reservation in [&hold_due, &hold_later, &settled_due] {
        uow.insert_reservation(reservation).await.expect("insert");
    }
    for ticket in [&ticket_due, &ticket_later, &ticket_resolved] {
        uow.insert_cost_ticket(ticket).await.expect("insert");
    }
    uow.commit().await.expect("commit");

    let due = h.store.ledger.due_work(now, 100).await.expect("due work");

    assert_eq!(due.expired_reservations, vec![hold_due.id]);
    assert_eq!(due.wallets_to_activate, vec![pending_due.id]);
    assert_eq!(due.wallets_to_expire, vec![expired.id]);
    assert_eq!(due.tickets_to_expire, vec![ticket_due.id]);
    assert!(
        h.store
            .ledger
            .due_work(now - Duration::days(2), 100)
            .await
            .expect("due")
            .tickets_to_expire
            .is_empty()
    );
}

/// At most `limit` items of each kind.
pub async fn due_work_honours_its_limit(h: &Harness) {
    let wallet = h.raw_wallet(h.user_owner());
    h.insert_raw_wallet(&wallet).await;
    let mut uow = h.store.ledger.begin().await.expect("begin");
    for _ in 0..5 {
        let mut hold = h.raw_reservation(&wallet, credits(1));
        hold.expires_at = h.now() - Duration::seconds(1);
        uow.insert_reservation(&hold).await.expect("insert");
    }
    uow.commit().await.expect("commit");

    let due = h.store.ledger.due_work(h.now(), 3).await.expect("due work");

    assert_eq!(due.expired_reservations.len(), 3);
    assert!(!due.is_empty());
}

/// The interval-rule wallets come in keyset pages: ACTIVE ones with an INTERVAL rule only, by
/// ascending id, after the given id, at most `limit`.
pub async fn interval_rule_wallets_page_active_wallets_with_an_interval_rule_by_id(h: &Harness) {
    let mut listed = Vec::new();
    for _ in 0..5 {
        let mut wallet = h.raw_wallet(h.user_owner());
        wallet.rules = interval_rule();
        h.insert_raw_wallet(&wallet).await;
        listed.push(wallet.id);
    }
    let no_rule = h.raw_wallet(h.user_owner());
    let mut threshold_only = h.raw_wallet(h.user_owner());
    threshold_only.rules = interval_rule();
    threshold_only.rules[0].trigger = RuleTrigger::Threshold;
    threshold_only.rules[0].interval = None;
    threshold_only.rules[0].threshold_credits = Some(credits(5));
    let mut pending = h.raw_wallet(h.user_owner());
    pending.status = WalletStatus::Pending;
    pending.rules = interval_rule();
    let mut terminated = h.raw_wallet(h.user_owner());
    terminated.status = WalletStatus::Terminated;
    terminated.rules = interval_rule();
    for wallet in [&no_rule, &threshold_only, &pending, &terminated] {
        h.insert_raw_wallet(wallet).await;
    }
    listed.sort();
    let store = &h.store.ledger;
    let page_ids = |page: Vec<Wallet>| page.into_iter().map(|w| w.id).collect::<Vec<_>>();

    let all = page_ids(store.interval_rule_wallets(None, 100).await.expect("page"));
    let first = page_ids(store.interval_rule_wallets(None, 2).await.expect("page"));
    let second = page_ids(
        store
            .interval_rule_wallets(first.last().cloned(), 2)
            .await
            .expect("page"),
    );
    let third = page_ids(
        store
            .interval_rule_wallets(second.last().cloned(), 2)
            .await
            .expect("page"),
    );
    let past_the_end = page_ids(
        store
            .interval_rule_wallets(third.last().cloned(), 2)
            .await
            .expect("page"),
    );
    let after_an_unlisted_id = page_ids(
        store
            .interval_rule_wallets(Some(no_rule.id.clone()), 100)
            .await
            .expect("page"),
    );
    let first_full = store
        .interval_rule_wallets(Some(listed[0].clone()), 1)
        .await
        .expect("page");

    assert_eq!(all, listed);
    assert_eq!(first, listed[0..2]);
    assert_eq!(second, listed[2..4]);
    assert_eq!(third, listed[4..]);
    assert!(past_the_end.is_empty(), "{past_the_end:?}");
    let greater: Vec<_> = listed
        .iter()
        .filter(|id| **id > no_rule.id)
        .cloned()
        .collect();
    assert_eq!(after_an_unlisted_id, greater);
    assert_eq!(first_full.len(), 1);
    assert_eq!(first_full[0].id, listed[1]);
    assert_eq!(
        first_full[0].rules,
        interval_rule(),
        "whole wallets, rules included"
    );
}
