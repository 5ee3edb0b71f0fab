//! The HTTP server: the router, and serving it until a shutdown signal.

use crate::crypto::MasterKey;
use crate::db::Db;
use crate::error::ApiError;
use crate::journal::{DocCache, Notifier};
use crate::payments::simulated::{self, Credentials, SimulatedClient, Simulator};
use crate::sales::{Sales, SalesOptions};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use std::future::Future;
use std::sync::Arc;
use sync_core::keys::DeviceKey;
use sync_core::sync::auth::RequestVerifier;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub db: Db,
    /// The hub's public URL.
    pub public_url: Arc<str>,
    /// Login and enrollment attempts per e-mail (or code) and address.
    pub login_limiter: crate::auth::LoginLimiter,
    /// Seals event keys at rest.
    pub master: MasterKey,
    /// The hub's own key (signs sync responses).
    pub hub_key: Arc<DeviceKey>,
    /// Wakes long-polls of an organization's devices.
    pub notifier: Notifier,
    /// Loaded documents and their sync states.
    pub docs: DocCache,
    /// When each device's status was last written.
    pub seen: crate::journal::SeenThrottle,
    /// Checks device-signed sync requests (nonces are remembered per instance).
    pub verifier: Arc<RequestVerifier>,
    /// Checkout, payments, refunds.
    pub sales: Sales,
    /// The simulated payment provider, when this hub serves it at `/sim-psp`.
    pub simulator: Option<Arc<Simulator>>,
    /// How mail leaves the hub (`None`: it waits in the outbox).
    pub mailer: Option<Arc<crate::mail::Mailer>>,
}

impl AppState {
    /// State for a hub on `db` reachable at `public_url`, sealing with `master`.
    pub async fn new(db: Db, public_url: &str, master: MasterKey) -> anyhow::Result<Self> {
        let hub_key = crate::identity::load_or_create(&db, &master).await?;
        // No provider configured: the simulated one, served by this hub, with credentials
        // every instance sharing the master key derives alike.
        let credentials = Credentials {
            api_key: hex::encode(master.derive("simulated-psp:api-key")),
            webhook_secret: master.derive("simulated-psp:webhook-secret").to_vec(),
        };
        let psp_base = format!("{}{}", public_url.trim_end_matches('/'), simulated::MOUNT);
        let simulator = Simulator::new(&psp_base, credentials.clone())?;
        let provider = Arc::new(SimulatedClient::new(&psp_base, credentials)?);
        let notifier = Notifier::new(&db);
        if db.backend() == crate::db::Backend::Postgres {
            // Other instances' changes wake this one's long-polls; stops when the state goes.
            let (listener, url) = (notifier.clone(), db.url().to_owned());
            tokio::spawn(async move { listener.listen(url).await });
        }
        Ok(Self {
            db,
            public_url: public_url.into(),
            login_limiter: crate::auth::LoginLimiter::default(),
            master,
            hub_key: Arc::new(hub_key),
            notifier,
            docs: DocCache::default(),
            seen: crate::journal::SeenThrottle::default(),
            verifier: Arc::new(RequestVerifier::new(sync_core::journal::HUB)),
            sales: Sales::new(SalesOptions::default(), provider),
            simulator: Some(simulator),
            mailer: None,
        })
    }

    /// The hub's public key, as devices know it.
    pub fn hub_public_key(&self) -> [u8; 32] {
        self.hub_key.public_key()
    }
}

/// Every documented route (the REST API, the sync endpoint, the health check).
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .routes(routes!(health))
        .merge(crate::auth::routes())
        .merge(crate::events::routes())
        .merge(crate::devices::routes())
        .merge(crate::tenancy::routes())
        .merge(crate::sales::routes())
        .merge(crate::leases::routes())
        .merge(crate::guests::routes())
        .merge(crate::reports::routes())
        .merge(crate::payments::webhook::routes())
}

/// The whole hub as one router, and its OpenAPI document.
pub fn router_and_api(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let simulator = state.simulator.clone();
    let (hub, api) = api_routes().split_for_parts();
    let api = crate::openapi::finish(api);
    let document = api.clone();
    let hub = hub
        .merge(crate::console::routes())
        .route(crate::openapi::PATH, get(move || async move { Json(document) }))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    let hub = match simulator {
        Some(sim) => hub.nest(simulated::MOUNT, simulated::router(sim)),
        None => hub,
    };
    (hub, api)
}

/// The whole hub as one router.
pub fn router(state: AppState) -> Router {
    router_and_api(state).0
}

/// `GET /health`: 200 when the database answers (for load balancers).
#[utoipa::path(get, path = "/health", tag = "system", security(()), responses((status = 200, description = "The database answers", body = String)))]
async fn health(State(state): State<AppState>) -> Result<&'static str, ApiError> {
    state.db.ping().await?;
    Ok("ok")
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Connection info gives handlers the client address (login rate limiting). The address is
    // the TCP peer's: a forwarded-for header is not trusted.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
