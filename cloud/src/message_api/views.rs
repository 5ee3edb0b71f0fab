//! What the API and the console show of the organization's wordings.

use super::{MANAGERS, own_event};
use crate::auth::Caller;
use crate::db::Db;
use crate::error::ApiError;
use crate::lang::Lang;
use crate::messages::store::{self, Saved};
use crate::messages::{Kind, Reader, defaults};
use serde::Serialize;
use utoipa::ToSchema;

/// Whose wording a message is sent in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The hub's own.
    Default,
    /// The organization's.
    Organization,
    /// The event's own.
    Event,
}

/// A name a template may use.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct NameView {
    /// As the template writes it (`order.code`).
    pub name: &'static str,
    /// What it holds.
    pub meaning: &'static str,
}

/// A kind of message.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct KindView {
    /// Its name.
    pub kind: Kind,
    /// What it is.
    pub description: &'static str,
    /// Whether it may be worded per event (messages to buyers are; to members, not).
    pub per_event: bool,
    /// The names its template may use.
    pub names: Vec<NameView>,
}

/// The wording of one kind in one language, as it is sent.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TemplateView {
    /// The kind.
    pub kind: Kind,
    /// The language.
    pub lang: Lang,
    /// Whose wording it is.
    pub source: Source,
    /// The subject's template.
    pub subject: String,
    /// The body's template (Markdown).
    pub body: String,
    /// Who saved it (absent for the default).
    pub updated_by: Option<String>,
    /// When (Unix ms; absent for the default).
    pub updated_at: Option<i64>,
}

/// Every kind and every wording.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Templates {
    /// Every kind of message, with its names.
    pub kinds: Vec<KindView>,
    /// Each kind in each language, as it is sent (for the event, if one was asked for).
    pub templates: Vec<TemplateView>,
}

fn view(kind: Kind, lang: Lang, event_rows: &[Saved], org_rows: &[Saved]) -> TemplateView {
    let find =
        |rows: &[Saved]| rows.iter().find(|r| r.kind == kind.as_str() && r.lang == lang.code()).cloned();
    let saved = if kind.reader() == Reader::Buyer { find(event_rows) } else { None };
    let (source, saved) = match (saved, find(org_rows)) {
        (Some(row), _) => (Source::Event, Some(row)),
        (None, Some(row)) => (Source::Organization, Some(row)),
        (None, None) => (Source::Default, None),
    };
    if let Some(row) = saved {
        TemplateView {
            kind,
            lang,
            source,
            subject: row.subject,
            body: row.body,
            updated_by: Some(row.updated_by),
            updated_at: Some(row.updated_at),
        }
    } else {
        let d = defaults::wording(kind, lang);
        TemplateView {
            kind,
            lang,
            source,
            subject: d.subject,
            body: d.body,
            updated_by: None,
            updated_at: None,
        }
    }
}

async fn rows(db: &Db, caller: &Caller, event: Option<i64>) -> Result<(Vec<Saved>, Vec<Saved>), ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let event_rows = match event {
        Some(e) if e != 0 => {
            own_event(&mut tx, e).await?;
            store::list(&mut tx, e).await?
        }
        _ => Vec::new(),
    };
    let org_rows = store::list(&mut tx, 0).await?;
    tx.commit().await?;
    Ok((event_rows, org_rows))
}

/// Every kind, and each in each language as `event`'s messages (or the organization's) are
/// worded.
pub async fn templates(db: &Db, caller: &Caller, event: Option<i64>) -> Result<Templates, ApiError> {
    let (event_rows, org_rows) = rows(db, caller, event).await?;
    let kinds = Kind::ALL
        .into_iter()
        .map(|kind| KindView {
            kind,
            description: kind.describe(),
            per_event: kind.reader() == Reader::Buyer,
            names: kind.names().into_iter().map(|(name, meaning)| NameView { name, meaning }).collect(),
        })
        .collect();
    let templates = Kind::ALL
        .into_iter()
        .flat_map(|kind| Lang::ALL.into_iter().map(move |lang| (kind, lang)))
        .map(|(kind, lang)| view(kind, lang, &event_rows, &org_rows))
        .collect();
    Ok(Templates { kinds, templates })
}

/// `kind` in `lang` as `event`'s messages (0: the organization's) are worded.
pub async fn template(
    db: &Db,
    caller: &Caller,
    event: i64,
    kind: Kind,
    lang: Lang,
) -> Result<TemplateView, ApiError> {
    let (event_rows, org_rows) = rows(db, caller, Some(event)).await?;
    Ok(view(kind, lang, &event_rows, &org_rows))
}
