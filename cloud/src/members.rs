//! `/api/v1/members…` and `/api/v1/audit`: who belongs to the organization, in which role —
//! and the audit log, for owners and admins to read.
//!
//! Owners and admins manage members; only an owner may make or unmake owners, and the last
//! owner can be neither demoted nor removed (an organization nobody can administer is lost).
//! A role change takes effect on the member's next request: every request reads the role
//! from `memberships`. Removing a member ends their sessions and API tokens for this
//! organization at once.
//!
//! A new member is created with an initial password the admin hands over; an existing user
//! (another organization's member) keeps their own. Either is told by e-mail, in the
//! organization's wording and language ([`Kind::AccountInvitation`],
//! [`Kind::MemberInvitation`]): the password is never in it.

use crate::auth::Caller;
use crate::checks;
use crate::db::Db;
use crate::error::ApiError;
use crate::json::ApiJson;
use crate::lang::Lang;
use crate::messages::context::{MemberFacts, Named, Org};
use crate::messages::{self, Context, Kind};
use crate::path::ApiPath;
use crate::query::ApiQuery;
use crate::state::AppState;
use crate::tenancy::{AuditEntry, Member, Role, passwords, store};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, add))
        .routes(routes!(change_role, remove))
        .routes(routes!(audit_log))
}

/// Who manages members and reads the audit log.
pub const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];

/// The organization's members.
#[derive(Serialize, ToSchema)]
pub struct Members {
    /// By e-mail.
    pub members: Vec<Member>,
}

#[utoipa::path(
    get,
    path = "/api/v1/members",
    tag = "members",
    responses(
        (status = 200, description = "The organization's members and roles", body = Members),
    ),
)]
async fn list(State(db): State<Db>, caller: Caller) -> Result<Json<Members>, ApiError> {
    let mut tx = db.tenant(caller.org_id).await?;
    let members = store::members(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(Members { members }))
}

/// A person to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMember {
    #[schema(
        max_length = 254,
        pattern = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    email: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
    role: Role,
    /// Required for someone without an account; must be absent for an existing user.
    #[serde(default)]
    #[schema(min_length = 10)]
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
        (status = 201, description = "Added, and told by e-mail (the password is not in it). Owners and admins; only owners make owners.", body = Member),
        (status = 409, description = "Already a member (`already_member`), or the account appeared meanwhile (`email_taken`)", body = crate::error::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn add(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewMember>,
) -> Result<(StatusCode, Json<Member>), ApiError> {
    let db = &state.db;
    may_assign(&caller, body.role)?;
    let email = body.email.trim().to_lowercase();
    checks::email("email", &email)?;
    checks::text("name", &body.name, 200)?;
    // Users are global (one login for several organizations): looked up outside the tenant.
    let mut conn = db.pool().acquire().await?;
    let existing = store::user_by_email(&mut conn, &email).await?;
    let new_account = existing.is_none();
    let user_id = match (existing, &body.initial_password) {
        (Some(_), Some(_)) => {
            return Err(ApiError::invalid(
                "initial_password",
                "this person already has an account: leave the password out, they keep their own",
            ));
        }
        (Some(user), None) => user.id,
        (None, None) => return Err(ApiError::invalid("initial_password", "required for a new account")),
        (None, Some(password)) => {
            if password.chars().count() < passwords::MIN_PASSWORD_LEN {
                return Err(ApiError::invalid(
                    "initial_password",
                    format!("at least {} characters", passwords::MIN_PASSWORD_LEN),
                ));
            }
            let hash = passwords::hash(password)?;
            store::insert_user(&mut conn, &email, body.name.trim(), &hash, db.clock().now_ms())
                .await?
                .ok_or_else(|| ApiError::Conflict {
                    code: "email_taken",
                    message: "an account with this e-mail was created meanwhile; add it without a password"
                        .into(),
                })?
        }
    };
    let inviter = store::user_name(&mut conn, caller.user_id).await?;
    drop(conn);
    let mut tx = db.tenant(caller.org_id).await?;
    if !store::add_membership(&mut tx, user_id, body.role).await? {
        return Err(ApiError::Conflict {
            code: "already_member",
            message: format!("{email} is already a member"),
        });
    }
    tx.audit(&caller.actor(), "member.add", &format!("user:{user_id}"), json!({"role": body.role})).await?;
    let name = body.name.trim().to_owned();
    let member = Member { user_id, email, name, role: body.role };
    invite(&mut tx, &state.public_url, &member, &inviter, new_account).await?;
    tx.commit().await?;
    crate::mail::kick(db);
    Ok((StatusCode::CREATED, Json(member)))
}

/// Queues the e-mail that tells `member` they were added (by `inviter`), with a new account
/// or to their existing one.
async fn invite(
    tx: &mut crate::db::Tenant,
    public_url: &crate::state::PublicUrl,
    member: &Member,
    inviter: &str,
    new_account: bool,
) -> anyhow::Result<()> {
    let lang = messages::store::org_language(tx).await?;
    let context = Context::Invitation {
        org: Org { name: messages::store::org_name(tx).await? },
        member: MemberFacts {
            name: member.name.clone(),
            email: member.email.clone(),
            role: role_words(member.role, lang),
        },
        inviter: Named { name: inviter.to_owned() },
        sign_in_url: format!("{}/login", public_url.base()),
    };
    let kind = if new_account { Kind::AccountInvitation } else { Kind::MemberInvitation };
    let letter = messages::letter(tx, kind, lang, None, &context).await?;
    crate::mail::enqueue_letter(tx, &member.email, &letter, None, None).await?;
    Ok(())
}

/// A role as a member reads it, in `lang`.
pub fn role_words(role: Role, lang: Lang) -> String {
    let words = match (lang, role) {
        (Lang::En, r) => r.label(),
        (Lang::De, Role::Owner) => "Inhaber",
        (Lang::De, Role::Admin) => "Admin",
        (Lang::De, Role::BoxOffice) => "Kasse",
        (Lang::De, Role::GateStaff) => "Einlass",
        (Lang::De, Role::Viewer) => "Lesezugriff",
        (Lang::Nl, Role::Owner) => "eigenaar",
        (Lang::Nl, Role::Admin) => "beheerder",
        (Lang::Nl, Role::BoxOffice) => "kassa",
        (Lang::Nl, Role::GateStaff) => "toegangscontrole",
        (Lang::Nl, Role::Viewer) => "alleen lezen",
    };
    if lang == Lang::En { words.to_lowercase() } else { words.to_owned() }
}

/// The member's current role, or 404.
async fn role_of(tx: &mut crate::db::Tenant, user_id: i64) -> Result<Role, ApiError> {
    store::role_of(tx, user_id).await?.ok_or(ApiError::NotFound)
}

/// Refuses to leave the organization without an owner.
async fn keep_an_owner(tx: &mut crate::db::Tenant, leaving: i64) -> Result<(), ApiError> {
    if store::owners_for_update(tx).await?.iter().all(|&owner| owner == leaving) {
        return Err(ApiError::Conflict {
            code: "last_owner",
            message: "the organization needs an owner: make someone else owner first".into(),
        });
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangeRole {
    role: Role,
}

/// A member's new role.
#[derive(Serialize, ToSchema)]
struct RoleChanged {
    user_id: i64,
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
        (status = 200, description = "The new role (applies to the member's next request)", body = RoleChanged),
        (status = 409, description = "The last owner cannot be demoted (`last_owner`)", body = crate::error::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn change_role(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(user_id): ApiPath<i64>,
    ApiJson(body): ApiJson<ChangeRole>,
) -> Result<Json<RoleChanged>, ApiError> {
    may_assign(&caller, body.role)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let current = role_of(&mut tx, user_id).await?;
    may_assign(&caller, current)?;
    if current == Role::Owner && body.role != Role::Owner {
        keep_an_owner(&mut tx, user_id).await?;
    }
    store::set_role(&mut tx, user_id, body.role).await?;
    tx.audit(
        &caller.actor(),
        "member.role",
        &format!("user:{user_id}"),
        json!({"from": current, "to": body.role}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(RoleChanged { user_id, role: body.role }))
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
        (status = 409, description = "The last owner cannot be removed (`last_owner`)", body = crate::error::ProblemDetails, content_type = "application/problem+json"),
    ),
)]
async fn remove(
    State(db): State<Db>,
    caller: Caller,
    ApiPath(user_id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    caller.require(MANAGERS)?;
    let mut tx = db.tenant(caller.org_id).await?;
    let current = role_of(&mut tx, user_id).await?;
    may_assign(&caller, current)?;
    if current == Role::Owner {
        keep_an_owner(&mut tx, user_id).await?;
    }
    store::remove_member(&mut tx, user_id).await?;
    tx.audit(&caller.actor(), "member.remove", &format!("user:{user_id}"), json!({})).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A page of the audit log.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditPage {
    /// Entries older than this id (for the next page).
    pub before: Option<i64>,
    /// At most this many (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// Audit entries, newest first.
#[derive(Serialize, ToSchema)]
pub struct AuditEntries {
    /// Newest first.
    pub entries: Vec<AuditEntry>,
}

/// The audit log, newest first: who changed what, when. Owners and admins.
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "members",
    params(AuditPage),
    responses(
        (status = 200, description = "Entries, newest first", body = AuditEntries),
    ),
)]
async fn audit_log(
    State(db): State<Db>,
    caller: Caller,
    ApiQuery(page): ApiQuery<AuditPage>,
) -> Result<Json<AuditEntries>, ApiError> {
    caller.require(MANAGERS)?;
    let limit = page.limit.unwrap_or(100);
    checks::range("limit", limit, 1, 500)?;
    Ok(Json(AuditEntries { entries: read_audit_log(&db, caller.org_id, page.before, limit).await? }))
}

/// A page of the audit log (the API and the console's page).
pub async fn read_audit_log(
    db: &Db,
    org: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEntry>, ApiError> {
    let mut tx = db.tenant(org).await?;
    let entries = store::audit_log(&mut tx, before.unwrap_or(i64::MAX), limit).await?;
    tx.commit().await?;
    Ok(entries)
}
