//! A device the organizer removed: what it does once it holds the hub's verified revocation
//! notice (`sync_core::revoked`), and what it is afterwards.
//!
//! In this order, each step durable before the next, so a power cut anywhere leaves either a
//! working device or one that finishes the job when it starts again:
//!
//! 1. the notice is checked once more against the hub's key this device trusted at enrollment
//!    (the sync links already did; a notice that does not verify changes nothing);
//! 2. this device's own entries the hub never acknowledged (a last door sale, the last scans)
//!    are sealed to the hub's key, signed with the device's own, and written to
//!    `exports/` ([`EXPORTS_DIR`]) — only the hub can open the file, an administrator uploads
//!    it in the console;
//! 3. the marker [`MARKER_FILE`] is written: from now on the device is removed, also after a
//!    restart;
//! 4. the replica is wiped from inside (`Replica::wipe`: emptied with `secure_delete`,
//!    vacuumed), then its files, the settings, the PIN guard and the app's own personal files
//!    (the box office's receipts and shift reports) are deleted.
//!
//! If the export cannot be sealed (this device trusts no hub key — it cannot happen after an
//! enrollment), the replica is kept rather than destroy a sale; the screen says so.

use crate::json_file;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use sync_core::ids::Timestamp;
use sync_core::journal::HUB;
use sync_core::replica::Replica;
use sync_core::revoked::SignedNotice;
use sync_core::sync::http::Identity;

/// The marker of a removed device, inside the app's data directory.
pub const MARKER_FILE: &str = "removed.json";
/// Where sealed exports are kept, inside the app's data directory.
pub const EXPORTS_DIR: &str = "exports";

/// What a removed device shows, as kept in [`MARKER_FILE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Removed {
    /// The device's id at the hub.
    pub device: u32,
    /// When the organizer revoked it, as the hub's notice says (Unix ms).
    pub revoked_at: i64,
    /// When this device acted on the notice (Unix ms).
    pub wiped_at: i64,
    /// The sealed export's path, to hand to an administrator (`None`: sealing failed).
    pub export: Option<PathBuf>,
    /// The entries it holds: what this device never got to the hub.
    pub unsynced: usize,
    /// Why there is no export, when there is none: the replica was then kept.
    pub export_error: Option<String>,
}

/// The marker in `dir`, if the device there was removed.
pub fn load(dir: &Path) -> anyhow::Result<Option<Removed>> {
    json_file::load(dir, MARKER_FILE)
}

/// Forgets a removal (the device enrolls again): the marker goes; exports stay.
pub fn forget(dir: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(dir.join(MARKER_FILE)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// Acts on `notice` for the device whose data directory is `dir` and whose replica (file
/// `replica_file`) is `replica` (steps 1–4 above; `personal` names the app's own files and
/// folders to delete). Returns what the screen shows.
pub fn retire(
    dir: &Path,
    replica: &Replica,
    replica_file: &str,
    notice: &SignedNotice,
    personal: &[&str],
) -> anyhow::Result<Removed> {
    let hub = replica.key_of(HUB).ok_or_else(|| anyhow::anyhow!("this device trusts no hub key"))?;
    let verified = notice.verify(&hub, replica.device())?;
    let mut removed = Removed {
        device: replica.device().0,
        revoked_at: verified.revoked_at.0,
        wiped_at: Timestamp::now().0,
        export: None,
        unsynced: 0,
        export_error: None,
    };
    match replica.seal_unsynced(verified) {
        Ok((file, count)) => {
            let exports = dir.join(EXPORTS_DIR);
            std::fs::create_dir_all(&exports)?;
            let name = format!("voelgoed-device-{}-removed-{}.vgexport", removed.device, removed.revoked_at);
            json_file::write_atomically(&exports, &name, &file)?;
            (removed.export, removed.unsynced) = (Some(exports.join(name)), count);
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot seal what this device never synced; keeping its replica");
            removed.export_error = Some(e.to_string());
        }
    }
    json_file::save(dir, MARKER_FILE, &removed)?;
    if removed.export.is_some() {
        if let Err(e) = replica.wipe() {
            // The files are deleted below all the same.
            tracing::error!(error = %e, "wiping the replica from inside failed");
        }
        delete(dir, &[replica_file])?;
    }
    delete(dir, personal)?;
    tracing::warn!(device = removed.device, unsynced = removed.unsynced, "removed by the organizer: wiped");
    Ok(removed)
}

/// Deletes what `names` name in `dir` (files, or folders with all they hold), and a
/// database's `-wal`, `-shm` and `-journal` files beside it; what is missing already is fine.
pub fn delete(dir: &Path, names: &[&str]) -> anyhow::Result<()> {
    for name in names {
        let path = dir.join(name);
        let extra =
            ["-wal", "-shm", "-journal"].map(|suffix| PathBuf::from(format!("{}{suffix}", path.display())));
        for path in std::iter::once(path).chain(extra) {
            let result =
                if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
            match result {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(anyhow::Error::from(e).context(format!("cannot delete {}", path.display())));
                }
                _ => {}
            }
        }
    }
    Ok(())
}
