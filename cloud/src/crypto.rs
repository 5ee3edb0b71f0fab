//! The master key and sealing: event signing keys (and the hub's own key) are stored encrypted
//! with XChaCha20-Poly1305 under a 32-byte master key from configuration — or, for the embedded
//! default, a key file generated in the data directory with owner-only permissions.
//!
//! Each sealed value is bound to what it is (associated data such as `event-key:12:1`), so a
//! sealed secret copied into another row does not open.

use anyhow::{Context, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::ExposeSecret;
use std::path::Path;

/// The key that seals secrets at rest (and derives secrets the hub instances must share).
#[derive(Clone)]
pub struct MasterKey(XChaCha20Poly1305, [u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(redacted)")
    }
}

const NONCE_LEN: usize = 24;

impl MasterKey {
    /// From 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        // Derived secrets come from a key of their own, never the sealing key itself.
        let derive = hmac(&bytes, b"voelgoed:derive");
        Self(XChaCha20Poly1305::new(&bytes.into()), derive)
    }

    /// A 32-byte secret for `label`, the same on every hub instance sharing this master key
    /// (e.g. the simulated payment provider's credentials when none are configured).
    pub fn derive(&self, label: &str) -> [u8; 32] {
        hmac(&self.1, label.as_bytes())
    }

    /// The configured key (base64), or the key file in `data_dir` (created on first use).
    pub fn load(configured: &secrecy::SecretString, data_dir: &Path) -> anyhow::Result<Self> {
        let text = configured.expose_secret();
        if !text.is_empty() {
            return Self::decode(text).context("master_key");
        }
        let path = data_dir.join("master.key");
        if path.exists() {
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            return Self::decode(text.trim()).with_context(|| format!("{}", path.display()));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| anyhow!("system random source: {e}"))?;
        write_private(&path, &BASE64.encode(bytes))
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(Self::from_bytes(bytes))
    }

    fn decode(text: &str) -> anyhow::Result<Self> {
        let bytes = BASE64.decode(text.trim()).map_err(|_| anyhow!("not base64"))?;
        let bytes: [u8; 32] =
            bytes.try_into().map_err(|_| anyhow!("must be 32 bytes (44 base64 characters)"))?;
        Ok(Self::from_bytes(bytes))
    }

    /// Encrypts `secret`, bound to `label`: nonce ‖ ciphertext.
    pub fn seal(&self, secret: &[u8], label: &str) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| anyhow!("system random source: {e}"))?;
        let sealed = self
            .0
            .encrypt(&XNonce::from(nonce), Payload { msg: secret, aad: label.as_bytes() })
            .map_err(|_| anyhow!("sealing failed"))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// Decrypts what [`Self::seal`] made with the same `label`.
    pub fn open(&self, sealed: &[u8], label: &str) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            bail!("sealed value too short");
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| anyhow!("bad nonce"))?;
        self.0
            .decrypt(&XNonce::from(nonce), Payload { msg: ciphertext, aad: label.as_bytes() })
            .map_err(|_| anyhow!("cannot open {label}: wrong master key or damaged data"))
    }
}

fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(content.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_label() {
        let key = MasterKey::from_bytes([7; 32]);
        let sealed = key.seal(b"secret", "event-key:1:1").unwrap();
        assert_eq!(key.open(&sealed, "event-key:1:1").unwrap(), b"secret");
        assert!(key.open(&sealed, "event-key:2:1").is_err(), "moved to another row");
        assert!(MasterKey::from_bytes([8; 32]).open(&sealed, "event-key:1:1").is_err());
        assert!(key.open(&sealed[..10], "event-key:1:1").is_err());
    }

    #[test]
    fn derived_secrets_depend_on_key_and_label() {
        let key = MasterKey::from_bytes([7; 32]);
        assert_eq!(key.derive("a"), MasterKey::from_bytes([7; 32]).derive("a"));
        assert_ne!(key.derive("a"), key.derive("b"));
        assert_ne!(key.derive("a"), MasterKey::from_bytes([8; 32]).derive("a"));
    }

    #[test]
    fn the_embedded_default_makes_a_private_key_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let empty = secrecy::SecretString::from(String::new());
        let first = MasterKey::load(&empty, dir.path()).unwrap();
        let sealed = first.seal(b"x", "l").unwrap();
        let again = MasterKey::load(&empty, dir.path()).unwrap();
        assert_eq!(again.open(&sealed, "l").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("master.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let bad = secrecy::SecretString::from("short".to_owned());
        assert!(MasterKey::load(&bad, dir.path()).unwrap_err().to_string().contains("master_key"));
    }
}
