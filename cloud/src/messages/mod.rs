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
//! WhatsApp) has a body only, plain text of at most [`TEXT_PARTS`] SMS parts.
//!
//! Invariants:
//! 1. **What is stored renders.** A wording is refused on save (with its line and reason)
//!    unless it renders with every sample of its kind: every name it uses exists, it ends,
//!    it fits. So a broken template is found by the organizer typing it, not by a buyer.
//! 2. **No message is lost to a wording.** Should a saved wording still fail with real facts
//!    (a value the samples did not foresee), the message goes out in the default wording and
//!    the failure is logged: the buyer gets their tickets either way. Should even the default
//!    not fit (limits of length), [`Unrenderable`] tells the caller, which sends something
//!    plainer rather than fail the change that caused the message.

pub mod context;
pub mod defaults;
mod kind;
pub mod sandbox;
pub mod store;

pub use context::Context;
pub use kind::{Kind, Reader, TEXT_PARTS};

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
            | Self::Webhook { org, .. }
            | Self::Report { org, .. } => &org.name,
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
/// (line breaks as spaces), its typographic marks made plain ([`plain_marks`]), at most
/// [`TEXT_PARTS`] SMS parts ([`sms_parts`]).
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
    let body = plain_marks(&body);
    let parts = sms_parts(&body);
    if parts > TEXT_PARTS {
        return Err(refuse(format!(
            "{chars} characters make {parts} SMS: a text may take at most {TEXT_PARTS} \
             (459 characters of the SMS alphabet, 201 with any other character, such as an emoji)"
        )));
    }
    Ok(body)
}

/// `text` with the typographic marks the SMS alphabet (GSM 03.38) lacks written plainly: one en
/// dash ("20:00–23:00") would make every part of a text 67 characters instead of 153.
pub fn plain_marks(text: &str) -> String {
    text.replace(['–', '—'], "-").replace(['‘', '’'], "'").replace(['“', '”', '„'], "\"").replace('…', "...")
}

/// The SMS alphabet (GSM 03.38): its basic characters take one of a part's 160 places…
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// …its extension, two.
const GSM_EXTENDED: &str = "^{}\\[~]|€";

/// How many SMS parts `text` takes: in the SMS alphabet 160 characters in one, 153 a part when
/// split; with any other character 70 UTF-16 units in one, 67 a part.
pub fn sms_parts(text: &str) -> usize {
    let septets: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (units, one, each) = match septets {
        Some(n) => (n, 160, 153),
        None => (text.encode_utf16().count(), 70, 67),
    };
    if units <= one { 1 } else { units.div_ceil(each) }
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
    make(&defaults::wording(kind, lang)).map_err(|refusal| Unrenderable { kind, refusal }.into())
}

/// Even the default wording did not render with these facts (a 200-character event name in a
/// text of at most three SMS, say). The caller decides what is sent instead: a message must
/// never stop the change that causes it.
#[derive(Debug, thiserror::Error)]
#[error("the default wording of {} did not render: {refusal}", kind.as_str())]
pub struct Unrenderable {
    /// The kind.
    pub kind: Kind,
    /// Why.
    pub refusal: Refusal,
}

#[cfg(test)]
mod tests {
    use super::{plain_marks, sms_parts};

    #[test]
    fn sms_parts_count_the_alphabet_a_phone_uses() {
        assert_eq!(sms_parts(&"a".repeat(160)), 1);
        assert_eq!(sms_parts(&"a".repeat(161)), 2);
        assert_eq!(sms_parts(&"a".repeat(459)), 3);
        assert_eq!(sms_parts(&"a".repeat(460)), 4);
        assert_eq!(sms_parts(&"€".repeat(80)), 1, "the extension takes two places");
        assert_eq!(sms_parts(&"ü".repeat(160)), 1, "German umlauts are in the alphabet");
        assert_eq!(sms_parts(&format!("{}😀", "a".repeat(68))), 1, "70 UTF-16 units");
        assert_eq!(sms_parts(&"ł".repeat(71)), 2);
        assert_eq!(plain_marks("20:00–23:00 ‘x’ …"), "20:00-23:00 'x' ...");
        assert_eq!(sms_parts(&plain_marks(&"–".repeat(160))), 1);
    }
}
