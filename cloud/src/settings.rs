//! `GET`/`PATCH /api/v1/organization`: what an organization says of itself to buyers — its
//! name (the shop's and the e-mails' sender) and the addresses of its terms and privacy
//! policy, which the shop links before the buyer pays — and the language the hub writes to
//! its members in. Owners and admins change them.

use crate::auth::Caller;
use crate::checks;
use crate::db::{Db, Tenant};
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::lang::Lang;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show, change))
}

/// Who changes them.
const CHANGERS: &[Role] = &[Role::Owner, Role::Admin];

/// The organization as buyers see it.
#[derive(Clone, Debug, Default, Serialize, ToSchema, sqlx::FromRow)]
pub struct Organization {
    /// Its name.
    pub name: String,
    /// Its slug (in URLs; fixed).
    pub slug: String,
    /// Its terms and conditions ("" if none).
    pub terms_url: String,
    /// Its privacy policy ("" if none).
    pub privacy_url: String,
    /// The language of what the hub writes to its members (invitations, notices); buyers
    /// are written to in the event's.
    #[sqlx(try_from = "String")]
    pub language: Lang,
}

/// What to change; absent fields stay.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Changes {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: Option<String>,
    /// An http(s) address, or "" for none.
    #[schema(max_length = 500, pattern = "^(https?://[!-~]{1,490})?$")]
    terms_url: Option<String>,
    /// An http(s) address, or "" for none.
    #[schema(max_length = 500, pattern = "^(https?://[!-~]{1,490})?$")]
    privacy_url: Option<String>,
    /// The language of what the hub writes to members.
    language: Option<Lang>,
}

/// The organization of `tx`.
pub async fn organization(tx: &mut Tenant) -> Result<Organization, sqlx::Error> {
    sqlx::query_as("SELECT name, slug, terms_url, privacy_url, language FROM organizations WHERE id = $1")
        .bind(tx.org())
        .fetch_one(&mut **tx)
        .await
}

/// "" or an http(s) address of visible ASCII (what the schema's pattern says).
fn check_url(field: &str, url: &str) -> Result<(), ApiError> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    let ok = url.is_empty()
        || rest
            .is_some_and(|r| (1..=490).contains(&r.len()) && r.bytes().all(|b| (b'!'..=b'~').contains(&b)));
    if ok { Ok(()) } else { Err(ApiError::invalid(field, "an address starting with https://, or nothing")) }
}

#[utoipa::path(
    get,
    path = "/api/v1/organization",
    tag = "members",
    responses((status = 200, description = "The caller's organization as buyers see it", body = Organization)),
)]
async fn show(State(db): State<Db>, caller: Caller) -> Result<Json<Organization>, ApiError> {
    let mut tx = db.tenant(caller.org_id).await?;
    let found = organization(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(found))
}

#[utoipa::path(
    patch,
    path = "/api/v1/organization",
    tag = "members",
    request_body = Changes,
    responses((status = 204, description = "Changed. Owners and admins.")),
)]
async fn change(
    State(db): State<Db>,
    caller: Caller,
    ApiJson(changes): ApiJson<Changes>,
) -> Result<StatusCode, ApiError> {
    caller.require(CHANGERS)?;
    if let Some(name) = &changes.name {
        checks::text("name", name, 200)?;
    }
    // Checked as sent: the schema's pattern allows no spaces around an address.
    let trimmed = |u: &Option<String>| u.clone();
    let (terms, privacy) = (trimmed(&changes.terms_url), trimmed(&changes.privacy_url));
    for (field, url) in [("terms_url", &terms), ("privacy_url", &privacy)] {
        if let Some(url) = url {
            check_url(field, url)?;
        }
    }
    let mut tx = db.tenant(caller.org_id).await?;
    let was = organization(&mut tx).await?;
    sqlx::query(
        "UPDATE organizations SET name = $1, terms_url = $2, privacy_url = $3, language = $4 WHERE id = $5",
    )
    .bind(changes.name.as_deref().map_or(was.name, |n| n.trim().to_owned()))
    .bind(terms.unwrap_or(was.terms_url))
    .bind(privacy.unwrap_or(was.privacy_url))
    .bind(changes.language.unwrap_or(was.language).code())
    .bind(tx.org())
    .execute(&mut *tx)
    .await?;
    tx.audit(&caller.actor(), "organization.edit", "organization", json!(changes)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses_are_http_or_nothing() {
        for good in ["", "https://example.org/terms", "http://a.b/c?d=e&f=%20"] {
            assert!(super::check_url("u", good).is_ok(), "{good}");
        }
        for bad in
            ["example.org", "javascript:alert(1)", "https://", "https://a b", "ftp://x.y", "https://x\n"]
        {
            assert!(super::check_url("u", bad).is_err(), "{bad:?}");
        }
    }
}
