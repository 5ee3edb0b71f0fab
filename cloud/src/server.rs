//! The HTTP server: the router, and serving it until a shutdown signal.

use crate::error::ApiError;
use crate::payments::simulated;
use crate::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use std::future::Future;
use tower_http::trace::TraceLayer;

/// The whole hub as one router, and its OpenAPI document.
pub fn router_and_api(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let simulator = state.simulator.clone();
    let (hub, api) = crate::openapi::routes().split_for_parts();
    let api = crate::openapi::finish(api);
    let document = api.clone();
    let hub = hub
        .merge(crate::console::routes())
        .route(crate::openapi::PATH, get(move || async move { Json(document) }))
        // What no route answers is a problem document too, never the framework's plain text.
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::NoRoute("this path does not take this method") })
        .layer(TraceLayer::new_for_http())
        .with_state(state)
        .nest(simulated::MOUNT, simulated::router(simulator));
    (hub, api)
}

/// The whole hub as one router.
pub fn router(state: AppState) -> Router {
    router_and_api(state).0
}

/// Serves until `shutdown` completes, then stops accepting and lets requests in flight
/// finish: long-polls answer at once and live streams end ([`crate::db::Bells::close`]), so a
/// rolling upgrade waits for short requests only, and those clients come back through the
/// load balancer to an instance that stays.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let bells = state.db.bells().clone();
    let shutdown = async move {
        shutdown.await;
        tracing::info!("shutting down: answering long-polls, ending live streams, finishing requests");
        bells.close();
    };
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
