//! The enrolled device, as both apps live it: a data directory that holds the replica and a
//! settings file; enrolling once (the settings file, written last, is what marks the device
//! enrolled); opening both again at every start; the settings PIN; and the sync links, started
//! with the device and restarted when the settings change where the device syncs.
//!
//! The scanner's `Station` and the box office's `Desk` are each a [`Device`] with their own
//! settings type ([`DeviceSettings`]: the fields every device has, plus the app's) and their own
//! state beside it (`X`: the scanner's recent scans; nothing for the box office), and add what
//! only they do on top. Errors convert into the app's own error type, so each app keeps its
//! sentences; [`DeviceError`] holds the two refusals of the lifecycle itself.

use crate::enrollment::{Enrolled, enroll_device};
use crate::links::{Badge, LinkConfig, Links};
use crate::pin::{PinError, check_pin};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use sync_core::ids::DeviceId;
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::sync::http::enroll::EnrollError;

/// The replica's file name, inside the app's data directory.
pub const REPLICA_FILE: &str = "replica.db";

/// The settings file's name, inside the app's data directory.
pub const SETTINGS_FILE: &str = "settings.json";

/// What an app keeps in its settings file. Every device's settings hold the hub, the device's
/// id, its events and the PIN's hash; the rest is the app's.
pub trait DeviceSettings: Clone + Serialize + DeserializeOwned {
    /// The settings of a device that has just enrolled as `enrolled` says.
    fn enrolled(enrolled: &Enrolled) -> Self;
    /// The device's id at the hub.
    fn device(&self) -> u32;
    /// The argon2id hash of the settings PIN.
    fn pin_hash(&self) -> &str;
    /// The sync links these settings ask for.
    fn links(&self) -> LinkConfig;
}

/// The lifecycle's own refusals; each app words them in its own error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceError {
    /// An action that needs enrollment first.
    NotEnrolled,
    /// Enrolling a device that already is.
    AlreadyEnrolled,
}

/// An enrolled device, running: its replica, settings, sync links and the app's own state.
pub struct Active<S, X> {
    /// The replica.
    pub replica: Arc<Replica>,
    /// The settings, as on disk.
    pub settings: S,
    /// What the app keeps beside them while it runs.
    pub local: X,
    links: Arc<Links>,
}

impl<S, X> Active<S, X> {
    /// The sync badge, now.
    pub fn badge(&self) -> Badge {
        self.links.badge(&self.replica)
    }
}

/// A device in its data directory: not enrolled yet, or enrolled and running.
pub struct Device<S, X = ()> {
    dir: PathBuf,
    app_version: String,
    runtime: tokio::runtime::Handle,
    active: Mutex<Option<Active<S, X>>>,
}

impl<S: DeviceSettings, X: Default> Device<S, X> {
    /// Opens the device in `dir` (the app's data directory, created if missing), resuming an
    /// earlier enrollment and its sync if there was one; its tasks run on `runtime`.
    pub fn open(dir: PathBuf, app_version: &str, runtime: tokio::runtime::Handle) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let device = Self { dir, app_version: app_version.to_owned(), runtime, active: Mutex::new(None) };
        if let Some(settings) = crate::json_file::load::<S>(&device.dir, SETTINGS_FILE)? {
            let config = ReplicaConfig::new(DeviceId(settings.device()));
            let replica = Arc::new(Replica::open(device.dir.join(REPLICA_FILE), config)?);
            device.start(replica, settings);
        }
        Ok(device)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The running device, if enrolled (held until the guard drops).
    pub fn lock(&self) -> MutexGuard<'_, Option<Active<S, X>>> {
        self.active.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `f` on the running device (under its lock), or refuses: not enrolled.
    pub fn with<R, E: From<DeviceError>>(
        &self,
        f: impl FnOnce(&mut Active<S, X>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut guard = self.lock();
        f(guard.as_mut().ok_or(DeviceError::NotEnrolled)?)
    }

    fn start(&self, replica: Arc<Replica>, settings: S) {
        let links = Links::start(&self.runtime, &replica, &settings.links());
        *self.lock() = Some(Active { replica, settings, local: X::default(), links });
    }

    /// Enrolls with the code in `text` (the QR text, or a code with `hub_url`), setting `pin`
    /// for the settings. Sync starts at once; the events arrive with it.
    pub async fn enroll<E>(&self, text: &str, hub_url: Option<&str>, pin: &str) -> Result<(), E>
    where
        E: From<DeviceError> + From<EnrollError> + From<PinError> + From<anyhow::Error>,
    {
        if self.lock().is_some() {
            return Err(DeviceError::AlreadyEnrolled.into());
        }
        let enrolled =
            enroll_device::<E>(&self.dir, REPLICA_FILE, (text, hub_url), pin, &self.app_version).await?;
        let settings = S::enrolled(&enrolled);
        // The settings file is what marks the device enrolled: written last.
        crate::json_file::save(&self.dir, SETTINGS_FILE, &settings)?;
        self.start(enrolled.replica, settings);
        Ok(())
    }

    /// Checks the settings PIN.
    pub fn unlock<E: From<DeviceError> + From<PinError>>(&self, pin: &str) -> Result<(), E> {
        self.with(|active| Ok(check_pin(active.settings.pin_hash(), pin)?))
    }

    /// Changes the settings behind the PIN: `change` edits a copy (refusing with the app's
    /// error leaves everything as it was), which is saved, then kept; the sync links restart
    /// if it changed where the device syncs.
    pub fn change_settings<E>(
        &self,
        pin: &str,
        change: impl FnOnce(&Replica, &mut S) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<DeviceError> + From<PinError> + From<anyhow::Error>,
    {
        self.with(|active| {
            check_pin(active.settings.pin_hash(), pin)?;
            let mut settings = active.settings.clone();
            change(&active.replica, &mut settings)?;
            crate::json_file::save(&self.dir, SETTINGS_FILE, &settings)?;
            let relink = settings.links() != active.settings.links();
            active.settings = settings;
            if relink {
                active.links.stop();
                active.links = Links::start(&self.runtime, &active.replica, &active.settings.links());
            }
            Ok(())
        })
    }

    /// Stops the sync tasks (the app is closing).
    pub fn shutdown(&self) {
        if let Some(active) = self.lock().as_ref() {
            active.links.stop();
        }
    }

    /// The replica, if enrolled.
    pub fn replica(&self) -> Option<Arc<Replica>> {
        self.lock().as_ref().map(|active| Arc::clone(&active.replica))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct TestSettings {
        hub_url: String,
        device: u32,
        pin_hash: String,
        peer_port: Option<u16>,
        colour: String,
    }

    impl DeviceSettings for TestSettings {
        fn enrolled(enrolled: &Enrolled) -> Self {
            Self {
                hub_url: enrolled.hub_url.clone(),
                device: enrolled.device,
                pin_hash: enrolled.pin_hash.clone(),
                peer_port: None,
                colour: "green".into(),
            }
        }
        fn device(&self) -> u32 {
            self.device
        }
        fn pin_hash(&self) -> &str {
            &self.pin_hash
        }
        fn links(&self) -> LinkConfig {
            LinkConfig { hub_url: self.hub_url.clone(), peer_port: self.peer_port, ..LinkConfig::default() }
        }
    }

    #[derive(Debug, thiserror::Error)]
    enum TestError {
        #[error("lifecycle: {0:?}")]
        Device(DeviceError),
        #[error(transparent)]
        Pin(#[from] PinError),
        #[error(transparent)]
        Enroll(#[from] EnrollError),
        #[error("{0}")]
        Other(String),
    }

    impl From<DeviceError> for TestError {
        fn from(e: DeviceError) -> Self {
            Self::Device(e)
        }
    }

    impl From<anyhow::Error> for TestError {
        fn from(e: anyhow::Error) -> Self {
            Self::Other(e.to_string())
        }
    }

    fn enrolled_on_disk(dir: &Path) {
        // As an enrollment leaves it: a replica, then the settings file.
        Replica::open(dir.join(REPLICA_FILE), ReplicaConfig::new(DeviceId(7))).unwrap();
        let settings = TestSettings {
            // Nobody listens there: the hub link just keeps retrying.
            hub_url: "http://127.0.0.1:9".into(),
            device: 7,
            pin_hash: crate::pin::hash_pin("2468").unwrap(),
            peer_port: None,
            colour: "blue".into(),
        };
        crate::json_file::save(dir, SETTINGS_FILE, &settings).unwrap();
    }

    #[tokio::test]
    async fn a_new_device_refuses_what_needs_enrollment() {
        let dir = tempfile::tempdir().unwrap();
        let device =
            Device::<TestSettings>::open(dir.path().join("app"), "test", tokio::runtime::Handle::current())
                .unwrap();
        assert!(device.replica().is_none());
        assert!(matches!(
            device.unlock::<TestError>("2468"),
            Err(TestError::Device(DeviceError::NotEnrolled))
        ));
        let changed = device.change_settings::<TestError>("2468", |_, _| Ok(()));
        assert!(matches!(changed, Err(TestError::Device(DeviceError::NotEnrolled))));
        // A failed enrollment (a bad PIN here) leaves it unenrolled, with no settings file.
        let refused = device.enroll::<TestError>("VGENROLL:http://127.0.0.1:9#ab12", None, "12").await;
        assert!(matches!(refused, Err(TestError::Pin(PinError::Format))), "{refused:?}");
        assert!(!dir.path().join("app").join(SETTINGS_FILE).exists());
    }

    #[tokio::test]
    async fn an_enrolled_device_resumes_and_guards_its_settings_with_the_pin() {
        let dir = tempfile::tempdir().unwrap();
        enrolled_on_disk(dir.path());
        let device = Device::<TestSettings, Vec<u32>>::open(
            dir.path().into(),
            "test",
            tokio::runtime::Handle::current(),
        )
        .unwrap();
        assert_eq!(device.replica().unwrap().device(), DeviceId(7));
        device.unlock::<TestError>("2468").unwrap();
        assert!(matches!(device.unlock::<TestError>("1357"), Err(TestError::Pin(PinError::Wrong))));
        let again = device.enroll::<TestError>("VGENROLL:http://127.0.0.1:9#ab12", None, "2468").await;
        assert!(matches!(again, Err(TestError::Device(DeviceError::AlreadyEnrolled))));

        // A refused change changes nothing, on disk or in memory.
        let refused = device.change_settings("2468", |_, s: &mut TestSettings| {
            s.colour = "red".into();
            Err(TestError::Other("no".into()))
        });
        assert!(refused.is_err());
        assert_eq!(device.with(|a| Ok::<_, TestError>(a.settings.colour.clone())).unwrap(), "blue");
        // A wrong PIN changes nothing either.
        let wrong = device.change_settings("1357", |_, s: &mut TestSettings| {
            s.colour = "red".into();
            Ok::<_, TestError>(())
        });
        assert!(matches!(wrong, Err(TestError::Pin(PinError::Wrong))));
        // A change is saved, and the links restart when it moves them.
        device
            .change_settings("2468", |_, s: &mut TestSettings| {
                s.colour = "red".into();
                s.peer_port = Some(0);
                Ok::<_, TestError>(())
            })
            .unwrap();
        let on_disk: TestSettings = crate::json_file::load(dir.path(), SETTINGS_FILE).unwrap().unwrap();
        assert_eq!((on_disk.colour.as_str(), on_disk.peer_port), ("red", Some(0)));
        // The app's own state lives beside the settings.
        device
            .with(|a| {
                a.local.push(1);
                Ok::<_, TestError>(())
            })
            .unwrap();
        assert_eq!(device.with(|a| Ok::<_, TestError>(a.local.clone())).unwrap(), vec![1]);
        assert_eq!(device.with(|a| Ok::<_, TestError>(a.badge().pending)).unwrap(), 0);
        device.shutdown();

        // Opened again (the app restarted), it holds the saved settings.
        let device =
            Device::<TestSettings>::open(dir.path().into(), "test", tokio::runtime::Handle::current())
                .unwrap();
        assert_eq!(device.with(|a| Ok::<_, TestError>(a.settings.colour.clone())).unwrap(), "red");
        device.shutdown();
    }
}
