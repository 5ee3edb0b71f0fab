//! `/api/v1/login`, `/api/v1/logout`, `/api/v1/me`, `/api/v1/tokens`.

use super::extract::cookie;
use super::{Caller, SESSION_COOKIE, random_token, store, token_hash};
use crate::checks;
use crate::db::Db;
use crate::error::{ApiError, ProblemDetails};
use crate::json::ApiJson;
use crate::limits::{LOGIN_PER_ADDRESS, LOGIN_PER_EMAIL, Limits};
use crate::path::ApiPath;
use crate::state::{AppState, PublicUrl};
use crate::tenancy::{Role, passwords};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(switch_organization))
        .routes(routes!(create_token))
        .routes(routes!(revoke_token))
}

/// `POST /api/v1/login`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
    /// Which organization to act for (by slug); the first membership if absent.
    organization: Option<String>,
}

/// Who is calling, for which organization, in which role.
#[derive(Serialize, ToSchema)]
struct SessionInfo {
    user_id: i64,
    org_id: i64,
    role: Role,
    /// The session's CSRF token (console sessions; absent for API tokens): send it as
    /// `X-CSRF-Token` with every change.
    csrf_token: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/login",
    tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "Logged in: the session cookie is set; the CSRF token is in the body", body = SessionInfo),
        (status = 401, description = "Wrong e-mail or password", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, description = "Not a member of the organization asked for", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts for this e-mail or from this address: wait Retry-After seconds", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(()),
)]
async fn login(
    State(db): State<Db>,
    State(limits): State<Limits>,
    State(public_url): State<PublicUrl>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let email = body.email.trim().to_lowercase();
    let organization = body.organization.unwrap_or_default();
    if !checks::lookupable(&email, 254) || !checks::lookupable(&organization, 64) {
        return Err(ApiError::Unauthorized); // no account has such an address
    }
    limits.check(&format!("login:email:{email}"), LOGIN_PER_EMAIL).await?;
    limits.check(&format!("login:address:{}", peer.ip()), LOGIN_PER_ADDRESS).await?;
    let user = store_user(&db, &email).await?;
    // Verify even for an unknown e-mail (against a fixed hash), so timing does not tell which
    // addresses have accounts.
    let (user_id, stored) = user.map_or((None, DUMMY_HASH.clone()), |u| (Some(u.id), u.password_hash));
    let password = body.password;
    let valid =
        tokio::task::spawn_blocking(move || passwords::verify(&password, &stored)).await.unwrap_or(false);
    let (Some(user_id), true) = (user_id, valid) else {
        return Err(ApiError::Unauthorized);
    };
    let mut lookup = db.lookup().await?;
    let (org_id, role) = crate::tenancy::store::membership_by_slug(&mut lookup, user_id, &organization)
        .await?
        .ok_or(ApiError::NotFound)?;
    lookup.commit().await?;
    // A fresh session at every login: a token planted before login is never promoted, and the
    // session this browser held before (if any) ends here, in the same transaction.
    let token = random_token()?;
    let csrf = random_token()?;
    let mut system = db.system().await?;
    let now = system.now();
    if let Some(previous) = cookie(&headers, SESSION_COOKIE) {
        store::end_session(&mut system, &token_hash(&previous)).await?;
    }
    store::insert_session(&mut system, &token_hash(&token), user_id, org_id, &csrf, now).await?;
    system.commit().await?;
    let secure = if public_url.is_https() { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/{secure}");
    let mut response = Json(SessionInfo { user_id, org_id, role, csrf_token: Some(csrf) }).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?);
    Ok(response)
}

/// The account with this e-mail (users are global: no organization yet).
async fn store_user(db: &Db, email: &str) -> Result<Option<crate::tenancy::store::Credentials>, ApiError> {
    let mut conn = db.pool().acquire().await?;
    Ok(crate::tenancy::store::user_by_email(&mut conn, email).await?)
}

/// An argon2id hash of a random password nobody knows, made once.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| random_token().and_then(|t| passwords::hash(&t)).unwrap_or_default());

/// Ends this session (the caller must be authenticated, with its CSRF token).
#[utoipa::path(
    post,
    path = "/api/v1/logout",
    tag = "auth",
    responses(
        (status = 204, description = "Logged out; the cookie is cleared"),
    ),
)]
async fn logout(State(db): State<Db>, _caller: Caller, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let mut system = db.system().await?;
        store::end_session(&mut system, &token_hash(&token)).await?;
        system.commit().await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let expired = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&expired).map_err(anyhow::Error::from)?);
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    responses(
        (status = 200, description = "Who is calling, for which organization, in which role", body = SessionInfo),
    ),
)]
async fn me(caller: Caller) -> Json<SessionInfo> {
    Json(SessionInfo {
        user_id: caller.user_id,
        org_id: caller.org_id,
        role: caller.role,
        csrf_token: caller.csrf,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SwitchTo {
    /// The organization's short name (slug).
    organization: String,
}

/// Acts for another organization the person belongs to, in this same session (console
/// sessions only: an API token belongs to one organization).
#[utoipa::path(
    post,
    path = "/api/v1/session/organization",
    tag = "auth",
    request_body = SwitchTo,
    responses(
        (status = 200, description = "The session now acts for that organization, in the person's role there", body = SessionInfo),
        (status = 404, description = "Not a member there (or no such organization)", body = ProblemDetails, content_type = "application/problem+json"),
    ),
    security(("session" = [])),
)]
async fn switch_organization(
    State(db): State<Db>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SwitchTo>,
) -> Result<Json<SessionInfo>, ApiError> {
    let Some(token) = cookie(&headers, SESSION_COOKIE).filter(|_| caller.via == super::Via::Session) else {
        return Err(ApiError::invalid("organization", "only a console session can switch organizations"));
    };
    let slug = body.organization.trim();
    let mut system = db.system().await?;
    // Not a member there (or no such organization): the same answer, so neither is revealed.
    let (org_id, role) = if slug.is_empty() || !checks::lookupable(slug, 64) {
        None
    } else {
        crate::tenancy::store::membership_by_slug(&mut system, caller.user_id, slug).await?
    }
    .ok_or(ApiError::NotFound)?;
    store::switch_session(&mut system, &token_hash(&token), org_id).await?;
    system.commit().await?;
    Ok(Json(SessionInfo { user_id: caller.user_id, org_id, role, csrf_token: caller.csrf }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
}

#[derive(Serialize, ToSchema)]
struct CreatedToken {
    id: i64,
    /// Shown once; only its hash is kept.
    token: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/tokens",
    tag = "auth",
    request_body = NewToken,
    responses(
        (status = 201, description = "The new token (shown once). Owners and admins.", body = CreatedToken),
    ),
)]
async fn create_token(
    State(db): State<Db>,
    caller: Caller,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    caller.require(&[Role::Owner, Role::Admin])?;
    checks::text("name", &body.name, 100)?;
    let token = format!("vgt_{}", random_token()?);
    let mut tx = db.tenant(caller.org_id).await?;
    let id = store::insert_token(&mut tx, caller.user_id, body.name.trim(), &token_hash(&token)).await?;
    tx.audit(&caller.actor(), "token.create", &format!("token:{id}"), serde_json::json!({"name": body.name}))
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { id, token })))
}

#[utoipa::path(
    delete,
    path = "/api/v1/tokens/{id}",
    tag = "auth",
    params(
        ("id" = i64, Path, description = "The API token"),
    ),
    responses(
        (status = 204, description = "Revoked"),
    ),
)]
async fn revoke_token(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Owner, Role::Admin])?;
    let mut tx = db.tenant(caller.org_id).await?;
    if !store::revoke_token(&mut tx, id).await? {
        return Err(ApiError::NotFound);
    }
    tx.audit(&caller.actor(), "token.revoke", &format!("token:{id}"), serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
