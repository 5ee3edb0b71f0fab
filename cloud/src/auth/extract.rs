//! The [`Caller`] extractor: a valid session or API token, or 401.

use super::{
    ABSOLUTE_TIMEOUT_MS, CSRF_HEADER, IDLE_TIMEOUT_MS, SESSION_COOKIE, constant_time_eq, store, token_hash,
};
use crate::error::ApiError;
use crate::state::AppState;
use crate::tenancy::Role;
use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, Method, header, request::Parts};

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
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        if let Some(token) = bearer {
            let mut lookup = state.db.lookup().await?;
            let holder =
                store::token(&mut lookup, &token_hash(&token)).await?.ok_or(ApiError::Unauthorized)?;
            lookup.commit().await?;
            // Each token's own quota, counted by every instance alike.
            state.limits.check(&format!("token:{}", holder.id), state.limits.token_quota).await?;
            return Ok(Self {
                user_id: holder.user_id,
                org_id: holder.org_id,
                role: holder.role,
                via: Via::Token,
                csrf: None,
            });
        }
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(ApiError::Unauthorized)?;
        let hash = token_hash(&token);
        let mut lookup = state.db.lookup().await?;
        let now = lookup.now();
        let session = store::session(&mut lookup, &hash).await?.ok_or(ApiError::Unauthorized)?;
        lookup.commit().await?;
        if now - session.last_seen_at > IDLE_TIMEOUT_MS || now - session.created_at > ABSOLUTE_TIMEOUT_MS {
            let mut system = state.db.system().await?;
            store::end_session(&mut system, &hash).await?;
            system.commit().await?;
            return Err(ApiError::Unauthorized);
        }
        if parts.method != Method::GET && parts.method != Method::HEAD {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
            if !constant_time_eq(sent, &session.csrf_token) {
                return Err(ApiError::Forbidden);
            }
        }
        // Touch at most once a minute: the idle timeout needs no finer grain.
        if now - session.last_seen_at > 60_000 {
            let mut system = state.db.system().await?;
            store::touch_session(&mut system, &hash, now).await?;
            system.commit().await?;
        }
        Ok(Self {
            user_id: session.user_id,
            org_id: session.org_id,
            role: session.role,
            via: Via::Session,
            csrf: Some(session.csrf_token),
        })
    }
}
