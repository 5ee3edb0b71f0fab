//! The hub's own signing key: it signs sync responses (devices verify them with the public key
//! they received at enrollment). Made once, sealed with the master key, shared by every hub
//! instance through the database.

use crate::crypto::MasterKey;
use crate::db::Db;
use std::sync::Arc;
use sync_core::keys::DeviceKey;

const LABEL: &str = "hub-key";

/// The hub's own key, shared by the handlers that sign.
#[derive(Clone)]
pub struct HubKey(Arc<DeviceKey>);

impl HubKey {
    /// Its public key, as devices know it.
    pub fn public_key(&self) -> [u8; 32] {
        self.0.public_key()
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message)
    }

    /// The hub's signed notice that `device` was revoked at `revoked_at` (Unix ms).
    pub fn revocation_notice(&self, device: u32, revoked_at: i64) -> sync_core::revoked::SignedNotice {
        sync_core::revoked::SignedNotice::sign(
            &self.0,
            sync_core::ids::DeviceId(device),
            sync_core::ids::Timestamp(revoked_at),
        )
    }

    /// `settings` for one device, signed with this key and sealed to the device's public key.
    pub fn seal_settings(
        &self,
        device_key: &[u8; 32],
        settings: &sync_core::remote::RemoteSettings,
    ) -> Result<sync_core::remote::SealedSettings, sync_core::revoked::RevokedError> {
        sync_core::remote::SealedSettings::seal(&self.0, device_key, settings)
    }

    /// Opens a revoked device's sealed export (sealed to this key), checking it against the
    /// key `device_key` gives for the device it names.
    pub fn open_export(
        &self,
        file: &[u8],
        device_key: impl FnOnce(sync_core::ids::DeviceId) -> Option<ed25519_dalek::VerifyingKey>,
    ) -> Result<sync_core::revoked::Export, sync_core::revoked::RevokedError> {
        sync_core::revoked::SealedExport::open(file, &self.0, device_key)
    }
}

/// The hub's key, made on first start.
pub async fn load_or_create(db: &Db, master: &MasterKey) -> anyhow::Result<HubKey> {
    Ok(HubKey(Arc::new(load_or_create_key(db, master).await?)))
}

async fn load_or_create_key(db: &Db, master: &MasterKey) -> anyhow::Result<DeviceKey> {
    if let Some(key) = load(db, master).await? {
        return Ok(key);
    }
    let key = DeviceKey::generate()?;
    let sealed = master.seal(&key.secret_seed(), LABEL)?;
    // Two instances starting at once: the second insert does nothing and both read the winner.
    sqlx::query("INSERT INTO hub_identity (singleton, public_key, sealed_secret) VALUES (1, $1, $2) ON CONFLICT (singleton) DO NOTHING")
        .bind(key.public_key().to_vec())
        .bind(sealed)
        .execute(db.pool())
        .await?;
    load(db, master).await?.ok_or_else(|| anyhow::anyhow!("hub key vanished"))
}

async fn load(db: &Db, master: &MasterKey) -> anyhow::Result<Option<DeviceKey>> {
    let Some(sealed): Option<Vec<u8>> =
        sqlx::query_scalar("SELECT sealed_secret FROM hub_identity WHERE singleton = 1")
            .fetch_optional(db.pool())
            .await?
    else {
        return Ok(None);
    };
    let seed: [u8; 32] =
        master.open(&sealed, LABEL)?.try_into().map_err(|_| anyhow::anyhow!("hub key is not 32 bytes"))?;
    Ok(Some(DeviceKey::from_seed(seed)))
}
