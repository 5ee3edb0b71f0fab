//! The organizer console: HTML pages the hub renders itself (askama templates in
//! `cloud/templates/`, assets in `cloud/assets/`, nothing from a CDN).
//!
//! **Pages read; the REST API writes.** Every page is rendered on the server from the
//! database. Every form is a plain HTML form carrying the session's CSRF token, and a small ES
//! module (`console.js`) sends it to the same `/api/v1/…` endpoint an integration would use.
//! It sends the token as the `x-csrf-token` header, and shows a refusal's `field` beside that
//! field. So there is one place where input is checked and roles are enforced (the API), and
//! a viewer who crafts a request by hand meets the same refusal as the page would show.
//!
//! Pages need a console session; without one they redirect to `/login`. Objects of another
//! organization are "not found", exactly as in the API.

mod assets;
mod devices;
mod events;
mod guests;
mod leases;
pub mod live;
mod login;
mod members;
mod messages;
mod orders;
mod reconciliation;
mod report_schedules;
mod reports;
mod seat_plans;
mod shop;
mod shop_words;
mod vouchers;
mod webhooks;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenancy::Role;
use askama::Template;
use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

/// The console's routes (HTML; not part of the OpenAPI document).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(login::home))
        .route("/login", get(login::page))
        .route("/events", get(events::list))
        .route("/events/new", get(events::new))
        .route("/events/{id}", get(events::detail))
        .route("/events/{id}/guests", get(guests::page))
        .route("/events/{id}/vouchers", get(vouchers::list))
        .route("/events/{id}/vouchers/{code}", get(vouchers::detail))
        .route("/events/{id}/orders", get(orders::list))
        .route("/events/{id}/leases", get(leases::page))
        .route("/events/{id}/reports", get(reports::page))
        .route("/events/{id}/reports/summary.pdf", get(reports::summary))
        .route("/orders/{code}", get(orders::detail))
        .route("/events/{id}/seats", get(seat_plans::seats))
        .route("/events/{id}/live", get(live::page))
        .route("/events/{id}/report-schedules", get(report_schedules::page))
        .route("/events/{id}/live/stream", get(live::stream))
        .route("/seat-plans", get(seat_plans::list))
        .route("/seat-plans/new", get(seat_plans::new))
        .route("/seat-plans/{id}", get(seat_plans::edit))
        .route("/devices", get(devices::page))
        .route("/members", get(members::page))
        .route("/audit", get(members::audit))
        .route("/reconciliation", get(reconciliation::page))
        .route("/messages", get(messages::list))
        .route("/messages/{kind}/{lang}", get(messages::edit))
        .route("/webhooks", get(webhooks::list))
        .route("/webhooks/{id}", get(webhooks::detail))
        .route("/webhooks/{id}/deliveries/{delivery}", get(webhooks::delivery))
        .route("/shop/{event}", get(shop::page))
        .route("/shop/{event}/tickets-again", axum::routing::post(shop::again))
        .route("/shop/{event}/seats/live", get(shop::seats_live))
        .route("/shop/orders/{code}/{secret}", get(shop::order))
        .route("/shop/orders/{code}/{secret}/pay/{payment}", get(shop::pay))
        .merge(assets::routes())
}

/// What every console page shows around its content: who is logged in, for which
/// organization, and the session's CSRF token for its forms.
pub struct Layout {
    /// The organization's name.
    pub org: String,
    /// The person's e-mail address.
    pub email: String,
    /// Their role, as shown.
    pub role: &'static str,
    /// The session's CSRF token (every form carries it).
    pub csrf: String,
    /// Which navigation entry is current.
    pub nav: &'static str,
    /// Whether the role may change things (viewers see no write actions).
    pub can_write: bool,
    /// Every organization the person belongs to, as (slug, name, current), for the switch.
    pub orgs: Vec<(String, String, bool)>,
}

/// A console page's caller: a session of an organization member. Without one, the page
/// redirects to the login page.
pub struct Staff(pub Caller);

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Caller::from_request_parts(parts, state).await {
            Ok(caller) if caller.csrf.is_some() => Ok(Self(caller)),
            Ok(_) | Err(ApiError::Unauthorized) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(error_page(&e)),
        }
    }
}

impl Staff {
    /// The layout of a page under navigation entry `nav`.
    pub async fn layout(&self, state: &AppState, nav: &'static str) -> Result<Layout, ApiError> {
        let caller = &self.0;
        let mut tx = state.db.tenant(caller.org_id).await?;
        let (org, email) = crate::tenancy::store::names(&mut tx, caller.user_id).await?;
        tx.commit().await?;
        // Their other organizations are outside this organization's rows: a lookup.
        let mut lookup = state.db.lookup().await?;
        let orgs = crate::tenancy::store::organizations_of(&mut lookup, caller.user_id)
            .await?
            .into_iter()
            .map(|o| (o.slug, o.name, o.id == caller.org_id))
            .collect();
        lookup.commit().await?;
        Ok(Layout {
            org,
            email,
            role: caller.role.label(),
            csrf: caller.csrf.clone().unwrap_or_default(),
            nav,
            can_write: matches!(caller.role, Role::Owner | Role::Admin),
            orgs,
        })
    }
}

/// The organization's `event` with its gates and ticket types; 404 if it is not theirs.
pub(super) async fn event(
    state: &AppState,
    org: i64,
    event: i64,
) -> Result<crate::events::EventDetail, ApiError> {
    let mut tx = state.db.tenant(org).await?;
    let detail = crate::events::event_detail(&mut tx, event).await?;
    tx.commit().await?;
    Ok(detail)
}

/// Path parameters of a page: one that does not parse (`/events/abc`) names no page — the
/// console's "not found" page, not the framework's plain-text 400.
pub struct PagePath<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PagePath<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|_| error_page(&ApiError::NotFound))
    }
}

/// Query parameters of a page: ones that do not parse are the "not found" page too.
pub struct PageQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|_| error_page(&ApiError::NotFound))
    }
}

/// A rendered template as an HTML response (a template that fails to render is a bug: logged,
/// shown as the generic error page).
pub fn render(page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(&ApiError::Internal(e.into())),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    title: String,
    detail: String,
}

/// The page shown for an error: not found, not allowed, or the hub's fault.
pub fn error_page(e: &ApiError) -> Response {
    let response = match e {
        ApiError::NotFound => {
            (StatusCode::NOT_FOUND, "Not found", "There is nothing here, or it is not yours to see.")
        }
        ApiError::Forbidden => (StatusCode::FORBIDDEN, "Not allowed", "Your role does not allow this."),
        ApiError::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "The database is not answering right now. Reload in a moment.",
        ),
        other => {
            tracing::error!(error = %other, "console page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "It has been logged. Reload to try again.",
            )
        }
    };
    let (status, title, detail) = response;
    let page = ErrorPage { status: status.as_u16(), title: title.into(), detail: detail.into() };
    let html = page.render().unwrap_or_else(|_| title.to_owned());
    (status, Html(html)).into_response()
}

/// A page handler's result: the page, or the error page.
pub type PageResult = Result<Response, PageError>;

/// An [`ApiError`] on its way to becoming an error page.
pub struct PageError(ApiError);

impl<E: Into<ApiError>> From<E> for PageError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        error_page(&self.0)
    }
}

/// Money in minor units as "45.00 EUR" (sync-core's one money formatter).
pub fn money(minor: i64, currency: &str) -> String {
    sync_core::money::format_minor(minor, currency)
}

/// A Unix-ms time in the event's zone as "2026-11-28 21:30" (or "—").
pub fn local_time(ms: Option<i64>, zone: &str) -> String {
    let Some(ms) = ms else { return "—".into() };
    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(ms)
        .map_or_else(|_| "—".into(), |t| t.to_zoned(zone).strftime("%Y-%m-%d %H:%M").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_times_read_as_people_write_them() {
        assert_eq!(money(4500, "EUR"), "45.00 EUR");
        assert_eq!(money(-505, "EUR"), "-5.05 EUR");
        assert_eq!(local_time(Some(0), "Europe/Amsterdam"), "1970-01-01 01:00");
        assert_eq!(local_time(None, "Europe/Amsterdam"), "—");
    }
}
