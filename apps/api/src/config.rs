//! Configuration: every `PURSE_*` variable of `api.md`, read through clap (`--help` lists them).
//!
//! Only this crate reads the environment; everything below it takes typed values.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use clap::builder::BoolishValueParser;

/// A secret read from the environment: never printed, never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(value))
    }
}

/// The service's configuration.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// `sqlite://relative.db`, `sqlite:///absolute.db` (created if missing) or `postgres://…`.
    #[arg(
        long,
        global = true,
        env = "PURSE_DATABASE_URL",
        default_value = "sqlite://purse.db"
    )]
    pub database_url: String,

    /// The address to serve on (port 0 picks a free port).
    #[arg(
        long,
        global = true,
        env = "PURSE_LISTEN",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,

    /// How browsers reach the service; `http://{PURSE_LISTEN}` when unset.
    #[arg(long, global = true, env = "PURSE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// A bearer token that acts as a platform admin (first set-up and tests).
    #[arg(
        long,
        global = true,
        env = "PURSE_BOOTSTRAP_TOKEN",
        hide_env_values = true
    )]
    pub bootstrap_token: Option<Secret>,

    /// Base64 of 32 bytes: encrypts provider secrets at rest (AES-256-GCM).
    #[arg(long, global = true, env = "PURSE_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<Secret>,

    /// Overrides where the PayPal adapter sends requests.
    #[arg(long, global = true, env = "PURSE_PAYPAL_BASE_URL")]
    pub paypal_base_url: Option<String>,

    /// Overrides where the Revolut adapter sends requests.
    #[arg(long, global = true, env = "PURSE_REVOLUT_BASE_URL")]
    pub revolut_base_url: Option<String>,

    /// The log filter (tracing `EnvFilter` syntax).
    #[arg(long, global = true, env = "PURSE_LOG", default_value = "info")]
    pub log: String,

    /// `1` enables the test clock routes (never in production).
    #[arg(long, global = true, env = "PURSE_TEST_CLOCK", value_parser = BoolishValueParser::new(), default_value = "false")]
    pub test_clock: bool,

    /// How often the background worker sweeps due work, in milliseconds.
    #[arg(
        long,
        global = true,
        env = "PURSE_SWEEP_INTERVAL_MS",
        default_value_t = 1000
    )]
    pub sweep_interval_ms: u64,

    /// The longest a request may run before it is answered 503, in milliseconds.
    #[arg(
        long,
        global = true,
        env = "PURSE_REQUEST_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub request_timeout_ms: u64,

    /// The largest request body accepted, in bytes.
    #[arg(long, global = true, env = "PURSE_BODY_LIMIT_BYTES", default_value_t = 64 * 1024)]
    pub body_limit_bytes: usize,

    /// Database connections per process.
    #[arg(
        long,
        global = true,
        env = "PURSE_DATABASE_POOL_SIZE",
        default_value_t = 10
    )]
    pub database_pool_size: u32,
}

impl Default for Config {
    /// The defaults of `api.md`, without reading the environment.
    fn default() -> Self {
        Self {
            database_url: "sqlite://purse.db".to_owned(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            bootstrap_token: None,
            master_key: None,
            paypal_base_url: None,
            revolut_base_url: None,
            log: "info".to_owned(),
            test_clock: false,
            sweep_interval_ms: 1000,
            request_timeout_ms: 30_000,
            body_limit_bytes: 64 * 1024,
            database_pool_size: 10,
        }
    }
}

impl Config {
    /// The public URL, defaulting to the listen address.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    /// The sweep period.
    pub fn sweep_interval(&self) -> Duration {
        Duration::from_millis(self.sweep_interval_ms.max(10))
    }

    /// The per-request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms.max(1))
    }
}
