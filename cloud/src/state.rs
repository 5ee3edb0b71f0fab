//! What the hub's handlers share, built from the [`Config`] in one place ([`AppState::build`])
//! — the command line, the tests, the benchmarks and the fleet simulator all start a hub the
//! same way, and nothing is patched in afterwards.
//!
//! Handlers take only the pieces they use (`State<Db>`, `State<Notifier>`, …: each piece has
//! its [`FromRef`]), and domain functions take those pieces, never the whole state.

use crate::auth::device::Nonces;
use crate::clock::Clock;
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::db::{Db, Notifier};
use crate::devices::SeenThrottle;
use crate::identity::HubKey;
use crate::journal::DocCache;
use crate::limits::Limits;
use crate::mail::Mailer;
use crate::payments::PaymentProvider;
use crate::payments::simulated::{self, Credentials, SimulatedClient, Simulator};
use crate::payments::stripe::Stripe;
use crate::sales::{Sales, SalesOptions};
use crate::webhooks::deliver::Deliverer;
use crate::webhooks::send::Sender;
use anyhow::Context;
use axum::extract::FromRef;
use std::sync::Arc;

/// The URL devices and browsers reach the hub at (links in mail, enrollment QR codes, the
/// payment provider's return address).
#[derive(Clone, Debug)]
pub struct PublicUrl(pub Arc<str>);

impl PublicUrl {
    /// The URL without a trailing slash, to append paths to.
    pub fn base(&self) -> &str {
        self.0.trim_end_matches('/')
    }

    /// Whether browsers reach it over TLS (cookies are then `Secure`).
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

/// Everything a handler may extract. Cheap to clone (every piece is shared).
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The database (its transactions dated by the clock).
    pub db: Db,
    /// The hub's time.
    pub clock: Clock,
    /// The public URL.
    pub public_url: PublicUrl,
    /// Seals event keys at rest.
    pub master: MasterKey,
    /// The hub's own key (signs sync responses).
    pub hub_key: HubKey,
    /// Wakes long-polls of an organization's devices, here and in other instances.
    pub notifier: Notifier,
    /// Loaded documents and their sync states.
    pub docs: DocCache,
    /// Decoded journal entries this process served or stored lately.
    pub entries: crate::journal::EntryCache,
    /// The journal reads devices' requests share (heads, documents), per change count.
    pub journal_reads: Arc<crate::journal::JournalReads>,
    /// The organizations' enrolments, shared by devices' requests per change count.
    pub enrolments: crate::devices::sync::Enrolments,
    /// When each device's status was last written.
    pub seen: SeenThrottle,
    /// Rate limits shared across instances (login, enrollment, API-token quotas).
    pub limits: Limits,
    /// Where the nonces of accepted device requests are remembered.
    pub nonces: Nonces,
    /// Checkout, payments, refunds.
    pub sales: Sales,
    /// The simulated payment provider this hub serves at `/sim-psp`.
    pub simulator: Arc<Simulator>,
    /// How mail leaves the hub (SMTP, or the mail drop).
    pub mailer: Arc<Mailer>,
    /// The last read of each event's seats, shared by the shop's open live maps.
    pub seat_snapshots: crate::seating::live::Snapshots,
    /// The last snapshot of each event's live dashboard, shared by its open streams.
    pub dashboard_snapshots: crate::console::live::Snapshots,
    /// Delivers outgoing webhooks (`cli` and the tests start its worker).
    pub webhooks: Deliverer,
    /// Sends texts (`cli` starts its worker; the tests run its rounds by hand).
    pub texts: crate::texts::Worker,
}

impl AppState {
    /// The hub `config` describes, on `clock`: opens (and migrates) the database, loads the
    /// master key and the hub's key, and sets up payments, mail and limits as configured.
    pub async fn build(config: &Config, clock: Clock) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
        let db = Db::open_with_clock(&config.database_url(), clock.clone())
            .await
            .context("cannot open the database")?;
        let master = MasterKey::load(&config.master_key, &config.data_dir)?;
        let hub_key = crate::identity::load_or_create(&db, &master).await?;
        let public_url = PublicUrl(config.public_url.as_str().into());
        // The simulated provider, served by this hub, with credentials every instance sharing
        // the master key derives alike.
        let credentials = Credentials {
            api_key: hex::encode(master.derive("simulated-psp:api-key")),
            webhook_secret: master.derive("simulated-psp:webhook-secret").to_vec(),
        };
        let psp_base = format!("{}{}", public_url.base(), simulated::MOUNT);
        let simulator = Simulator::new(&psp_base, credentials.clone(), clock.clone())?;
        // Stripe when configured; the simulator (served by this hub) otherwise.
        let provider: Arc<dyn PaymentProvider> = match &config.stripe {
            Some(stripe) => Arc::new(Stripe::new(stripe.clone())?),
            None => Arc::new(SimulatedClient::new(&psp_base, credentials)?),
        };
        let notifier = Notifier::new(&db);
        if db.backend() == crate::db::Backend::Postgres {
            // Other instances' changes wake this one's long-polls; stops when the state goes.
            let (listener, url) = (notifier.clone(), db.url().to_owned());
            tokio::spawn(async move { listener.listen(url).await });
        }
        let mailer = Arc::new(Mailer::from_config(config)?);
        let sender = Sender::new(config.webhooks_allow_private, crate::webhooks::send::TIMEOUT)?;
        let webhooks = Deliverer::new(db.clone(), master.clone(), sender, public_url.base());
        let texts = crate::texts::Worker::new(
            db.clone(),
            crate::texts::channel_from_config(config)?,
            config.texts_per_hour,
        );
        let sales_options = SalesOptions {
            hold: std::time::Duration::from_secs(u64::from(config.hold_minutes) * 60),
            checkouts_per_minute: config.checkouts_per_minute,
            missed_payment_after: std::time::Duration::from_secs(u64::from(config.missed_payment_after_secs)),
            max_batch: config.checkout_batch,
            ..SalesOptions::default()
        };
        Ok(Self {
            limits: Limits::new(db.clone(), config.api_token_requests_per_minute),
            nonces: Nonces::for_db(&db),
            db,
            clock,
            public_url: public_url.clone(),
            master,
            hub_key,
            notifier,
            docs: DocCache::default(),
            entries: crate::journal::EntryCache::default(),
            journal_reads: Arc::default(),
            enrolments: crate::devices::sync::Enrolments::default(),
            seen: SeenThrottle::default(),
            sales: Sales::new(sales_options, provider, public_url.clone()),
            simulator,
            mailer,
            seat_snapshots: crate::seating::live::Snapshots::default(),
            dashboard_snapshots: crate::console::live::Snapshots::default(),
            webhooks,
            texts,
        })
    }
}
