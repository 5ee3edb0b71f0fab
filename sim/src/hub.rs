//! The hub under test: one already running at a URL, or hub processes the simulator starts
//! itself — real processes, so the hub-kill chaos can SIGKILL one and start it again on the same
//! data. The hub process is this very binary (`voelgoed-sim hub …` is the hub's own command
//! line, [`cloud::cli`]), so nothing else has to be built or installed.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The owner the simulator creates in a hub it starts.
pub const OWNER_EMAIL: &str = "owner@sim.voelgoed.invalid";
/// That owner's password (a hub the simulator starts lives in a temporary directory).
pub const OWNER_PASSWORD: &str = "simulated owner password";

/// Where a hub's data lives.
#[derive(Clone, Debug)]
pub enum Database {
    /// The embedded default: an SQLite file in the hub's data directory.
    Sqlite,
    /// A fresh database created on the PostgreSQL server behind this admin URL
    /// (e.g. `postgres://postgres@127.0.0.1:5432/test`), dropped afterwards.
    Postgres(String),
}

/// One hub process on a fixed port, restartable on the same data.
pub struct HubProcess {
    exe: PathBuf,
    env: Vec<(String, String)>,
    port: u16,
    log: PathBuf,
    child: Option<Child>,
    /// Its base URL.
    pub url: String,
}

impl HubProcess {
    async fn start(exe: &Path, env: Vec<(String, String)>, log: PathBuf) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut hub = Self {
            exe: exe.to_owned(),
            env,
            port,
            log,
            child: None,
            url: format!("http://127.0.0.1:{port}"),
        };
        hub.spawn().await?;
        Ok(hub)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        // A profiler to run the hub under, e.g. `VOELGOED_SIM_HUB_WRAPPER="heaptrack -o hub"`
        // (the process the simulator then measures and kills is the wrapper's: stop the hub
        // itself with SIGTERM after the run, so the profiler writes its data).
        let wrapper = std::env::var("VOELGOED_SIM_HUB_WRAPPER").unwrap_or_default();
        let mut words = wrapper.split_whitespace();
        let mut command = match words.next() {
            Some(program) => {
                let mut c = Command::new(program);
                c.args(words).arg(&self.exe);
                c
            }
            None => Command::new(&self.exe),
        };
        let child = command
            .args(["hub", "serve", "--listen", &format!("127.0.0.1:{}", self.port)])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start the hub ({})", self.exe.display()))?;
        self.child = Some(child);
        self.wait_ready().await
    }

    /// Waits until `GET /health` answers 200 (the database is open and migrated).
    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = sync_core::sync::http::http_client()?;
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("the hub exited at start ({status}); its log: {}", self.log.display());
            }
            if let Ok(r) = client.get(format!("{}/health", self.url)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the hub did not answer /health within 60 s; its log: {}", self.log.display())
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// SIGKILL: no shutdown, no flush — what a power cut or an OOM kill does to the process.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.start_kill()?; // SIGKILL on Unix
            child.wait().await?;
        }
        Ok(())
    }

    /// Starts it again on the same port and data.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill().await?;
        self.spawn().await
    }

    /// SIGTERM, as an orchestrator stops an instance: the hub stops accepting and finishes
    /// its requests in flight. After `grace` it is SIGKILLed (as Kubernetes does after its
    /// grace period).
    pub async fn stop(&mut self, grace: Duration) -> anyhow::Result<Stopped> {
        let Some(mut child) = self.child.take() else {
            return Ok(Stopped { took_ms: 0.0, killed: false });
        };
        let started = Instant::now();
        if let Some(pid) = child.id() {
            // No signal crate for one signal: kill(1) sends it.
            let sent = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status()?;
            anyhow::ensure!(sent.success(), "kill -TERM {pid} failed");
        }
        let killed = if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
            status?;
            false
        } else {
            child.start_kill()?;
            child.wait().await?;
            true
        };
        Ok(Stopped { took_ms: started.elapsed().as_secs_f64() * 1000.0, killed })
    }
}

/// How an instance stopped.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Stopped {
    /// From SIGTERM until the process was gone, ms.
    pub took_ms: f64,
    /// It had not finished within the grace period and was SIGKILLed.
    pub killed: bool,
}

/// A free TCP port on loopback (the kernel's choice; released before the hub binds it).
fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Hub processes the simulator started: one or more instances over one database, with an
/// organization and its owner ([`OWNER_EMAIL`]). Everything is removed when dropped.
pub struct OwnHub {
    /// The running instances (several only over PostgreSQL).
    pub instances: Vec<HubProcess>,
    /// The database URL the instances share.
    pub database_url: String,
    /// Every instance's environment (data directory, database, limits).
    env: Vec<(String, String)>,
    dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

/// Whether to leave the hub's data directory and database behind when the run ends, to look
/// at afterwards (`VOELGOED_SIM_KEEP_HUB=1`).
fn keep_hub() -> bool {
    std::env::var_os("VOELGOED_SIM_KEEP_HUB").is_some_and(|v| !v.is_empty() && v != "0")
}

impl OwnHub {
    /// Starts `instances` hub processes from `exe` over `database`, after creating the
    /// organization the simulation runs in.
    pub async fn start(exe: &Path, database: &Database, instances: usize) -> anyhow::Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let keep = keep_hub();
        let dir = tempfile::Builder::new().prefix("voelgoed-sim-hub").disable_cleanup(keep).tempdir()?;
        if keep {
            eprintln!("keeping the hub's data directory {} (VOELGOED_SIM_KEEP_HUB)", dir.path().display());
        }
        let (database_url, postgres) = match database {
            Database::Sqlite => {
                if instances > 1 {
                    bail!("several hub instances need PostgreSQL (--postgres)");
                }
                (format!("sqlite://{}?mode=rwc", dir.path().join("hub.db").display()), None)
            }
            Database::Postgres(admin) => {
                let name =
                    format!("voelgoed_sim_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
                admin_sql(admin, &format!("DROP DATABASE IF EXISTS {name}")).await?;
                admin_sql(admin, &format!("CREATE DATABASE {name}")).await?;
                let base = &admin[..admin.rfind('/').context("the PostgreSQL URL names no database")?];
                if keep {
                    eprintln!("keeping the hub's database {name} (VOELGOED_SIM_KEEP_HUB)");
                }
                (format!("{base}/{name}"), (!keep).then(|| (admin.clone(), name)))
            }
        };
        let env = vec![
            ("VOELGOED_DATA_DIR".to_owned(), dir.path().display().to_string()),
            ("VOELGOED_DATABASE_URL".to_owned(), database_url.clone()),
            // Every simulated customer comes from 127.0.0.1: the per-address checkout limit
            // would be the bottleneck of a flash sale.
            ("VOELGOED_CHECKOUTS_PER_MINUTE".to_owned(), "1000000000".to_owned()),
            ("VOELGOED_LOG".to_owned(), "warn".to_owned()),
        ];
        create_org(exe, &env, &dir.path().join("create-org.log")).await?;
        let mut own = Self { instances: Vec::new(), database_url, env, dir, postgres };
        for _ in 0..instances.max(1) {
            own.start_instance(exe).await?;
        }
        Ok(own)
    }

    /// Starts one more instance, of the hub in `exe` (another release's, in a rolling
    /// upgrade), over the same database; returns its index in [`Self::instances`].
    pub async fn start_instance(&mut self, exe: &Path) -> anyhow::Result<usize> {
        let n = self.instances.len();
        let log = self.dir.path().join(format!("hub-{n}.log"));
        self.instances.push(HubProcess::start(exe, self.env.clone(), log).await?);
        Ok(n)
    }

    /// The data directory (the master key lives there).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The instances' URLs.
    pub fn urls(&self) -> Vec<String> {
        self.instances.iter().map(|i| i.url.clone()).collect()
    }

    /// The hub's database, for checks and for minting tickets with the event keys.
    pub async fn database(&self) -> anyhow::Result<cloud::db::Db> {
        Ok(cloud::db::Db::open(&self.database_url).await?)
    }

    /// The master key the hub generated in its data directory.
    pub fn master_key(&self) -> anyhow::Result<cloud::crypto::MasterKey> {
        cloud::crypto::MasterKey::load(&secrecy::SecretString::from(String::new()), self.data_dir())
    }
}

impl Drop for OwnHub {
    fn drop(&mut self) {
        for instance in &mut self.instances {
            if let Some(child) = instance.child.as_mut() {
                let _ = child.start_kill();
            }
        }
        if let Some((admin, name)) = self.postgres.take() {
            // Dropping needs a runtime of its own: this may run inside or outside one.
            std::thread::spawn(move || {
                if let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    let _ = runtime
                        .block_on(admin_sql(&admin, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
                }
            })
            .join()
            .ok();
        }
    }
}

async fn admin_sql(admin: &str, sql: &str) -> anyhow::Result<()> {
    let db =
        cloud::db::Db::connect(admin).await.with_context(|| format!("cannot reach PostgreSQL at {admin}"))?;
    // The names are made here (pid and counter), never from input.
    sqlx::query(sqlx::AssertSqlSafe(sql.to_owned())).execute(db.pool()).await?;
    Ok(())
}

async fn create_org(exe: &Path, env: &[(String, String)], log: &Path) -> anyhow::Result<()> {
    let output = Command::new(exe)
        .args(["hub", "create-org", "--name", "Simulated Festivals", "--slug", "sim"])
        .args(["--owner-email", OWNER_EMAIL, "--owner-name", "Simulation"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("VOELGOED_OWNER_PASSWORD", OWNER_PASSWORD)
        .output()
        .await
        .with_context(|| format!("cannot run {}", exe.display()))?;
    std::fs::write(log, [output.stdout.as_slice(), output.stderr.as_slice()].concat())?;
    if !output.status.success() {
        bail!("creating the organization failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}
