//! `voelgoed-sim`: run a scenario or a chaos test against a hub; print and write its summary.
//!
//! ```sh
//! voelgoed-sim rush --gates 20 --tickets 10000          # starts its own hub (SQLite)
//! voelgoed-sim storm --postgres postgres://postgres@127.0.0.1:5432/test
//! voelgoed-sim flash-sale --hub https://hub.example --email me@example.org   # a running hub
//! voelgoed-sim chaos hub-kill
//! ```

use clap::{Parser, Subcommand};
use sim::chaos::{self, Chaos};
use sim::metrics::Timeline;
use sim::report::{self, Summary};
use sim::scenarios::{self, HubArgs, Target};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "voelgoed-sim",
    version,
    about = "Voelgoed fleet simulator: scenarios and chaos against a real hub"
)]
struct Cli {
    #[command(flatten)]
    hub: HubArgs,
    /// Where to write summary.json and chart.svg (default: sim-runs/<scenario>).
    #[arg(long, global = true)]
    out: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Gate opening rush: many scans per second over many gates, some gates offline.
    Rush(scenarios::rush::RushArgs),
    /// Partition and reconnect storm: everyone offline, everyone back at once, repeatedly.
    Storm(scenarios::storm::StormArgs),
    /// One device offline for long, then its catch-up.
    Offline(scenarios::offline::OfflineArgs),
    /// Online flash sale while box offices sell at the door, one capacity.
    FlashSale(scenarios::flash_sale::FlashSaleArgs),
    /// Thousands of open connections (dashboards, seat maps, long-polls) while the API is
    /// timed by oha; needs `oha` (scripts/bench-connections installs it).
    Connections(scenarios::connections::ConnectionsArgs),
    /// A 500,000-ticket event with 1,000,000 check-ins: dashboard, reports, orders search and
    /// an order timed, a new gate's first sync, the database's size.
    BigEvent(scenarios::big_event::BigEventArgs),
    /// Failure injection: hub kill, PostgreSQL restart, two instances, clock skew.
    #[command(subcommand)]
    Chaos(Chaos),
    /// The hub's own command line (`voelgoed-sim hub serve …`): how the simulator runs hubs.
    #[command(hide = true)]
    Hub,
}

fn main() -> ExitCode {
    // `voelgoed-sim hub …` is the hub itself: the simulator starts (and SIGKILLs) hub
    // processes from its own binary.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "hub") {
        return cloud::cli::run_from(
            std::iter::once("voelgoed-sim hub".into()).chain(args.into_iter().skip(2)),
        );
    }
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(summary) if summary.passed() => ExitCode::SUCCESS,
        Ok(summary) => {
            eprintln!("checks failed:\n{}", summary.failures());
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<Summary> {
    let exe = std::env::current_exe()?;
    let (name, counters) = match &cli.command {
        Command::Rush(_) => ("rush", scenarios::rush::COUNTERS),
        Command::Storm(_) => ("storm", scenarios::storm::COUNTERS),
        Command::Offline(_) => ("offline", scenarios::offline::COUNTERS),
        Command::FlashSale(_) => ("flash-sale", scenarios::flash_sale::COUNTERS),
        Command::Connections(_) => ("connections", scenarios::connections::COUNTERS),
        Command::BigEvent(_) => ("big-event", scenarios::big_event::COUNTERS),
        Command::Chaos(Chaos::HubKill(_)) => ("hub-kill", chaos::hub_kill::COUNTERS),
        Command::Chaos(Chaos::PgRestart(_)) => ("pg-restart", chaos::pg_restart::COUNTERS),
        Command::Chaos(Chaos::TwoInstances(_)) => ("two-instances", scenarios::rush::COUNTERS),
        Command::Chaos(Chaos::ClockSkew(_)) => ("clock-skew", chaos::clock_skew::COUNTERS),
        Command::Chaos(Chaos::Upgrade(_)) => ("upgrade", chaos::upgrade::COUNTERS),
        Command::Hub => anyhow::bail!("`hub` is handled before parsing"),
    };
    let timeline = Timeline::new(counters);
    let summary = match &cli.command {
        Command::Chaos(Chaos::PgRestart(args)) => chaos::pg_restart::run(&exe, args, &timeline).await?,
        Command::Chaos(Chaos::TwoInstances(args)) => {
            let postgres = cli.hub.postgres.as_deref().unwrap_or("postgres://postgres@127.0.0.1:5432/test");
            chaos::two_instances::run(&exe, postgres, args, &timeline).await?
        }
        Command::Chaos(Chaos::Upgrade(args)) => {
            let postgres = cli.hub.postgres.as_deref().unwrap_or("postgres://postgres@127.0.0.1:5432/test");
            chaos::upgrade::run(&exe, postgres, args, &timeline).await?
        }
        command => {
            let mut target = Target::open(&cli.hub, &exe).await?;
            run_on(&mut target, command, &timeline).await?
        }
    };
    let out = cli.out.unwrap_or_else(|| PathBuf::from("sim-runs").join(name));
    report::write(&out, &summary, &timeline)?;
    println!("{}", serde_json::to_string_pretty(&summary)?);
    eprintln!("wrote {0}/summary.json and {0}/chart.svg", out.display());
    Ok(summary)
}

async fn run_on(target: &mut Target, command: &Command, timeline: &Arc<Timeline>) -> anyhow::Result<Summary> {
    match command {
        Command::Rush(args) => scenarios::rush::run(target, args, timeline).await,
        Command::Storm(args) => scenarios::storm::run(target, args, timeline).await,
        Command::Offline(args) => scenarios::offline::run(target, args, timeline).await,
        Command::FlashSale(args) => scenarios::flash_sale::run(target, args, timeline).await,
        Command::Connections(args) => scenarios::connections::run(target, args, timeline).await,
        Command::BigEvent(args) => scenarios::big_event::run(target, args).await,
        Command::Chaos(Chaos::HubKill(args)) => chaos::hub_kill::run(target, args, timeline).await,
        Command::Chaos(Chaos::ClockSkew(args)) => chaos::clock_skew::run(target, args, timeline).await,
        Command::Chaos(Chaos::PgRestart(_) | Chaos::TwoInstances(_) | Chaos::Upgrade(_)) | Command::Hub => {
            anyhow::bail!("runs on a hub of its own")
        }
    }
}
