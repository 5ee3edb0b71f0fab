//! The gate station: one enrolled device, its replica, its settings and its sync links —
//! everything the scanner does, without Tauri (the commands are a thin layer over this).
//!
//! A verdict never waits for the network: [`Station::scan`] validates against the replica and
//! returns once the scan is durable. Sync runs beside it as background tasks
//! ([`app_core::links`]) that retry with backoff by themselves and only ever report a state for
//! the badge. Enrollment, the settings file, the PIN and the links are the lifecycle both apps
//! share ([`app_core::device::Device`]); what is the scanner's is here.

use crate::settings::{DEFAULT_VERDICT_MS, PinError, Settings};
use app_core::clock::{clock_time, display_clock};
use app_core::device::{Device, DeviceError};
use app_core::links;
use app_core::removed::Removed;
use serde::Serialize;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use sync_core::display::{VerdictDisplay, describe, describe_double};
use sync_core::ids::{DeviceId, EventId, GateId, Timestamp};
use sync_core::manifest::{Direction, EventManifest};
use sync_core::replica::Replica;
use sync_core::validate::ScanContext;

pub use app_core::device::REPLICA_FILE;
/// How many recent scans the screen lists.
pub const RECENT: usize = 20;

/// What goes wrong, in words for staff: each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum StationError {
    /// Enrolling failed.
    #[error(transparent)]
    Enroll(#[from] sync_core::sync::http::enroll::EnrollError),
    /// A wrong or malformed PIN.
    #[error(transparent)]
    Pin(#[from] PinError),
    /// An action that needs enrollment first.
    #[error("This device is not enrolled yet: enter an enrollment code first.")]
    NotEnrolled,
    /// The organizer removed this device.
    #[error(
        "The organizer removed this device: it can no longer scan. Hand it to the organizer, or enroll it again with a new code."
    )]
    Removed,
    /// Enrolling a device that already is.
    #[error("This device is already enrolled. To move it to another hub, reinstall the app.")]
    AlreadyEnrolled,
    /// Scanning before choosing an event and gate.
    #[error("Choose the event and gate first (Settings).")]
    NotConfigured,
    /// The event has not reached the device yet.
    #[error("This device has not received the event yet. Connect it to the network once.")]
    NoManifest,
    /// A setting out of range.
    #[error("{0}")]
    Invalid(String),
    /// The device's storage failed: the scan was not recorded, so no verdict is shown.
    #[error("The scan could not be saved on this device ({0}). Scan again; if it persists, restart the app.")]
    Storage(String),
}

impl Serialize for StationError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl From<sync_core::replica::ReplicaError> for StationError {
    fn from(e: sync_core::replica::ReplicaError) -> Self {
        Self::Storage(e.to_string())
    }
}

impl From<anyhow::Error> for StationError {
    fn from(e: anyhow::Error) -> Self {
        Self::Storage(format!("{e:#}"))
    }
}

impl From<DeviceError> for StationError {
    fn from(e: DeviceError) -> Self {
        match e {
            DeviceError::NotEnrolled => Self::NotEnrolled,
            DeviceError::AlreadyEnrolled => Self::AlreadyEnrolled,
            DeviceError::Removed => Self::Removed,
        }
    }
}

/// A scan as the list under the verdict shows it.
#[derive(Clone, Debug, Serialize)]
pub struct RecentScan {
    /// Local time, "14:02:07".
    pub time: String,
    /// The verdict as shown.
    #[serde(flatten)]
    pub shown: VerdictDisplay,
}

/// The scanner's whole state: the device (its settings, and the recent scans beside them).
pub struct Station {
    device: Device<Settings, VecDeque<RecentScan>>,
}

/// A gate staff can choose.
#[derive(Debug, Serialize)]
pub struct GateChoice {
    id: u16,
    name: String,
    entry: bool,
    exit: bool,
}

/// An event staff can choose, with its gates (none until its manifest has synced).
#[derive(Debug, Serialize)]
pub struct EventChoice {
    id: u32,
    name: String,
    gates: Vec<GateChoice>,
}

/// Everything the screen shows besides a fresh verdict.
#[derive(Debug, Default, Serialize)]
pub struct Status {
    enrolled: bool,
    /// The organizer removed this device: the screen says so, and nothing else.
    removed: Option<Removed>,
    device: Option<u32>,
    /// The name the organizer gave this device (from the manifest; renamed from the console).
    device_name: Option<String>,
    hub_url: Option<String>,
    events: Vec<EventChoice>,
    event: Option<u32>,
    gate: Option<u16>,
    direction: Option<Direction>,
    verdict_ms: u32,
    peer_port: Option<u16>,
    peer_address: Option<String>,
    /// Kiosk mode is on.
    kiosk: bool,
    /// Event and gate chosen and the event's manifest present: scans give verdicts.
    ready: bool,
    /// "Summer Festival · North gate · entry".
    place: String,
    admitted: usize,
    inside: usize,
    badge: links::Badge,
    recent: Vec<RecentScan>,
    doubles: Vec<String>,
}

/// What staff set behind the PIN.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// The event.
    pub event: u32,
    /// The gate.
    pub gate: u16,
    /// Entry or exit.
    pub direction: Direction,
    /// How long a verdict stays on screen (ms, 500–30,000).
    pub verdict_ms: u32,
    /// Serve peers on this port.
    #[serde(default)]
    pub peer_port: Option<u16>,
    /// Sync with the peer at this address too.
    #[serde(default)]
    pub peer_address: Option<String>,
    /// Run as a kiosk ([`crate::kiosk`]).
    #[serde(default)]
    pub kiosk: bool,
}

impl Station {
    /// Opens the station in `dir` (the app's data directory), resuming an earlier enrollment
    /// and its sync if there was one.
    pub fn open(dir: PathBuf, app_version: &str, runtime: tokio::runtime::Handle) -> anyhow::Result<Self> {
        Ok(Self { device: Device::open(dir, app_version, runtime)? })
    }

    /// Enrolls with the code in `text` (the QR text, or a code with `hub_url`), setting `pin`
    /// for the settings. Sync starts at once; the event arrives with it.
    pub async fn enroll(&self, text: &str, hub_url: Option<&str>, pin: &str) -> Result<(), StationError> {
        self.device.enroll(text, hub_url, pin).await
    }

    /// Checks the PIN (to open the settings).
    pub fn unlock(&self, pin: &str) -> Result<(), StationError> {
        self.device.unlock(pin)
    }

    /// Sets event, gate, direction, verdict time and peer sync; needs the PIN.
    pub fn configure(&self, pin: &str, choice: Choice) -> Result<(), StationError> {
        self.device.change_settings(pin, |replica, settings| {
            if !settings.events.contains(&choice.event) {
                return Err(StationError::Invalid("This device is not enrolled for that event.".into()));
            }
            let manifest = replica.manifest(EventId(choice.event)).ok_or(StationError::NoManifest)?;
            let gate = manifest
                .gate(GateId(choice.gate))
                .ok_or_else(|| StationError::Invalid("That gate does not belong to the event.".into()))?;
            if !gate.serves.allows(choice.direction) {
                return Err(StationError::Invalid(format!("{} does not serve that direction.", gate.name)));
            }
            if !(500..=30_000).contains(&choice.verdict_ms) {
                return Err(StationError::Invalid("The verdict time is 0.5 to 30 seconds.".into()));
            }
            if let Some(address) = &choice.peer_address
                && !(address.starts_with("http://") || address.starts_with("https://"))
            {
                return Err(StationError::Invalid("A peer address starts with http://".into()));
            }
            settings.event = Some(choice.event);
            settings.gate = Some(choice.gate);
            settings.direction = choice.direction;
            settings.verdict_ms = choice.verdict_ms;
            settings.peer_port = choice.peer_port;
            settings.peer_address = choice.peer_address.filter(|a| !a.trim().is_empty());
            settings.kiosk = choice.kiosk;
            // Saved by the device, which restarts the links if the peers changed.
            Ok(())
        })
    }

    /// Validates the scanned `text` at the chosen gate, records the scan durably, and only
    /// then returns what to show. `offset_minutes` is the venue's UTC offset (the screen's
    /// time zone, as the web view knows it).
    pub fn scan(&self, text: &str, offset_minutes: i32) -> Result<RecentScan, StationError> {
        self.device.with(|device| {
            let (Some(event), Some(gate)) = (device.settings.event, device.settings.gate) else {
                return Err(StationError::NotConfigured);
            };
            let event = EventId(event);
            // A hardware scanner ends its text with CR or LF; the code itself never does.
            let text = text.trim_end_matches(['\r', '\n']);
            let now = Timestamp::now();
            let ctx = ScanContext {
                device: device.replica.device(),
                gate: GateId(gate),
                direction: device.settings.direction,
                now,
            };
            let manifest = device.replica.manifest(event).ok_or(StationError::NoManifest)?;
            let verdict = device.replica.gate(event).scan(text, &ctx)?;
            let clock = display_clock(now, offset_minutes);
            let shown = device.replica.with_event_state(event, |state| RecentScan {
                time: clock_time(clock),
                shown: describe(&verdict, &manifest, state.seats.as_ref().map(|(_, map)| map), clock),
            });
            let recent = &mut device.local;
            recent.push_front(shown.clone());
            recent.truncate(RECENT);
            Ok(shown)
        })
    }

    /// What the screen shows now.
    pub fn status(&self, offset_minutes: i32) -> Status {
        let guard = self.device.lock();
        let Some(device) = guard.as_ref() else {
            return Status {
                verdict_ms: DEFAULT_VERDICT_MS,
                removed: self.device.removed(),
                ..Status::default()
            };
        };
        let s = &device.settings;
        let manifests: Vec<(u32, Option<EventManifest>)> =
            s.events.iter().map(|&e| (e, device.replica.manifest(EventId(e)))).collect();
        let chosen =
            s.event.and_then(|e| manifests.iter().find(|(id, _)| *id == e)).and_then(|(_, m)| m.as_ref());
        let gate = chosen.zip(s.gate).and_then(|(m, g)| m.gate(GateId(g)));
        let clock = display_clock(Timestamp::now(), offset_minutes);
        let (mut admitted, mut inside, mut doubles) = (0, 0, Vec::new());
        if let Some(manifest) = chosen {
            let g = device.replica.gate(manifest.event);
            (admitted, inside) = g.counts();
            doubles = g.double_admissions().iter().map(|d| describe_double(d, manifest, clock)).collect();
        }
        Status {
            enrolled: true,
            removed: None,
            device: Some(s.device),
            device_name: manifests
                .iter()
                .find_map(|(_, m)| m.as_ref()?.device_name(DeviceId(s.device)))
                .map(str::to_owned),
            hub_url: Some(s.hub_url.clone()),
            events: manifests.iter().map(|(id, m)| event_choice(*id, m.as_ref())).collect(),
            event: s.event,
            gate: s.gate,
            direction: Some(s.direction),
            verdict_ms: s.verdict_ms,
            peer_port: s.peer_port,
            peer_address: s.peer_address.clone(),
            kiosk: s.kiosk,
            ready: gate.is_some(),
            place: match (chosen, gate) {
                (Some(m), Some(g)) => format!("{} · {} · {}", m.name, g.name, direction_word(s.direction)),
                _ => String::new(),
            },
            admitted,
            inside,
            badge: device.badge(),
            recent: device.local.iter().cloned().collect(),
            doubles,
        }
    }

    /// Kiosk mode is on (read at each window event: a removed device has no settings, so
    /// none).
    pub fn kiosk(&self) -> bool {
        self.device.lock().as_ref().is_some_and(|device| device.settings.kiosk)
    }

    /// Stops the sync tasks (the app is closing).
    pub fn shutdown(&self) {
        self.device.shutdown();
    }

    /// The replica, for tests.
    #[doc(hidden)]
    pub fn replica(&self) -> Option<Arc<Replica>> {
        self.device.replica()
    }
}

fn event_choice(id: u32, manifest: Option<&EventManifest>) -> EventChoice {
    match manifest {
        Some(m) => EventChoice {
            id,
            name: m.name.clone(),
            gates: m
                .gates
                .iter()
                .map(|g| GateChoice {
                    id: g.id.0,
                    name: g.name.clone(),
                    entry: g.serves.allows(Direction::Entry),
                    exit: g.serves.allows(Direction::Exit),
                })
                .collect(),
        },
        None => {
            EventChoice { id, name: format!("Event {id} (waiting for the first sync)"), gates: Vec::new() }
        }
    }
}

fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::Entry => "entry",
        Direction::Exit => "exit",
    }
}
