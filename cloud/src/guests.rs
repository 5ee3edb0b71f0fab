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
use crate::checks;
use crate::db::{Db, Notifier};
use crate::error::{ApiError, ProblemDetails};
use crate::journal::{DocCache, OrgJournal};
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::query::ApiQuery;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::extract::State;
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
pub const EDITORS: &[Role] = &[Role::Owner, Role::Admin, Role::BoxOffice];

/// Longest name accepted (a party's name, not an essay).
const MAX_NAME: usize = 200;
/// Most companions one guest may bring.
const MAX_PLUS_ONES: u32 = 50;

/// One guest, as the API answers and the console shows them.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct GuestView {
    /// The guest's id in the list.
    pub id: String,
    /// The party's name.
    pub name: String,
    /// Companions allowed.
    pub plus_ones: u32,
    /// People of the party checked in so far, at every door together.
    pub checked_in: u32,
}

impl From<Guest> for GuestView {
    fn from(g: Guest) -> Self {
        Self { id: g.id, name: g.name, plus_ones: g.plus_ones, checked_in: g.checked_in }
    }
}

/// The guest list.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GuestListView {
    /// By name.
    pub guests: Vec<GuestView>,
}

/// A guest to add, or a guest's new name and allowance.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct GuestInput {
    /// The party's name: no line breaks or control characters.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
    /// Companions allowed.
    #[serde(default)]
    #[schema(maximum = 50)]
    plus_ones: u32,
}

impl GuestInput {
    /// The trimmed name, or the field error shown beside the form.
    fn checked(&self) -> Result<(String, u32), ApiError> {
        if self.name.trim().is_empty() {
            return Err(ApiError::invalid("name", "enter the guest's name"));
        }
        checks::text("name", &self.name, MAX_NAME)?;
        let name = self.name.trim();
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
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct Search {
    /// Only guests whose name contains this (any case).
    q: Option<String>,
}

/// A new guest.
#[derive(Serialize, utoipa::ToSchema)]
struct Added {
    /// Its id in the list.
    id: String,
}

/// The event's guest-list document, once the event is known to be the organization's.
async fn guest_list(
    db: &Db,
    notifier: &Notifier,
    docs: &DocCache,
    org: i64,
    event: i64,
) -> Result<(OrgJournal, DocId), ApiError> {
    let mut tx = db.tenant(org).await?;
    let exists = crate::events::store::exists(&mut tx, event).await?;
    tx.commit().await?;
    let id = u32::try_from(event).map_err(|_| ApiError::NotFound)?;
    if !exists {
        return Err(ApiError::NotFound);
    }
    Ok((OrgJournal::new(db.clone(), org, notifier.clone(), docs.clone()), DocId::guest_list(EventId(id))))
}

/// The event's guests whose name contains `needle` (any case; empty: all), by name (the API
/// and the console's page).
pub async fn guests(
    db: &Db,
    notifier: &Notifier,
    docs: &DocCache,
    org: i64,
    event: i64,
    needle: &str,
) -> Result<Vec<GuestView>, ApiError> {
    let (journal, doc) = guest_list(db, notifier, docs, org, event).await?;
    let needle = needle.trim().to_lowercase();
    Ok(journal
        .read_doc(&doc, GuestList::guests)
        .await?
        .into_iter()
        .filter(|g| needle.is_empty() || g.name.to_lowercase().contains(&needle))
        .map(GuestView::from)
        .collect())
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
    db: &Db,
    caller: &Caller,
    action: &str,
    event: i64,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    let mut tx = db.tenant(caller.org_id).await?;
    tx.audit(&caller.actor(), action, &format!("event:{event}"), detail).await?;
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
    ApiQuery(search): ApiQuery<Search>,
) -> Result<Json<GuestListView>, ApiError> {
    let needle = search.q.unwrap_or_default();
    Ok(Json(GuestListView {
        guests: guests(&state.db, &state.notifier, &state.docs, caller.org_id, event, &needle).await?,
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
    let (journal, doc) = guest_list(&state.db, &state.notifier, &state.docs, caller.org_id, event).await?;
    let id = new_guest_id()?;
    journal.edit_doc(&doc, |d| GuestList::add_guest(d, &id, &name, plus_ones)).await?;
    record(
        &state.db,
        &caller,
        "guest.add",
        event,
        json!({"guest": id, "name": name, "plus_ones": plus_ones}),
    )
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
    let (journal, doc) = guest_list(&state.db, &state.notifier, &state.docs, caller.org_id, event).await?;
    let current = find(&journal, &doc, &guest).await?;
    journal.edit_doc(&doc, |d| GuestList::add_guest(d, &current.id, &name, plus_ones)).await?;
    record(
        &state.db,
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
        (status = 409, description = "Someone of the party was already checked in: the list keeps them (`guest_checked_in`)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((event, guest)): ApiPath<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(EDITORS)?;
    let (journal, doc) = guest_list(&state.db, &state.notifier, &state.docs, caller.org_id, event).await?;
    let current = find(&journal, &doc, &guest).await?;
    if current.checked_in > 0 {
        return Err(ApiError::Conflict {
            code: "guest_checked_in",
            message: format!("{} is already checked in ({} of the party)", current.name, current.checked_in),
        });
    }
    journal.edit_doc(&doc, |d| GuestList::remove_guest(d, &current.id)).await?;
    record(&state.db, &caller, "guest.remove", event, json!({"guest": guest, "name": current.name})).await?;
    Ok(StatusCode::NO_CONTENT)
}
