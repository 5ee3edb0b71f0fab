//! The serving side: any replica (a device for its LAN peers; the hub reuses it too) answers
//! signed sync requests, holding long-polls open until it has news.
//!
//! Verifying a signed request happens here once, for every server that takes them: a device's
//! LAN server and every hub endpoint under `/v1/` ([`signed_headers`], then
//! [`verify_request`]), and so does signing the answer ([`signed_reply`]).

use super::{HELLO_PATH, Hello, Identity, SYNC_PATH};
use crate::ids::{DeviceId, Timestamp};
use crate::sync::auth::{MemoryNonces, NonceStore, RequestVerifier, SignedHeaders, sign_response};
use crate::sync::engine::{SyncError, respond_or_wait};
use crate::sync::message::{Framed, MAX_MESSAGE_BYTES, PROTOCOL_VERSION, SyncRequest};
use crate::sync::store::SyncStore;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use std::future::Future;
use std::sync::Arc;

struct Server<S> {
    store: Arc<S>,
    nonces: MemoryNonces,
}

/// The sync routes for `store`, to serve to LAN peers.
pub fn router<S: SyncStore + Identity + 'static>(store: Arc<S>) -> Router {
    let state = Arc::new(Server { store, nonces: MemoryNonces::default() });
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
    let signed = match signed_headers(request.headers()) {
        Ok(h) => h,
        Err(refusal) => return refusal,
    };
    // A device the hub revoked hears so from any peer that holds the hub's notice: the notice
    // is what it can verify, and what it acts on; an unsigned refusal would leave it retrying.
    if let Some(notice) = store.revocation_notice(signed.device) {
        return revoked(&notice);
    }
    let key = store.key_of(signed.device);
    let check =
        Check { to: store.device(), path: SYNC_PATH, max_body: MAX_MESSAGE_BYTES, now: Timestamp::now() };
    let verified = match verify_request(request, signed, key, check, &server.nonces).await {
        Ok(v) => v,
        Err(refusal) => return refusal,
    };
    let request = match SyncRequest::decode(&verified.body) {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    match respond_or_wait(store, verified.device, request).await {
        Ok(response) => signed_reply(
            store.device(),
            |m| store.sign(m),
            StatusCode::OK,
            &verified.nonce,
            response.encode(),
            Timestamp::now(),
        ),
        Err(e) => refuse(status_of(&e), &e),
    }
}

/// The answer to a revoked device: the hub's signed notice (410), which the device verifies
/// against the hub's key itself — this server's word alone would prove nothing.
pub fn revoked(notice: &crate::revoked::SignedNotice) -> Response {
    let status = StatusCode::from_u16(crate::revoked::NOTICE_STATUS).unwrap_or(StatusCode::GONE);
    let mut response = (status, notice.to_bytes()).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static(crate::revoked::NOTICE_CONTENT_TYPE));
    response
}

/// A signed request whose signature verified.
#[derive(Debug)]
pub struct VerifiedRequest {
    /// Who sent it.
    pub device: DeviceId,
    /// Its body, as signed.
    pub body: Bytes,
    /// Its nonce: the answer is signed over it ([`signed_reply`]).
    pub nonce: String,
}

/// What a signed request must be: addressed to `to`, for `path`, with a body of at most
/// `max_body` bytes, dated close to `now`.
#[derive(Clone, Copy, Debug)]
pub struct Check<'a> {
    /// The receiver's device id (the hub's is `HUB`).
    pub to: DeviceId,
    /// The path it was sent to.
    pub path: &'a str,
    /// The largest body accepted.
    pub max_body: usize,
    /// The receiver's clock.
    pub now: Timestamp,
}

/// The signed headers of a request, or the 401 that answers a request without them.
#[allow(clippy::result_large_err)] // the refusal is the response to send, as axum's rejections are
pub fn signed_headers(headers: &HeaderMap) -> Result<SignedHeaders, Response> {
    SignedHeaders::read(|name| headers.get(name).and_then(|v| v.to_str().ok()))
        .map_err(|e| refuse(StatusCode::UNAUTHORIZED, &e))
}

/// Verifies a signed POST `request` whose headers are `signed`, from a sender whose trusted key
/// is `key` (`None`: unknown or revoked), in this order, each refusal the response to send:
/// 1. the timestamp is within the freshness window and the sender is trusted (401) — before
///    a byte of the body is read;
/// 2. the body is at most `check.max_body` bytes (413);
/// 3. the body matches its digest, and the signature verifies over method, path, receiver,
///    digest, timestamp and nonce (401);
/// 4. the nonce was not seen before (401 replayed) — remembered only now, so a forged request
///    cannot use up a real one's nonce; a store that cannot answer is a 503 (try again).
pub async fn verify_request(
    request: Request,
    signed: SignedHeaders,
    key: Option<ed25519_dalek::VerifyingKey>,
    check: Check<'_>,
    nonces: &impl NonceStore,
) -> Result<VerifiedRequest, Response> {
    let verifier = RequestVerifier::new(check.to);
    let key_of = |d: DeviceId| if d == signed.device { key } else { None };
    verifier.precheck(key_of, &signed, check.now).map_err(|e| refuse(StatusCode::UNAUTHORIZED, &e))?;
    let Ok(body) = axum::body::to_bytes(request.into_body(), check.max_body).await else {
        return Err(refuse(StatusCode::PAYLOAD_TOO_LARGE, &format!("at most {} bytes", check.max_body)));
    };
    let device = verifier
        .verify(key_of, "POST", check.path, &signed, &body, check.now)
        .map_err(|e| refuse(StatusCode::UNAUTHORIZED, &e))?;
    match nonces.remember(device, &signed.nonce, signed.timestamp, check.now).await {
        Ok(true) => Ok(VerifiedRequest { device, body, nonce: signed.nonce }),
        Ok(false) => Err(refuse(StatusCode::UNAUTHORIZED, &crate::sync::auth::AuthError::Replayed)),
        // The store logs its own failure; the device hears only that it may retry.
        Err(_) => Err(refuse(StatusCode::SERVICE_UNAVAILABLE, &"cannot check this request now; try again")),
    }
}

/// `body` with `status`, signed by `device` (through `sign`) over the request's nonce.
pub fn signed_reply(
    device: DeviceId,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
    status: StatusCode,
    request_nonce: &str,
    body: Vec<u8>,
    now: Timestamp,
) -> Response {
    let signed = sign_response(device, sign, status.as_u16(), request_nonce, &body, now);
    let mut response = (status, body).into_response();
    for (name, value) in signed.pairs() {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
