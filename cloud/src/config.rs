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
    /// Most checkouts placed in one database transaction (group commit; 1 turns it off).
    pub checkout_batch: usize,
    /// Requests each API token may make per minute (as many at once), across all instances.
    pub api_token_requests_per_minute: u32,
    /// `smtp://host:port` (`?tls=required` for STARTTLS), `smtps://user:password@host`, or
    /// empty: mail is written to `<data_dir>/mail-outbox` as `.eml` files.
    pub smtp_url: SecretString,
    /// The sender of the hub's mail.
    pub mail_from: String,
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
    checkout_batch: usize,
    api_token_requests_per_minute: u32,
    smtp_url: String,
    smtp_url_file: Option<PathBuf>,
    mail_from: String,
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
            checkout_batch: 128,
            api_token_requests_per_minute: 600,
            smtp_url: String::new(),
            smtp_url_file: None,
            mail_from: "Voelgoed <tickets@voelgoed.invalid>".into(),
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
            "checkout_batch",
            "api_token_requests_per_minute",
            "smtp_url",
            "smtp_url_file",
            "mail_from",
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
        Ok(Self {
            listen,
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
            checkout_batch: raw.checkout_batch,
            api_token_requests_per_minute: raw.api_token_requests_per_minute,
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

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail decides the closure's error type
mod tests {
    use super::*;
    use figment::Jail;

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
}
