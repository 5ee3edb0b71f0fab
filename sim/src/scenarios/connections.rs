//! Open connections: one hub process holding thousands of connections open at once —
//! organizers' live dashboards and buyers' seat maps on server-sent events, gates on long-poll
//! — while the rest of the API is timed under that load, and a scan is timed from the gate to
//! one live dashboard among them all.
//!
//! The dashboards, the seat maps and the API load are `oha` processes (crates.io: an HTTP load
//! generator of the field, installed by `scripts/chaos`; `--oha` says where). The gates are
//! the simulator's own devices: their requests are signed, which no load generator does. The
//! timed gate and its dashboard run on a thread of their own ([`TimedPath`]). The hub is a process of its own (started by the simulator), so its memory
//! is its own: read from `/proc` before the connections open and while they are held.
//!
//! Linux only (it reads `/proc`), like the machines the figures come from.

use super::{Target, gate_event, scanner_names};
use crate::metrics::{Latencies, Timeline};
use crate::report::Summary;
use anyhow::{Context, bail};
use reqwest::Method;
use serde::Serialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_core::journal::HUB;
use sync_core::manifest::Direction;
use sync_core::sync::http::HttpTransport;
use tokio::process::{Child, Command};

/// The scenario's parameters.
#[derive(clap::Args, Clone, Debug, Serialize)]
pub struct ConnectionsArgs {
    /// Live dashboards held open (organizers' sessions on `/events/{id}/live/stream`).
    #[arg(long, default_value_t = 200)]
    pub dashboards: usize,
    /// Shop seat maps held open (buyers on `/shop/{event}/seats/live`).
    #[arg(long, default_value_t = 9600)]
    pub seat_maps: usize,
    /// Gate devices on their live link (push and long-poll).
    #[arg(long, default_value_t = 200)]
    pub devices: usize,
    /// How long the API is timed under that load, seconds; one gate scans meanwhile.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// Time between the timed scans, ms.
    #[arg(long, default_value_t = 250)]
    pub scan_every_ms: u64,
    /// Requests per second to each timed API endpoint (oha holds the rate and corrects for
    /// coordinated omission: a slow answer does not hide the requests that should have gone
    /// out meanwhile).
    #[arg(long, default_value_t = 100)]
    pub api_rate: u32,
    /// Connections of each API load generator.
    #[arg(long, default_value_t = 8)]
    pub api_concurrency: usize,
    /// The `oha` binary.
    #[arg(long, default_value = "oha")]
    pub oha: PathBuf,
}

/// The timeline's counters.
pub const COUNTERS: &[&str] = &["scanned", "open connections"];

/// A dashboard's snapshot after a scan later than this is a miss.
const SCAN_BUDGET: Duration = Duration::from_secs(10);

/// Runs the scenario against a hub the simulator started (it reads the hub's `/proc`).
pub async fn run(
    target: &Target,
    args: &ConnectionsArgs,
    timeline: &Arc<Timeline>,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let own = target.own.as_ref().context("the connections scenario needs a hub it starts (no --hub)")?;
    anyhow::ensure!(own.instances.len() == 1, "the connections scenario measures one hub instance");
    let hub = &own.instances[0];
    let pid = hub.pid().context("the hub process is not running")?;
    let port = hub.port();
    let url = hub.url.clone();
    let organizer = &target.organizer;
    let scans = usize::try_from(args.seconds * 1000 / args.scan_every_ms.max(1)).unwrap_or(usize::MAX);

    // A gate event with its devices, and a seated event on sale for the shop's maps.
    let (event, tickets, fleet) =
        gate_event(target, "Open connections", scans, scanner_names(args.devices.max(1))).await?;
    let seated = seated_event(organizer).await?;

    let before = Footprint::read(pid, port)?;
    let opened = Instant::now();
    // All but the timed gate, which goes live on the timed path's own thread.
    for device in fleet.devices.iter().skip(1) {
        device.go_live();
    }
    let cookie = format!("cookie: {}", organizer.cookie());
    let dashboards =
        hold(oha(&args.oha, args.dashboards, &url, &format!("/events/{event}/live/stream"), Some(&cookie)))?;
    let seat_maps = hold(oha(&args.oha, args.seat_maps, &url, &format!("/shop/{seated}/seats/live"), None))?;
    // Ours: the one dashboard the scans are timed on, and the gate that scans.
    let timed = TimedPath::open(
        Arc::clone(&fleet.devices[0]),
        tickets[..scans].to_vec(),
        Duration::from_millis(args.scan_every_ms),
        (url.clone(), organizer.cookie().to_owned(), event),
        timeline.counter("scanned"),
    )
    .await?;
    let expected = args.dashboards + args.seat_maps + args.devices + 1;
    let open_gauge = timeline.counter("open connections");
    let sampler = timeline.run();
    // Counted on the hub's side, all of them (a few may be left from setting up).
    let held = await_open((pid, port), expected, &open_gauge).await?;
    let open_s = opened.elapsed().as_secs_f64();
    let (settled, idle) = holding(pid, port).await?;
    let idle_cpu = idle.cpu_percent_since(&settled);

    // Under that load: the API timed by oha, and the gate's scans timed to the dashboard.
    let probes = start_api_probes(
        args,
        &url,
        &[
            ("GET /api/v1/events/{id} (organizer)", format!("/api/v1/events/{event}"), Some(cookie.clone())),
            ("GET /shop/{event} (buyer's page)", format!("/shop/{seated}"), None),
        ],
    )?;
    let (delays, missed) = timed.run().await?;
    let mut api_figures = serde_json::Map::new();
    let mut api_p99_ms = 0.0f64;
    for (name, probe) in probes {
        let figures = OhaFigures::of(probe).await?;
        api_p99_ms = api_p99_ms.max(figures.p99_ms);
        api_figures.insert(name.to_owned(), serde_json::to_value(&figures)?);
    }
    let after = Footprint::read(pid, port)?;
    sampler.abort();
    drop((dashboards, seat_maps));

    let delays = delays.summary();
    // Per connection opened since `before` (which counted whatever was open then).
    let opened_since = settled.connections.saturating_sub(before.connections).max(1) as u64;
    let per_connection = settled.rss_bytes.saturating_sub(before.rss_bytes) / opened_since;

    let mut summary = Summary::new("connections", args, target.label.clone(), args.devices);
    summary.figure(
        "connections",
        json!({"dashboards": args.dashboards, "seat_maps": args.seat_maps, "devices": args.devices,
               "open_before": before.connections, "open_at_once": held.connections, "still_open_after": after.connections,
               "seconds_to_open": open_s}),
    );
    summary.figure(
        "hub_memory",
        json!({"rss_before_mb": mb(before.rss_bytes), "rss_holding_mb": mb(settled.rss_bytes),
               "rss_after_mb": mb(after.rss_bytes), "bytes_per_connection": per_connection,
               "idle_cpu_percent_holding": idle_cpu}),
    );
    summary.figure("api_under_load", Value::Object(api_figures));
    summary.figure(
        "scan_to_dashboard_ms",
        json!({"scans": scans, "p50": delays.p50_ms, "p99": delays.p99_ms, "max": delays.max_ms, "missed": missed}),
    );
    summary.check(
        "the hub holds every connection at once",
        held.connections >= expected && after.connections >= expected,
        format!("{} open of {expected}; still open at the end: {}", held.connections, after.connections),
    );
    summary.check(
        "the API answers at p99 ≤ 100 ms under that load",
        api_p99_ms <= 100.0,
        format!("worst p99 {api_p99_ms:.1} ms"),
    );
    summary.check(
        "a scan reaches a live dashboard within 150 ms p99",
        missed == 0 && delays.count > 0 && delays.p99_ms <= 150.0,
        format!("p50 {} ms, p99 {} ms, {missed} missed", delays.p50_ms, delays.p99_ms),
    );
    summary.duration_s = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Starts timing each of `endpoints` (name, path, header) with `oha` for `--seconds`.
fn start_api_probes(
    args: &ConnectionsArgs,
    url: &str,
    endpoints: &[(&'static str, String, Option<String>)],
) -> anyhow::Result<Vec<(&'static str, Child)>> {
    let mut probes = Vec::new();
    for (name, path, header) in endpoints {
        let mut command = oha(&args.oha, args.api_concurrency, url, path, header.as_deref());
        command.args(["-z", &format!("{}s", args.seconds), "--output-format", "json"]);
        command.args(["-q", &args.api_rate.to_string(), "--latency-correction"]);
        probes
            .push((*name, command.stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true).spawn()?));
    }
    Ok(probes)
}

/// The hub merely holding: 5 s to settle (the kernel counts a connection established before
/// the hub has accepted it and answered its first event), then read twice 10 s apart.
async fn holding(pid: u32, port: u16) -> anyhow::Result<(Footprint, Footprint)> {
    tokio::time::sleep(Duration::from_secs(5)).await;
    let from = Footprint::read(pid, port)?;
    tokio::time::sleep(Duration::from_secs(10)).await;
    Ok((from, Footprint::read(pid, port)?))
}

/// Waits until the hub holds `target` connections (shown on `gauge`); the reading then.
async fn await_open(
    (pid, port): (u32, u16),
    target: usize,
    gauge: &std::sync::atomic::AtomicU64,
) -> anyhow::Result<Footprint> {
    let since = Instant::now();
    loop {
        let now = Footprint::read(pid, port)?;
        gauge.store(now.connections as u64, std::sync::atomic::Ordering::Relaxed);
        if now.connections >= target {
            return Ok(now);
        }
        if since.elapsed() > Duration::from_secs(120) {
            bail!(
                "{} of {target} connections open after 120 s (is the file limit high enough? `ulimit -n`)",
                now.connections
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The timed path — one gate and the dashboard its scans are timed on — on a thread and a
/// runtime of its own, as the devices it stands for are machines of their own. Why: the
/// fleet's other replicas store each scan synchronously (an SQLite commit and its fsync: the
/// apps' replica is synchronous) on the simulator's runtime threads, and behind 199 of those
/// the timed gate's push and the dashboard's reading waited ~100 ms in the simulator, while
/// the hub had sent the dashboard its snapshot ~3 ms after the scan's commit (a trace of the
/// hub: docs/benchmarks.md, "Shared journal reads").
struct TimedPath {
    go: tokio::sync::oneshot::Sender<()>,
    done: tokio::sync::oneshot::Receiver<anyhow::Result<(Latencies, usize)>>,
}

impl TimedPath {
    /// Starts `gate`'s live link and opens the dashboard (hub URL, organizer's cookie, event)
    /// on the path's thread; returns once both are open. [`Self::run`] scans.
    async fn open(
        gate: Arc<crate::fleet::Device>,
        tickets: Vec<String>,
        every: Duration,
        (url, cookie, event): (String, String, i64),
        scanned: Arc<std::sync::atomic::AtomicU64>,
    ) -> anyhow::Result<Self> {
        let (opened, is_open) = tokio::sync::oneshot::channel::<anyhow::Result<()>>();
        let (go, start) = tokio::sync::oneshot::channel::<()>();
        let (finished, done) = tokio::sync::oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name("timed path".into()).spawn(move || {
            runtime.block_on(async move {
                // A transport (and so a connection pool) of this runtime's own: the device's
                // pooled connections from setting up are driven by the main runtime.
                let opening = async {
                    let transport = HttpTransport::new(&url, Arc::clone(&gate.replica), HUB)
                        .map_err(|e| anyhow::anyhow!("the timed gate's transport: {e}"))?;
                    let watched = Dashboard::open(&url, &cookie, event).await?;
                    anyhow::Ok((transport, watched))
                };
                let (transport, mut watched) = match opening.await {
                    Ok(open) => open,
                    Err(e) => {
                        let _ = opened.send(Err(e));
                        return;
                    }
                };
                let (stop, stopped) = tokio::sync::watch::channel(false);
                let replica = Arc::clone(&gate.replica);
                let link = tokio::spawn(async move {
                    sync_core::sync::live::run(&*replica, &transport, stopped, |_| {}).await;
                });
                let _ = opened.send(Ok(()));
                if start.await.is_ok() {
                    let _ = finished.send(timed_scans(&gate, &tickets, every, &mut watched, &scanned).await);
                }
                let _ = stop.send(true);
                link.abort();
            });
        })?;
        is_open.await.context("the timed path's thread ended")??;
        Ok(Self { go, done })
    }

    /// Scans, and returns the delays and the misses (see [`timed_scans`]).
    async fn run(self) -> anyhow::Result<(Latencies, usize)> {
        let _ = self.go.send(());
        self.done.await.context("the timed path's thread ended")?
    }
}

/// `gate` admits each of `tickets`, one every `every`; each is timed from the scan until
/// `dashboard` counts it. The delays, and how many never showed within [`SCAN_BUDGET`].
async fn timed_scans(
    gate: &crate::fleet::Device,
    tickets: &[String],
    every: Duration,
    dashboard: &mut Dashboard,
    scanned: &std::sync::atomic::AtomicU64,
) -> anyhow::Result<(Latencies, usize)> {
    let delays = Latencies::default();
    let mut missed = 0usize;
    let mut due = Instant::now();
    for (admitted, text) in (1i64..).zip(tickets) {
        tokio::time::sleep_until(due.into()).await;
        due += every;
        let context = gate.context(Direction::Entry);
        let at = Instant::now();
        // Blocking (an SQLite commit), on the timed path's own thread.
        let verdict = gate.gate().scan(text, &context)?;
        anyhow::ensure!(
            verdict.code() == "admitted",
            "the timed gate's scan {admitted} was {}",
            verdict.code()
        );
        scanned.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match dashboard.until_admitted(admitted, at + SCAN_BUDGET).await? {
            Some(seen) => delays.record(seen.duration_since(at)),
            None => missed += 1,
        }
    }
    Ok((delays, missed))
}

#[allow(clippy::cast_precision_loss)] // memory sizes far below 2^52
fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// An `oha` run of `connections` concurrent requests to `url` + `path`, no TUI.
fn oha(exe: &Path, connections: usize, url: &str, path: &str, header: Option<&str>) -> Command {
    let mut command = Command::new(exe);
    command.args(["--no-tui", "-c", &connections.to_string()]);
    if let Some(header) = header {
        command.args(["-H", header]);
    }
    command.arg(format!("{url}{path}"));
    command
}

/// Starts `oha` holding its connections open (each request is a stream that never ends)
/// until dropped.
fn hold(mut oha: Command) -> anyhow::Result<Child> {
    // Thousands connect at once: some SYNs overflow the listen backlog and are retried.
    oha.args(["-z", "3600s", "--connect-timeout", "30s"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("cannot start oha (scripts/chaos installs it; or pass --oha)")
}

/// What `oha --output-format json` said about one endpoint.
#[derive(Debug, Serialize)]
struct OhaFigures {
    requests: u64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    /// Status code → count.
    statuses: Value,
    /// Errors (connection refused, timeouts) → count.
    errors: Value,
}

impl OhaFigures {
    /// Waits for `oha` to finish and reads its report.
    async fn of(oha: Child) -> anyhow::Result<Self> {
        let output = oha.wait_with_output().await?;
        anyhow::ensure!(output.status.success(), "oha failed: {}", String::from_utf8_lossy(&output.stderr));
        let report: Value = serde_json::from_slice(&output.stdout).context("oha's JSON report")?;
        let seconds = |v: &Value| v.as_f64().map(|s| s * 1000.0).context("a latency in oha's report");
        let statuses = report["statusCodeDistribution"].clone();
        let requests = statuses.as_object().map_or(0, |s| s.values().filter_map(Value::as_u64).sum());
        Ok(Self {
            requests,
            per_second: report["summary"]["requestsPerSec"].as_f64().unwrap_or(0.0),
            p50_ms: seconds(&report["latencyPercentiles"]["p50"])?,
            p99_ms: seconds(&report["latencyPercentiles"]["p99"])?,
            max_ms: seconds(&report["summary"]["slowest"])?,
            statuses,
            errors: report["errorDistribution"].clone(),
        })
    }
}

/// The hub process as `/proc` shows it: resident memory, CPU time, connections to its port.
struct Footprint {
    at: Instant,
    rss_bytes: u64,
    cpu_ticks: u64,
    connections: usize,
}

impl Footprint {
    fn read(pid: u32, port: u16) -> anyhow::Result<Self> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let rss_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .context("no VmRSS in /proc/PID/status")?;
        // utime and stime: fields 14 and 15, counted after the command's closing parenthesis.
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
        let tick = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
        let cpu_ticks = tick(11) + tick(12);
        Ok(Self { at: Instant::now(), rss_bytes: rss_kb * 1024, cpu_ticks, connections: established(port) })
    }

    /// The hub's CPU use between `earlier` and this reading, % of one core (100 ticks/s).
    #[allow(clippy::cast_precision_loss)] // tick counts far below 2^52
    fn cpu_percent_since(&self, earlier: &Self) -> f64 {
        let seconds = self.at.duration_since(earlier.at).as_secs_f64().max(1e-9);
        (self.cpu_ticks.saturating_sub(earlier.cpu_ticks)) as f64 / seconds
    }
}

/// Established TCP connections whose local port is `port` (the hub's side of each).
fn established(port: u16) -> usize {
    let mut count = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        count += text
            .lines()
            .skip(1)
            .filter(|line| {
                let mut columns = line.split_whitespace();
                let local = columns.nth(1).unwrap_or("");
                let state = columns.nth(1).unwrap_or("");
                state == "01"
                    && local.rsplit_once(':').is_some_and(|(_, p)| u16::from_str_radix(p, 16) == Ok(port))
            })
            .count();
    }
    count
}

/// The organizer's dashboard stream the scans are timed on.
struct Dashboard {
    response: reqwest::Response,
    buffer: String,
}

impl Dashboard {
    async fn open(url: &str, cookie: &str, event: i64) -> anyhow::Result<Self> {
        let response = sync_core::sync::http::http_client()?
            .get(format!("{url}/events/{event}/live/stream"))
            .header("cookie", cookie)
            .send()
            .await?;
        anyhow::ensure!(response.status().is_success(), "the dashboard stream: {}", response.status());
        Ok(Self { response, buffer: String::new() })
    }

    /// When a snapshot counting at least `admitted` came, or `None` past `deadline`.
    async fn until_admitted(&mut self, admitted: i64, deadline: Instant) -> anyhow::Result<Option<Instant>> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let event: String = self.buffer.drain(..end + 2).collect();
                let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:")) else { continue };
                let Ok(snapshot) = serde_json::from_str::<Value>(data.trim()) else { continue };
                if snapshot["admitted"].as_i64().is_some_and(|a| a >= admitted) {
                    return Ok(Some(Instant::now()));
                }
            }
            match tokio::time::timeout_at(deadline.into(), self.response.chunk()).await {
                Err(_) => return Ok(None),
                Ok(chunk) => {
                    let chunk = chunk?.context("the dashboard stream ended")?;
                    self.buffer.push_str(&String::from_utf8_lossy(&chunk));
                }
            }
        }
    }
}

/// An event on sale sold by seat, a hall of 500 seats: what the shop's live maps show.
async fn seated_event(organizer: &crate::api::Organizer) -> anyhow::Result<i64> {
    let mut spec = crate::api::event_spec("Open connections, seated", 1, 500);
    spec["starts_at"] = json!(sync_core::Timestamp::now().0 + 3_600_000);
    let created = organizer.expect(Method::POST, "/api/v1/events", &spec, 201).await?;
    let event = created["id"].as_i64().context("the new event has no id")?;
    let rows: Vec<Value> = (0..20)
        .map(|r| {
            let seats: Vec<Value> = (0..25)
                .map(|s| {
                    json!({"id": format!("{r}-{s}"), "label": (s + 1).to_string(),
                                "x": 20 + 30 * s, "y": 60 + 30 * r, "category": "stalls"})
                })
                .collect();
            json!({"label": (r + 1).to_string(), "seats": seats})
        })
        .collect();
    let hall = json!({"name": "Hall", "size": {"width": 790, "height": 700},
                      "categories": [{"name": "stalls", "color": "#c33"}],
                      "sections": [{"name": "Stalls", "rows": rows}]});
    let plan = organizer.expect(Method::POST, "/api/v1/seat-plans", &hall, 201).await?;
    let seating = json!({"plan": plan["id"], "categories": {"stalls": 1}});
    organizer.expect(Method::PUT, &format!("/api/v1/events/{event}/seating"), &seating, 200).await?;
    organizer
        .expect(Method::POST, &format!("/api/v1/events/{event}/status"), &json!({"status": "on_sale"}), 204)
        .await?;
    Ok(event)
}
