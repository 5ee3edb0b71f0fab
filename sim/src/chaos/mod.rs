//! Chaos: the promises under failure, each a subcommand of `voelgoed-sim chaos`.
//!
//! | chaos | what must hold |
//! |---|---|
//! | [`hub_kill`] | the hub is SIGKILLed mid fleet sync and restarted: nothing acknowledged is lost, all converge |
//! | [`pg_restart`] | PostgreSQL restarts mid flash sale: no half-made order, no oversell, retries succeed |
//! | [`two_instances`] | two hub instances over one PostgreSQL: devices split between them converge, push crosses over |
//! | [`clock_skew`] | device clocks 10 minutes off both ways: validity, ordering and double admissions still hold |

pub mod clock_skew;
pub mod hub_kill;
pub mod pg_restart;
pub mod postgres;
pub mod two_instances;

/// The chaos subcommands.
#[derive(clap::Subcommand, Clone, Debug)]
pub enum Chaos {
    /// SIGKILL the hub in the middle of a fleet sync, restart it, check nothing was lost.
    HubKill(hub_kill::HubKillArgs),
    /// Restart PostgreSQL in the middle of a flash sale (a private cluster the run creates).
    PgRestart(pg_restart::PgRestartArgs),
    /// Two hub instances over one PostgreSQL, devices split between them.
    TwoInstances(crate::scenarios::rush::RushArgs),
    /// Device clocks ahead and behind by --skew-secs.
    ClockSkew(clock_skew::ClockSkewArgs),
}

/// Counts rows with `sql` (one `$1` parameter, the event) in the hub's database (a read-only
/// transaction: on SQLite it does not take the hub's write lock).
pub async fn count(db: &cloud::db::Db, sql: &'static str, event: i64) -> anyhow::Result<i64> {
    let mut tx = db.lookup().await?;
    let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(event).fetch_one(&mut *tx).await?;
    Ok(n)
}
