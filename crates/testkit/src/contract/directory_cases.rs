//! Contract cases of the directory port.

use ledger_core::error::StoreError;
use ledger_core::id::{OrgId, TeamId, TokenId, UserId};
use ledger_core::ports::ApiToken;
use ledger_core::tenancy::{Organization, Team, User, UserRole, WalletSettings};
use ledger_core::wallet::OwnerType;
use time::Duration;

use super::Harness;
use super::fixtures::credits;

fn org(h: &Harness, id: &str, external_id: Option<&str>) -> Organization {
    Organization {
        id: OrgId::parse(id).expect("id"),
        name: format!("{id} Inc."),
        external_id: external_id.map(str::to_owned),
        default_currency: h.usd,
        created_at: h.now(),
    }
}

fn user(h: &Harness, id: &str, org_id: &OrgId, email: &str, external_id: Option<&str>) -> User {
    User {
        id: UserId::parse(id).expect("id"),
        org_id: org_id.clone(),
        email: email.to_owned(),
        name: Some("Ada".to_owned()),
        external_id: external_id.map(str::to_owned),
        role: UserRole::BillingAdmin,
        team_ids: vec![h.team.clone(), TeamId::parse("team_a").expect("id")],
        team_owner_of: vec![h.team.clone()],
        created_at: h.now(),
    }
}

/// Organizations by id and external id; an external id names one organization.
pub async fn organizations_round_trip_and_external_ids_are_unique(h: &Harness) {
    let directory = &h.store.directory;
    let acme = org(h, "org_acme", Some("crm-1"));
    let plain = org(h, "org_plain", None);
    let other_plain = org(h, "org_plain2", None);

    directory.insert_org(&acme).await.expect("insert");
    directory.insert_org(&plain).await.expect("insert");
    directory
        .insert_org(&other_plain)
        .await
        .expect("two orgs without external id");
    let taken = directory
        .insert_org(&org(h, "org_copy", Some("crm-1")))
        .await;
    let same_id = directory
        .insert_org(&org(h, "org_acme", Some("crm-2")))
        .await;

    assert_eq!(
        directory.org(&acme.id).await.expect("read"),
        Some(acme.clone())
    );
    assert_eq!(directory.org(&plain.id).await.expect("read"), Some(plain));
    assert_eq!(
        directory.org_by_external_id("crm-1").await.expect("read"),
        Some(acme)
    );
    assert_eq!(
        directory.org_by_external_id("crm-9").await.expect("read"),
        None
    );
    assert!(matches!(taken, Err(StoreError::Duplicate(_))), "{taken:?}");
    assert!(
        matches!(same_id, Err(StoreError::Duplicate(_))),
        "{same_id:?}"
    );
    assert_eq!(
        directory
            .org(&OrgId::parse("org_copy").expect("id"))
            .await
            .expect("read"),
        None
    );
}

/// Teams by id; storing one again replaces it.
pub async fn teams_round_trip_and_storing_again_replaces(h: &Harness) {
    let team = Team {
        id: h.team.clone(),
        org_id: h.org.clone(),
        name: "ML".to_owned(),
    };
    h.store.directory.insert_team(&team).await.expect("insert");
    let renamed = Team {
        name: "Machine learning".to_owned(),
        ..team.clone()
    };

    h.store
        .directory
        .insert_team(&renamed)
        .await
        .expect("insert again");

    assert_eq!(
        h.store.directory.team(&team.id).await.expect("read"),
        Some(renamed)
    );
    assert_eq!(
        h.store
            .directory
            .team(&TeamId::parse("team_none").expect("id"))
            .await
            .expect("read"),
        None
    );
}

/// Users by id and external id; one email per organization.
pub async fn users_round_trip_and_emails_are_unique_per_organization(h: &Harness) {
    let directory = &h.store.directory;
    let other_org = OrgId::parse("org_other").expect("id");
    let ada = user(h, "user_ada", &h.org, "ada@example.com", Some("ext-ada"));
    let mut plain = user(h, "user_plain", &h.org, "plain@example.com", None);
    plain.team_ids.clear();
    plain.team_owner_of.clear();
    plain.name = None;
    plain.role = UserRole::Member;

    directory.insert_user(&ada).await.expect("insert");
    directory.insert_user(&plain).await.expect("insert");
    let same_email = directory
        .insert_user(&user(h, "user_copy", &h.org, "ada@example.com", None))
        .await;
    let same_external = directory
        .insert_user(&user(
            h,
            "user_copy2",
            &h.org,
            "copy@example.com",
            Some("ext-ada"),
        ))
        .await;
    directory
        .insert_user(&user(
            h,
            "user_elsewhere",
            &other_org,
            "ada@example.com",
            None,
        ))
        .await
        .expect("the same email in another organization");
    directory
        .insert_user(&user(h, "user_no_ext", &h.org, "third@example.com", None))
        .await
        .expect("several users without external id");

    assert_eq!(
        directory.user(&ada.id).await.expect("read"),
        Some(ada.clone())
    );
    assert_eq!(directory.user(&plain.id).await.expect("read"), Some(plain));
    assert_eq!(
        directory
            .user_by_external_id("ext-ada")
            .await
            .expect("read"),
        Some(ada)
    );
    assert_eq!(
        directory
            .user_by_external_id("ext-none")
            .await
            .expect("read"),
        None
    );
    assert!(
        matches!(same_email, Err(StoreError::Duplicate(_))),
        "{same_email:?}"
    );
    assert!(
        matches!(same_external, Err(StoreError::Duplicate(_))),
        "{same_external:?}"
    );
}

fn token(h: &Harness, id: &str, hash: &str) -> ApiToken {
    ApiToken {
        id: TokenId::parse(id).expect("id"),
        org_id: Some(h.org.clone()),
        user_id: Some(h.user.clone()),
        role: "gateway".to_owned(),
        name: "gateway token".to_owned(),
        hash: hash.to_owned(),
        created_at: h.now(),
        revoked_at: None,
    }
}

/// Tokens by id and by hash; a hash names one token.
pub async fn tokens_round_trip_by_id_and_hash_and_hashes_are_unique(h: &Harness) {
    let directory = &h.store.directory;
    let gateway = token(h, "tok_gateway", "aa11");
    let platform = ApiToken {
        org_id: None,
        user_id: None,
        role: "platform_admin".to_owned(),
        ..token(h, "tok_platform", "bb22")
    };

    directory.insert_token(&gateway).await.expect("insert");
    directory.insert_token(&platform).await.expect("insert");
    let same_hash = directory.insert_token(&token(h, "tok_copy", "aa11")).await;

    assert_eq!(
        directory.token(&gateway.id).await.expect("read"),
        Some(gateway.clone())
    );
    assert_eq!(
        directory.token_by_hash("bb22").await.expect("read"),
        Some(platform)
    );
    assert_eq!(directory.token_by_hash("cc33").await.expect("read"), None);
    assert!(
        matches!(same_hash, Err(StoreError::Duplicate(_))),
        "{same_hash:?}"
    );
}

/// Revocation is recorded once; revoking an unknown token answers false.
pub async fn revoking_a_token_keeps_the_first_instant(h: &Harness) {
    let directory = &h.store.directory;
    let gateway = token(h, "tok_gateway", "aa11");
    directory.insert_token(&gateway).await.expect("insert");
    let first = h.now() + Duration::minutes(1);

    let revoked = directory
        .revoke_token(&gateway.id, first)
        .await
        .expect("revoke");
    let again = directory
        .revoke_token(&gateway.id, first + Duration::hours(1))
        .await
        .expect("revoke again");
    let unknown = directory
        .revoke_token(&TokenId::parse("tok_none").expect("id"), first)
        .await
        .expect("revoke unknown");

    assert!(revoked && again && !unknown);
    let stored = directory
        .token(&gateway.id)
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(stored.revoked_at, Some(first));
}

/// Settings answer defaults until stored; storing replaces them.
pub async fn wallet_settings_default_until_stored_then_replace(h: &Harness) {
    let directory = &h.store.directory;
    let first = WalletSettings {
        cascade_order: vec![OwnerType::Team],
        low_balance_threshold: credits(3),
        cost_ticket_ttl_seconds: 10,
        default_reservation_ttl_seconds: 20,
    };
    let second = WalletSettings {
        low_balance_threshold: "0.000000001".parse().expect("credits"),
        ..WalletSettings::default()
    };

    let before = directory.wallet_settings(&h.org).await.expect("read");
    directory
        .put_wallet_settings(&h.org, &first)
        .await
        .expect("store");
    let after_first = directory.wallet_settings(&h.org).await.expect("read");
    directory
        .put_wallet_settings(&h.org, &second)
        .await
        .expect("store again");
    let after_second = directory.wallet_settings(&h.org).await.expect("read");

    assert_eq!(before, WalletSettings::default());
    assert_eq!(after_first, first);
    assert_eq!(after_second, second);
}
