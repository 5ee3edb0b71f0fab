//! The serving side: any replica (a device for its LAN peers; the hub reuses it too) answers
//! signed sync requests, holding long-polls open until it has news.

use super::{HELLO_PATH, Hello, Identity, SYNC_PATH};
use crate::ids::Timestamp;
use crate::sync::auth::{RequestVerifier, SignedHeaders, sign_response};
use crate::sync::engine::{SyncError, respond_or_wait};
use crate::sync::message::{Framed, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, SyncRequest};
use crate::sync::store::SyncStore;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use std::future::Future;
use std::sync::Arc;

struct Server<S> {
    store: Arc<S>,
    verifier: RequestVerifier,
}

/// The sync routes for `store`, to mount in an axum app (the hub does) or serve alone.
pub fn router<S: SyncStore + Identity + 'static>(store: Arc<S>) -> Router {
    let verifier = RequestVerifier::new(store.device());
    let state = Arc::new(Server { store, verifier });
    Router::new()
        .route(HELLO_PATH, get(hello::<S>))
        .route(SYNC_PATH, post(sync::<S>))
        .layer(DefaultBodyLimit::max(MAX_MESSAGE_BYTES))
        .with_state(state)
}

/// Serves `store` to peers on `listener` until `shutdown` completes.
pub async fn serve<S: SyncStore + Identity + 'static>(
    listener: tokio::net::TcpListener,
    store: Arc<S>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(store)).with_graceful_shutdown(shutdown).await
}

async fn hello<S: SyncStore + Identity>(State(server): State<Arc<Server<S>>>) -> Json<Hello> {
    Json(Hello { device: server.store.device(), protocol: PROTOCOL_VERSION })
}

fn refuse(status: StatusCode, message: &impl ToString) -> Response {
    (status, message.to_string()).into_response()
}

fn status_of(e: &SyncError) -> StatusCode {
    StatusCode::from_u16(e.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

async fn sync<S: SyncStore + Identity>(State(server): State<Arc<Server<S>>>, request: Request) -> Response {
    let store = &*server.store;
    let headers = request.headers();
    let signed = match SignedHeaders::read(|name| headers.get(name).and_then(|v| v.to_str().ok())) {
        Ok(h) => h,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, &e),
    };
    // Sender and timestamp first: an unknown or stale sender costs no body read.
    if let Err(e) = server.verifier.precheck(|d| store.key_of(d), &signed, Timestamp::now()) {
        return refuse(StatusCode::UNAUTHORIZED, &e);
    }
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_MESSAGE_BYTES).await else {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, &format!("at most {MAX_MESSAGE_BYTES} bytes"));
    };
    let peer = match server.verifier.verify(
        |d| store.key_of(d),
        "POST",
        SYNC_PATH,
        &signed,
        &body,
        Timestamp::now(),
    ) {
        Ok(peer) => peer,
        Err(e) => return refuse(StatusCode::UNAUTHORIZED, &e),
    };
    let request = match SyncRequest::decode(&body) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    match respond_or_wait(store, peer, request).await {
        Ok(response) => signed_reply(store, &signed.nonce, &response.encode()),
        Err(e) => refuse(status_of(&e), &e),
    }
}

fn signed_reply<S: Identity>(store: &S, request_nonce: &str, body: &[u8]) -> Response {
    let signed = sign_response(store.device(), |m| store.sign(m), 200, request_nonce, body, Timestamp::now());
    let mut response = (StatusCode::OK, body.to_vec()).into_response();
    for (name, value) in signed.pairs() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
