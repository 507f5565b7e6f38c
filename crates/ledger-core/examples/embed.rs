//! Embedding the ledger in a Rust service, on the in-memory store: create a wallet, reserve
//! credits for a request, settle what it cost, read the balance.
//!
//! Run with `cargo run -p ledger-core --example embed`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ledger_core::Ledger;
use ledger_core::cascade::CascadeScope;
use ledger_core::id::{OrgId, UserId};
use ledger_core::money::{Credits, Currency};
use ledger_core::ports::{Clock, IdSource};
use ledger_core::service::{NewWallet, ReserveRequest};
use ledger_core::wallet::{FeeType, Owner};
use rust_decimal::Decimal;
use store_memory::MemoryStore;
use time::OffsetDateTime;

/// The embedder owns time: here, the system clock.
#[derive(Debug)]
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// The embedder owns id generation too: here, a process-local counter.
#[derive(Debug, Default)]
struct SequentialIds(AtomicU64);

impl IdSource for SequentialIds {
    fn next_suffix(&self) -> String {
        format!("{:016}", self.0.fetch_add(1, Ordering::Relaxed))
    }
}

#[tokio::main(flavor = "current_thread")]
#[expect(clippy::print_stdout, reason = "an example prints its result")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ledger = Ledger::new(
        Arc::new(MemoryStore::new()),
        Arc::new(SystemClock),
        Arc::new(SequentialIds::default()),
    );
    let org_id = OrgId::parse("org_acme")?;
    let user_id = UserId::parse("user_ada")?;
    let usd = Currency::parse("USD")?;

    let wallet = ledger
        .create_wallet(&NewWallet {
            org_id: org_id.clone(),
            owner: Owner::User(user_id.clone()),
            name: Some("Ada's credits".to_owned()),
            currency: usd,
            rate_amount: Decimal::new(1, 2),
            paid: "100".parse()?,
            granted: "20".parse()?,
            expiration_at: None,
            activates_at: None,
            priority: 0,
            fee_types: Vec::new(),
            rules: Vec::new(),
            principal: "admin".to_owned(),
        })
        .await?;

    // Before an AI request runs: hold what it may cost.
    let hold = ledger
        .reserve(&ReserveRequest {
            scope: CascadeScope {
                org_id,
                user_id: Some(user_id),
                team_id: None,
            },
            amount: "30".parse()?,
            currency: usd,
            fee_type: FeeType::Charge,
            ttl_seconds: Some(60),
            metadata: None,
            principal: "gateway".to_owned(),
        })
        .await?;

    // After it ran: charge what it cost (granted credits burn first), release the rest.
    let settlement = ledger
        .settle(&hold.id, Credits::try_new(Decimal::new(125, 1))?, "gateway")
        .await?;

    let wallet = ledger
        .store()
        .wallet(&wallet.id)
        .await?
        .ok_or("the wallet exists")?;
    println!(
        "charged {}, released {}; wallet {} has {} paid + {} granted, {} held",
        settlement.settled_amount,
        settlement.released_amount,
        wallet.id,
        wallet.paid,
        wallet.granted,
        wallet.held
    );
    Ok(())
}
