//! `/events/{id}/guests`: the guest list, kept here while the door checks people in (the
//! writes go through `/api/v1/events/{id}/guests`).

use super::{Layout, PageResult, Staff, render};
use crate::error::ApiError;
use crate::journal::OrgJournal;
use crate::server::AppState;
use crate::tenancy::Role;
use askama::Template;
use axum::extract::{Path, State};
use sync_core::documents::{DocId, Guest, GuestList};
use sync_core::ids::EventId;

#[derive(Template)]
#[template(path = "guests.html")]
struct GuestsPage {
    layout: Layout,
    event: i64,
    event_name: String,
    guests: Vec<Guest>,
    can_edit: bool,
    checked_in: u32,
    expected: u32,
}

/// `GET /events/{id}/guests`.
pub(super) async fn page(State(state): State<AppState>, staff: Staff, Path(event): Path<i64>) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let org = staff.0.org_id;
    let name = super::event_name(&state, org, event).await?;
    let doc = DocId::guest_list(EventId(u32::try_from(event).map_err(|_| ApiError::NotFound)?));
    let journal = OrgJournal::new(state.db.clone(), org, state.notifier.clone(), state.docs.clone());
    let guests = journal.read_doc(&doc, GuestList::guests).await?;
    let checked_in = guests.iter().map(|g| g.checked_in).sum();
    let expected = guests.iter().map(|g| g.plus_ones + 1).sum();
    Ok(render(&GuestsPage {
        can_edit: matches!(staff.0.role, Role::Owner | Role::Admin | Role::BoxOffice),
        layout,
        event,
        event_name: name,
        guests,
        checked_in,
        expected,
    }))
}
