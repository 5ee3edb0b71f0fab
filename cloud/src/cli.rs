//! The `cloud` command: `serve`, `migrate`, `create-org`.

use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::server::{serve, shutdown_signal};
use crate::state::AppState;
use crate::tenancy::{NewOrganization, create_organization};
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "cloud", version, about = "The Voelgoed hub")]
struct Cli {
    /// A TOML configuration file (settings: listen, data_dir, database_url, master_key,
    /// public_url, log; each also as VOELGOED_<NAME>, secrets as VOELGOED_<NAME>_FILE).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub (migrates the database first).
    Serve {
        /// Address to listen on (overrides the configuration).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Seed a demo organization and festival on first start, with a past (orders, refunds,
        /// scans at every gate, a double admission, a box-office shift); print the console, the
        /// login and a fresh enrollment code.
        #[arg(long)]
        demo: bool,
        /// With --demo: the organization and festival only, no past (what end-to-end tests of
        /// the apps start from).
        #[arg(long, requires = "demo")]
        bare: bool,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Print the REST API's OpenAPI document (the one served at /api/openapi.json).
    Openapi,
    /// Create an organization and its first owner.
    CreateOrg {
        /// Display name.
        #[arg(long)]
        name: String,
        /// URL-safe short name.
        #[arg(long)]
        slug: String,
        /// The owner's e-mail.
        #[arg(long)]
        owner_email: String,
        /// The owner's name.
        #[arg(long)]
        owner_name: String,
        /// A file holding the owner's password (or set VOELGOED_OWNER_PASSWORD).
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
}

/// Runs the command line.
pub fn run() -> ExitCode {
    run_from(std::env::args_os())
}

/// Runs the command line `args` (the program name first): the fleet simulator starts hub
/// processes through this, from its own binary.
pub fn run_from<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    if matches!(cli.command, Command::Openapi) {
        print!("{}", crate::openapi::to_json());
        return ExitCode::SUCCESS;
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let logs = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::new(&config.log));
    if config.log_json {
        logs.json().init();
    } else {
        logs.init();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(execute(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn open(config: &Config) -> anyhow::Result<Db> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let db = Db::open(&config.database_url()).await.context("cannot open the database")?;
    Ok(db)
}

async fn execute(command: Command, mut config: Config) -> anyhow::Result<()> {
    match command {
        Command::Openapi => print!("{}", crate::openapi::to_json()),
        Command::Migrate => {
            std::fs::create_dir_all(&config.data_dir)
                .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
            // As the owner, as the hub migrates when it starts.
            let owner = Db::connect(&config.database_url()).await.context("cannot open the database")?;
            match owner.migrate().await.context("cannot migrate the database")? {
                crate::db::schema::Schema::Current => println!("database is up to date"),
                crate::db::schema::Schema::NewerCompatible { database } => println!(
                    "the database's schema (migration {database}) is newer than this release \
                     (migration {}); it is compatible and was left as it is",
                    crate::db::schema::newest_known(owner.backend())
                ),
            }
        }
        Command::CreateOrg { name, slug, owner_email, owner_name, password_file } => {
            let owner_password = match password_file {
                Some(path) => std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?
                    .trim()
                    .to_owned(),
                None => std::env::var("VOELGOED_OWNER_PASSWORD")
                    .context("give --password-file or set VOELGOED_OWNER_PASSWORD")?,
            };
            let db = open(&config).await?;
            let new = NewOrganization { name, slug, owner_email, owner_name, owner_password };
            let created = create_organization(&db, &new).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("organization {} created, owner user {}", created.org_id, created.user_id);
        }
        Command::Serve { listen, demo, bare } => {
            if let Some(listen) = listen {
                // The public URL follows the address, unless the configuration set its own
                // (a hub behind a proxy keeps its https:// name).
                if config.public_url == format!("http://{}", config.listen) {
                    config.public_url = format!("http://{listen}");
                }
                config.listen = listen;
            }
            let listener = tokio::net::TcpListener::bind(config.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.listen))?;
            // Port 0 (any free port): the URL to print is the port actually bound.
            if config.public_url == format!("http://{}", config.listen) {
                config.public_url = format!("http://{}", listener.local_addr()?);
            }
            let local = format!("http://{}", listener.local_addr()?);
            let state = AppState::build(&config, Clock::wall()).await?;
            let seeded = if demo {
                Some(crate::demo::seed(&state).await.map_err(|e| anyhow::anyhow!("demo: {e}"))?)
            } else {
                None
            };
            tracing::info!(url = %config.public_url, backend = ?state.db.backend(), "hub listening");
            tokio::spawn(crate::maintenance::run(state.clone()));
            tokio::spawn(state.webhooks.clone().run());
            tokio::spawn(state.texts.clone().run());
            tokio::spawn(crate::mail::run(state.db.clone(), state.mailer.clone()));
            let server = tokio::spawn(serve(listener, state.clone(), shutdown_signal()));
            if let Some(seeded) = seeded {
                // The past is made through the hub's own API and sync, so it waits for serving.
                if !bare
                    && let Err(e) =
                        crate::demo::history::seed_history(&state, &seeded, &local, &config.data_dir).await
                {
                    tracing::warn!(error = %format!("{e:#}"), "the demo festival's past could not be made");
                }
                println!("{}", crate::demo::banner(&config.public_url, &seeded));
            }
            server.await.context("the server stopped")??;
        }
    }
    Ok(())
}
