//! `/api/v1/events/{id}/guests…`: organizers keep the guest list while the door checks people
//! in.
//!
//! The list is not a table: it is the event's automerge document (`guests/<event>`, see
//! sync-core's `GuestList`), the same one every box office of the event holds. An edit here is
//! a change made by the hub as one more replica; devices receive it through sync like any
//! peer's change, and their check-ins come back the same way. Neither side waits for the other
//! and neither side's facts overwrite the other's, so a name added at 21:58 reaches a door that
//! is checking in the same party offline, and both survive the next sync.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::journal::OrgJournal;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::server::AppState;
use crate::tenancy::{Role, audit};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sync_core::documents::{DocId, Guest, GuestList};
use sync_core::ids::EventId;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list, add)).routes(routes!(edit, remove))
}

/// Who keeps the list: organizers and the box office.
const EDITORS: &[Role] = &[Role::Owner, Role::Admin, Role::BoxOffice];

/// Longest name accepted (a party's name, not an essay).
const MAX_NAME: usize = 200;
/// Most companions one guest may bring.
const MAX_PLUS_ONES: u32 = 50;

/// One guest, as the console shows them.
#[derive(Serialize, utoipa::ToSchema)]
struct GuestView {
    id: String,
    name: String,
    /// Companions allowed.
    plus_ones: u32,
    /// People of the party checked in so far, at every door together.
    checked_in: u32,
}

impl From<Guest> for GuestView {
    fn from(g: Guest) -> Self {
        Self { id: g.id, name: g.name, plus_ones: g.plus_ones, checked_in: g.checked_in }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct GuestListView {
    guests: Vec<GuestView>,
}

/// A guest to add, or a guest's new name and allowance.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GuestInput {
    name: String,
    #[serde(default)]
    plus_ones: u32,
}

impl GuestInput {
    /// The trimmed name, or the field error shown beside the form.
    fn checked(&self) -> Result<(String, u32), ApiError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(ApiError::invalid("name", "enter the guest's name"));
        }
        if name.chars().count() > MAX_NAME {
            return Err(ApiError::invalid("name", format!("at most {MAX_NAME} characters")));
        }
        if name.chars().any(char::is_control) {
            return Err(ApiError::invalid("name", "line breaks and control characters are not allowed"));
        }
        if self.plus_ones > MAX_PLUS_ONES {
            return Err(ApiError::invalid("plus_ones", format!("at most {MAX_PLUS_ONES}")));
        }
        Ok((name.to_owned(), self.plus_ones))
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
struct Search {
    /// Only guests whose name contains this (any case).
    q: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Added {
    id: String,
}

/// The event's guest-list document, once the event is known to be the caller's.
async fn guest_list(state: &AppState, caller: &Caller, event: i64) -> Result<(OrgJournal, DocId), ApiError> {
    let mut tx = state.db.tenant(caller.org_id).await?;
    let exists = sqlx::query("SELECT 1 FROM events WHERE id = $1 AND org_id = $2")
        .bind(event)
        .bind(caller.org_id)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    let id = u32::try_from(event).map_err(|_| ApiError::NotFound)?;
    exists.ok_or(ApiError::NotFound)?;
    let journal =
        OrgJournal::new(state.db.clone(), caller.org_id, state.notifier.clone(), state.docs.clone());
    Ok((journal, DocId::guest_list(EventId(id))))
}

/// The guest with `id`, if on the list.
async fn find(journal: &OrgJournal, doc: &DocId, id: &str) -> Result<Guest, ApiError> {
    let guests = journal.read_doc(doc, GuestList::guests).await?;
    guests.into_iter().find(|g| g.id == id).ok_or(ApiError::NotFound)
}

/// A new guest id: random, so two editors adding at once never collide.
fn new_guest_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("system random source: {e}"))?;
    Ok(hex::encode(bytes))
}

async fn record(
    state: &AppState,
    caller: &Caller,
    action: &str,
    event: i64,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    let mut tx = state.db.tenant(caller.org_id).await?;
    audit(&mut tx, caller.org_id, &caller.actor(), action, &format!("event:{event}"), detail).await?;
    tx.commit().await?;
    Ok(())
}

#[utoipa::path(
    get,
    path = "/api/v1/events/{id}/guests",
    tag = "guests",
    params(("id" = i64, Path, description = "The event"), Search),
    responses(
        (status = 200, description = "The guest list, sorted by name, with check-ins from every door that has synced", body = GuestListView),
    ),
)]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    Query(search): Query<Search>,
) -> Result<Json<GuestListView>, ApiError> {
    let (journal, doc) = guest_list(&state, &caller, event).await?;
    let needle = search.q.unwrap_or_default().trim().to_lowercase();
    let guests = journal.read_doc(&doc, GuestList::guests).await?;
    Ok(Json(GuestListView {
        guests: guests
            .into_iter()
            .filter(|g| needle.is_empty() || g.name.to_lowercase().contains(&needle))
            .map(GuestView::from)
            .collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/events/{id}/guests",
    tag = "guests",
    request_body = GuestInput,
    params(("id" = i64, Path, description = "The event")),
    responses(
        (status = 201, description = "Added; the event's box offices receive the name at their next sync. Owners, admins, box office.", body = Added),
    ),
)]
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(event): ApiPath<i64>,
    ApiJson(input): ApiJson<GuestInput>,
) -> Result<(StatusCode, Json<Added>), ApiError> {
    caller.require(EDITORS)?;
    let (name, plus_ones) = input.checked()?;
    let (journal, doc) = guest_list(&state, &caller, event).await?;
    let id = new_guest_id()?;
    journal.edit_doc(&doc, |d| GuestList::add_guest(d, &id, &name, plus_ones)).await?;
    record(&state, &caller, "guest.add", event, json!({"guest": id, "name": name, "plus_ones": plus_ones}))
        .await?;
    Ok((StatusCode::CREATED, Json(Added { id })))
}

#[utoipa::path(
    put,
    path = "/api/v1/events/{id}/guests/{guest}",
    tag = "guests",
    request_body = GuestInput,
    params(("id" = i64, Path, description = "The event"), ("guest" = String, Path, description = "The guest")),
    responses(
        (status = 204, description = "Renamed or allowance changed. Owners, admins, box office."),
    ),
)]
async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((event, guest)): ApiPath<(i64, String)>,
    ApiJson(input): ApiJson<GuestInput>,
) -> Result<StatusCode, ApiError> {
    caller.require(EDITORS)?;
    let (name, plus_ones) = input.checked()?;
    let (journal, doc) = guest_list(&state, &caller, event).await?;
    let current = find(&journal, &doc, &guest).await?;
    journal.edit_doc(&doc, |d| GuestList::add_guest(d, &current.id, &name, plus_ones)).await?;
    record(
        &state,
        &caller,
        "guest.edit",
        event,
        json!({"guest": guest, "name": name, "plus_ones": plus_ones}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/api/v1/events/{id}/guests/{guest}",
    tag = "guests",
    params(("id" = i64, Path, description = "The event"), ("guest" = String, Path, description = "The guest")),
    responses(
        (status = 204, description = "Taken off the list. Owners, admins, box office."),
        (status = 409, description = "Someone of the party was already checked in: the list keeps them"),
    ),
)]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((event, guest)): ApiPath<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(EDITORS)?;
    let (journal, doc) = guest_list(&state, &caller, event).await?;
    let current = find(&journal, &doc, &guest).await?;
    if current.checked_in > 0 {
        return Err(ApiError::Conflict {
            code: "guest_checked_in",
            message: format!("{} is already checked in ({} of the party)", current.name, current.checked_in),
        });
    }
    journal.edit_doc(&doc, |d| GuestList::remove_guest(d, &current.id)).await?;
    record(&state, &caller, "guest.remove", event, json!({"guest": guest, "name": current.name})).await?;
    Ok(StatusCode::NO_CONTENT)
}
