//! `PATCH /api/v1/devices/{id}`: what the organizer changes on a device from the console — its
//! name and its settings PIN — without touching it.
//!
//! A new name goes into the fleet and into the manifests of the device's events, which every
//! device reads ("scanned by North 2"). A new PIN is for that device only: it goes into the same
//! events' journals signed by the hub and sealed to the device's key (`sync_core::remote`), and
//! the device applies it when it next syncs — also opening settings that wrong guesses locked.
//! The PIN itself is kept nowhere on the hub, nor in the audit log.

use super::store;
use crate::auth::Caller;
use crate::checks;
use crate::db::{Db, Notifier};
use crate::error::{ApiError, ProblemDetails};
use crate::events::publish_manifest;
use crate::identity::HubKey;
use crate::journal::append_hub_entry;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use sync_core::ids::{DeviceId, Timestamp};
use sync_core::journal::Payload;
use sync_core::remote::RemoteSettings;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The route, with its OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(edit_device))
}

/// What to change on a device; absent fields stay.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DeviceChanges {
    /// Its new name, in the fleet and in the manifests.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    #[serde(default)]
    name: Option<String>,
    /// A new settings PIN, 4–8 digits.
    #[schema(pattern = "^[0-9]{4,8}$", write_only)]
    #[serde(default)]
    pin: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/devices/{id}",
    tag = "devices",
    request_body = DeviceChanges,
    params(("id" = i64, Path, description = "The device")),
    responses(
        (status = 204, description = "Changed. A new name is in the manifests; a new PIN reaches the device (sealed to it) at its next sync and replaces the old one, also on a device locked by wrong PINs. Owners and admins."),
        (status = 409, description = "The device is revoked (`device_revoked`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn edit_device(
    State(db): State<Db>,
    State(hub_key): State<HubKey>,
    State(notifier): State<Notifier>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(changes): ApiJson<DeviceChanges>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Owner, Role::Admin])?;
    if let Some(name) = &changes.name {
        checks::text("name", name, 100)?;
    }
    if let Some(pin) = &changes.pin
        && !((4..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(ApiError::invalid("pin", "4 to 8 digits"));
    }
    let mut tx = db.tenant(caller.org_id).await?;
    let device = store::key(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    if device.revoked_at.is_some() {
        return Err(ApiError::Conflict {
            code: "device_revoked",
            message: "this device is revoked: it takes no more changes".into(),
        });
    }
    let events = store::events_of(&mut tx, id).await?;
    if let Some(name) = &changes.name {
        store::rename(&mut tx, id, name.trim()).await?;
        for &event in &events {
            publish_manifest(&mut tx, event, hub_key.public_key()).await?;
        }
    }
    if let Some(pin) = &changes.pin {
        let key: [u8; 32] =
            device.public_key.try_into().map_err(|_| anyhow::anyhow!("device {id} has no valid key"))?;
        let settings = RemoteSettings {
            device: DeviceId(u32::try_from(id).map_err(anyhow::Error::from)?),
            set_at: Timestamp(tx.now()),
            pin: Some(pin.clone()),
        };
        let sealed = hub_key.seal_settings(&key, &settings).map_err(anyhow::Error::from)?;
        for &event in &events {
            append_hub_entry(&mut tx, event, Payload::DeviceSettings(sealed.clone())).await?;
        }
    }
    let detail = json!({"name": changes.name, "pin_changed": changes.pin.is_some()});
    tx.audit(&caller.actor(), "device.edit", &format!("device:{id}"), detail).await?;
    tx.commit_and_notify(&notifier).await?;
    Ok(StatusCode::NO_CONTENT)
}
