//! `/` and `/login`: what a visitor sees first.

use super::{PageResult, Staff, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{FromRequestParts, Request, State};
use axum::response::{IntoResponse, Redirect, Response};

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    api: String,
}

fn login_page(state: &AppState) -> Response {
    render(&LoginPage { api: format!("{}/api/v1", state.public_url.base()) })
}

/// `GET /`: the console for a member with a session, the login page for anyone else.
pub(super) async fn home(State(state): State<AppState>, request: Request) -> PageResult {
    let (mut parts, _) = request.into_parts();
    if Staff::from_request_parts(&mut parts, &state).await.is_ok() {
        return Ok(Redirect::to("/events").into_response());
    }
    Ok(login_page(&state))
}

/// `GET /login`.
pub(super) async fn page(State(state): State<AppState>) -> Response {
    login_page(&state)
}
