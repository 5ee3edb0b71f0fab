//! `POST /api/v1/devices/{id}/exports`: what a revoked device never synced, back on the hub.
//!
//! A device that learns it was revoked seals its unsynced entries to the hub's key, signed
//! with its own (`sync_core::revoked`), and wipes the rest. An administrator uploads the file
//! here: the hub opens it with its key, checks the signature against the device's registered
//! key, and stores the entries in the organization's journal exactly as a sync would have —
//! materialized (door sales become orders), idempotently (entries the hub holds already are
//! skipped) — and records in the audit log that they came from a revoked device.

use super::store;
use super::views::{ExportFile, ExportImported};
use crate::auth::Caller;
use crate::db::{Db, Notifier};
use crate::error::{ApiError, ProblemDetails};
use crate::identity::HubKey;
use crate::journal::{DocCache, OrgJournal};
use crate::path::ApiPath;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::json;
use sync_core::journal::Payload;
use sync_core::keys::strict_public_key;
use sync_core::revoked::MAX_EXPORT_BYTES;
use sync_core::sync::store::SyncStore;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The route, with its OpenAPI documentation.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_export))
}

#[utoipa::path(
    post,
    path = "/api/v1/devices/{id}/exports",
    tag = "devices",
    params(("id" = i64, Path, description = "The revoked device")),
    request_body(content = ExportFile, content_type = "application/octet-stream", description = "The sealed export file the revoked device left (`VGSEALED…`)"),
    responses(
        (status = 201, description = "Opened, checked and stored: the entries the hub lacked are in its journal (door sales as orders). Owners and admins.", body = ExportImported),
        (status = 409, description = "The device is not revoked (`device_not_revoked`)", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 413, description = "Larger than any export", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "Not this device's export sealed to this hub, or altered (`invalid_field`, field `file`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn import_export(
    State(db): State<Db>,
    State(hub_key): State<HubKey>,
    State(notifier): State<Notifier>,
    State(docs): State<DocCache>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    body: Body,
) -> Result<(StatusCode, Json<ExportImported>), ApiError> {
    caller.require(&[Role::Owner, Role::Admin])?;
    let mut tx = db.tenant(caller.org_id).await?;
    let device = store::key(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    if device.revoked_at.is_none() {
        return Err(ApiError::Conflict {
            code: "device_not_revoked",
            message: "this device is not revoked: it syncs what it holds itself".into(),
        });
    }
    let file = axum::body::to_bytes(body, MAX_EXPORT_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit: MAX_EXPORT_BYTES })?;
    let key: Option<[u8; 32]> = device.public_key.try_into().ok();
    let registered = key.and_then(|k| strict_public_key(&k));
    let export = hub_key
        .open_export(&file, |named| registered.filter(|_| i64::from(named.0) == id))
        .map_err(|e| ApiError::invalid("file", format!("not this device's export for this hub: {e}")))?;
    let count = |f: fn(&Payload) -> bool| export.entries.iter().filter(|e| f(&e.payload)).count();
    let counts = (
        count(|p| matches!(p, Payload::DoorSale(_))),
        count(|p| matches!(p, Payload::Void(_))),
        count(|p| matches!(p, Payload::Scan(_))),
        count(|p| matches!(p, Payload::Shift(_))),
    );
    let entries = export.entries.len();
    // Stored as a sync would store them: checked, materialized, idempotent.
    let journal = OrgJournal::new(db.clone(), caller.org_id, notifier, docs);
    let before = journal.have().await?.get(export.device);
    let after = journal
        .append(export.entries)
        .await
        .map_err(|e| ApiError::invalid("file", format!("its entries do not fit the journal: {e}")))?
        .get(export.device);
    let imported = after.saturating_sub(before);
    let mut tx = db.tenant(caller.org_id).await?;
    let detail = json!({"from_revoked_device": true, "entries": entries, "imported": imported,
                        "door_sales": counts.0, "voids": counts.1, "scans": counts.2, "shifts": counts.3});
    tx.audit(&caller.actor(), "device.export_import", &format!("device:{id}"), detail).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(ExportImported {
            device: export.device.0,
            revoked_at: export.notice.revoked_at.0,
            entries,
            imported,
            door_sales: counts.0,
            voids: counts.1,
            scans: counts.2,
            shifts: counts.3,
        }),
    ))
}
