//! An in-process transport: the request and response go through their byte encoding (so the
//! codec is exercised) to a peer store in the same process.

use super::engine::{Transport, TransportError, respond};
use super::message::{Framed, SyncRequest, SyncResponse};
use super::store::SyncStore;
use crate::ids::DeviceId;

/// Syncs the replica `client` with `server` directly.
pub struct MemoryTransport<'a, S> {
    server: &'a S,
    client: DeviceId,
}

impl<'a, S: SyncStore> MemoryTransport<'a, S> {
    /// A transport from `client` to `server`.
    pub fn new(server: &'a S, client: DeviceId) -> Self {
        Self { server, client }
    }
}

impl<S: SyncStore> Transport for MemoryTransport<'_, S> {
    fn peer(&self) -> DeviceId {
        self.server.origin()
    }

    async fn exchange(&self, request: SyncRequest) -> Result<SyncResponse, TransportError> {
        let request = SyncRequest::decode(&request.encode())
            .map_err(|e| TransportError::InvalidResponse(e.to_string()))?;
        let response = respond(self.server, self.client, request)
            .await
            .map_err(|e| TransportError::Refused { status: e.status(), message: e.to_string() })?;
        SyncResponse::decode(&response.encode()).map_err(|e| TransportError::InvalidResponse(e.to_string()))
    }
}
