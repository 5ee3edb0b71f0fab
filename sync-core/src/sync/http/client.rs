//! The device side: requests signed with the device key, responses verified against the
//! peer's key.

use super::{HELLO_PATH, Hello, Identity, SYNC_PATH};
use crate::ids::DeviceId;
use crate::journal::HUB;
use crate::revoked::{NOTICE_CONTENT_TYPE, NOTICE_STATUS, SignedNotice};
use crate::sync::auth::{SignedHeaders, sign_request, verify_response};
use crate::sync::engine::{Transport, TransportError};
use crate::sync::message::{Framed, MAX_MESSAGE_BYTES, SyncRequest, SyncResponse};
use std::sync::Arc;
use std::time::Duration;

/// How long to wait for a connection before calling the peer unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a (non-long-poll) exchange may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A sync connection to one peer (the hub or another device) over HTTP.
pub struct HttpTransport<I> {
    client: reqwest::Client,
    base: String,
    me: Arc<I>,
    peer: DeviceId,
}

fn unreachable(e: &reqwest::Error) -> TransportError {
    TransportError::Unreachable(e.to_string())
}

/// An HTTP client configured as the transport uses it (TLS through rustls with ring).
pub fn http_client() -> Result<reqwest::Client, TransportError> {
    // reqwest is built without a default crypto provider (to avoid aws-lc's C toolchain);
    // install ring once. A second install fails harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|e| TransportError::Unreachable(e.to_string()))
}

impl<I: Identity> HttpTransport<I> {
    /// A connection to the peer `peer` at `base` (e.g. `http://192.168.1.20:7878`), when its
    /// device id is known (the hub's is).
    pub fn new(base: &str, me: Arc<I>, peer: DeviceId) -> Result<Self, TransportError> {
        Ok(Self { client: http_client()?, base: base.trim_end_matches('/').to_owned(), me, peer })
    }

    /// Connects to a peer known only by address: asks its id, which every later response must
    /// then prove with its signature.
    pub async fn connect(base: &str, me: Arc<I>) -> Result<Self, TransportError> {
        let mut transport = Self::new(base, me, DeviceId(u32::MAX))?;
        let response = transport
            .client
            .get(format!("{}{HELLO_PATH}", transport.base))
            .timeout(CONNECT_TIMEOUT)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        let hello: Hello = serde_json::from_slice(&read_capped(response, 4096).await?)
            .map_err(|e| TransportError::InvalidResponse(e.to_string()))?;
        transport.peer = hello.device;
        Ok(transport)
    }
}

/// The hub's revocation notice in a refusal, if the refusal is one: status 410, the notice's
/// content type, a notice signed by the hub's key (as this device trusts it) naming this
/// device. Anything short of all of it is an ordinary refusal.
fn revocation<I: Identity>(
    me: &I,
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> Option<TransportError> {
    let labelled = headers.get("content-type").and_then(|v| v.to_str().ok()) == Some(NOTICE_CONTENT_TYPE);
    if status != NOTICE_STATUS || !labelled {
        return None;
    }
    let notice = SignedNotice::from_bytes(body).ok()?;
    let hub = me.key_of(HUB)?;
    notice.verify(&hub, me.device()).ok()?;
    Some(TransportError::Revoked(Box::new(notice)))
}

/// Reads a body of at most `max` bytes; a larger one (a broken or hostile peer) is refused
/// without buffering it.
async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, TransportError> {
    let too_large = || TransportError::InvalidResponse(format!("response larger than {max} bytes"));
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(&e))? {
        if body.len() + chunk.len() > max {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl<I: Identity> Transport for HttpTransport<I> {
    fn peer(&self) -> DeviceId {
        self.peer
    }

    async fn exchange(&self, request: SyncRequest) -> Result<SyncResponse, TransportError> {
        let timeout = REQUEST_TIMEOUT + Duration::from_millis(u64::from(request.wait_ms));
        let body = request.encode();
        let me = &self.me;
        let signed = sign_request(me.device(), self.peer, |m| me.sign(m), "POST", SYNC_PATH, &body, me.now());
        let mut call = self.client.post(format!("{}{SYNC_PATH}", self.base)).timeout(timeout).body(body);
        for (name, value) in signed.pairs() {
            call = call.header(name, value);
        }
        let response = call.send().await.map_err(|e| unreachable(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // Error texts are short; a response is at most one message.
        let cap = if status == 200 { MAX_MESSAGE_BYTES } else { 4096 };
        let bytes = read_capped(response, cap).await?;
        if status != 200 {
            if let Some(revoked) = revocation(&**me, status, &headers, &bytes) {
                return Err(revoked);
            }
            let message = String::from_utf8_lossy(&bytes).into_owned();
            return Err(TransportError::Refused { status, message });
        }
        let signed_reply = SignedHeaders::read(|name| headers.get(name).and_then(|v| v.to_str().ok()))
            .map_err(|e| TransportError::InvalidResponse(e.to_string()))?;
        verify_response(|d| me.key_of(d), self.peer, status, &signed.nonce, &signed_reply, &bytes)
            .map_err(|e| TransportError::InvalidResponse(e.to_string()))?;
        SyncResponse::decode(&bytes).map_err(|e| TransportError::InvalidResponse(e.to_string()))
    }
}

impl<I: Identity> HttpTransport<I> {
    /// A device call besides sync (`POST /v1/leases`, …): `body` as JSON, signed like a sync
    /// request; the answer's signature is checked against the peer's key like a sync
    /// response's. A refusal arrives as [`TransportError::Refused`] with the peer's message.
    pub async fn call<B: serde::Serialize, R: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<R, TransportError> {
        let body = serde_json::to_vec(body).map_err(|e| TransportError::InvalidResponse(e.to_string()))?;
        let me = &self.me;
        let signed = sign_request(me.device(), self.peer, |m| me.sign(m), "POST", path, &body, me.now());
        let mut call = self
            .client
            .post(format!("{}{path}", self.base))
            .timeout(REQUEST_TIMEOUT)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in signed.pairs() {
            call = call.header(name, value);
        }
        let response = call.send().await.map_err(|e| unreachable(&e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = read_capped(response, 1 << 20).await?;
        if let Some(revoked) = revocation(&**me, status, &headers, &bytes) {
            return Err(revoked);
        }
        if !(200..300).contains(&status) {
            // Problem details from the hub carry the sentence in `detail`; a peer sends text.
            let message = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
                .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
            return Err(TransportError::Refused { status, message });
        }
        let signed_reply = SignedHeaders::read(|name| headers.get(name).and_then(|v| v.to_str().ok()))
            .map_err(|e| TransportError::InvalidResponse(e.to_string()))?;
        verify_response(|d| me.key_of(d), self.peer, status, &signed.nonce, &signed_reply, &bytes)
            .map_err(|e| TransportError::InvalidResponse(e.to_string()))?;
        serde_json::from_slice(&bytes).map_err(|e| TransportError::InvalidResponse(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Timestamp;
    use crate::keys::DeviceKey;
    use ed25519_dalek::VerifyingKey;
    use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};

    /// A device that trusts `hub` as the hub.
    struct Device {
        me: DeviceId,
        hub: VerifyingKey,
    }

    impl Identity for Device {
        fn device(&self) -> DeviceId {
            self.me
        }
        fn sign(&self, _: &[u8]) -> [u8; 64] {
            [0; 64]
        }
        fn key_of(&self, device: DeviceId) -> Option<VerifyingKey> {
            (device == HUB).then_some(self.hub)
        }
    }

    fn typed(content_type: &'static str) -> HeaderMap {
        HeaderMap::from_iter([(CONTENT_TYPE, HeaderValue::from_static(content_type))])
    }

    #[test]
    fn only_a_410_carrying_the_hubs_notice_for_this_device_is_a_revocation() {
        let hub = DeviceKey::generate().unwrap();
        let me = DeviceId(7);
        let device = Device { me, hub: VerifyingKey::from_bytes(&hub.public_key()).unwrap() };
        let notice = SignedNotice::sign(&hub, me, Timestamp(1_700_000_000_000)).to_bytes();
        let html = typed("text/html");
        let labelled = typed(NOTICE_CONTENT_TYPE);
        let someone = DeviceKey::generate().unwrap();
        let not_revocations: [(&str, u16, &HeaderMap, Vec<u8>); 7] = [
            ("a bare 401", 401, &HeaderMap::new(), Vec::new()),
            ("a captive portal's page", 200, &html, b"<html>Log in to the Wi-Fi</html>".to_vec()),
            ("a portal answering 410 in HTML", 410, &html, notice.clone()),
            ("the notice under another status", 403, &labelled, notice.clone()),
            ("garbage with the label", 410, &labelled, b"VGSYNC not a notice".to_vec()),
            (
                "another device's notice",
                410,
                &labelled,
                SignedNotice::sign(&hub, DeviceId(8), Timestamp(1)).to_bytes(),
            ),
            (
                "a notice signed by someone else",
                410,
                &labelled,
                SignedNotice::sign(&someone, me, Timestamp(1)).to_bytes(),
            ),
        ];
        for (what, status, headers, body) in not_revocations {
            assert!(revocation(&device, status, headers, &body).is_none(), "{what} counted as a notice");
        }
        let told = revocation(&device, 410, &labelled, &notice);
        assert!(matches!(told, Some(TransportError::Revoked(n)) if n.notice.device == me));
    }
}
