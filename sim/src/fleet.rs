//! A fleet of simulated devices: each enrolled with its own code and key, with its own
//! SQLite replica on disk, syncing with the hub over signed HTTP — online (pushing and
//! long-polling, as the apps do) or partitioned (not syncing at all), as the scenario says.

use crate::api::Organizer;
use crate::metrics::{Metered, SyncStats};
use anyhow::Context;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use sync_core::Timestamp;
use sync_core::ids::{DeviceId, EventId, GateId};
use sync_core::journal::HUB;
use sync_core::keys::DeviceKey;
use sync_core::manifest::Direction;
use sync_core::replica::{Replica, ReplicaConfig};
use sync_core::sync::http::HttpTransport;
use sync_core::sync::http::enroll::{EnrollError, Invitation, enroll};
use sync_core::sync::{SyncError, SyncReport, sync_with};
use sync_core::validate::ScanContext;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The sync transport of a simulated device.
pub type DeviceTransport = Metered<HttpTransport<Replica>>;

/// What a device is to be.
#[derive(Clone, Debug)]
pub struct DeviceSpec {
    /// Its name in the console.
    pub name: String,
    /// `gate` or `box_office`.
    pub role: &'static str,
    /// The hub instance it talks to.
    pub hub_url: String,
    /// The gate it stands at.
    pub gate: GateId,
    /// How far its clock is off, in ms (positive: ahead).
    pub skew_ms: i64,
}

impl DeviceSpec {
    /// A gate device `name` at gate `gate` on `hub_url`, with a true clock.
    pub fn gate(name: String, hub_url: &str, gate: u16) -> Self {
        Self { name, role: "gate", hub_url: hub_url.to_owned(), gate: GateId(gate), skew_ms: 0 }
    }
}

/// One simulated device.
pub struct Device {
    /// Its name.
    pub name: String,
    /// Its replica.
    pub replica: Arc<Replica>,
    /// Its connection to the hub.
    pub transport: Arc<DeviceTransport>,
    /// Its gate.
    pub gate: GateId,
    /// Its clock's error, ms.
    pub skew_ms: i64,
    event: EventId,
    live: Mutex<Option<(watch::Sender<bool>, JoinHandle<()>)>>,
}

impl Device {
    /// Its device id.
    pub fn id(&self) -> DeviceId {
        self.replica.device()
    }

    /// Its (possibly wrong) wall clock.
    pub fn now(&self) -> Timestamp {
        Timestamp(Timestamp::now().0 + self.skew_ms)
    }

    /// Where and when it scans, now.
    pub fn context(&self, direction: Direction) -> ScanContext {
        ScanContext { device: self.id(), gate: self.gate, direction, now: self.now() }
    }

    /// The event's gate on this device.
    pub fn gate(&self) -> sync_core::replica::Gate {
        self.replica.gate(self.event)
    }

    /// Entries this device recorded itself.
    pub fn recorded(&self) -> u64 {
        self.replica.have().get(self.id())
    }

    /// One full exchange with the hub.
    pub async fn sync(&self) -> Result<SyncReport, SyncError> {
        sync_with(&*self.replica, &*self.transport).await
    }

    /// Online: pushes each entry as it is recorded and long-polls for the others' (the
    /// apps' live link), until [`Device::go_offline`].
    pub fn go_live(&self) {
        let mut live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if live.is_some() {
            return;
        }
        let (stop, stopped) = watch::channel(false);
        let (replica, transport) = (Arc::clone(&self.replica), Arc::clone(&self.transport));
        let task = tokio::spawn(async move {
            sync_core::sync::live::run(&*replica, &*transport, stopped, |_| {}).await;
        });
        *live = Some((stop, task));
    }

    /// Partitioned: stops syncing (an exchange in flight may still complete).
    pub async fn go_offline(&self) {
        let link = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
        if let Some((stop, task)) = link {
            let _ = stop.send(true);
            task.abort();
            let _ = task.await;
        }
    }

    /// Whether its live link runs.
    pub fn is_live(&self) -> bool {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_some()
    }
}

/// The devices of one simulation, their replicas in one temporary directory.
pub struct Fleet {
    /// The devices, in the order of their specs.
    pub devices: Vec<Arc<Device>>,
    /// Their sync traffic.
    pub stats: Arc<SyncStats>,
    /// The event they serve.
    pub event: EventId,
    dir: tempfile::TempDir,
}

impl Fleet {
    /// Enrolls a device per spec for `event` (codes from `organizer`), four at a time, and
    /// syncs each once so it holds the event's manifest.
    pub async fn enroll(
        organizer: &Organizer,
        event: i64,
        specs: Vec<DeviceSpec>,
        progress: &indicatif::ProgressBar,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let stats = Arc::new(SyncStats::default());
        let event_id = EventId(u32::try_from(event)?);
        let devices = stream::iter(specs)
            .map(|spec| {
                let (stats, path) = (Arc::clone(&stats), dir.path().to_owned());
                async move {
                    let device = enroll_one(organizer, event_id, &spec, &path, stats).await?;
                    device.sync().await.with_context(|| format!("{}: first sync", spec.name))?;
                    progress.inc(1);
                    anyhow::Ok(Arc::new(device))
                }
            })
            .buffered(4)
            .try_collect()
            .await?;
        Ok(Self { devices, stats, event: event_id, dir })
    }

    /// Where the replicas live.
    pub fn dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Whether every device holds every entry any device recorded and the same hub entries:
    /// all version vectors equal, each covering every device's own count. Entries travel only
    /// through the hub, so this also means the hub holds them all.
    pub fn converged(&self) -> bool {
        let haves: Vec<_> = self.devices.iter().map(|d| d.replica.have()).collect();
        haves.windows(2).all(|w| w[0] == w[1])
            && self.devices.iter().zip(&haves).all(|(d, have)| have.get(d.id()) == d.recorded())
    }

    /// Syncs every device that is not live once, all at once; how many exchanges failed.
    pub async fn sync_offline_ones(&self) -> usize {
        let results = futures_util::future::join_all(
            self.devices.iter().filter(|d| !d.is_live()).map(|d| async move { d.sync().await }),
        )
        .await;
        results.iter().filter(|r| r.is_err()).count()
    }

    /// Waits (syncing the devices that are not live) until the fleet has converged; how long
    /// it took. Gives up after `budget` with an error saying how far it got.
    pub async fn await_convergence(&self, budget: Duration) -> anyhow::Result<Duration> {
        let started = Instant::now();
        loop {
            if self.converged() {
                return Ok(started.elapsed());
            }
            if started.elapsed() > budget {
                let totals: Vec<u64> = self.devices.iter().map(|d| d.replica.have().total()).collect();
                anyhow::bail!(
                    "the fleet did not converge within {budget:?}: entries held per device range {}–{}",
                    totals.iter().min().unwrap_or(&0),
                    totals.iter().max().unwrap_or(&0)
                );
            }
            if self.devices.iter().any(|d| !d.is_live()) {
                self.sync_offline_ones().await;
            } else {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }

    /// Waits until the hub has acknowledged every entry of every device `which` picks; how long
    /// it took. Only watches: the devices' own exchanges (live links, or whoever drives the
    /// offline ones) do the pushing.
    pub async fn await_pushed(
        &self,
        which: impl Fn(&Device) -> bool,
        budget: Duration,
    ) -> anyhow::Result<Duration> {
        let started = Instant::now();
        while self.devices.iter().filter(|d| which(d)).any(|d| d.replica.pending_for(HUB).unwrap_or(1) > 0) {
            anyhow::ensure!(
                started.elapsed() < budget,
                "the devices' entries did not reach the hub within {budget:?}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(started.elapsed())
    }

    /// Double admissions each device found: (fewest, most).
    pub fn double_admissions_found(&self) -> (usize, usize) {
        let found: Vec<usize> = self.devices.iter().map(|d| d.gate().double_admissions().len()).collect();
        (found.iter().copied().min().unwrap_or(0), found.iter().copied().max().unwrap_or(0))
    }

    /// Stops every live link.
    pub async fn all_offline(&self) {
        for device in &self.devices {
            device.go_offline().await;
        }
    }

    /// Entries the devices recorded, in all.
    pub fn recorded(&self) -> u64 {
        self.devices.iter().map(|d| d.recorded()).sum()
    }
}

async fn enroll_one(
    organizer: &Organizer,
    event: EventId,
    spec: &DeviceSpec,
    dir: &std::path::Path,
    stats: Arc<SyncStats>,
) -> anyhow::Result<Device> {
    let code = organizer.enrollment_code(&spec.name, spec.role, i64::from(event.0)).await?;
    let invitation = Invitation::parse(&code, Some(&spec.hub_url))?;
    let key = DeviceKey::generate()?;
    // A hub busy enrolling (429) says when to come back; the code stays good.
    let enrollment = loop {
        match enroll(&invitation, &key, "voelgoed-sim").await {
            Err(EnrollError::Busy(secs)) => tokio::time::sleep(Duration::from_secs(secs)).await,
            other => break other?,
        }
    };
    // The replica's clock is the device's (skewed) clock: its scans, its HLC and its signed
    // requests all carry the wrong time, as a real device's would.
    let skew = spec.skew_ms;
    let config = ReplicaConfig {
        clock: Arc::new(move || Timestamp(Timestamp::now().0 + skew)),
        ..ReplicaConfig::new(enrollment.device)
    };
    let path = dir.join(format!("device-{}.db", enrollment.device.0));
    let replica = Arc::new(Replica::create(&path, config, key)?);
    replica.trust(HUB, &enrollment.hub_key)?;
    let transport = HttpTransport::new(&spec.hub_url, Arc::clone(&replica), HUB)?;
    Ok(Device {
        name: spec.name.clone(),
        replica,
        transport: Arc::new(Metered::new(transport, stats)),
        gate: spec.gate,
        skew_ms: skew,
        event,
        live: Mutex::new(None),
    })
}
