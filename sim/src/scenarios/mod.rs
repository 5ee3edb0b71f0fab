//! The scenarios, each a subcommand of `voelgoed-sim`, and the hub they run against.
//!
//! | scenario | what it shows |
//! |---|---|
//! | [`rush`] | gate opening: thousands of people over many gates, live links, offline gates with copied tickets |
//! | [`storm`] | the venue loses the hub, every gate scans offline, all reconnect at once — several times |
//! | [`offline`] | one device offline for a long stretch while the others scan, then its catch-up |
//! | [`flash_sale`] | an online flash sale while box offices sell at the door offline, against one capacity |
//! | [`big_event`] | 500,000 tickets and 1,000,000 check-ins: the organizer's reads timed, a new gate's first sync, the database's size |
//! | [`connections`] | 10,000 connections held open (dashboards, seat maps, long-polls) while the API and a scan are timed |

pub mod big_event;
pub mod connections;
pub mod flash_sale;
pub mod offline;
pub mod rush;
pub mod storm;

use crate::api::Organizer;
use crate::hub::{Database, OWNER_EMAIL, OWNER_PASSWORD, OwnHub};
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;

/// Which hub to run against (`--hub URL`, or one the simulator starts).
#[derive(clap::Args, Clone, Debug, Default)]
pub struct HubArgs {
    /// A running hub's base URL. Without it the simulator starts its own hub process on a
    /// temporary SQLite file (or on PostgreSQL with --postgres).
    #[arg(long, global = true)]
    pub hub: Option<String>,
    /// The organizer to log in as at --hub (the simulation creates its own event there).
    #[arg(long, global = true, requires = "hub")]
    pub email: Option<String>,
    /// Their password (or set VOELGOED_SIM_PASSWORD).
    #[arg(long, global = true, env = "VOELGOED_SIM_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Start the hub on a fresh database on this PostgreSQL server (admin URL, e.g.
    /// postgres://postgres@127.0.0.1:5432/test) instead of SQLite.
    #[arg(long, global = true, conflicts_with = "hub")]
    pub postgres: Option<String>,
    /// Hub instances to start over the one database (several need --postgres); devices are
    /// spread over them in turn.
    #[arg(long, global = true, default_value_t = 1)]
    pub instances: usize,
}

/// The hub a scenario runs against, with the organizer's session.
pub struct Target {
    /// The hub's instance URLs (one unless several were started).
    pub urls: Vec<String>,
    /// The organizer, at the first instance.
    pub organizer: Organizer,
    /// The hub processes, when the simulator started them.
    pub own: Option<OwnHub>,
    /// What it is, for the summary.
    pub label: String,
}

impl Target {
    /// Connects to `--hub`, or starts the hub (`exe hub serve`) as the arguments say.
    pub async fn open(args: &HubArgs, exe: &Path) -> anyhow::Result<Self> {
        if let Some(url) = &args.hub {
            let email = args.email.as_deref().context("--hub needs --email (an organizer of that hub)")?;
            let password = args
                .password
                .as_deref()
                .context("--hub needs the organizer's password (VOELGOED_SIM_PASSWORD)")?;
            let organizer = Organizer::login(url, email, password).await?;
            return Ok(Self { urls: vec![url.clone()], organizer, own: None, label: url.clone() });
        }
        let database = args.postgres.clone().map_or(Database::Sqlite, Database::Postgres);
        let own = OwnHub::start(exe, &database, args.instances).await?;
        let urls = own.urls();
        let organizer = Organizer::login(&urls[0], OWNER_EMAIL, OWNER_PASSWORD).await?;
        let kind = if args.postgres.is_some() { "PostgreSQL" } else { "SQLite" };
        let label = format!("{} hub process(es) started by the simulator, {kind}", urls.len());
        Ok(Self { urls, organizer, own: Some(own), label })
    }

    /// The instance device `n` talks to (round robin).
    pub fn url_for(&self, n: usize) -> &str {
        &self.urls[n % self.urls.len()]
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal, as in tests and CI).
pub fn progress(length: usize, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(length as u64).with_message(message);
    bar.set_style(
        ProgressStyle::with_template("{msg:>18} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// A gate event of the organizer's on sale with `tickets` sold through the online shop, and
/// a gate device per name in `names`, dealt over the hub's instances and four gates.
pub async fn gate_event(
    target: &Target,
    name: &str,
    tickets: usize,
    names: Vec<String>,
) -> anyhow::Result<(i64, Vec<String>, crate::fleet::Fleet)> {
    let event = target.organizer.create_event_on_sale(&crate::api::event_spec(name, 4, tickets)).await?;
    let bar = progress(tickets, "buying tickets");
    let texts = crate::api::buy_tickets(&target.urls[0], event, tickets, &bar).await?;
    bar.finish_and_clear();
    await_confirmations_sent(target).await?;
    let specs: Vec<_> = names
        .into_iter()
        .enumerate()
        .map(|(n, name)| {
            crate::fleet::DeviceSpec::gate(name, target.url_for(n), u16::try_from(n % 4 + 1).unwrap_or(1))
        })
        .collect();
    let bar = progress(specs.len(), "enrolling devices");
    let fleet = crate::fleet::Fleet::enroll(&target.organizer, event, specs, &bar).await?;
    bar.finish_and_clear();
    Ok((event, texts, fleet))
}

/// Waits until the hub has sent every buyer's confirmation (a PDF with a QR code per ticket,
/// made by the hub's mail worker): the gates open long after the sale, and a backlog of
/// confirmations being rendered would share the machine's two cores with what the scenario
/// measures. Only for a hub the simulator started (it reads the hub's database).
async fn await_confirmations_sent(target: &Target) -> anyhow::Result<()> {
    let Some(own) = &target.own else { return Ok(()) };
    let db = own.database().await?;
    let started = std::time::Instant::now();
    loop {
        let mut tx = db.lookup().await?;
        let unsent: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND attempts < $1")
                .bind(cloud::mail::MAX_ATTEMPTS)
                .fetch_one(&mut *tx)
                .await?;
        drop(tx);
        if unsent == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(600),
            "the hub did not send its {unsent} remaining confirmations within 10 minutes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// `count` device names: `Gate scanner 0`, `Gate scanner 1`, …
pub fn scanner_names(count: usize) -> Vec<String> {
    (0..count).map(|n| format!("Gate scanner {n}")).collect()
}

/// How many double admissions the hub's report lists for `event`.
pub async fn double_admissions_on_hub(organizer: &Organizer, event: i64) -> anyhow::Result<usize> {
    let report = organizer.report(event, "double-admissions").await?;
    Ok(report["rows"].as_array().map_or(0, Vec::len))
}

/// `items` dealt round robin into `n` queues.
pub fn deal<T: Clone>(items: &[T], n: usize) -> Vec<Vec<T>> {
    let mut queues = vec![Vec::new(); n.max(1)];
    for (i, item) in items.iter().enumerate() {
        queues[i % n.max(1)].push(item.clone());
    }
    queues
}
