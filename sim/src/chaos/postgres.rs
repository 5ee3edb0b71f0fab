//! A private PostgreSQL cluster for the restart chaos: restarting the machine's shared server
//! would break every other test using it, so the run creates its own with Debian's cluster
//! tools (`pg_createcluster`, which also work as root), on a free port, trust auth on
//! loopback, and drops it afterwards.

use anyhow::{Context, bail};
use std::process::Command;

/// A running cluster of its own.
pub struct Cluster {
    version: String,
    name: String,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Cluster {
    /// Creates and starts a cluster named `name` (replacing a leftover of the same name).
    pub fn create(name: &str) -> anyhow::Result<Self> {
        let version = std::fs::read_dir("/etc/postgresql")
            .context("PostgreSQL's cluster tools are not installed (/etc/postgresql)")?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .max()
            .context("no PostgreSQL version under /etc/postgresql")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let cluster = Self { version, name: name.to_owned(), port };
        let _ = cluster.tool("pg_dropcluster", &["--stop"], &[]);
        cluster.tool(
            "pg_createcluster",
            &["-p", &port.to_string()],
            &["--", "--auth-local=trust", "--auth-host=trust"],
        )?;
        cluster.ctl("start", &[])?;
        Ok(cluster)
    }

    /// The admin URL (user postgres, database postgres).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server the hard way (`immediate`: no checkpoint, every connection cut —
    /// recovery from the WAL at the next start, as after a crash).
    pub fn crash(&self) -> anyhow::Result<()> {
        self.ctl("stop", &["-m", "immediate"])
    }

    /// Starts it again.
    pub fn start(&self) -> anyhow::Result<()> {
        self.ctl("start", &[])
    }

    fn ctl(&self, action: &str, options: &[&str]) -> anyhow::Result<()> {
        let mut args = vec!["--skip-systemctl-redirect"];
        args.extend_from_slice(options);
        args.extend_from_slice(&[self.version.as_str(), self.name.as_str(), action]);
        run("pg_ctlcluster", &args)
    }

    fn tool(&self, tool: &str, before: &[&str], after: &[&str]) -> anyhow::Result<()> {
        let mut args = before.to_vec();
        args.extend_from_slice(&[self.version.as_str(), self.name.as_str()]);
        args.extend_from_slice(after);
        run(tool, &args)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.tool("pg_dropcluster", &["--stop"], &[]);
    }
}

fn run(tool: &str, args: &[&str]) -> anyhow::Result<()> {
    let output = Command::new(tool).args(args).output().with_context(|| format!("cannot run {tool}"))?;
    if !output.status.success() {
        bail!("{tool} {}: {}", args.join(" "), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}
