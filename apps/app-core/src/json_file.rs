//! Settings (and other files) kept as JSON beside the replica, written atomically (a temporary file, fsync,
//! rename) so a power cut leaves the old settings or the new, never half of either.

use anyhow::Context;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::Write;
use std::path::Path;

/// Reads `dir/name`; `None` if it does not exist. A damaged file is an error naming it.
pub fn load<T: DeserializeOwned>(dir: &Path, name: &str) -> anyhow::Result<Option<T>> {
    let path = dir.join(name);
    match std::fs::read(&path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map(Some).with_context(|| format!("{} is damaged", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Writes `value` to `dir/name`, atomically.
pub fn save<T: Serialize>(dir: &Path, name: &str, value: &T) -> anyhow::Result<()> {
    write_atomically(dir, name, &serde_json::to_vec_pretty(value)?)
}

/// Writes `bytes` to `dir/name`, atomically: on disk whole (fsync) before it takes the name.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let path = dir.join(name);
    let temporary = dir.join(format!("{name}.new"));
    let mut file =
        std::fs::File::create(&temporary).with_context(|| format!("cannot write {}", temporary.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, &path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_file_survives_and_a_damaged_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(super::load::<Vec<u32>>(dir.path(), "x.json").unwrap(), None);
        super::save(dir.path(), "x.json", &vec![1, 2]).unwrap();
        assert_eq!(super::load::<Vec<u32>>(dir.path(), "x.json").unwrap(), Some(vec![1, 2]));
        std::fs::write(dir.path().join("x.json"), "[1,").unwrap();
        let e = super::load::<Vec<u32>>(dir.path(), "x.json").unwrap_err();
        assert!(e.to_string().contains("x.json is damaged"), "{e}");
    }
}
