//! `/events/{id}/guests`: the guest list, kept here while the door checks people in (the
//! writes go through `/api/v1/events/{id}/guests`).

use super::{Layout, PagePath, PageResult, Staff, render};
use crate::guests::{EDITORS, GuestView};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;

#[derive(Template)]
#[template(path = "guests.html")]
struct GuestsPage {
    layout: Layout,
    event: i64,
    event_name: String,
    guests: Vec<GuestView>,
    can_edit: bool,
    checked_in: u32,
    expected: u32,
}

/// `GET /events/{id}/guests`.
pub(super) async fn page(
    State(state): State<AppState>,
    staff: Staff,
    PagePath(event): PagePath<i64>,
) -> PageResult {
    let layout = staff.layout(&state, "events").await?;
    let org = staff.0.org_id;
    let name = super::event(&state, org, event).await?.name;
    let guests = crate::guests::guests(&state.db, &state.notifier, &state.docs, org, event, "").await?;
    let checked_in = guests.iter().map(|g| g.checked_in).sum();
    let expected = guests.iter().map(|g| g.plus_ones + 1).sum();
    Ok(render(&GuestsPage {
        can_edit: EDITORS.contains(&staff.0.role),
        layout,
        event,
        event_name: name,
        guests,
        checked_in,
        expected,
    }))
}
