//! The platform's payment configuration (the `payments_config` settings document) and the
//! provider registry built from it.
//!
//! The document holds, per provider, `enabled`, `supported_currencies`, `environment` and the
//! credentials; secrets are sealed with [`SecretBox`] and never leave this module in plaintext
//! except into an adapter's constructor. A fresh install has no document: the built-in
//! `sandbox` is then enabled and active.
//!
//! [`ProviderRegistry`] is the core's [`ProviderResolver`]. The resolver is synchronous, so the
//! adapters are kept built in memory and rebuilt when the stored document's text changes:
//! [`ProviderRegistry::refresh`] runs before every payment request and every worker tick, which
//! keeps several processes on one database in step without a restart.

use std::sync::{Arc, RwLock};

use ledger_core::error::StoreError;
use ledger_core::money::Currency;
use ledger_core::payments::ProviderResolver;
use ledger_core::ports::{PaymentProvider, PaymentStore};
use provider_sandbox::SandboxProvider;
use serde::{Deserialize, Deserializer, Serialize};

use crate::secret_box::{SealedSecret, SecretBox};

/// The settings-document key.
pub const CONFIG_KEY: &str = "payments_config";

/// The providers, by wire name.
pub const PROVIDERS: [&str; 3] = ["sandbox", "paypal", "revolut_pro"];

const PAYPAL_SANDBOX_URL: &str = "https://api-m.sandbox.paypal.com";
const PAYPAL_LIVE_URL: &str = "https://api-m.paypal.com";
const REVOLUT_SANDBOX_URL: &str = "https://sandbox-merchant.revolut.com";
const REVOLUT_LIVE_URL: &str = "https://merchant.revolut.com";

/// Which of a provider's systems to talk to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// The provider's test system.
    #[default]
    Sandbox,
    /// Real money.
    Live,
}

/// The built-in sandbox's block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxBlock {
    /// Whether checkouts may use it.
    pub enabled: bool,
    /// The currencies it takes; `None`: every currency.
    pub supported_currencies: Option<Vec<Currency>>,
}

/// PayPal's block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaypalBlock {
    /// Whether checkouts may use it.
    pub enabled: bool,
    /// Sandbox or live REST base.
    pub environment: Environment,
    /// The currencies it takes; `None`: every currency.
    pub supported_currencies: Option<Vec<Currency>>,
    /// The REST app's client id (not a secret: PayPal shows it in browsers).
    pub client_id: Option<String>,
    /// The REST app's secret, sealed.
    pub client_secret: Option<SealedSecret>,
    /// The webhook registration's id.
    pub webhook_id: Option<String>,
}

/// Revolut Pro's block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevolutBlock {
    /// Whether checkouts may use it.
    pub enabled: bool,
    /// Sandbox or live Merchant API base.
    pub environment: Environment,
    /// The currencies it takes; `None`: every currency.
    pub supported_currencies: Option<Vec<Currency>>,
    /// The Merchant API secret key, sealed.
    pub secret_key: Option<SealedSecret>,
    /// The webhook signing secret, sealed.
    pub webhook_signing_secret: Option<SealedSecret>,
    /// The signing secret replaced last, still accepted so deliveries signed during a rotation
    /// verify.
    #[serde(default)]
    pub previous_webhook_signing_secret: Option<SealedSecret>,
}

/// The whole document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentsConfig {
    /// The provider new checkouts use.
    pub active_provider: String,
    /// The built-in sandbox.
    pub sandbox: SandboxBlock,
    /// PayPal.
    pub paypal: PaypalBlock,
    /// Revolut Pro.
    pub revolut_pro: RevolutBlock,
}

fn currencies(codes: &[&str]) -> Option<Vec<Currency>> {
    Some(
        codes
            .iter()
            .filter_map(|code| Currency::parse(code).ok())
            .collect(),
    )
}

impl Default for PaymentsConfig {
    /// A fresh install: the sandbox enabled and active, the real providers off.
    fn default() -> Self {
        Self {
            active_provider: provider_sandbox::NAME.to_owned(),
            sandbox: SandboxBlock {
                enabled: true,
                supported_currencies: None,
            },
            paypal: PaypalBlock {
                enabled: false,
                environment: Environment::Sandbox,
                supported_currencies: currencies(&["USD", "EUR", "GBP"]),
                client_id: None,
                client_secret: None,
                webhook_id: None,
            },
            revolut_pro: RevolutBlock {
                enabled: false,
                environment: Environment::Sandbox,
                supported_currencies: currencies(&["USD", "EUR", "GBP"]),
                secret_key: None,
                webhook_signing_secret: None,
                previous_webhook_signing_secret: None,
            },
        }
    }
}

impl PaymentsConfig {
    /// Whether the provider is switched on.
    pub fn enabled(&self, provider: &str) -> bool {
        match provider {
            "sandbox" => self.sandbox.enabled,
            "paypal" => self.paypal.enabled,
            "revolut_pro" => self.revolut_pro.enabled,
            _ => false,
        }
    }

    /// Whether the provider has every credential it needs.
    pub fn has_credentials(&self, provider: &str) -> bool {
        match provider {
            "sandbox" => true,
            "paypal" => {
                self.paypal.client_id.is_some()
                    && self.paypal.client_secret.is_some()
                    && self.paypal.webhook_id.is_some()
            }
            "revolut_pro" => self.revolut_pro.secret_key.is_some(),
            _ => false,
        }
    }

    /// Whether the provider takes the currency.
    pub fn supports(&self, provider: &str, currency: Currency) -> bool {
        let list = match provider {
            "sandbox" => &self.sandbox.supported_currencies,
            "paypal" => &self.paypal.supported_currencies,
            "revolut_pro" => &self.revolut_pro.supported_currencies,
            _ => return false,
        };
        list.as_ref().is_none_or(|list| list.contains(&currency))
    }
}

/// Where the adapters send requests: the `PURSE_*_BASE_URL` overrides, which win over the
/// configured environment.
#[derive(Debug, Clone, Default)]
pub struct BaseUrls {
    /// `PURSE_PAYPAL_BASE_URL`.
    pub paypal: Option<String>,
    /// `PURSE_REVOLUT_BASE_URL`.
    pub revolut: Option<String>,
}

impl BaseUrls {
    /// PayPal's base for an environment.
    pub fn paypal(&self, environment: Environment) -> String {
        self.paypal.clone().unwrap_or_else(|| {
            match environment {
                Environment::Sandbox => PAYPAL_SANDBOX_URL,
                Environment::Live => PAYPAL_LIVE_URL,
            }
            .to_owned()
        })
    }

    /// Revolut's base for an environment.
    pub fn revolut(&self, environment: Environment) -> String {
        self.revolut.clone().unwrap_or_else(|| {
            match environment {
                Environment::Sandbox => REVOLUT_SANDBOX_URL,
                Environment::Live => REVOLUT_LIVE_URL,
            }
            .to_owned()
        })
    }
}

#[derive(Debug, Default)]
struct Built {
    /// The document text the adapters were built from (`None`: no document, the defaults).
    text: Option<String>,
    config: PaymentsConfig,
    paypal: Option<Arc<dyn PaymentProvider>>,
    revolut: Option<Arc<dyn PaymentProvider>>,
}

/// The providers of the stored configuration; the core's [`ProviderResolver`].
#[derive(Debug)]
pub struct ProviderRegistry {
    store: Arc<dyn PaymentStore>,
    secret_box: Option<SecretBox>,
    sandbox: Arc<SandboxProvider>,
    base_urls: BaseUrls,
    public_url: String,
    built: RwLock<Built>,
}

impl ProviderRegistry {
    /// A registry over the payment store; nothing is read until [`Self::refresh`].
    pub fn new(
        store: Arc<dyn PaymentStore>,
        secret_box: Option<SecretBox>,
        sandbox: Arc<SandboxProvider>,
        base_urls: BaseUrls,
        public_url: &str,
    ) -> Self {
        Self {
            store,
            secret_box,
            sandbox,
            base_urls,
            public_url: public_url.trim_end_matches('/').to_owned(),
            built: RwLock::new(Built::default()),
        }
    }

    /// The master key, when `PURSE_MASTER_KEY` is set.
    pub fn secret_box(&self) -> Option<&SecretBox> {
        self.secret_box.as_ref()
    }

    /// The sandbox provider (its approval page needs it directly).
    pub fn sandbox(&self) -> &Arc<SandboxProvider> {
        &self.sandbox
    }

    /// How browsers reach this service (`PURSE_PUBLIC_URL`), without a trailing slash.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The base URLs in force.
    pub fn base_urls(&self) -> &BaseUrls {
        &self.base_urls
    }

    /// The configuration the adapters were last built from.
    pub fn config(&self) -> PaymentsConfig {
        self.read().config.clone()
    }

    /// Reads the stored document and rebuilds the adapters when it changed; answers it.
    ///
    /// # Errors
    /// The store's error, or `Corrupt` when the document does not decode.
    pub async fn refresh(&self) -> Result<PaymentsConfig, StoreError> {
        let text = self.store.setting(CONFIG_KEY).await?;
        {
            let built = self.read();
            if built.text == text {
                return Ok(built.config.clone());
            }
        }
        let config = match &text {
            Some(text) => serde_json::from_str(text).map_err(|error| {
                StoreError::Corrupt(format!("payments_config does not decode: {error}"))
            })?,
            None => PaymentsConfig::default(),
        };
        self.install(text, config.clone());
        Ok(config)
    }

    /// Stores a new document and rebuilds the adapters from it.
    ///
    /// # Errors
    /// The store's error.
    pub async fn save(&self, config: &PaymentsConfig) -> Result<(), StoreError> {
        let text = serde_json::to_string(config)
            .map_err(|error| StoreError::Corrupt(error.to_string()))?;
        self.store.put_setting(CONFIG_KEY, &text).await?;
        self.install(Some(text), config.clone());
        Ok(())
    }

    fn install(&self, text: Option<String>, config: PaymentsConfig) {
        let paypal = self.build_paypal(&config);
        let revolut = self.build_revolut(&config);
        let mut built = self
            .built
            .write()
            .unwrap_or_else(|poison| poison.into_inner());
        *built = Built {
            text,
            config,
            paypal,
            revolut,
        };
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Built> {
        self.built
            .read()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn open(&self, provider: &str, sealed: Option<&SealedSecret>) -> Option<String> {
        let sealed = sealed?;
        let Some(secret_box) = &self.secret_box else {
            tracing::warn!(
                provider,
                "a provider secret is stored but PURSE_MASTER_KEY is not set"
            );
            return None;
        };
        match secret_box.open(sealed) {
            Ok(secret) => Some(secret),
            Err(error) => {
                tracing::error!(provider, %error, "provider secret does not decrypt");
                None
            }
        }
    }

    fn build_paypal(&self, config: &PaymentsConfig) -> Option<Arc<dyn PaymentProvider>> {
        let block = &config.paypal;
        let client_id = block.client_id.clone()?;
        let webhook_id = block.webhook_id.clone()?;
        let secret = self.open("paypal", block.client_secret.as_ref())?;
        let paypal_config = provider_paypal::PaypalConfig::new(
            self.base_urls.paypal(block.environment),
            client_id,
            provider_paypal::Secret::new(secret),
            webhook_id,
        );
        match provider_paypal::PaypalProvider::new(paypal_config) {
            Ok(provider) => Some(Arc::new(provider)),
            Err(error) => {
                tracing::error!(%error, "PayPal adapter could not be built");
                None
            }
        }
    }

    fn build_revolut(&self, config: &PaymentsConfig) -> Option<Arc<dyn PaymentProvider>> {
        let block = &config.revolut_pro;
        let secret_key = self.open("revolut_pro", block.secret_key.as_ref())?;
        let signing_secrets = [
            block.webhook_signing_secret.as_ref(),
            block.previous_webhook_signing_secret.as_ref(),
        ]
        .into_iter()
        .filter_map(|sealed| self.open("revolut_pro", sealed))
        .map(provider_revolut::Secret::new)
        .collect();
        let revolut_config = provider_revolut::RevolutConfig::new(
            self.base_urls.revolut(block.environment),
            provider_revolut::Secret::new(secret_key),
            signing_secrets,
        );
        match provider_revolut::RevolutProvider::new(revolut_config) {
            Ok(provider) => Some(Arc::new(provider)),
            Err(error) => {
                tracing::error!(%error, "Revolut adapter could not be built");
                None
            }
        }
    }
}

impl ProviderResolver for ProviderRegistry {
    /// A provider with its credentials, enabled or not: sessions started before an admin
    /// switched it off still finish (confirm, webhooks, refunds, the reconciler). Whether new
    /// checkouts may use it is the HTTP layer's check.
    fn provider(&self, name: &str) -> Option<Arc<dyn PaymentProvider>> {
        match name {
            "sandbox" => Some(self.sandbox.clone() as Arc<dyn PaymentProvider>),
            "paypal" => self.read().paypal.clone(),
            "revolut_pro" => self.read().revolut.clone(),
            _ => None,
        }
    }

    /// Enabled by the operator and with its credentials (the stored configuration as last
    /// read): a switched-off provider charges no saved method.
    fn takes_new_payments(&self, name: &str) -> bool {
        let usable = {
            let built = self.read();
            built.config.enabled(name) && built.config.has_credentials(name)
        };
        usable && self.provider(name).is_some()
    }
}

/// Deserializes a field that may be absent (keep), `null` (clear) or a value (set).
pub fn patch_field<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}
