//! The device's sync links, as background tasks: to the hub always, to a peer on the venue LAN
//! if configured, and a server for peers if configured. Each retries with backoff by itself
//! (sync-core's `live` loop) and reports only a state, which the badge shows. Staff never see
//! a network error: the verdict never depended on the network. One answer ends a link for
//! good: the hub's verified revocation notice, from the hub or a peer, which is handed to the
//! device ([`Hooks`]).

use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use sync_core::ids::Timestamp;
use sync_core::journal::HUB;
use sync_core::replica::Replica;
use sync_core::revoked::SignedNotice;
use sync_core::sync::http::HttpTransport;
use sync_core::sync::live::{self, LinkState, MAX_BACKOFF};
use tokio::sync::watch;

/// What the device does when a link brings news: after every completed sync (`synced`: it
/// applies what the organizer set for it) and with the hub's verified revocation notice
/// (`revoked`: it retires).
#[derive(Clone)]
pub struct Hooks {
    /// After each completed sync, with the hub or a peer.
    pub synced: Arc<dyn Fn() + Send + Sync>,
    /// With the hub's verified notice; the link has stopped for good.
    pub revoked: Arc<dyn Fn(SignedNotice) + Send + Sync>,
}

/// Where a device syncs: the hub always, a peer and a peer server if configured.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LinkConfig {
    /// The hub's address.
    pub hub_url: String,
    /// Also sync with the peer at this address (`http://10.0.0.7:7878`).
    pub peer_address: Option<String>,
    /// Serve peers on the LAN at this port.
    pub peer_port: Option<u16>,
}

/// The always-visible sync badge.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Badge {
    /// "online" (hub), "peer" (hub unreachable, a peer reachable), "offline", or "connecting"
    /// (no attempt finished yet).
    pub link: &'static str,
    /// Scans, sales and shifts of this device the hub has not acknowledged yet.
    pub pending: u64,
    /// Since the last completed sync with the hub — the age of the revocation list (ms).
    pub last_sync_ms_ago: Option<i64>,
    /// The port peers can sync with, when serving.
    pub serving_peers_on: Option<u16>,
}

/// The running links of one device.
pub struct Links {
    hub: Mutex<Option<bool>>,
    peer: Mutex<Option<bool>>,
    serving: Mutex<Option<u16>>,
    stop: watch::Sender<bool>,
}

fn set(slot: &Mutex<Option<bool>>, online: bool) {
    *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(online);
}

fn get<T: Copy>(slot: &Mutex<T>) -> T {
    *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Links {
    /// Starts the links `settings` ask for, on `runtime`, telling the device through `hooks`.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        replica: &Arc<Replica>,
        settings: &LinkConfig,
        hooks: Hooks,
    ) -> Arc<Self> {
        let (stop, stopped) = watch::channel(false);
        let links =
            Arc::new(Self { hub: Mutex::new(None), peer: Mutex::new(None), serving: Mutex::new(None), stop });
        let hub_url = settings.hub_url.clone();
        let hub = sync_hub(Arc::clone(&links), Arc::clone(replica), hub_url, hooks.clone(), stopped.clone());
        runtime.spawn(hub);
        if let Some(address) = settings.peer_address.clone() {
            let peer = sync_peer(Arc::clone(&links), Arc::clone(replica), address, hooks, stopped.clone());
            runtime.spawn(peer);
        }
        if let Some(port) = settings.peer_port {
            runtime.spawn(serve_peers(Arc::clone(&links), Arc::clone(replica), port, stopped));
        }
        links
    }

    /// Stops every task of these links.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }

    /// The badge, now.
    pub fn badge(&self, replica: &Replica) -> Badge {
        let link = match (get(&self.hub), get(&self.peer)) {
            (Some(true), _) => "online",
            (_, Some(true)) => "peer",
            (None, _) => "connecting",
            (Some(false), _) => "offline",
        };
        let now = Timestamp::now();
        Badge {
            link,
            pending: replica.pending_for(HUB).unwrap_or(0),
            last_sync_ms_ago: replica.last_synced(HUB).ok().flatten().map(|t| (now.0 - t.0).max(0)),
            serving_peers_on: get(&self.serving),
        }
    }
}

/// What a link reports, as the badge keeps it; news goes to the device.
fn report(slot: &Mutex<Option<bool>>, hooks: &Hooks, state: LinkState) {
    match state {
        LinkState::Offline { reason, .. } => {
            tracing::info!(%reason, "unreachable; retrying");
            set(slot, false);
        }
        LinkState::Online => {
            set(slot, true);
            (hooks.synced)();
        }
        LinkState::Revoked(notice) => {
            tracing::warn!("the hub revoked this device");
            set(slot, false);
            (hooks.revoked)(*notice);
        }
    }
}

async fn sync_hub(
    links: Arc<Links>,
    replica: Arc<Replica>,
    hub_url: String,
    hooks: Hooks,
    stopped: watch::Receiver<bool>,
) {
    let transport = match HttpTransport::new(&hub_url, Arc::clone(&replica), HUB) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client; the hub link stays down");
            set(&links.hub, false);
            return;
        }
    };
    live::run(&*replica, &transport, stopped, |state| report(&links.hub, &hooks, state)).await;
}

async fn sync_peer(
    links: Arc<Links>,
    replica: Arc<Replica>,
    address: String,
    hooks: Hooks,
    mut stopped: watch::Receiver<bool>,
) {
    // The peer is known by address only: ask its id (retrying while it is away), then stay in
    // sync with it like with the hub.
    let mut backoff = Duration::from_millis(500);
    let transport = loop {
        match HttpTransport::connect(&address, Arc::clone(&replica)).await {
            Ok(t) => break t,
            Err(e) => {
                tracing::info!(error = %e, %address, "peer unreachable; retrying");
                set(&links.peer, false);
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stopped.changed() => return,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    };
    live::run(&*replica, &transport, stopped, |state| report(&links.peer, &hooks, state)).await;
}

async fn serve_peers(
    links: Arc<Links>,
    replica: Arc<Replica>,
    port: u16,
    mut stopped: watch::Receiver<bool>,
) {
    let listener = match tokio::net::TcpListener::bind(("0.0.0.0", port)).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, port, "cannot serve peers on this port");
            return;
        }
    };
    *links.serving.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(port);
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    if let Err(e) = sync_core::sync::http::serve(listener, replica, shutdown).await {
        tracing::warn!(error = %e, "peer server stopped");
    }
    *links.serving.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
}
