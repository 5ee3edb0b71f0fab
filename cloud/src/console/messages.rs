//! `/messages` (every message the hub sends and whose wording each language uses, for the
//! organization or, with `?event=`, for one event) and `/messages/{kind}/{lang}` (the editor:
//! the template, the names it may use, a preview with the organization's latest order, and
//! going back to the default). Owners and admins, as in the API, whose functions these pages
//! call ([`crate::message_api`]).

use super::{Layout, PagePath, PageQuery, PageResult, Staff, local_time, render};
use crate::error::ApiError;
use crate::lang::Lang;
use crate::message_api::views::{self, KindView, Source, TemplateView};
use crate::message_api::{ListQuery, MANAGERS};
use crate::messages::{Kind, defaults};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;

/// A kind's row: its words, and each language's source.
struct Row {
    kind: &'static str,
    description: &'static str,
    per_event: bool,
    /// (language code, language name, source in words, reworded here).
    langs: Vec<(&'static str, &'static str, &'static str, bool)>,
}

fn source_words(source: Source) -> &'static str {
    match source {
        Source::Default => "Default",
        Source::Organization => "Organization's",
        Source::Event => "This event's",
    }
}

#[derive(Template)]
#[template(path = "messages.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    /// The event worded for, as (id, name), if any.
    event: Option<(i64, String)>,
    /// Every event, as (id, name), to choose one.
    events: Vec<(i64, String)>,
}

/// The event `id` as (id, name), or 404.
async fn event_named(state: &AppState, staff: &Staff, id: i64) -> Result<(i64, String), ApiError> {
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let found = crate::events::store::event(&mut tx, id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok((id, found.name))
}

/// `GET /messages`.
pub(super) async fn list(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(q): PageQuery<ListQuery>,
) -> PageResult {
    staff.0.require(MANAGERS)?;
    let layout = staff.layout(&state, "messages").await?;
    let found = views::templates(&state.db, &staff.0, q.event).await?;
    let event = match q.event {
        Some(id) => Some(event_named(&state, &staff, id).await?),
        None => None,
    };
    let here = if event.is_some() { Source::Event } else { Source::Organization };
    let rows = found
        .kinds
        .iter()
        .filter(|k| event.is_none() || k.per_event)
        .map(|k: &KindView| Row {
            kind: k.kind.as_str(),
            description: k.description,
            per_event: k.per_event,
            langs: found
                .templates
                .iter()
                .filter(|t| t.kind == k.kind)
                .map(|t| (t.lang.code(), t.lang.name(), source_words(t.source), t.source == here))
                .collect(),
        })
        .collect();
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let events = crate::events::store::events(&mut tx).await?.into_iter().map(|e| (e.id, e.name)).collect();
    tx.commit().await?;
    Ok(render(&ListPage { layout, rows, event, events }))
}

#[derive(Template)]
#[template(path = "message.html")]
struct EditPage {
    layout: Layout,
    kind: &'static str,
    description: &'static str,
    lang: &'static str,
    lang_name: &'static str,
    /// A text message: no subject, plain text.
    is_text: bool,
    t: TemplateView,
    /// Whose wording is shown, in words.
    source: &'static str,
    /// Whether the wording shown is this page's own (organization's, or the event's), so it
    /// can be removed.
    own: bool,
    event: Option<(i64, String)>,
    /// Where the form saves (PUT) and resets (DELETE).
    api: String,
    /// The preview button's extra fields, as JSON.
    preview_extra: String,
    names: Vec<(&'static str, &'static str)>,
    /// The hub's default wording, to start again from.
    default_subject: String,
    default_body: String,
    updated: String,
}

/// `GET /messages/{kind}/{lang}`.
pub(super) async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    PagePath((kind, lang)): PagePath<(String, String)>,
    PageQuery(q): PageQuery<ListQuery>,
) -> PageResult {
    staff.0.require(MANAGERS)?;
    let kind = Kind::parse(&kind).ok_or(ApiError::NotFound)?;
    let lang = Lang::ALL.into_iter().find(|l| l.code() == lang).ok_or(ApiError::NotFound)?;
    let layout = staff.layout(&state, "messages").await?;
    let event = match q.event {
        Some(id) if kind.reader() == crate::messages::Reader::Buyer => {
            Some(event_named(&state, &staff, id).await?)
        }
        Some(_) => return Err(ApiError::NotFound.into()),
        None => None,
    };
    let scope = event.as_ref().map_or(0, |(id, _)| *id);
    let t = views::template(&state.db, &staff.0, scope, kind, lang).await?;
    let (api, own) = match &event {
        Some((id, _)) => (
            format!("/api/v1/events/{id}/message-templates/{}/{}", kind.as_str(), lang.code()),
            t.source == Source::Event,
        ),
        None => (
            format!("/api/v1/message-templates/{}/{}", kind.as_str(), lang.code()),
            t.source == Source::Organization,
        ),
    };
    let preview_extra =
        serde_json::json!({"kind": kind, "lang": lang, "event_id": event.as_ref().map(|(id, _)| id)})
            .to_string();
    let d = defaults::wording(kind, lang);
    Ok(render(&EditPage {
        layout,
        kind: kind.as_str(),
        description: kind.describe(),
        lang: lang.code(),
        lang_name: lang.name(),
        is_text: kind.is_text(),
        source: source_words(t.source),
        own,
        updated: match (&t.updated_by, t.updated_at) {
            (Some(by), Some(at)) => format!("{by}, {}", local_time(Some(at), "UTC")),
            _ => String::new(),
        },
        t,
        event,
        api,
        preview_extra,
        names: kind.names(),
        default_subject: d.subject,
        default_body: d.body,
    }))
}
