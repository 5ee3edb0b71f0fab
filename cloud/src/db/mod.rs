//! The hub's database: SQLite (the embedded default: a file, nothing to install) or
//! PostgreSQL (production, several stateless hub instances over one database), chosen by the
//! URL.
//!
//! One storage layer serves both. Queries are written once in the SQL both dialects share —
//! `$1`-style placeholders (sqlx's SQLite driver maps `$N` to argument N), `RETURNING`,
//! `ON CONFLICT`, integers for times (Unix milliseconds) and flags — and run through sqlx's
//! `Any` driver. What differs lives in [`Backend`]: each backend's migrations
//! (`migrations/sqlite`, `migrations/postgres`), connection setup, tenant scoping (PostgreSQL's
//! row-level security), and cross-instance notification (LISTEN/NOTIFY). Two copies of every
//! query would drift apart; one copy with the differences named is what "the same behaviour on
//! both" needs.

mod notify;
pub mod schema;
mod tx;

pub use notify::{Bells, CHANGES_CHANNEL, ChangeBell, Notifier, SEATS_CHANNEL, SeatBell};
pub use tx::{System, Tenant};

use crate::clock::Clock;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor, Transaction};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Which database engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default.
    Sqlite,
    /// Production.
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn of(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }

    /// `sql` with its `?` placeholders as this backend binds them: numbered `$1, $2, …` on
    /// PostgreSQL, left anonymous (bound in order) on SQLite. SQLite finds a named parameter by
    /// walking the statement's list of names, so binding `n` named ones costs `n²`: for a
    /// generated statement of a few hundred parameters (a batch of journal entries, the runs a
    /// sync answer reads) that was a tenth of the hub's CPU in a reconnect storm. `sql` must
    /// hold no `?` but placeholders, and no `$N` ones.
    pub fn placeholders(self, sql: &str) -> String {
        match self {
            Self::Sqlite => sql.to_owned(),
            Self::Postgres => {
                let mut out = String::with_capacity(sql.len() + sql.len() / 4);
                let mut n = 0;
                for c in sql.chars() {
                    if c == '?' {
                        n += 1;
                        out.push('$');
                        out.push_str(&n.to_string());
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }

    fn migrator(self) -> &'static sqlx::migrate::Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATIONS,
            Self::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// A database failure. Its text is for logs; API callers get a generic 500 or 503.
#[derive(Debug, Error)]
pub enum DbError {
    /// The URL names neither SQLite nor PostgreSQL.
    #[error("database URL must start with sqlite: or postgres://")]
    UnsupportedUrl,
    /// The database could not be reached or refused a query.
    #[error("database: {0}")]
    Sqlx(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The schema is newer than this release and no longer safe for it ([`schema`]).
    #[error(
        "the database's schema (migration {database}) is newer than this release understands \
         (migration {known}) and no longer compatible with it: run a release that knows migration \
         {oldest_reader} or later"
    )]
    SchemaTooNew {
        /// The database's newest migration.
        database: i64,
        /// This release's newest migration.
        known: i64,
        /// The oldest release (by its newest migration) that may still run on the schema.
        oldest_reader: i64,
    },
}

/// A pool of connections to the hub's database.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// The URL (PostgreSQL: for LISTEN, which needs a connection of its own). Holds the
    /// password: never printed.
    url: Arc<str>,
    /// Dates every transaction ([`Tenant::now`]): the hub's one source of time.
    clock: Clock,
    /// Rung by its transactions when they commit: the journal changed, seats changed, webhooks
    /// queued.
    bells: Bells,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// The PostgreSQL role the hub's queries run as: not a superuser, not the tables' owner, no
/// BYPASSRLS — so row-level security (forced on every tenant table) applies to it. Created by
/// the migrations; each connection of [`Db::open`] switches to it.
pub const APP_ROLE: &str = "voelgoed_app";

impl Db {
    /// Opens the hub's database on the wall clock (see [`Self::open_with_clock`]).
    pub async fn open(url: &str) -> Result<Self, DbError> {
        Self::open_with_clock(url, Clock::wall()).await
    }

    /// Opens the hub's database: brings the schema up to date as the URL's user (the owner),
    /// then connects the hub's pool — on PostgreSQL as [`APP_ROLE`], under row-level security.
    /// Its transactions are dated by `clock`.
    pub async fn open_with_clock(url: &str, clock: Clock) -> Result<Self, DbError> {
        let owner = Self::connect(url).await?;
        owner.migrate().await?;
        let db = if owner.backend == Backend::Sqlite {
            owner
        } else {
            owner.pool.close().await;
            Self::connect_with_role(url, Some(APP_ROLE)).await?
        };
        Ok(Self { clock, ..db })
    }

    /// Connects as the URL's user, without migrating or switching roles (administration:
    /// creating databases, migrating, inspecting in tests). SQLite databases are created if
    /// missing, in WAL mode with `synchronous=FULL` (an acknowledged write survives a power
    /// cut) and a busy timeout (writers queue instead of failing).
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        Self::connect_with_role(url, None).await
    }

    async fn connect_with_role(url: &str, role: Option<&'static str>) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of(url)?;
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    // SQLite has one writer at a time; a few connections serve concurrent reads.
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                                 PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            if let Some(role) = role {
                                // A constant, not input.
                                conn.execute(sqlx::AssertSqlSafe(format!("SET ROLE {role}"))).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
        };
        Ok(Self { pool, backend, url: url.into(), clock: Clock::wall(), bells: Bells::default() })
    }

    /// Brings the schema up to date (idempotent); on a newer schema, runs on it if it is
    /// still compatible with this release and refuses if not ([`schema`]).
    pub async fn migrate(&self) -> Result<schema::Schema, DbError> {
        schema::migrate(&self.pool, self.backend).await
    }

    /// Refreshes the query planner's statistics where they are stale (SQLite; PostgreSQL's
    /// autovacuum analyzes on its own). Why: without them SQLite cannot tell that a ticket's
    /// scans are two rows of a million, and read an order's check-ins through the event's
    /// index by time — 0.8 s for an order page of a 1,000,000-check-in event, ~1 ms once it
    /// knew (docs/benchmarks.md). Cheap when nothing changed; a sample of each index otherwise.
    pub async fn optimize(&self) -> Result<(), DbError> {
        if self.backend == Backend::Sqlite {
            // 0x10002: every table, not only those this connection used; analyze where stale.
            sqlx::raw_sql("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// The URL it was opened with (secret: it may hold a password).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The clock that dates its transactions.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The bell its transactions ring when they change an organization's journal or
    /// documents.
    pub fn change_bell(&self) -> &ChangeBell {
        &self.bells.changes
    }

    /// Every bell its transactions ring (closed when the hub shuts down).
    pub fn bells(&self) -> &Bells {
        &self.bells
    }

    /// The bell its transactions ring when they change seats.
    pub fn seat_bell(&self) -> &SeatBell {
        &self.bells.seats
    }

    /// The bell its transactions ring when they queue webhook deliveries: this instance's
    /// delivery worker waits on it.
    pub fn webhook_bell(&self) -> &Arc<tokio::sync::Notify> {
        &self.bells.webhooks
    }

    /// The bell its transactions ring when they queue texts: this instance's text worker
    /// waits on it.
    pub fn text_bell(&self) -> &Arc<tokio::sync::Notify> {
        &self.bells.texts
    }

    /// The bell rung when mail is queued (the mail module's `kick`): this instance's mail worker
    /// waits on it.
    pub fn mail_bell(&self) -> &Arc<tokio::sync::Notify> {
        &self.bells.mail
    }

    /// The pool, for the global tables only (users, the hub's identity, webhook events, the
    /// health check). On PostgreSQL the tenant tables show nothing through it: use
    /// [`Self::tenant`], or [`Self::system`] for the few lookups across organizations.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`): a
    /// transaction that reads and then writes would otherwise fail with "database is locked"
    /// when another writer committed in between (its read snapshot can no longer be upgraded,
    /// and the busy timeout does not apply). Writers queue on the busy timeout instead.
    async fn begin(&self) -> Result<Transaction<'static, sqlx::Any>, DbError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// A transaction that sees only organization `org`'s rows. Every query inside still names
    /// the organization (the first wall); on PostgreSQL, row-level security enforces it again
    /// (the second wall).
    pub async fn tenant(&self, org: i64) -> Result<Tenant, DbError> {
        let tx = match self.backend {
            Backend::Sqlite => self.begin().await?,
            // One round trip: BEGIN and the setting together (`org` is a number, safe to
            // inline; `set_config(…, true)` lasts until the transaction ends).
            Backend::Postgres => {
                self.pool
                    .begin_with(sqlx::AssertSqlSafe(format!(
                        "BEGIN; SELECT set_config('voelgoed.org_id', '{org}', true)"
                    )))
                    .await?
            }
        };
        Ok(Tenant::new(tx, org, self.clock.now_ms(), self.backend, self.bells.clone()))
    }

    /// A [`Self::tenant`] transaction for reads only: on SQLite it does not take the write lock
    /// (`BEGIN IMMEDIATE` does, so that a transaction that writes never has to upgrade), so
    /// the sync engine's reads — a device's version vector, the entries it lacks, documents —
    /// do not queue behind every append and its fsync. A write inside one would fail when
    /// another writer got there first: only for transactions that never write.
    pub async fn tenant_read(&self, org: i64) -> Result<Tenant, DbError> {
        match self.backend {
            Backend::Sqlite => Ok(Tenant::new(
                self.pool.begin().await?,
                org,
                self.clock.now_ms(),
                self.backend,
                self.bells.clone(),
            )),
            Backend::Postgres => self.tenant(org).await,
        }
    }

    /// A transaction for the few lookups that must cross organizations before one is known
    /// (an event's organization for a public checkout, a payment's for a webhook, expired
    /// holds of every organization). On PostgreSQL it says so to row-level security
    /// (`voelgoed.system`); keeping these in one named place keeps them few and visible.
    pub async fn system(&self) -> Result<System, DbError> {
        let tx = match self.backend {
            Backend::Sqlite => self.begin().await?,
            Backend::Postgres => {
                self.pool.begin_with("BEGIN; SELECT set_config('voelgoed.system', 'on', true)").await?
            }
        };
        Ok(System::new(tx, self.clock.now_ms(), self.backend, self.bells.clone()))
    }

    /// A read-only [`Self::system`] transaction: on SQLite it does not take the write lock
    /// (a transaction that never writes has nothing to upgrade), so lookups on every request —
    /// the caller's session — do not queue behind writers.
    pub async fn lookup(&self) -> Result<System, DbError> {
        match self.backend {
            Backend::Sqlite => Ok(System::new(
                self.pool.begin().await?,
                self.clock.now_ms(),
                self.backend,
                self.bells.clone(),
            )),
            Backend::Postgres => self.system().await,
        }
    }

    /// Work due across organizations: `(id, org_id)` rows of `sql` (a `system` query with one
    /// parameter, `$1`), for maintenance jobs that then handle each in its own organization.
    pub async fn due(&self, sql: &'static str, param: i64) -> Result<Vec<(i64, i64)>, DbError> {
        let mut system = self.lookup().await?;
        let rows: Vec<(i64, i64)> = sqlx::query_as(sql).bind(param).fetch_all(&mut *system).await?;
        system.commit().await?;
        Ok(rows)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// `rows` copies of `row`, joined by `, ` (a multi-row VALUES list for
/// [`Backend::placeholders`]).
pub fn repeated(rows: usize, row: &str) -> String {
    vec![row; rows].join(", ")
}

/// A multi-row VALUES list: `rows` copies of `row`, its `?`s numbered `$1, $2, …` across
/// the rows (one round trip inserts a whole batch on either backend).
pub fn values(rows: usize, row: &str) -> String {
    Backend::Postgres.placeholders(&repeated(rows, row))
}

#[cfg(test)]
mod values_tests {
    #[test]
    fn placeholders_are_numbered_across_rows() {
        assert_eq!(super::values(2, "(?, 'x', ?)"), "($1, 'x', $2), ($3, 'x', $4)");
        // SQLite binds anonymous placeholders in order, without looking names up.
        assert_eq!(super::Backend::Sqlite.placeholders("(?, 'x', ?)"), "(?, 'x', ?)");
        assert_eq!(super::values(0, "(?)"), "");
    }
}
