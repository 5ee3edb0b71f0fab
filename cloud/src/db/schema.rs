//! Which schema this release runs on, when a hub starts.
//!
//! Releases roll one instance at a time over one database: the first new instance migrates,
//! and the previous release's instances go on running on the newer schema until they are
//! replaced — and, from this release on, may restart on it (a release before this check
//! refuses any newer schema). Migrations are written expand-then-contract so that this is safe
//! (see `migrations/*/0023_schema_compatibility.sql`); the database says how far back it is
//! safe in `schema_compatibility.oldest_reader`.
//!
//! At start, in this order:
//! 1. The database holds no migration this release does not know: migrate (sqlx checks the
//!    applied migrations' checksums and applies the missing ones).
//! 2. It holds newer ones, and this release's newest migration is at least `oldest_reader`:
//!    start on it without migrating (a rolled-back or not-yet-replaced instance).
//! 3. Otherwise refuse, naming the schema's version and the release it needs: running on a
//!    schema that dropped or changed what this release reads would fail request by request,
//!    or write what the newer release cannot read.

use super::{Backend, DbError};
use sqlx::AnyPool;

/// What the database's schema is, against what this release knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schema {
    /// Nothing newer than this release: migrate it.
    Current,
    /// Newer, and still readable by this release: run on it as it is.
    NewerCompatible {
        /// The database's newest migration.
        database: i64,
    },
}

/// The newest migration this release knows on `backend`.
pub fn newest_known(backend: Backend) -> i64 {
    backend.migrator().iter().map(|m| m.version).max().unwrap_or(0)
}

/// Reads the database's schema version and decides as the module says; refuses with
/// [`DbError::SchemaTooNew`]. On a pool of the database's owner (on PostgreSQL the hub's own
/// role may not read the migrations table), as migrating is.
pub async fn check(pool: &AnyPool, backend: Backend) -> Result<Schema, DbError> {
    let known = newest_known(backend);
    let Some(database) = newest_applied(pool, backend).await? else {
        return Ok(Schema::Current);
    };
    if database <= known {
        return Ok(Schema::Current);
    }
    let oldest_reader: Option<i64> =
        sqlx::query_scalar("SELECT oldest_reader FROM schema_compatibility WHERE id = 1")
            .fetch_optional(pool)
            .await?;
    // A newer schema always has the table (its migration is older than any hub with this
    // check); without it, nothing says this release is safe on it.
    let oldest_reader = oldest_reader.unwrap_or(i64::MAX);
    if known >= oldest_reader {
        Ok(Schema::NewerCompatible { database })
    } else {
        Err(DbError::SchemaTooNew { database, known, oldest_reader })
    }
}

/// Brings the schema up to date, or leaves a newer compatible one as it is (see the module).
pub async fn migrate(pool: &AnyPool, backend: Backend) -> Result<Schema, DbError> {
    if let Schema::NewerCompatible { database } = check(pool, backend).await? {
        run_on_newer(pool, backend, database).await?;
        return Ok(Schema::NewerCompatible { database });
    }
    match backend.migrator().run(pool).await {
        Ok(()) => Ok(Schema::Current),
        // A newer release migrated between the check and sqlx's lock (instances of two
        // releases starting at once): decide again on what is there now.
        Err(missing @ sqlx::migrate::MigrateError::VersionMissing(_)) => match check(pool, backend).await? {
            Schema::NewerCompatible { database } => {
                run_on_newer(pool, backend, database).await?;
                Ok(Schema::NewerCompatible { database })
            }
            Schema::Current => Err(missing.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Starts on a newer, compatible schema without migrating it.
async fn run_on_newer(pool: &AnyPool, backend: Backend, database: i64) -> Result<(), DbError> {
    tracing::warn!(
        database,
        known = newest_known(backend),
        "the database's schema is newer than this release; it is compatible, so the hub runs on \
         it without migrating (replace this instance with the newer release)"
    );
    // The migrations this release knows must still be the ones applied: a changed one is
    // refused (a known one the database lacks would be applied; releases apply their
    // migrations in order, so a newer schema has them all).
    let mut known = sqlx::migrate::Migrator::with_migrations(backend.migrator().iter().cloned().collect());
    known.set_ignore_missing(true);
    known.run(pool).await?;
    Ok(())
}

/// The newest migration applied, or `None` on a database never migrated.
async fn newest_applied(pool: &AnyPool, backend: Backend) -> Result<Option<i64>, DbError> {
    let exists = match backend {
        Backend::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
        }
        // The table sqlx's unqualified name resolves to (the search path), not one elsewhere.
        Backend::Postgres => {
            "SELECT COUNT(*) FROM (SELECT to_regclass('_sqlx_migrations') AS t) r WHERE t IS NOT NULL"
        }
    };
    let tables: i64 = sqlx::query_scalar(exists).fetch_one(pool).await?;
    if tables == 0 {
        return Ok(None);
    }
    Ok(sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(pool).await?)
}
