//! The organization's wording of its messages over HTTP: every kind with the names its
//! template may use, each wording in each language (the organization's, an event's, or the
//! hub's default), saving one — refused with its line and reason if it does not render —,
//! going back to the default, and a preview with the organization's own latest order. Owners
//! and admins; the console's pages call the same functions ([`views`]).
//!
//! The templates, their sandbox and the messages themselves are [`crate::messages`]'s; this
//! is the thin layer that knows the caller and the organization's real data.

mod preview;
pub mod views;

use crate::auth::Caller;
use crate::db::{Db, Tenant};
use crate::error::{ApiError, ProblemDetails};
use crate::json::ApiJson;
use crate::lang::Lang;
use crate::messages::{self, Kind, Reader, Refusal, Wording, sandbox};
use crate::path::ApiPath;
use crate::query::ApiQuery;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};
use views::{TemplateView, Templates};

pub use preview::{Preview, PreviewRequest, preview};

/// Who words the organization's messages.
pub const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(save_for_organization, reset_for_organization))
        .routes(routes!(save_for_event, reset_for_event))
        .routes(routes!(preview::preview_route))
}

/// A wording to save.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWording {
    /// The subject line: a template (plain text; line breaks become spaces). Empty (or left
    /// out) for a text message, which has none.
    #[serde(default)]
    #[schema(max_length = 20000, pattern = r"^[^\x00-\x1f\x7f]*$")]
    pub subject: String,
    /// The body: a template whose output is Markdown.
    #[schema(min_length = 1, max_length = 20000, pattern = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")]
    pub body: String,
}

/// Which wordings to list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// As an event's messages are worded (its own wording first); else the organization's.
    pub event: Option<i64>,
}

/// The kind and language a path names; 404 if it names none.
fn named(kind: &str, lang: &str) -> Result<(Kind, Lang), ApiError> {
    let kind = Kind::parse(kind).ok_or(ApiError::NotFound)?;
    let lang = crate::lang::Lang::ALL.into_iter().find(|l| l.code() == lang).ok_or(ApiError::NotFound)?;
    Ok((kind, lang))
}

/// Refuses control characters: none in a subject; in a body only tabs and line breaks.
pub fn plain_characters(subject: &str, body: &str) -> Result<(), ApiError> {
    if subject.chars().any(|c| c.is_ascii_control()) {
        return Err(ApiError::invalid("subject", "one line of text, without control characters"));
    }
    if body.chars().any(|c| c.is_ascii_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(ApiError::invalid(
            "body",
            "text without control characters (tabs and line breaks are fine)",
        ));
    }
    Ok(())
}

/// A refusal as the API's validation error: the part at fault, its line and the reason.
fn refused(refusal: &Refusal) -> ApiError {
    ApiError::invalid(refusal.field, refusal.broken.to_string())
}

/// 404 unless `event` is the organization's.
async fn own_event(tx: &mut Tenant, event: i64) -> Result<(), ApiError> {
    if crate::events::store::exists(tx, event).await? { Ok(()) } else { Err(ApiError::NotFound) }
}

#[utoipa::path(
    get,
    path = "/api/v1/message-templates",
    tag = "messages",
    params(ListQuery),
    responses(
        (status = 200, description = "Every kind of message with the names its template may use, and its wording in each language", body = Templates),
        (status = 404, description = "No such event", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn list(
    State(db): State<Db>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Templates>, ApiError> {
    Ok(Json(views::templates(&db, &caller, q.event).await?))
}

/// Saves `wording` of `kind` in `lang` at `event` (0: the organization's), after checking it.
pub async fn save(
    db: &Db,
    caller: &Caller,
    event: i64,
    (kind, lang): (Kind, Lang),
    wording: NewWording,
) -> Result<TemplateView, ApiError> {
    caller.require(MANAGERS)?;
    if event != 0 && kind.reader() == Reader::Member {
        return Err(ApiError::invalid(
            "kind",
            "this message is not about an event: word it for the organization",
        ));
    }
    plain_characters(&wording.subject, &wording.body)?;
    for (field, text) in [("subject", &wording.subject), ("body", &wording.body)] {
        if text.trim().is_empty() && !(field == "subject" && kind.is_text()) {
            return Err(ApiError::invalid(field, "write something, or go back to the default"));
        }
        if text.chars().count() > sandbox::SOURCE_CHARS {
            return Err(ApiError::invalid(field, format!("at most {} characters", sandbox::SOURCE_CHARS)));
        }
    }
    let wording = Wording { subject: wording.subject, body: wording.body.replace("\r\n", "\n") };
    let mut tx = db.tenant(caller.org_id).await?;
    if event != 0 {
        own_event(&mut tx, event).await?;
    }
    let org_name = messages::store::org_name(&mut tx).await?;
    // Rendering every sample is pure CPU, bounded by the sandbox's fuel (milliseconds).
    messages::check(kind, lang, &org_name, &wording).map_err(|r| refused(&r))?;
    messages::store::save(&mut tx, event, kind, lang, &wording, &caller.actor()).await?;
    let target = format!("{}/{}", kind.as_str(), lang.code());
    let scope = if event == 0 { json!({}) } else { json!({"event": event}) };
    tx.audit(&caller.actor(), "message_template.save", &target, scope).await?;
    tx.commit().await?;
    views::template(db, caller, event, kind, lang).await
}

/// Removes the wording of `kind` in `lang` at `event` (0: the organization's).
pub async fn reset(db: &Db, caller: &Caller, event: i64, (kind, lang): (Kind, Lang)) -> Result<(), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    if event != 0 {
        own_event(&mut tx, event).await?;
    }
    if !messages::store::remove(&mut tx, event, kind, lang).await? {
        return Err(ApiError::NotFound);
    }
    let target = format!("{}/{}", kind.as_str(), lang.code());
    let scope = if event == 0 { json!({}) } else { json!({"event": event}) };
    tx.audit(&caller.actor(), "message_template.reset", &target, scope).await?;
    tx.commit().await?;
    Ok(())
}

#[utoipa::path(
    put,
    path = "/api/v1/message-templates/{kind}/{lang}",
    tag = "messages",
    request_body = NewWording,
    params(
        ("kind" = Kind, Path, description = "The kind of message"),
        ("lang" = Lang, Path, description = "The language"),
    ),
    responses(
        (status = 200, description = "Saved: the organization's messages of this kind in this language use it (an event's own wording still comes first)", body = TemplateView),
        (status = 404, description = "No such kind or language", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "It does not render: `field` is subject or body, the detail says the line and the reason", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn save_for_organization(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((kind, lang)): ApiPath<(String, String)>,
    ApiJson(wording): ApiJson<NewWording>,
) -> Result<Json<TemplateView>, ApiError> {
    Ok(Json(save(&db, &caller, 0, named(&kind, &lang)?, wording).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/message-templates/{kind}/{lang}",
    tag = "messages",
    params(
        ("kind" = Kind, Path, description = "The kind of message"),
        ("lang" = Lang, Path, description = "The language"),
    ),
    responses(
        (status = 204, description = "Removed: the hub's default wording is used again"),
        (status = 404, description = "No such kind or language, or it was not reworded", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn reset_for_organization(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((kind, lang)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    reset(&db, &caller, 0, named(&kind, &lang)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/api/v1/events/{id}/message-templates/{kind}/{lang}",
    tag = "messages",
    request_body = NewWording,
    params(
        ("id" = i64, Path, description = "The event"),
        ("kind" = Kind, Path, description = "The kind of message (one to buyers)"),
        ("lang" = Lang, Path, description = "The language"),
    ),
    responses(
        (status = 200, description = "Saved: this event's messages of this kind in this language use it", body = TemplateView),
        (status = 404, description = "No such event, kind or language", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "It does not render (the detail says the line and the reason), or the kind is not about an event", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn save_for_event(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((event, kind, lang)): ApiPath<(i64, String, String)>,
    ApiJson(wording): ApiJson<NewWording>,
) -> Result<Json<TemplateView>, ApiError> {
    if event <= 0 {
        return Err(ApiError::NotFound); // 0 is the organization's own scope, not an event
    }
    Ok(Json(save(&db, &caller, event, named(&kind, &lang)?, wording).await?))
}

#[utoipa::path(
    delete,
    path = "/api/v1/events/{id}/message-templates/{kind}/{lang}",
    tag = "messages",
    params(
        ("id" = i64, Path, description = "The event"),
        ("kind" = Kind, Path, description = "The kind of message"),
        ("lang" = Lang, Path, description = "The language"),
    ),
    responses(
        (status = 204, description = "Removed: the event's messages use the organization's wording (or the default) again"),
        (status = 404, description = "No such event, kind or language, or it was not reworded for the event", body = ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn reset_for_event(
    State(db): State<Db>,
    caller: Caller,
    ApiPath((event, kind, lang)): ApiPath<(i64, String, String)>,
) -> Result<StatusCode, ApiError> {
    if event <= 0 {
        return Err(ApiError::NotFound);
    }
    reset(&db, &caller, event, named(&kind, &lang)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
