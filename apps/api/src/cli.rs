//! The command line: `purse [serve]`, `purse migrate`, `purse audit`, `purse token create`.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use ledger_core::Ledger;
use ledger_core::id::{OrgId, UserId};
use ledger_core::ports::Clock;
use ledger_core::service::AuditReport;

use crate::clock::SystemClock;
use crate::config::Config;
use crate::http::auth::Role;
use crate::http::routes::tokens::{MintRequest, mint};
use crate::ids::RandomIds;
use crate::wiring::open_stores;

/// purse: prepaid credit wallets with reserve-and-settle, cost tickets and top-ups.
#[derive(Debug, Parser)]
#[command(name = "purse", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run migrations and serve the HTTP API (the default).
    Serve,
    /// Run the database migrations and exit.
    Migrate,
    /// Check every ledger invariant on the database; exit 1 with a report on any breach.
    Audit,
    /// Manage bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Mint a token and print it alone on stdout.
    Create {
        /// The organization (omit for a platform_admin token).
        #[arg(long)]
        org: Option<String>,
        /// member, billing_admin, org_admin, gateway or platform_admin.
        #[arg(long)]
        role: String,
        /// The user the token acts as.
        #[arg(long)]
        user: Option<String>,
        /// A display name.
        #[arg(long)]
        name: Option<String>,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(&cli.config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(%error, "could not start the async runtime");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run(cli))
}

fn init_tracing(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // When stderr is closed, tracing would report that with `eprint!`, which panics, and a
        // panic in the signal task would leave the server running: drop the lines instead.
        .log_internal_errors(false)
        .try_init();
}

async fn run(cli: Cli) -> ExitCode {
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Migrate => migrate(&cli.config).await,
        Command::Audit => audit(&cli.config).await,
        Command::Token {
            command:
                TokenCommand::Create {
                    org,
                    role,
                    user,
                    name,
                },
        } => token_create(&cli.config, org, &role, user, name).await,
    };
    match outcome {
        Ok(code) => code,
        Err(message) => {
            tracing::error!(error = %message, "purse failed");
            eprintln!("purse: {message}");
            ExitCode::from(2)
        }
    }
}

async fn serve(config: Config) -> Result<ExitCode, String> {
    // Listen for the signals before the server announces itself, so a SIGTERM sent right after
    // start-up is never lost to the default action.
    let signals = ShutdownSignals::install().map_err(|error| error.to_string())?;
    let app = crate::build(config)
        .await
        .map_err(|error| error.to_string())?;
    let handle = app.shutdown_handle();
    tokio::spawn(async move {
        signals.recv().await;
        tracing::info!("shutdown signal received; finishing in-flight requests");
        handle.shutdown();
    });
    app.wait().await;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM and SIGINT (Ctrl-C), registered up front.
struct ShutdownSignals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    #[cfg(unix)]
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    #[cfg(not(unix))]
    fn install() -> std::io::Result<Self> {
        Ok(Self {})
    }

    #[cfg(unix)]
    async fn recv(mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {},
            _ = self.interrupt.recv() => {},
        }
    }

    #[cfg(not(unix))]
    async fn recv(self) {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn migrate(config: &Config) -> Result<ExitCode, String> {
    let stores = open_stores(config, true)
        .await
        .map_err(|error| error.to_string())?;
    if let Some(database) = &stores.database {
        database.close().await;
    }
    eprintln!("purse: migrations applied");
    Ok(ExitCode::SUCCESS)
}

async fn audit(config: &Config) -> Result<ExitCode, String> {
    let stores = open_stores(config, false)
        .await
        .map_err(|error| error.to_string())?;
    let ledger = Ledger::new(
        stores.ledger.clone(),
        Arc::new(SystemClock),
        Arc::new(RandomIds),
    );
    let mut report = ledger.audit().await.map_err(|error| error.to_string())?;
    // Invariants 5 and 6 on payment sessions: credited once, credits = money / rate.
    let sessions = ledger_core::payments::audit::audit_sessions(
        stores.ledger.as_ref(),
        stores.payments.as_ref(),
    )
    .await
    .map_err(|error| error.to_string())?;
    report.breaches.extend(sessions);
    print_audit(&report);
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn token_create(
    config: &Config,
    org: Option<String>,
    role: &str,
    user: Option<String>,
    name: Option<String>,
) -> Result<ExitCode, String> {
    let role = Role::parse(role).ok_or_else(|| {
        format!(
            "unknown role `{role}`: member, billing_admin, org_admin, gateway or platform_admin"
        )
    })?;
    let org_id = org
        .map(|text| OrgId::parse(&text).map_err(|error| error.to_string()))
        .transpose()?;
    let user_id = user
        .map(|text| UserId::parse(&text).map_err(|error| error.to_string()))
        .transpose()?;
    let stores = open_stores(config, true)
        .await
        .map_err(|error| error.to_string())?;
    let request = MintRequest {
        org_id,
        user_id,
        role,
        name: name.unwrap_or_default(),
    };
    let minted = mint(
        stores.directory.as_ref(),
        &RandomIds,
        SystemClock.now(),
        request,
    )
    .await;
    if let Some(database) = &stores.database {
        database.close().await;
    }
    let (_, secret) = minted.map_err(|error| {
        let body = error.to_body();
        body["error"]["message"]
            .as_str()
            .unwrap_or("could not mint the token")
            .to_owned()
    })?;
    print_line(&secret);
    Ok(ExitCode::SUCCESS)
}

/// The CLI's only writes to stdout.
#[expect(
    clippy::print_stdout,
    reason = "the CLI's output is its product: the token, the audit report"
)]
fn print_line(line: &str) {
    println!("{line}");
}

fn print_audit(report: &AuditReport) {
    print_line(&format!(
        "audit: {} wallets, {} accounts checked, {} breaches",
        report.wallets_checked,
        report.accounts_checked,
        report.breaches.len()
    ));
    for breach in &report.breaches {
        print_line(&format!(
            "breach {}: {}: {}",
            breach.invariant, breach.subject, breach.detail
        ));
    }
}
