//! The enrolled device, as both apps live it: a data directory that holds the replica and a
//! settings file; enrolling once (the settings file, written last, is what marks the device
//! enrolled); opening both again at every start; the settings PIN, guarded against guessing
//! ([`crate::pin::PinGuard`]); the sync links, started with the device and restarted when the
//! settings change where the device syncs; and the end of it all, when the organizer removes
//! the device: on the hub's verified notice the links stop, what never synced is sealed to the
//! hub, everything else is wiped ([`crate::removed`]), and the device refuses all but a new
//! enrollment.
//!
//! The scanner's `Station` and the box office's `Desk` are each a [`Device`] with their own
//! settings type ([`DeviceSettings`]: the fields every device has, plus the app's) and their own
//! state beside it (`X`: the scanner's recent scans; nothing for the box office), and add what
//! only they do on top. Errors convert into the app's own error type, so each app keeps its
//! sentences; [`DeviceError`] holds the two refusals of the lifecycle itself.

use crate::enrollment::{Enrolled, enroll_device};
use crate::links::Hooks;
use crate::links::{Badge, LinkConfig, Links};
use crate::pin::{GUARD_FILE, PinError, PinGuard, hash_pin};
use crate::removed::{self, Removed};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use sync_core::ids::{DeviceId, Timestamp};
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::revoked::SignedNotice;
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
    /// When the organizer last set the PIN from the console (hub's clock, Unix ms; 0: never).
    fn pin_set_at(&self) -> i64;
    /// Takes the PIN the organizer set at `set_at` (its hash).
    fn set_pin(&mut self, hash: String, set_at: i64);
    /// The sync links these settings ask for.
    fn links(&self) -> LinkConfig;
    /// The app's own files and folders in the data directory that hold personal data, deleted
    /// with the replica and the settings when the organizer removes the device.
    const PERSONAL: &'static [&'static str] = &[];
}

/// The lifecycle's own refusals; each app words them in its own error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceError {
    /// An action that needs enrollment first.
    NotEnrolled,
    /// Enrolling a device that already is.
    AlreadyEnrolled,
    /// The organizer removed this device (the hub's notice): it does nothing until enrolled again.
    Removed,
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

/// A device in its data directory: not enrolled yet, enrolled and running, or removed.
pub struct Device<S, X = ()> {
    shared: Arc<Shared<S, X>>,
    app_version: String,
    runtime: tokio::runtime::Handle,
}

/// Work the sync links hand the device, done off the async threads.
type Work<S, X> = Box<dyn FnOnce(&Shared<S, X>) + Send>;

/// What the sync links reach too: they act on a revocation notice.
struct Shared<S, X> {
    dir: PathBuf,
    active: Mutex<Option<Active<S, X>>>,
    /// Set once the device acted on a revocation notice (or found its marker at start).
    removed: Mutex<Option<Removed>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: DeviceSettings, X> Shared<S, X> {
    /// The files a removal deletes besides the replica: settings, PIN guard, the app's own.
    fn personal() -> Vec<&'static str> {
        [SETTINGS_FILE, GUARD_FILE].into_iter().chain(S::PERSONAL.iter().copied()).collect()
    }

    /// Acts on the hub's revocation notice (see [`crate::removed`]); a notice that does not
    /// verify changes nothing.
    fn retire(&self, notice: &SignedNotice) {
        let mut active = lock(&self.active);
        let Some(running) = active.as_ref() else { return };
        running.links.stop();
        match removed::retire(&self.dir, &running.replica, REPLICA_FILE, notice, &Self::personal()) {
            Ok(done) => {
                *active = None;
                *lock(&self.removed) = Some(done);
            }
            Err(e) => tracing::error!(error = %e, "a revocation notice was not acted on"),
        }
    }

    /// Applies what the organizer set for this device from the console and this device has not
    /// applied yet: a new PIN replaces the old one and clears the wrong-PIN count.
    fn apply_remote(&self) {
        let mut active = lock(&self.active);
        let Some(running) = active.as_mut() else { return };
        let Some(change) = running.replica.remote_settings() else { return };
        let Some(pin) = change.pin.filter(|_| change.set_at.0 > running.settings.pin_set_at()) else {
            return;
        };
        let hash = match hash_pin(&pin) {
            Ok(hash) => hash,
            Err(e) => return tracing::warn!(error = %e, "the organizer's PIN is not one; kept the old"),
        };
        let mut settings = running.settings.clone();
        settings.set_pin(hash, change.set_at.0);
        if let Err(e) = crate::json_file::save(&self.dir, SETTINGS_FILE, &settings) {
            return tracing::error!(error = %e, "cannot save the organizer's PIN; tried again at the next sync");
        }
        running.settings = settings;
        PinGuard::reset(&self.dir);
        tracing::info!("the organizer set a new settings PIN");
    }
}

impl<S: DeviceSettings + Send + 'static, X: Default + Send + 'static> Device<S, X> {
    /// Opens the device in `dir` (the app's data directory, created if missing), resuming an
    /// earlier enrollment and its sync if there was one; its tasks run on `runtime`. A device
    /// removed earlier stays removed, and a removal a power cut interrupted is finished.
    pub fn open(dir: PathBuf, app_version: &str, runtime: tokio::runtime::Handle) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)?;
        let shared = Shared { dir, active: Mutex::new(None), removed: Mutex::new(None) };
        let device = Self { shared: Arc::new(shared), app_version: app_version.to_owned(), runtime };
        if let Some(done) = removed::load(device.dir())? {
            if done.export.is_some() {
                removed::delete(device.dir(), &[REPLICA_FILE])?;
            }
            removed::delete(device.dir(), &Shared::<S, X>::personal())?;
            *lock(&device.shared.removed) = Some(done);
        } else if let Some(settings) = crate::json_file::load::<S>(device.dir(), SETTINGS_FILE)? {
            let config = ReplicaConfig::new(DeviceId(settings.device()));
            let replica = Arc::new(Replica::open(device.dir().join(REPLICA_FILE), config)?);
            device.start(replica, settings);
        }
        Ok(device)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The running device, if enrolled (held until the guard drops).
    pub fn lock(&self) -> MutexGuard<'_, Option<Active<S, X>>> {
        lock(&self.shared.active)
    }

    /// What the screen shows of a device the organizer removed; `None` while it is not.
    pub fn removed(&self) -> Option<Removed> {
        lock(&self.shared.removed).clone()
    }

    /// Runs `f` on the running device (under its lock), or refuses: not enrolled, or removed.
    pub fn with<R, E: From<DeviceError>>(
        &self,
        f: impl FnOnce(&mut Active<S, X>) -> Result<R, E>,
    ) -> Result<R, E> {
        let mut guard = self.lock();
        match guard.as_mut() {
            Some(active) => f(active),
            None if self.removed().is_some() => Err(DeviceError::Removed.into()),
            None => Err(DeviceError::NotEnrolled.into()),
        }
    }

    fn start(&self, replica: Arc<Replica>, settings: S) {
        let links = self.links(&replica, &settings);
        *self.lock() = Some(Active { replica, settings, local: X::default(), links });
    }

    /// The sync links `settings` ask for: what they bring is applied (the organizer's PIN),
    /// and a revocation notice retires the device — file work, off the async threads.
    fn links(&self, replica: &Arc<Replica>, settings: &S) -> Arc<Links> {
        let (shared, runtime) = (Arc::downgrade(&self.shared), self.runtime.clone());
        let in_background = move |work: Work<S, X>| {
            let shared = shared.clone();
            runtime.spawn_blocking(move || {
                if let Some(shared) = shared.upgrade() {
                    work(&shared);
                }
            });
        };
        let also = in_background.clone();
        let hooks = Hooks {
            synced: Arc::new(move || in_background(Box::new(Shared::apply_remote))),
            revoked: Arc::new(move |notice: SignedNotice| also(Box::new(move |s| s.retire(&notice)))),
        };
        Links::start(&self.runtime, replica, &settings.links(), hooks)
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
            enroll_device::<E>(self.dir(), REPLICA_FILE, (text, hub_url), pin, &self.app_version).await?;
        let settings = S::enrolled(&enrolled);
        // The settings file is what marks the device enrolled: written last, after a removal
        // is forgotten (its exports stay) and any old PIN count is cleared.
        removed::forget(self.dir())?;
        PinGuard::reset(self.dir());
        crate::json_file::save(self.dir(), SETTINGS_FILE, &settings)?;
        *lock(&self.shared.removed) = None;
        self.start(enrolled.replica, settings);
        Ok(())
    }

    /// Checks the settings PIN, guarded against guessing ([`PinGuard`]).
    pub fn unlock<E: From<DeviceError> + From<PinError>>(&self, pin: &str) -> Result<(), E> {
        self.with(|active| {
            Ok(PinGuard::check(self.dir(), active.settings.pin_hash(), pin, Timestamp::now())?)
        })
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
            PinGuard::check(self.dir(), active.settings.pin_hash(), pin, Timestamp::now())?;
            let mut settings = active.settings.clone();
            change(&active.replica, &mut settings)?;
            crate::json_file::save(self.dir(), SETTINGS_FILE, &settings)?;
            let relink = settings.links() != active.settings.links();
            active.settings = settings;
            if relink {
                active.links.stop();
                active.links = self.links(&active.replica, &active.settings);
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
        pin_set_at: i64,
        peer_port: Option<u16>,
        colour: String,
    }

    impl DeviceSettings for TestSettings {
        fn enrolled(enrolled: &Enrolled) -> Self {
            Self {
                hub_url: enrolled.hub_url.clone(),
                device: enrolled.device,
                pin_hash: enrolled.pin_hash.clone(),
                pin_set_at: 0,
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
        fn pin_set_at(&self) -> i64 {
            self.pin_set_at
        }
        fn set_pin(&mut self, hash: String, set_at: i64) {
            (self.pin_hash, self.pin_set_at) = (hash, set_at);
        }
        fn links(&self) -> LinkConfig {
            LinkConfig { hub_url: self.hub_url.clone(), peer_port: self.peer_port, ..LinkConfig::default() }
        }
        const PERSONAL: &'static [&'static str] = &["receipts"];
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

    fn enrolled_on_disk(dir: &Path) -> sync_core::keys::DeviceKey {
        // As an enrollment leaves it: a replica trusting the hub's key, then the settings file.
        let hub = sync_core::keys::DeviceKey::generate().unwrap();
        let replica = Replica::open(dir.join(REPLICA_FILE), ReplicaConfig::new(DeviceId(7))).unwrap();
        replica.trust(sync_core::journal::HUB, &hub.public_key()).unwrap();
        let settings = TestSettings {
            // Nobody listens there: the hub link just keeps retrying.
            hub_url: "http://127.0.0.1:9".into(),
            device: 7,
            pin_hash: crate::pin::hash_pin("2468").unwrap(),
            pin_set_at: 0,
            peer_port: None,
            colour: "blue".into(),
        };
        crate::json_file::save(dir, SETTINGS_FILE, &settings).unwrap();
        hub
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_hubs_notice_seals_what_never_synced_wipes_the_rest_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let hub = enrolled_on_disk(dir.path());
        let open = || {
            Device::<TestSettings>::open(dir.path().into(), "test", tokio::runtime::Handle::current())
                .unwrap()
        };
        let device = open();
        let replica = device.replica().unwrap();
        let event = sync_core::ids::EventId(1);
        let sale =
            sync_core::journal::Payload::Shift(Box::new(sync_core::journal::shift::ShiftEntry::Open {
                cashier: "Cashier Quintessa".into(),
                float_minor: 0,
                currency: "EUR".into(),
            }));
        replica.record(event, sale).unwrap();
        let device_key = sync_core::keys::strict_public_key(&replica.public_key());
        std::fs::create_dir_all(dir.path().join("receipts")).unwrap();
        std::fs::write(dir.path().join("receipts/receipt-1.pdf"), "Quintessa").unwrap();
        drop(replica);

        // A notice signed by any other key, or naming another device, changes nothing.
        let now = Timestamp::now();
        let forger = sync_core::keys::DeviceKey::generate().unwrap();
        device.shared.retire(&SignedNotice::sign(&forger, DeviceId(7), now));
        device.shared.retire(&SignedNotice::sign(&hub, DeviceId(8), now));
        assert!(device.replica().is_some() && device.removed().is_none());
        assert!(dir.path().join(REPLICA_FILE).exists());

        // The hub's own: sealed, wiped, and refusing.
        device.shared.retire(&SignedNotice::sign(&hub, DeviceId(7), now));
        let removed = device.removed().expect("removed");
        assert_eq!((removed.device, removed.revoked_at, removed.unsynced), (7, now.0, 1));
        let export = std::fs::read(removed.export.as_ref().unwrap()).unwrap();
        let opened = sync_core::revoked::SealedExport::open(&export, &hub, |_| device_key).unwrap();
        assert_eq!(opened.entries.len(), 1, "the hub opens what never reached it");
        for gone in [REPLICA_FILE, "replica.db-wal", SETTINGS_FILE, "receipts"] {
            assert!(!dir.path().join(gone).exists(), "{gone} is deleted");
        }
        assert!(matches!(device.unlock::<TestError>("2468"), Err(TestError::Device(DeviceError::Removed))));
        device.shutdown();
        drop(device);

        // Restarted, it is still removed; a new enrollment is what ends that.
        let device = open();
        assert_eq!(device.removed(), Some(removed));
        assert!(device.replica().is_none());
        let leftovers: Vec<_> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 2, "the marker and the exports: {leftovers:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_organizers_pin_replaces_the_old_and_opens_a_locked_device() {
        use sync_core::journal::{HUB, Payload};
        use sync_core::remote::{RemoteSettings, SealedSettings};
        let dir = tempfile::tempdir().unwrap();
        let hub_key = enrolled_on_disk(dir.path());
        let device =
            Device::<TestSettings>::open(dir.path().into(), "test", tokio::runtime::Handle::current())
                .unwrap();
        let replica = device.replica().unwrap();
        // Locked by guesses.
        crate::json_file::save(dir.path(), GUARD_FILE, &PinGuard { failures: 10, last_failure_ms: 0 })
            .unwrap();
        assert!(matches!(device.unlock::<TestError>("2468"), Err(TestError::Pin(PinError::Locked))));

        // The hub's journal brings a PIN sealed to this device (and one forged by another key,
        // which changes nothing).
        let hub = Replica::open_in_memory(ReplicaConfig::new(HUB)).unwrap();
        let seal = |key: &sync_core::keys::DeviceKey, pin: &str, at: i64| {
            let change = RemoteSettings { device: DeviceId(7), set_at: Timestamp(at), pin: Some(pin.into()) };
            Payload::DeviceSettings(SealedSettings::seal(key, &replica.public_key(), &change).unwrap())
        };
        let event = sync_core::ids::EventId(1);
        let forger = sync_core::keys::DeviceKey::generate().unwrap();
        hub.record(event, seal(&forger, "1111", 5)).unwrap();
        let transport = sync_core::sync::memory::MemoryTransport::new(&hub, DeviceId(7));
        sync_core::sync::sync_with(&*replica, &transport).await.unwrap();
        device.shared.apply_remote();
        assert!(matches!(device.unlock::<TestError>("1111"), Err(TestError::Pin(PinError::Locked))));

        hub.record(event, seal(&hub_key, "8642", 10)).unwrap();
        sync_core::sync::sync_with(&*replica, &transport).await.unwrap();
        device.shared.apply_remote();
        device.unlock::<TestError>("8642").unwrap();
        assert!(matches!(device.unlock::<TestError>("2468"), Err(TestError::Pin(PinError::Wrong))));
        // Applied once: a PIN changed on the device afterwards is not overwritten by it again.
        let saved: TestSettings = crate::json_file::load(dir.path(), SETTINGS_FILE).unwrap().unwrap();
        assert_eq!(saved.pin_set_at, 10);
        device.shutdown();
    }
}
