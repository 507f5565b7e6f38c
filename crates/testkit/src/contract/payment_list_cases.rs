//! Contract cases of the payment port's lists: sessions newest first with filters and pages,
//! and the due work of the sweeper and the reconciler.

use ledger_core::id::{OrgId, PaymentSessionId, UserId};
use ledger_core::payment_session::{PaymentSession, PaymentStatus};
use ledger_core::ports::{Page, PageRequest, PaymentSessionFilter};
use time::{Duration, OffsetDateTime};

use super::Harness;
use super::payment_cases::{insert_sessions, payments, raw_session, session_ids};

/// The sessions of the list cases: five a second apart (alternating providers, one
/// completed, one of another user, one of no user), two more in one instant, and one of
/// another organization in that instant.
struct ListedSessions {
    by_second: Vec<PaymentSession>,
    same_instant: [PaymentSession; 2],
    elsewhere: PaymentSession,
    bob: UserId,
}

async fn insert_listed_sessions(h: &Harness) -> ListedSessions {
    let bob = UserId::parse("user_bob").expect("id");
    let mut by_second = Vec::new();
    for index in 0..5 {
        let mut session = raw_session(h);
        session.provider = if index % 2 == 0 { "paypal" } else { "revolut" }.to_owned();
        match index {
            1 => session.status = PaymentStatus::Completed,
            3 => session.user_id = Some(bob.clone()),
            4 => session.user_id = None,
            _ => {}
        }
        by_second.push(session);
        h.clock.advance(Duration::seconds(1));
    }
    let same_instant = [raw_session(h), raw_session(h)];
    let mut elsewhere = raw_session(h);
    elsewhere.org_id = OrgId::parse("org_other").expect("id");
    for session in by_second.iter().chain(&same_instant).chain([&elsewhere]) {
        insert_sessions(h, &[session]).await;
    }
    ListedSessions {
        by_second,
        same_instant,
        elsewhere,
        bob,
    }
}

fn page(page: u32, per_page: u32) -> PageRequest {
    PageRequest { page, per_page }
}

fn in_org(h: &Harness, page: PageRequest) -> PaymentSessionFilter {
    PaymentSessionFilter {
        org_id: Some(h.org.clone()),
        page,
        ..PaymentSessionFilter::default()
    }
}

async fn list(h: &Harness, filter: PaymentSessionFilter) -> Page<PaymentSession> {
    payments(h)
        .list_payment_sessions(&filter)
        .await
        .expect("list")
}

/// Lists are newest first (ties by id, descending), paged, and count every match; without
/// an organization they span all of them.
pub async fn payment_sessions_list_newest_first_in_pages(h: &Harness) {
    let fx = insert_listed_sessions(h).await;

    let everything = list(h, in_org(h, page(1, 100))).await;
    let second_page = list(h, in_org(h, page(2, 3))).await;
    let past_the_end = list(h, in_org(h, page(4, 3))).await;
    let all_orgs = PaymentSessionFilter {
        page: page(1, 100),
        ..PaymentSessionFilter::default()
    };
    let all_orgs = list(h, all_orgs).await;

    let newest_first: Vec<PaymentSessionId> = [&fx.same_instant[1], &fx.same_instant[0]]
        .into_iter()
        .chain(fx.by_second.iter().rev())
        .map(|session| session.id.clone())
        .collect();
    assert_eq!(session_ids(&everything.items), newest_first);
    assert_eq!(everything.total, 7);
    assert_eq!(
        everything.items[2], fx.by_second[4],
        "items carry every field"
    );
    assert_eq!(session_ids(&second_page.items), newest_first[3..6].to_vec());
    assert_eq!(second_page.total, 7);
    assert!(past_the_end.items.is_empty());
    assert_eq!(past_the_end.total, 7);
    assert_eq!(all_orgs.total, 8);
    assert_eq!(all_orgs.items[0].id, fx.elsewhere.id, "newest, highest id");
}

/// Lists filter on organization, provider, status, user, and creation instants (`from` and
/// `to` inclusive); the total counts the filtered sessions.
pub async fn payment_sessions_list_filters_on_every_field(h: &Harness) {
    let fx = insert_listed_sessions(h).await;
    let sessions = &fx.by_second;

    let revolut = PaymentSessionFilter {
        provider: Some("revolut".to_owned()),
        ..in_org(h, page(1, 100))
    };
    let revolut = list(h, revolut).await;
    let completed = PaymentSessionFilter {
        status: Some(PaymentStatus::Completed),
        ..in_org(h, page(1, 100))
    };
    let completed = list(h, completed).await;
    let of_bob = PaymentSessionFilter {
        user_id: Some(fx.bob.clone()),
        ..in_org(h, page(1, 100))
    };
    let of_bob = list(h, of_bob).await;
    let window = PaymentSessionFilter {
        from: Some(sessions[1].created_at),
        to: Some(sessions[3].created_at),
        ..in_org(h, page(1, 100))
    };
    let window = list(h, window).await;
    let other_org = PaymentSessionFilter {
        org_id: Some(fx.elsewhere.org_id.clone()),
        ..PaymentSessionFilter::default()
    };
    let other_org = list(h, other_org).await;

    assert_eq!(
        session_ids(&revolut.items),
        session_ids(&[sessions[3].clone(), sessions[1].clone()])
    );
    assert_eq!(revolut.total, 2);
    assert_eq!(session_ids(&completed.items), vec![sessions[1].id.clone()]);
    assert_eq!(session_ids(&of_bob.items), vec![sessions[3].id.clone()]);
    assert_eq!(
        session_ids(&window.items),
        session_ids(&[
            sessions[3].clone(),
            sessions[2].clone(),
            sessions[1].clone()
        ])
    );
    assert_eq!(window.total, 3);
    assert_eq!(other_org.items, vec![fx.elsewhere.clone()]);
    assert_eq!(other_org.total, 1);
}

/// Due work: `created` sessions whose `expires_at` is at or before now, and sessions in
/// `capturing`, `captured` or `confirming` not updated after the cut-off; each list by id.
pub async fn payment_due_work_lists_expired_and_stuck_sessions_only(h: &Harness) {
    let now = h.now() + Duration::hours(2);
    let stuck_before = now - Duration::minutes(10);
    let session_in = |status: PaymentStatus, expires_at: OffsetDateTime, updated_at| {
        let mut session = raw_session(h);
        session.status = status;
        session.expires_at = expires_at;
        session.updated_at = updated_at;
        session
    };
    let long_ago = stuck_before - Duration::hours(1);
    let later = now + Duration::hours(1);
    let expired = session_in(PaymentStatus::Created, now - Duration::seconds(1), long_ago);
    let expiring_now = session_in(PaymentStatus::Created, now, long_ago);
    let still_open = session_in(PaymentStatus::Created, now + Duration::seconds(1), long_ago);
    let capturing = session_in(PaymentStatus::Capturing, later, long_ago);
    let captured_at_cut_off = session_in(PaymentStatus::Captured, later, stuck_before);
    let confirming = session_in(PaymentStatus::Confirming, long_ago, long_ago);
    let confirming_recently = session_in(
        PaymentStatus::Confirming,
        long_ago,
        stuck_before + Duration::microseconds(1),
    );
    let finished = [
        PaymentStatus::Confirmed,
        PaymentStatus::Completed,
        PaymentStatus::Canceled,
        PaymentStatus::Failed,
        PaymentStatus::Refunded,
        PaymentStatus::Expired,
    ]
    .map(|status| session_in(status, long_ago, long_ago));
    // Reverse insertion order, so that an answer in insertion order would fail.
    let mut all = vec![
        &expired,
        &expiring_now,
        &still_open,
        &capturing,
        &captured_at_cut_off,
        &confirming,
        &confirming_recently,
    ];
    all.extend(finished.iter());
    all.reverse();
    insert_sessions(h, &all).await;

    let work = payments(h)
        .payment_due_work(now, stuck_before, 100)
        .await
        .expect("due work");

    assert_eq!(work.expired, vec![expired.id, expiring_now.id]);
    // Least recently updated first (then by id): a session the reconciler re-queued comes
    // after the others, so a few long-pending captures never starve the rest.
    assert_eq!(
        work.stuck,
        vec![capturing.id, confirming.id, captured_at_cut_off.id]
    );
}

/// Each list of due work is cut at the limit, keeping the lowest ids.
pub async fn payment_due_work_honours_its_limit(h: &Harness) {
    let now = h.now() + Duration::hours(2);
    let mut expired = Vec::new();
    let mut stuck = Vec::new();
    for _ in 0..3 {
        let mut session = raw_session(h);
        session.expires_at = now - Duration::minutes(1);
        expired.push(session);
        let mut session = raw_session(h);
        session.status = PaymentStatus::Capturing;
        stuck.push(session);
    }
    insert_sessions(h, &expired.iter().chain(&stuck).rev().collect::<Vec<_>>()).await;

    let work = payments(h)
        .payment_due_work(now, now, 2)
        .await
        .expect("due work");

    assert_eq!(work.expired, session_ids(&expired[..2]));
    assert_eq!(work.stuck, session_ids(&stuck[..2]));
}
