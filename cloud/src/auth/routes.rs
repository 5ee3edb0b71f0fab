//! `/api/v1/login`, `/api/v1/logout`, `/api/v1/me`, `/api/v1/tokens`.

use super::extract::cookie;
use super::{Caller, SESSION_COOKIE, random_token, token_hash};
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::server::AppState;
use crate::tenancy::{Role, audit, now_ms, passwords};
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Login attempts allowed: per e-mail 5 at once then one every 12 s; per client address 20 at
/// once then one every 3 s. Enrollments: per client address 200 at once, then ten a second.
/// Per hub instance (enough to stop guessing; a shared limit across instances would need the
/// database on every attempt).
#[derive(Clone)]
pub struct LoginLimiter {
    by_email: Arc<DefaultKeyedRateLimiter<String>>,
    by_address: Arc<DefaultKeyedRateLimiter<String>>,
    enrollments: Arc<DefaultKeyedRateLimiter<String>>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let quota = |burst: u32, every_ms: u64| {
            Quota::with_period(std::time::Duration::from_millis(every_ms))
                .map(|q| q.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN)))
        };
        let limiter = |q: Option<Quota>| {
            Arc::new(governor::RateLimiter::keyed(q.unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))))
        };
        Self {
            by_email: limiter(quota(5, 12_000)),
            by_address: limiter(quota(20, 3_000)),
            enrollments: limiter(quota(200, 100)),
        }
    }
}

impl LoginLimiter {
    /// Refuses (429) once `email` or `address` has tried too often.
    pub fn check(&self, email: &str, address: &str) -> Result<(), ApiError> {
        Self::check_one(&self.by_email, email)?;
        Self::check_one(&self.by_address, address)
    }

    /// Refuses (429) once `address` has enrolled too often. Enrollment codes (12 of 31
    /// characters, 59 bits) cannot be guessed anyway: the limit only stops floods, and a whole
    /// venue enrolling its devices from behind one address must not wait — the fleet simulator
    /// found 100 gates taking five minutes under the login limit this once shared.
    pub fn check_enrollment(&self, address: &str) -> Result<(), ApiError> {
        Self::check_one(&self.enrollments, address)
    }

    fn check_one(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> Result<(), ApiError> {
        limiter.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::RateLimited { retry_after: wait.as_secs().max(1) }
        })
    }
}

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
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
    /// Which organization to act for (by slug); the first membership if absent.
    organization: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct SessionInfo {
    user_id: i64,
    org_id: i64,
    role: Role,
    csrf_token: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/login",
    tag = "auth",
    request_body = Login,
    responses(
        (status = 200, description = "Logged in: the session cookie is set; the CSRF token is in the body", body = SessionInfo),
    ),
    security(()),
)]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let email = body.email.trim().to_lowercase();
    state.login_limiter.check(&email, &peer.ip().to_string())?;
    let user = sqlx::query("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(state.db.pool())
        .await?;
    // Verify even for an unknown e-mail (against a fixed hash), so timing does not tell which
    // addresses have accounts.
    let (user_id, stored) = user.map_or((None, DUMMY_HASH.clone()), |r| (Some(r.get::<i64, _>(0)), r.get(1)));
    let password = body.password;
    let valid =
        tokio::task::spawn_blocking(move || passwords::verify(&password, &stored)).await.unwrap_or(false);
    let (Some(user_id), true) = (user_id, valid) else {
        return Err(ApiError::Unauthorized);
    };
    let mut system = state.db.lookup().await?;
    let membership = sqlx::query(
        "SELECT m.org_id, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id \
         WHERE m.user_id = $1 AND ($2 = '' OR o.slug = $2) ORDER BY m.org_id LIMIT 1",
    )
    .bind(user_id)
    .bind(body.organization.unwrap_or_default())
    .fetch_optional(&mut *system)
    .await?
    .ok_or(ApiError::NotFound)?;
    system.commit().await?;
    let (org_id, role): (i64, String) = (membership.get(0), membership.get(1));
    let role = Role::parse(&role).ok_or(ApiError::Unauthorized)?;
    // A fresh session at every login: a token planted before login is never promoted, and the
    // session this browser held before (if any) ends here, in the same transaction.
    let token = random_token()?;
    let csrf = random_token()?;
    let now = now_ms();
    let mut system = state.db.system().await?;
    if let Some(previous) = cookie(&headers, SESSION_COOKIE) {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(&previous))
            .execute(&mut *system)
            .await?;
    }
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, org_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(org_id)
    .bind(&csrf)
    .bind(now)
    .execute(&mut *system)
    .await?;
    system.commit().await?;
    let secure = if state.public_url.starts_with("https://") { "; Secure" } else { "" };
    let cookie = format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/{secure}");
    let mut response = Json(SessionInfo { user_id, org_id, role, csrf_token: Some(csrf) }).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?);
    Ok(response)
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
async fn logout(
    State(state): State<AppState>,
    _caller: Caller,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').find_map(|p| p.trim().strip_prefix(&format!("{SESSION_COOKIE}="))))
    {
        let mut system = state.db.system().await?;
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash(token))
            .execute(&mut *system)
            .await?;
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

#[derive(Deserialize, utoipa::ToSchema)]
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
    ),
)]
async fn switch_organization(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SwitchTo>,
) -> Result<Json<SessionInfo>, ApiError> {
    let Some(token) = cookie(&headers, SESSION_COOKIE).filter(|_| caller.via == super::Via::Session) else {
        return Err(ApiError::invalid("organization", "only a console session can switch organizations"));
    };
    let mut system = state.db.system().await?;
    // Not a member there (or no such organization): the same answer, so neither is revealed.
    let membership = sqlx::query(
        "SELECT m.org_id, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id \
         WHERE m.user_id = $1 AND o.slug = $2",
    )
    .bind(caller.user_id)
    .bind(body.organization.trim())
    .fetch_optional(&mut *system)
    .await?
    .ok_or(ApiError::NotFound)?;
    let (org_id, role): (i64, String) = (membership.get(0), membership.get(1));
    let role = Role::parse(&role).ok_or(ApiError::Unauthorized)?;
    sqlx::query("UPDATE sessions SET org_id = $1 WHERE token_hash = $2")
        .bind(org_id)
        .bind(token_hash(&token))
        .execute(&mut *system)
        .await?;
    system.commit().await?;
    Ok(Json(SessionInfo { user_id: caller.user_id, org_id, role, csrf_token: caller.csrf }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewToken {
    name: String,
}

#[derive(Serialize, utoipa::ToSchema)]
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
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    caller.require(&[Role::Owner, Role::Admin])?;
    if body.name.trim().is_empty() || body.name.len() > 100 {
        return Err(ApiError::invalid("name", "1–100 characters"));
    }
    let token = format!("vgt_{}", random_token()?);
    let mut tx = state.db.tenant(caller.org_id).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO api_tokens (org_id, user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(caller.org_id)
    .bind(caller.user_id)
    .bind(body.name.trim())
    .bind(token_hash(&token))
    .bind(now_ms())
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    audit(
        &mut tx,
        caller.org_id,
        &caller.actor(),
        "token.create",
        &format!("token:{id}"),
        serde_json::json!({"name": body.name}),
    )
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
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(&[Role::Owner, Role::Admin])?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let done = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(id)
    .bind(caller.org_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    audit(
        &mut tx,
        caller.org_id,
        &caller.actor(),
        "token.revoke",
        &format!("token:{id}"),
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
