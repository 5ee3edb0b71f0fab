//! The organization's wordings: one row per kind, language and scope (the organization, or
//! one event).

use super::{Kind, Wording};
use crate::db::Tenant;
use crate::lang::Lang;

/// A saved wording.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Saved {
    /// 0 for the organization's; else the event's.
    pub event_id: i64,
    /// Its kind's name.
    pub kind: String,
    /// Its language's code.
    pub lang: String,
    /// The subject's template.
    pub subject: String,
    /// The body's template.
    pub body: String,
    /// Who saved it last.
    pub updated_by: String,
    /// When (Unix ms).
    pub updated_at: i64,
}

/// The wording `kind` is sent in, in `lang`: the event's (if `event`), else the
/// organization's; `None` for the hub's default.
pub async fn find(
    tx: &mut Tenant,
    kind: Kind,
    lang: Lang,
    event: Option<i64>,
) -> Result<Option<Wording>, sqlx::Error> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT subject, body FROM message_templates WHERE org_id = $1 AND kind = $2 AND lang = $3 \
         AND event_id IN (0, $4) ORDER BY event_id DESC LIMIT 1",
    )
    .bind(tx.org())
    .bind(kind.as_str())
    .bind(lang.code())
    .bind(event.unwrap_or(0))
    .fetch_optional(&mut **tx)
    .await?;
    Ok(row.map(|(subject, body)| Wording { subject, body }))
}

/// The wordings saved for `event_id` (0: the organization's own).
pub async fn list(tx: &mut Tenant, event_id: i64) -> Result<Vec<Saved>, sqlx::Error> {
    sqlx::query_as(
        "SELECT event_id, kind, lang, subject, body, updated_by, updated_at FROM message_templates \
         WHERE org_id = $1 AND event_id = $2 ORDER BY kind, lang",
    )
    .bind(tx.org())
    .bind(event_id)
    .fetch_all(&mut **tx)
    .await
}

/// Saves `wording` for `kind` in `lang` at `event_id` (0: the organization), replacing what
/// was there.
pub async fn save(
    tx: &mut Tenant,
    event_id: i64,
    kind: Kind,
    lang: Lang,
    wording: &Wording,
    by: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO message_templates (org_id, event_id, kind, lang, subject, body, updated_by, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (org_id, event_id, kind, lang) DO UPDATE SET \
         subject = excluded.subject, body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(tx.org())
    .bind(event_id)
    .bind(kind.as_str())
    .bind(lang.code())
    .bind(&wording.subject)
    .bind(&wording.body)
    .bind(by)
    .bind(tx.now())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Removes the wording of `kind` in `lang` at `event_id`; whether there was one.
pub async fn remove(tx: &mut Tenant, event_id: i64, kind: Kind, lang: Lang) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM message_templates WHERE org_id = $1 AND event_id = $2 AND kind = $3 AND lang = $4",
    )
    .bind(tx.org())
    .bind(event_id)
    .bind(kind.as_str())
    .bind(lang.code())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The organization's language (what its members are written in).
pub async fn org_language(tx: &mut Tenant) -> Result<Lang, sqlx::Error> {
    let code: Option<String> = sqlx::query_scalar("SELECT language FROM organizations WHERE id = $1")
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(code.as_deref().and_then(Lang::parse).unwrap_or_default())
}

/// The organization's name.
pub async fn org_name(tx: &mut Tenant) -> Result<String, sqlx::Error> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM organizations WHERE id = $1")
        .bind(tx.org())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(name.unwrap_or_default())
}

/// The organization's latest paid order with an e-mail address (of `event`, if given): the
/// real facts a preview shows.
pub async fn latest_paid_order(tx: &mut Tenant, event: Option<i64>) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM orders WHERE org_id = $1 AND status = 'paid' AND email <> '' AND ($2 = 0 OR event_id = $2) \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(tx.org())
    .bind(event.unwrap_or(0))
    .fetch_optional(&mut **tx)
    .await
}
