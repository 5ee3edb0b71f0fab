//! The simulated channel, for development and tests: each text is appended as one JSON line
//! (`{"id", "to", "via", "body", "provider_id"}`) to a file a developer can `tail -f`, and
//! none leaves the machine. A number ending in `0000` is refused (as a provider refuses a
//! number that cannot receive texts), so that path can be tried too.

use super::{Channel, Outgoing, SendError};
use std::io::Write as _;
use std::path::PathBuf;

/// Texts written to a file.
#[derive(Debug)]
pub struct Simulated {
    path: PathBuf,
    /// One writer at a time: lines never interleave.
    lock: tokio::sync::Mutex<()>,
}

impl Simulated {
    /// Texts appended to `path`.
    pub fn new(path: PathBuf) -> Self {
        Self { path, lock: tokio::sync::Mutex::new(()) }
    }
}

#[async_trait::async_trait]
impl Channel for Simulated {
    fn name(&self) -> &'static str {
        "simulated"
    }

    async fn send(&self, text: &Outgoing) -> Result<String, SendError> {
        if text.to.ends_with("0000") {
            return Err(SendError::Refused(format!("{} cannot receive texts (simulated)", text.to)));
        }
        let provider_id = format!("SIM{:010}", text.id);
        let line = serde_json::json!({
            "id": text.id, "to": text.to, "via": text.via.as_str(), "body": text.body, "provider_id": provider_id,
        });
        let _guard = self.lock.lock().await;
        let (path, line) = (self.path.clone(), format!("{line}\n"));
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            file.write_all(line.as_bytes())?;
            file.sync_data()
        })
        .await
        .map_err(|e| SendError::Failed(e.to_string()))?
        .map_err(|e| SendError::Failed(format!("{}: {e}", self.path.display())))?;
        Ok(provider_id)
    }
}
