//! Enrolling a device, as both apps do it: the code (the console's QR text, or a typed code
//! with the hub's address), a new device key, the hub's answer, a fresh replica trusting the
//! hub. The app then writes its settings file — last, since that file is what marks the
//! device enrolled.

use crate::pin::{PinError, hash_pin};
use std::path::Path;
use std::sync::Arc;
use sync_core::keys::DeviceKey;
use sync_core::replica::Replica;
use sync_core::sync::http::enroll::{EnrollError, Invitation, create_replica, enroll};

/// A device that just enrolled.
pub struct Enrolled {
    /// Its new replica, trusting the hub's key.
    pub replica: Arc<Replica>,
    /// The hub's address.
    pub hub_url: String,
    /// The device's id.
    pub device: u32,
    /// The events it works for.
    pub events: Vec<u32>,
    /// The settings PIN, hashed.
    pub pin_hash: String,
}

impl Enrolled {
    /// The event to preselect: the only one, when there is one (the usual case).
    pub fn only_event(&self) -> Option<u32> {
        (self.events.len() == 1).then(|| self.events[0])
    }
}

/// Enrolls with the code in `text` (and `hub_url` for a typed code), setting `pin`; the
/// replica is created at `dir/replica_file`. Errors convert into the app's own.
pub async fn enroll_device<E>(
    dir: &Path,
    replica_file: &str,
    (text, hub_url): (&str, Option<&str>),
    pin: &str,
    app_version: &str,
) -> Result<Enrolled, E>
where
    E: From<EnrollError> + From<PinError> + From<anyhow::Error>,
{
    let pin_hash = hash_pin(pin)?;
    let invitation = Invitation::parse(text, hub_url)?;
    let key = DeviceKey::generate().map_err(anyhow::Error::from)?;
    let enrollment = enroll(&invitation, &key, app_version).await?;
    // A replica left by an enrollment that failed half-way belongs to no device: start over.
    let path = dir.join(replica_file);
    for stale in [path.clone(), path.with_extension("db-wal"), path.with_extension("db-shm")] {
        let _ = std::fs::remove_file(stale);
    }
    let replica = Arc::new(create_replica(&path, &enrollment, key).map_err(anyhow::Error::from)?);
    Ok(Enrolled {
        replica,
        hub_url: enrollment.hub_url,
        device: enrollment.device.0,
        events: enrollment.events.iter().map(|e| e.0).collect(),
        pin_hash,
    })
}

/// The apps' log: `RUST_LOG` if set, else `info`, to standard error.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
}
