//! Configuration: defaults, then a TOML file, then environment variables (`VOELGOED_*`), each
//! overriding the one before. Secrets (the database URL, the master key) may instead be read
//! from a file named by `VOELGOED_<NAME>_FILE` — the way container orchestrators mount them —
//! and are never printed: their `Debug` is redacted.
//!
//! With nothing configured the hub runs on the embedded SQLite default in `./voelgoed-data`,
//! creating the directory, the database and a master key (owner-only permissions) on first
//! start.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Everything the hub reads at start.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the embedded database and generated secrets live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means SQLite in `data_dir`.
    pub database_url: SecretString,
    /// 32-byte key (base64) that encrypts event signing keys at rest; empty means the key file
    /// in `data_dir` (generated on first start).
    pub master_key: SecretString,
    /// The URL devices and browsers reach the hub at (printed, and given to enrolling devices).
    pub public_url: String,
    /// tracing filter, e.g. `info` or `cloud=debug,tower_http=info`.
    pub log: String,
    /// Log lines as JSON objects (for log collectors) instead of text.
    pub log_json: bool,
    /// How long a checkout holds its tickets unpaid, in minutes (1–120).
    pub hold_minutes: u32,
    /// Checkouts allowed per client address per minute.
    pub checkouts_per_minute: u32,
    /// Seconds a payment may stay pending before the hub asks the provider about it (its
    /// webhook may have been lost: the hub was down, the network failed). 1–3600.
    pub missed_payment_after_secs: u32,
    /// Most checkouts placed, and most payments settled, in one database transaction (group
    /// commit; 1 turns it off).
    pub checkout_batch: usize,
    /// Requests each API token may make per minute (as many at once), across all instances.
    pub api_token_requests_per_minute: u32,
    /// `smtp://host:port` (`?tls=required` for STARTTLS), `smtps://user:password@host`, or
    /// empty: mail is written to `<data_dir>/mail-outbox` as `.eml` files.
    pub smtp_url: SecretString,
    /// The sender of the hub's mail.
    pub mail_from: String,
    /// Stripe, when configured (`stripe_secret_key` set); otherwise the simulated provider.
    pub stripe: Option<StripeConfig>,
    /// Development only: webhook endpoints may be `http` and on loopback, private and
    /// link-local addresses (a receiver on the developer's machine). Off in production, where
    /// those are refused (server-side request forgery).
    pub webhooks_allow_private: bool,
    /// Twilio, when configured (`twilio_account_sid` set): texts go through it; otherwise
    /// through the simulated channel.
    pub twilio: Option<TwilioConfig>,
    /// Texts each organization may send an hour (as many at once); more wait their turn.
    pub texts_per_hour: u32,
}

/// Twilio's keys and senders.
#[derive(Clone, Debug)]
pub struct TwilioConfig {
    /// The account (`AC…`).
    pub account_sid: String,
    /// Its auth token.
    pub auth_token: SecretString,
    /// The SMS sender: one of the account's numbers, or an alphanumeric sender id.
    pub from: String,
    /// The WhatsApp sender number ("" if the account has none: WhatsApp texts fail).
    pub whatsapp_from: String,
    /// The API's base (`https://api.twilio.com`; an emulator in the tests).
    pub api_base: String,
}

/// The file-and-environment shape of [`Config`] (secrets as plain strings until wrapped).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    listen: String,
    data_dir: PathBuf,
    database_url: String,
    database_url_file: Option<PathBuf>,
    master_key: String,
    master_key_file: Option<PathBuf>,
    public_url: Option<String>,
    log: String,
    log_json: bool,
    hold_minutes: u32,
    checkouts_per_minute: u32,
    missed_payment_after_secs: u32,
    checkout_batch: usize,
    api_token_requests_per_minute: u32,
    smtp_url: String,
    smtp_url_file: Option<PathBuf>,
    mail_from: String,
    stripe_secret_key: String,
    stripe_secret_key_file: Option<PathBuf>,
    stripe_publishable_key: String,
    /// One `whsec_…` secret, or two separated by a comma while rotating.
    stripe_webhook_secret: String,
    stripe_webhook_secret_file: Option<PathBuf>,
    stripe_api_base: String,
    stripe_js_url: String,
    webhooks_allow_private: bool,
    twilio_account_sid: String,
    twilio_auth_token: String,
    twilio_auth_token_file: Option<PathBuf>,
    #[serde(deserialize_with = "phone_or_sender")]
    twilio_from: String,
    #[serde(deserialize_with = "phone_or_sender")]
    twilio_whatsapp_from: String,
    twilio_api_base: String,
    texts_per_hour: u32,
}

impl Default for Raw {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            data_dir: "voelgoed-data".into(),
            database_url: String::new(),
            database_url_file: None,
            master_key: String::new(),
            master_key_file: None,
            public_url: None,
            log: "info".into(),
            log_json: false,
            hold_minutes: 15,
            checkouts_per_minute: 120,
            missed_payment_after_secs: 60,
            checkout_batch: 128,
            api_token_requests_per_minute: 600,
            smtp_url: String::new(),
            smtp_url_file: None,
            mail_from: "Voelgoed <tickets@voelgoed.invalid>".into(),
            stripe_secret_key: String::new(),
            stripe_secret_key_file: None,
            stripe_publishable_key: String::new(),
            stripe_webhook_secret: String::new(),
            stripe_webhook_secret_file: None,
            stripe_api_base: DEFAULT_STRIPE_API.into(),
            stripe_js_url: DEFAULT_STRIPE_JS.into(),
            webhooks_allow_private: false,
            twilio_account_sid: String::new(),
            twilio_auth_token: String::new(),
            twilio_auth_token_file: None,
            twilio_from: String::new(),
            twilio_whatsapp_from: String::new(),
            twilio_api_base: "https://api.twilio.com".into(),
            texts_per_hour: 500,
        }
    }
}

/// A configuration that cannot be used; the message names the setting.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// A value of the wrong shape, an unknown key, an unreadable file.
    #[error("configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads the configuration: defaults → `file` (if given, it must exist) → environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        // Only the settings' own names: other VOELGOED_* variables (test switches, the owner
        // password of `create-org`) are not configuration.
        let names = [
            "listen",
            "data_dir",
            "database_url",
            "database_url_file",
            "master_key",
            "master_key_file",
            "public_url",
            "log",
            "log_json",
            "hold_minutes",
            "checkouts_per_minute",
            "missed_payment_after_secs",
            "checkout_batch",
            "api_token_requests_per_minute",
            "smtp_url",
            "smtp_url_file",
            "mail_from",
            "stripe_secret_key",
            "stripe_secret_key_file",
            "stripe_publishable_key",
            "stripe_webhook_secret",
            "stripe_webhook_secret_file",
            "stripe_api_base",
            "stripe_js_url",
            "webhooks_allow_private",
            "twilio_account_sid",
            "twilio_auth_token",
            "twilio_auth_token_file",
            "twilio_from",
            "twilio_whatsapp_from",
            "twilio_api_base",
            "texts_per_hour",
        ];
        Self::load_from(file, Env::prefixed("VOELGOED_").only(&names))
    }

    fn load_from(file: Option<&Path>, env: Env) -> Result<Self, ConfigError> {
        let invalid = |e: &dyn std::fmt::Display| ConfigError::Invalid(e.to_string());
        let mut figment = Figment::from(Serialized::defaults(Raw::default()));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::Invalid(format!("file {} does not exist", path.display())));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let raw: Raw = figment.merge(env).extract().map_err(|e| invalid(&e))?;
        let listen: SocketAddr = raw
            .listen
            .parse()
            .map_err(|_| ConfigError::Invalid(format!("listen: {:?} is not ADDR:PORT", raw.listen)))?;
        if !(1..=120).contains(&raw.hold_minutes) {
            return Err(ConfigError::Invalid(format!("hold_minutes: {} is not 1–120", raw.hold_minutes)));
        }
        if !(1..=3600).contains(&raw.missed_payment_after_secs) {
            return Err(ConfigError::Invalid(format!(
                "missed_payment_after_secs: {} is not 1–3600",
                raw.missed_payment_after_secs
            )));
        }
        if raw.checkouts_per_minute == 0 {
            return Err(ConfigError::Invalid("checkouts_per_minute: at least 1".into()));
        }
        if !(1..=1024).contains(&raw.checkout_batch) {
            return Err(ConfigError::Invalid(format!(
                "checkout_batch: {} is not 1–1024",
                raw.checkout_batch
            )));
        }
        if raw.api_token_requests_per_minute == 0 {
            return Err(ConfigError::Invalid("api_token_requests_per_minute: at least 1".into()));
        }
        let secret =
            |value: String, file: Option<PathBuf>, name: &str| -> Result<SecretString, ConfigError> {
                match file {
                    Some(path) => std::fs::read_to_string(&path)
                        .map(|s| SecretString::from(s.trim().to_owned()))
                        .map_err(|e| ConfigError::Invalid(format!("{name}_file {}: {e}", path.display()))),
                    None => Ok(SecretString::from(value)),
                }
            };
        let stripe_secret_key =
            secret(raw.stripe_secret_key, raw.stripe_secret_key_file, "stripe_secret_key")?;
        let stripe_webhook_secret =
            secret(raw.stripe_webhook_secret, raw.stripe_webhook_secret_file, "stripe_webhook_secret")?;
        let stripe = stripe_config(
            stripe_secret_key,
            raw.stripe_publishable_key,
            &stripe_webhook_secret,
            raw.stripe_api_base,
            raw.stripe_js_url,
        )?;
        if raw.texts_per_hour == 0 {
            return Err(ConfigError::Invalid("texts_per_hour: at least 1".into()));
        }
        let twilio_auth_token =
            secret(raw.twilio_auth_token, raw.twilio_auth_token_file, "twilio_auth_token")?;
        let twilio = twilio_config(
            raw.twilio_account_sid,
            twilio_auth_token,
            &raw.twilio_from,
            raw.twilio_whatsapp_from,
            raw.twilio_api_base,
        )?;
        Ok(Self {
            listen,
            stripe,
            twilio,
            texts_per_hour: raw.texts_per_hour,
            database_url: secret(raw.database_url, raw.database_url_file, "database_url")?,
            master_key: secret(raw.master_key, raw.master_key_file, "master_key")?,
            smtp_url: secret(raw.smtp_url, raw.smtp_url_file, "smtp_url")?,
            mail_from: raw.mail_from,
            public_url: raw.public_url.unwrap_or_else(|| format!("http://{listen}")),
            data_dir: raw.data_dir,
            log: raw.log,
            log_json: raw.log_json,
            hold_minutes: raw.hold_minutes,
            checkouts_per_minute: raw.checkouts_per_minute,
            missed_payment_after_secs: raw.missed_payment_after_secs,
            checkout_batch: raw.checkout_batch,
            api_token_requests_per_minute: raw.api_token_requests_per_minute,
            webhooks_allow_private: raw.webhooks_allow_private,
        })
    }

    /// The defaults alone (no file, no environment): what tests and embedders start from
    /// before setting the fields they need.
    pub fn defaults() -> Self {
        Self::load_from(None, Env::prefixed("VOELGOED_").only(&[]))
            .unwrap_or_else(|e| unreachable!("the defaults are valid: {e}"))
    }

    /// The database URL to use: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        let configured = self.database_url.expose_secret();
        if configured.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("hub.db").display())
        } else {
            configured.to_owned()
        }
    }
}

/// A sender as text. Environment values that look like numbers arrive as numbers
/// (`VOELGOED_TWILIO_FROM=+15551234567` is read as 15551234567), so a number is taken back to
/// the international form it was written in.
fn phone_or_sender<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Text(String),
        Number(u64),
    }
    Ok(match Either::deserialize(d)? {
        Either::Text(t) => t,
        // E.164 is 8 to 15 digits; fewer is a short code, written without "+".
        Either::Number(n) if n >= 10_000_000 => format!("+{n}"),
        Either::Number(n) => n.to_string(),
    })
}

/// Twilio's settings, checked: all or nothing of the account, a sender, an http(s) API base.
fn twilio_config(
    account_sid: String,
    auth_token: SecretString,
    from: &str,
    whatsapp_from: String,
    api_base: String,
) -> Result<Option<TwilioConfig>, ConfigError> {
    let invalid = |m: &str| Err(ConfigError::Invalid(m.to_owned()));
    if account_sid.is_empty() {
        if !auth_token.expose_secret().is_empty() || !from.is_empty() {
            return invalid("twilio_account_sid: set it too, or leave the other twilio_ settings out");
        }
        return Ok(None);
    }
    if auth_token.expose_secret().is_empty() {
        return invalid("twilio_auth_token: required with twilio_account_sid");
    }
    if from.trim().is_empty() {
        return invalid("twilio_from: the account's SMS sender (a number or a sender id)");
    }
    let e164 = |n: &str| {
        n.strip_prefix('+')
            .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
    };
    if !whatsapp_from.is_empty() && !e164(&whatsapp_from) {
        return invalid("twilio_whatsapp_from: a number in international form, like +14155238886");
    }
    if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
        return invalid("twilio_api_base: an http(s) address");
    }
    Ok(Some(TwilioConfig { account_sid, auth_token, from: from.trim().to_owned(), whatsapp_from, api_base }))
}

/// Stripe's API.
pub const DEFAULT_STRIPE_API: &str = "https://api.stripe.com";
/// Stripe.js, which Stripe requires to be loaded from its own address.
pub const DEFAULT_STRIPE_JS: &str = "https://js.stripe.com/v3/";

/// How the hub reaches Stripe. `Debug` shows no secret.
#[derive(Clone)]
pub struct StripeConfig {
    /// `sk_live_…` / `sk_test_…` (or a restricted `rk_…` key with PaymentIntents and Refunds).
    pub secret_key: SecretString,
    /// `pk_live_…` / `pk_test_…`: given to the payment page for Stripe.js.
    pub publishable_key: String,
    /// The webhook endpoint's signing secrets (`whsec_…`): one, or two while rotating.
    pub webhook_secrets: Vec<SecretString>,
    /// Stripe's API address (an emulator's in tests).
    pub api_base: String,
    /// Where the payment page loads Stripe.js from.
    pub js_url: String,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("secret_key", &"[redacted]")
            .field("publishable_key", &self.publishable_key)
            .field("webhook_secrets", &format!("[{} redacted]", self.webhook_secrets.len()))
            .field("api_base", &self.api_base)
            .field("js_url", &self.js_url)
            .finish()
    }
}

/// Stripe's settings, checked: none of them set is no Stripe (the simulated provider); the
/// secret key set needs the rest, each of the shape Stripe gives it.
fn stripe_config(
    secret_key: SecretString,
    publishable_key: String,
    webhook_secret: &SecretString,
    api_base: String,
    js_url: String,
) -> Result<Option<StripeConfig>, ConfigError> {
    let invalid = |message: &str| Err(ConfigError::Invalid(message.into()));
    let key = secret_key.expose_secret();
    if key.is_empty() {
        if !publishable_key.is_empty() || !webhook_secret.expose_secret().is_empty() {
            return invalid("stripe_secret_key: needed with the other stripe_* settings");
        }
        return Ok(None);
    }
    if !(key.starts_with("sk_") || key.starts_with("rk_")) {
        return invalid("stripe_secret_key: a secret key starts with sk_ (or rk_ when restricted)");
    }
    if !publishable_key.starts_with("pk_") {
        return invalid("stripe_publishable_key: needed with Stripe, and starts with pk_");
    }
    let webhook_secrets: Vec<SecretString> = webhook_secret
        .expose_secret()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
        .collect();
    if webhook_secrets.is_empty() || webhook_secrets.iter().any(|s| !s.expose_secret().starts_with("whsec_"))
    {
        return invalid(
            "stripe_webhook_secret: the endpoint's signing secret (whsec_…), two separated by a comma while rotating",
        );
    }
    for (name, url) in [("stripe_api_base", &api_base), ("stripe_js_url", &js_url)] {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(ConfigError::Invalid(format!("{name}: {url:?} is not an http(s) address")));
        }
    }
    Ok(Some(StripeConfig { secret_key, publishable_key, webhook_secrets, api_base, js_url }))
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail decides the closure's error type
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn twilio_is_all_or_nothing_and_its_token_may_come_from_a_file() {
        Jail::expect_with(|jail| {
            assert!(Config::load(None).unwrap().twilio.is_none(), "texts are simulated by default");
            jail.set_env("VOELGOED_TWILIO_ACCOUNT_SID", "AC00000000000000000000000000000000");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("twilio_auth_token"), "{err}");
            jail.create_file("token", "s3cr3t\n")?;
            jail.set_env("VOELGOED_TWILIO_AUTH_TOKEN_FILE", "token");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("twilio_from"), "{err}");
            jail.set_env("VOELGOED_TWILIO_FROM", "+15551234567");
            jail.set_env("VOELGOED_TWILIO_WHATSAPP_FROM", "the-sandbox");
            let err = Config::load(None).unwrap_err().to_string();
            assert!(err.contains("twilio_whatsapp_from"), "{err}");
            jail.set_env("VOELGOED_TWILIO_WHATSAPP_FROM", "+14155238886");
            let t = Config::load(None).unwrap().twilio.expect("configured");
            assert_eq!(
                (t.auth_token.expose_secret(), t.api_base.as_str()),
                ("s3cr3t", "https://api.twilio.com")
            );
            assert!(!format!("{t:?}").contains("s3cr3t"), "the token is never printed");
            jail.set_env("VOELGOED_TEXTS_PER_HOUR", "0");
            assert!(Config::load(None).unwrap_err().to_string().contains("texts_per_hour"));
            Ok(())
        });
    }

    #[test]
    fn defaults_then_file_then_environment() {
        Jail::expect_with(|jail| {
            let c = Config::load(None).unwrap();
            assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
            assert!(c.database_url().starts_with("sqlite://voelgoed-data/hub.db"));

            jail.create_file("hub.toml", "listen = \"0.0.0.0:9000\"\nlog = \"debug\"\n")?;
            let c = Config::load(Some(Path::new("hub.toml"))).unwrap();
            assert_eq!((c.listen.port(), c.log.as_str()), (9000, "debug"));
            assert_eq!(c.public_url, "http://0.0.0.0:9000");

            jail.set_env("VOELGOED_LISTEN", "127.0.0.1:9100");
            let c = Config::load(Some(Path::new("hub.toml"))).unwrap();
            assert_eq!(c.listen.port(), 9100, "the environment wins");
            assert_eq!(c.log, "debug", "the file still counts");
            Ok(())
        });
    }

    #[test]
    fn bad_values_name_the_setting() {
        Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "listen = \"nowhere\"\n")?;
            let err = Config::load(Some(Path::new("bad.toml"))).unwrap_err();
            assert!(err.to_string().contains("listen"), "{err}");
            jail.create_file("hold.toml", "hold_minutes = 0\n")?;
            let err = Config::load(Some(Path::new("hold.toml"))).unwrap_err();
            assert!(err.to_string().contains("hold_minutes"), "{err}");
            jail.create_file("typo.toml", "lsiten = \"0.0.0.0:1\"\n")?;
            let err = Config::load(Some(Path::new("typo.toml"))).unwrap_err();
            assert!(err.to_string().contains("lsiten"), "{err}");
            let err = Config::load(Some(Path::new("missing.toml"))).unwrap_err();
            assert!(err.to_string().contains("does not exist"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn secrets_come_from_files_and_never_print() {
        Jail::expect_with(|jail| {
            jail.create_file("db-url", "postgres://app:hunter2@db/hub\n")?;
            jail.set_env("VOELGOED_DATABASE_URL_FILE", "db-url");
            let c = Config::load(None).unwrap();
            assert_eq!(c.database_url(), "postgres://app:hunter2@db/hub");
            assert!(!format!("{c:?}").contains("hunter2"), "{c:?}");
            Ok(())
        });
    }

    #[test]
    fn stripe_is_all_or_nothing_and_its_secrets_never_print() {
        Jail::expect_with(|jail| {
            assert!(Config::load(None).unwrap().stripe.is_none(), "the simulated provider by default");
            jail.create_file("stripe-key", "sk_test_hunter2\n")?;
            jail.set_env("VOELGOED_STRIPE_SECRET_KEY_FILE", "stripe-key");
            jail.set_env("VOELGOED_STRIPE_PUBLISHABLE_KEY", "pk_test_abc");
            let refused = Config::load(None).unwrap_err().to_string();
            assert!(refused.contains("stripe_webhook_secret"), "{refused}");
            jail.set_env("VOELGOED_STRIPE_WEBHOOK_SECRET", "whsec_old, whsec_new");
            let c = Config::load(None).unwrap();
            let stripe = c.stripe.as_ref().unwrap();
            assert_eq!(stripe.webhook_secrets.len(), 2);
            assert_eq!(stripe.api_base, "https://api.stripe.com");
            let printed = format!("{c:?}");
            assert!(!printed.contains("hunter2") && !printed.contains("whsec_"), "{printed}");
            jail.set_env("VOELGOED_STRIPE_PUBLISHABLE_KEY", "sk_test_wrong_field");
            let refused = Config::load(None).unwrap_err().to_string();
            assert!(refused.contains("stripe_publishable_key"), "{refused}");
            Ok(())
        });
    }
}
