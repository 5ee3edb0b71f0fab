//! `/api/v1/members…`: who belongs to the organization, and in which role.
//!
//! Also the audit log, for owners and admins to read.
//!
//! Owners and admins manage members; only an owner may make or unmake owners, and the last
//! owner can be neither demoted nor removed (an organization nobody can administer is lost).
//! A role change takes effect on the member's next request: every request reads the role
//! from `memberships`. Removing a member ends their sessions and API tokens for this
//! organization at once.
//!
//! There is no e-mail delivery yet, so a new member is created with an initial password the
//! admin hands over; an existing user (another organization's member) keeps their own.

use super::{Role, audit, now_ms, passwords};
use crate::auth::Caller;
use crate::db::Backend;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::path::ApiPath;
use crate::server::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{Any, Row, Transaction};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(change_role, remove))
        .routes(routes!(audit_log))
}

const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];

#[derive(Serialize, utoipa::ToSchema)]
struct Member {
    user_id: i64,
    email: String,
    name: String,
    role: Role,
}

#[utoipa::path(
    get,
    path = "/api/v1/members",
    tag = "members",
    responses(
        (status = 200, description = "The organization's members and roles", body = serde_json::Value),
    ),
)]
async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<serde_json::Value>, ApiError> {
    let mut tx = state.db.tenant(caller.org_id).await?;
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.name, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 ORDER BY u.email",
    )
    .bind(caller.org_id)
    .fetch_all(&mut *tx)
    .await?;
    let members: Vec<Member> = rows
        .iter()
        .filter_map(|r| {
            Some(Member {
                user_id: r.get(0),
                email: r.get(1),
                name: r.get(2),
                role: Role::parse(&r.get::<String, _>(3))?,
            })
        })
        .collect();
    Ok(Json(json!({ "members": members })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMember {
    email: String,
    name: String,
    role: Role,
    /// Required for someone without an account; must be absent for an existing user.
    #[serde(default)]
    initial_password: Option<String>,
}

/// Only owners hand out or take away ownership.
fn may_assign(caller: &Caller, role: Role) -> Result<(), ApiError> {
    caller.require(MANAGERS)?;
    if role == Role::Owner && caller.role != Role::Owner {
        return Err(ApiError::Forbidden);
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/api/v1/members",
    tag = "members",
    request_body = NewMember,
    responses(
        (status = 201, description = "Added. Owners and admins; only owners make owners.", body = Member),
    ),
)]
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewMember>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    may_assign(&caller, body.role)?;
    let email = body.email.trim().to_lowercase();
    if !email.contains('@') || email.len() > 254 {
        return Err(ApiError::invalid("email", "an e-mail address"));
    }
    if body.name.trim().is_empty() || body.name.len() > 200 {
        return Err(ApiError::invalid("name", "1–200 characters"));
    }
    // Users are global (one login for several organizations): looked up outside the tenant.
    let existing = sqlx::query("SELECT id FROM users WHERE email = $1")
        .bind(&email)
        .fetch_optional(state.db.pool())
        .await?;
    let user_id: i64 = match (existing, &body.initial_password) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "initial_password",
                "this person already has an account: leave the password out, they keep their own",
            ));
        }
        (Some(row), None) => row.get(0),
        (None, None) => {
            return Err(ApiError::invalid("initial_password", "required for a new account"));
        }
        (None, Some(password)) => {
            if password.chars().count() < passwords::MIN_PASSWORD_LEN {
                return Err(ApiError::invalid(
                    "initial_password",
                    format!("at least {} characters", passwords::MIN_PASSWORD_LEN),
                ));
            }
            let hash = passwords::hash(password)?;
            sqlx::query(
                "INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (email) DO NOTHING RETURNING id",
            )
            .bind(&email)
            .bind(body.name.trim())
            .bind(hash)
            .bind(now_ms())
            .fetch_optional(state.db.pool())
            .await?
            .ok_or_else(|| ApiError::Conflict {
                code: "email_taken",
                message: "an account with this e-mail was created meanwhile; add it without a password"
                    .into(),
            })?
            .get(0)
        }
    };
    let mut tx = state.db.tenant(caller.org_id).await?;
    let added = sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, user_id) DO NOTHING",
    )
    .bind(caller.org_id)
    .bind(user_id)
    .bind(body.role.as_str())
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    if added.rows_affected() == 0 {
        return Err(ApiError::Conflict {
            code: "already_member",
            message: format!("{email} is already a member"),
        });
    }
    audit(
        &mut tx,
        caller.org_id,
        &caller.actor(),
        "member.add",
        &format!("user:{user_id}"),
        json!({"role": body.role}),
    )
    .await?;
    tx.commit().await?;
    let name = body.name.trim().to_owned();
    Ok((StatusCode::CREATED, Json(Member { user_id, email, name, role: body.role })))
}

/// The member's current role, or 404.
async fn role_of(tx: &mut Transaction<'static, Any>, org: i64, user_id: i64) -> Result<Role, ApiError> {
    let row = sqlx::query("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org)
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or(ApiError::NotFound)?;
    Role::parse(&row.get::<String, _>(0)).ok_or_else(|| anyhow::anyhow!("unknown role in memberships").into())
}

/// Refuses to leave the organization without an owner. Locks the owners' rows on PostgreSQL
/// so two concurrent demotions cannot each see the other as the remaining owner.
async fn keep_an_owner(
    state: &AppState,
    tx: &mut Transaction<'static, Any>,
    org: i64,
    leaving: i64,
) -> Result<(), ApiError> {
    // SQLite has one writer at a time: the transaction is already serialised there.
    let lock = if state.db.backend() == Backend::Postgres { " FOR UPDATE" } else { "" };
    let owners = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner'{lock}"
    )))
    .bind(org)
    .fetch_all(&mut **tx)
    .await?;
    if owners.iter().all(|r| r.get::<i64, _>(0) == leaving) {
        return Err(ApiError::Conflict {
            code: "last_owner",
            message: "the organization needs an owner: make someone else owner first".into(),
        });
    }
    Ok(())
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangeRole {
    role: Role,
}

#[utoipa::path(
    patch,
    path = "/api/v1/members/{user_id}",
    tag = "members",
    request_body = ChangeRole,
    params(
        ("user_id" = i64, Path, description = "The member"),
    ),
    responses(
        (status = 200, description = "The new role (applies to the member's next request)", body = serde_json::Value),
    ),
)]
async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ChangeRole>,
) -> Result<Json<serde_json::Value>, ApiError> {
    may_assign(&caller, body.role)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let current = role_of(&mut tx, caller.org_id, user_id).await?;
    may_assign(&caller, current)?;
    if current == Role::Owner && body.role != Role::Owner {
        keep_an_owner(&state, &mut tx, caller.org_id, user_id).await?;
    }
    sqlx::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3")
        .bind(body.role.as_str())
        .bind(caller.org_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    audit(
        &mut tx,
        caller.org_id,
        &caller.actor(),
        "member.role",
        &format!("user:{user_id}"),
        json!({"from": current, "to": body.role}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(json!({"user_id": user_id, "role": body.role})))
}

#[utoipa::path(
    delete,
    path = "/api/v1/members/{user_id}",
    tag = "members",
    params(
        ("user_id" = i64, Path, description = "The member"),
    ),
    responses(
        (status = 204, description = "Removed; their sessions end and their tokens are revoked"),
    ),
)]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(user_id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = state.db.tenant(caller.org_id).await?;
    let current = role_of(&mut tx, caller.org_id, user_id).await?;
    may_assign(&caller, current)?;
    if current == Role::Owner {
        keep_an_owner(&state, &mut tx, caller.org_id, user_id).await?;
    }
    for sql in [
        "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
        "DELETE FROM sessions WHERE org_id = $1 AND user_id = $2",
    ] {
        sqlx::query(sql).bind(caller.org_id).bind(user_id).execute(&mut *tx).await?;
    }
    // Tokens are revoked, not deleted: the audit log keeps naming them.
    sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(caller.org_id)
    .bind(user_id)
    .execute(&mut *tx)
    .await?;
    audit(&mut tx, caller.org_id, &caller.actor(), "member.remove", &format!("user:{user_id}"), json!({}))
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditPage {
    /// Entries older than this id (for the next page).
    before: Option<i64>,
    /// At most this many (1–500, default 100).
    limit: Option<i64>,
}

/// The audit log, newest first: who changed what, when. Owners and admins.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "members",
    params(
        ("before" = Option<i64>, Query, description = "Entries older than this id (the next page)"),
        ("limit" = Option<i64>, Query, description = "At most this many, 1–500 (default 100)"),
    ),
    responses(
        (status = 200, description = "Entries, newest first", body = serde_json::Value),
    ),
)]
async fn audit_log(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Query(page): axum::extract::Query<AuditPage>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(MANAGERS)?;
    let limit = page.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "1 to 500"));
    }
    let mut tx = state.db.tenant(caller.org_id).await?;
    let rows = sqlx::query(
        "SELECT id, actor, action, object, detail, at FROM audit_log WHERE org_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(caller.org_id)
    .bind(page.before.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let entries: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let detail: String = r.get(4);
            json!({"id": r.get::<i64,_>(0), "actor": r.get::<String,_>(1), "action": r.get::<String,_>(2),
                   "object": r.get::<String,_>(3), "at": r.get::<i64,_>(5),
                   "detail": serde_json::from_str::<serde_json::Value>(&detail).unwrap_or(serde_json::Value::String(detail))})
        })
        .collect();
    Ok(Json(json!({ "entries": entries })))
}
