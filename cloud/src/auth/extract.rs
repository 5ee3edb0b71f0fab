//! The [`Caller`] extractor: a valid session or API token, or 401.

use super::{
    ABSOLUTE_TIMEOUT_MS, CSRF_HEADER, IDLE_TIMEOUT_MS, SESSION_COOKIE, constant_time_eq, token_hash,
};
use crate::error::ApiError;
use crate::server::AppState;
use crate::tenancy::{Role, now_ms};
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, Method, header, request::Parts};
use sqlx::Row;

/// How the caller authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A console session cookie.
    Session,
    /// An API token.
    Token,
}

/// An authenticated caller, acting for one organization.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The person.
    pub user_id: i64,
    /// The organization they act for.
    pub org_id: i64,
    /// Their role there.
    pub role: Role,
    /// Session or token.
    pub via: Via,
    /// The session's CSRF token (sessions only), for forms.
    pub csrf: Option<String>,
}

impl Caller {
    /// Refuses unless the caller's role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) { Ok(()) } else { Err(ApiError::Forbidden) }
    }

    /// "user:12", for the audit log.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user_id)
    }
}

/// The value of cookie `name` in a request's headers.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = now_ms();
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        if let Some(token) = bearer {
            let mut system = state.db.lookup().await?;
            let row = sqlx::query(
                "SELECT t.user_id, t.org_id, m.role FROM api_tokens t \
                 JOIN memberships m ON m.org_id = t.org_id AND m.user_id = t.user_id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
            )
            .bind(token_hash(&token))
            .fetch_optional(&mut *system)
            .await?
            .ok_or(ApiError::Unauthorized)?;
            system.commit().await?;
            let role = Role::parse(&row.get::<String, _>(2)).ok_or(ApiError::Unauthorized)?;
            return Ok(Self { user_id: row.get(0), org_id: row.get(1), role, via: Via::Token, csrf: None });
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
        let hash = token_hash(&token);
        let mut system = state.db.lookup().await?;
        let row = sqlx::query(
            "SELECT s.user_id, s.org_id, m.role, s.csrf_token, s.created_at, s.last_seen_at FROM sessions s \
             JOIN memberships m ON m.org_id = s.org_id AND m.user_id = s.user_id WHERE s.token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(&mut *system)
        .await?
        .ok_or(ApiError::Unauthorized)?;
        system.commit().await?;
        let (created, seen): (i64, i64) = (row.get(4), row.get(5));
        if now - seen > IDLE_TIMEOUT_MS || now - created > ABSOLUTE_TIMEOUT_MS {
            let mut system = state.db.system().await?;
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(&hash)
                .execute(&mut *system)
                .await?;
            system.commit().await?;
            return Err(ApiError::Unauthorized);
        }
        let csrf: String = row.get(3);
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !constant_time_eq(sent, &csrf) {
                return Err(ApiError::Forbidden);
            }
        }
        // Touch at most once a minute: the idle timeout needs no finer grain.
        if now - seen > 60_000 {
            let mut system = state.db.system().await?;
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
                .bind(now)
                .bind(&hash)
                .execute(&mut *system)
                .await?;
            system.commit().await?;
        }
        let role = Role::parse(&row.get::<String, _>(2)).ok_or(ApiError::Unauthorized)?;
        Ok(Self { user_id: row.get(0), org_id: row.get(1), role, via: Via::Session, csrf: Some(csrf) })
    }
}
