//! What the hub says to people, in the organization's own words.
//!
//! Every message the hub sends is of a [`Kind`] (the order confirmation, the refund notice,
//! an invitation, …) and has a default wording in each language ([`defaults`]). An
//! organization may reword any kind in any language, for all its events or for one event
//! ([`store`]); a message uses the event's wording, else the organization's, else the
//! default, in the language of its reader (the event's for a buyer, the organization's for a
//! member).
//!
//! A wording is a subject line and a body, both templates in a sandboxed Jinja
//! ([`sandbox`]) over the facts of the message ([`context`]). The body is Markdown, from which
//! the e-mail's text and HTML parts are made ([`crate::mail::Letter`]). A text message (SMS,
//! WhatsApp) has a body only, plain text of at most [`TEXT_CHARS`] characters.
//!
//! Invariants:
//! 1. **What is stored renders.** A wording is refused on save (with its line and reason)
//!    unless it renders with every sample of its kind: every name it uses exists, it ends,
//!    it fits. So a broken template is found by the organizer typing it, not by a buyer.
//! 2. **No message is lost to a wording.** Should a saved wording still fail with real facts
//!    (a value the samples did not foresee), the message goes out in the default wording and
//!    the failure is logged: the buyer gets their tickets either way.

pub mod context;
pub mod defaults;
mod kind;
pub mod sandbox;
pub mod store;

pub use context::Context;
pub use kind::{Kind, Reader, TEXT_CHARS};

use crate::db::Tenant;
use crate::lang::Lang;
use crate::mail::Letter;
use sandbox::{Broken, Part};

/// A message's wording: two templates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wording {
    /// The subject line (plain text; line breaks become spaces).
    pub subject: String,
    /// The body (Markdown).
    pub body: String,
}

/// Why a wording was refused: which part, and what is wrong where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// "subject" or "body".
    pub field: &'static str,
    /// The fault.
    pub broken: Broken,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.broken)
    }
}

impl Context {
    /// Whose message it is (the letter's sender).
    fn org_name(&self) -> &str {
        match self {
            Self::Order { org, .. }
            | Self::Refund { org, .. }
            | Self::DoorSale { org, .. }
            | Self::Invitation { org, .. }
            | Self::Webhook { org, .. } => &org.name,
        }
    }
}

/// `wording` rendered with `context` in `lang`.
pub fn render(lang: Lang, wording: &Wording, context: &Context) -> Result<Letter, Refusal> {
    let values = context.value();
    let refuse = |field| move |broken| Refusal { field, broken };
    let subject = sandbox::render(&wording.subject, &values, Part::Plain, sandbox::SUBJECT_BYTES)
        .map_err(refuse("subject"))?;
    let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    if subject.is_empty() {
        return Err(Refusal {
            field: "subject",
            broken: Broken { line: None, reason: "the subject is empty".into() },
        });
    }
    let markdown = sandbox::render(&wording.body, &values, Part::Markdown, sandbox::BODY_BYTES)
        .map_err(refuse("body"))?;
    if markdown.trim().is_empty() {
        return Err(Refusal {
            field: "body",
            broken: Broken { line: None, reason: "the message is empty".into() },
        });
    }
    Ok(Letter { lang: lang.code(), subject, sender: context.org_name().to_owned(), markdown })
}

/// `wording` of a text message rendered with `context`: its body, plain, one paragraph
/// (line breaks as spaces), at most [`TEXT_CHARS`] characters.
pub fn render_text(wording: &Wording, context: &Context) -> Result<String, Refusal> {
    let refuse = |reason: String| Refusal { field: "body", broken: Broken { line: None, reason } };
    if !wording.subject.trim().is_empty() {
        let broken = Broken { line: None, reason: "a text message has no subject: leave it empty".into() };
        return Err(Refusal { field: "subject", broken });
    }
    let body = sandbox::render(&wording.body, &context.value(), Part::Plain, sandbox::SUBJECT_BYTES * 4)
        .map_err(|broken| Refusal { field: "body", broken })?;
    let body = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if body.is_empty() {
        return Err(refuse("the message is empty".into()));
    }
    let chars = body.chars().count();
    if chars > TEXT_CHARS {
        return Err(refuse(format!("{chars} characters: a text may have at most {TEXT_CHARS} (three SMS)")));
    }
    Ok(body)
}

/// Whether `wording` may be saved for `kind` in `lang`: it renders with every sample.
pub fn check(kind: Kind, lang: Lang, org_name: &str, wording: &Wording) -> Result<(), Refusal> {
    sandbox::parse(&wording.subject).map_err(|broken| Refusal { field: "subject", broken })?;
    sandbox::parse(&wording.body).map_err(|broken| Refusal { field: "body", broken })?;
    for sample in context::samples(kind, lang, org_name) {
        if kind.is_text() {
            render_text(wording, &sample)?;
        } else {
            render(lang, wording, &sample)?;
        }
    }
    Ok(())
}

/// The text message of `kind` for `context`, in `lang`, in the organization's words (the
/// event's, if `event`) or the hub's default.
pub async fn text(
    tx: &mut Tenant,
    kind: Kind,
    lang: Lang,
    event: Option<i64>,
    context: &Context,
) -> anyhow::Result<String> {
    worded(tx, kind, lang, event, |w| render_text(w, context)).await
}

/// The letter of `kind` for `context`, in `lang`, in the words the organization chose (the
/// event's, if `event`, else its own) or the hub's default.
pub async fn letter(
    tx: &mut Tenant,
    kind: Kind,
    lang: Lang,
    event: Option<i64>,
    context: &Context,
) -> anyhow::Result<Letter> {
    worded(tx, kind, lang, event, |w| render(lang, w, context)).await
}

/// `make` with the wording `kind` is sent in — the organization's, or the default should that
/// not render (invariant 2).
async fn worded<T>(
    tx: &mut Tenant,
    kind: Kind,
    lang: Lang,
    event: Option<i64>,
    make: impl Fn(&Wording) -> Result<T, Refusal>,
) -> anyhow::Result<T> {
    if let Some(wording) = store::find(tx, kind, lang, event).await? {
        match make(&wording) {
            Ok(made) => return Ok(made),
            Err(refusal) => tracing::warn!(
                kind = kind.as_str(),
                lang = lang.code(),
                org = tx.org(),
                %refusal,
                "a saved wording did not render; the message goes out in the default wording"
            ),
        }
    }
    make(&defaults::wording(kind, lang)).map_err(|refusal| {
        anyhow::anyhow!("the default wording of {} did not render: {refusal}", kind.as_str())
    })
}
