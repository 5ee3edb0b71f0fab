//! The queries of organizations, people, memberships and the audit log. Users are global (one
//! login for several organizations), so their queries take a plain connection; everything of
//! one organization takes its [`Tenant`] transaction.

use super::Role;
use super::views::{AuditEntry, Member, OrgChoice};
use crate::db::Tenant;
use sqlx::AnyConnection;

/// A user's id and password hash, by e-mail (for logging in).
#[derive(sqlx::FromRow)]
pub struct Credentials {
    /// The user.
    pub id: i64,
    /// Their argon2id PHC string.
    pub password_hash: String,
}

/// Whether an organization has this short name.
pub async fn slug_taken(conn: &mut AnyConnection, slug: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM organizations WHERE slug = $1")
        .bind(slug)
        .fetch_optional(conn)
        .await?
        .is_some())
}

/// A new organization's id.
pub async fn insert_organization(
    conn: &mut AnyConnection,
    name: &str,
    slug: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO organizations (name, slug, created_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(name)
        .bind(slug)
        .bind(now)
        .fetch_one(conn)
        .await
}

/// The user with this (lower-case) e-mail.
pub async fn user_by_email(
    conn: &mut AnyConnection,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(conn)
        .await
}

/// A user's name ("" if there is no such user).
pub async fn user_name(conn: &mut AnyConnection, user: i64) -> Result<String, sqlx::Error> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM users WHERE id = $1").bind(user).fetch_optional(conn).await?;
    Ok(name.unwrap_or_default())
}

/// A new user's id; `None` if the e-mail was taken meanwhile.
pub async fn insert_user(
    conn: &mut AnyConnection,
    email: &str,
    name: &str,
    password_hash: &str,
    now: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (email) DO NOTHING RETURNING id",
    )
    .bind(email)
    .bind(name)
    .bind(password_hash)
    .bind(now)
    .fetch_optional(conn)
    .await
}

/// Makes `user` a member in `role`; `false` if they already were.
pub async fn add_membership(tx: &mut Tenant, user: i64, role: Role) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (org_id, user_id) DO NOTHING",
    )
    .bind(tx.org())
    .bind(user)
    .bind(role.as_str())
    .bind(tx.now())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The members and their roles, by e-mail.
pub async fn members(tx: &mut Tenant) -> Result<Vec<Member>, sqlx::Error> {
    sqlx::query_as(
        "SELECT u.id AS user_id, u.email, u.name, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 ORDER BY u.email",
    )
    .bind(tx.org())
    .fetch_all(&mut **tx)
    .await
}

/// The members whose role is one of `roles` (whom a message for those roles goes to), by
/// e-mail.
pub async fn members_in(tx: &mut Tenant, roles: &[Role]) -> Result<Vec<Member>, sqlx::Error> {
    Ok(members(tx).await?.into_iter().filter(|m| roles.contains(&m.role)).collect())
}

/// A member's role, if they are one.
pub async fn role_of(tx: &mut Tenant, user: i64) -> Result<Option<Role>, sqlx::Error> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2")
            .bind(tx.org())
            .bind(user)
            .fetch_optional(&mut **tx)
            .await?;
    role.map(|r| Role::try_from(r).map_err(|e| sqlx::Error::Decode(e.into()))).transpose()
}

/// The owners' ids. Locks their rows on PostgreSQL, so two concurrent demotions cannot each
/// see the other as the remaining owner (SQLite serialises writers already).
pub async fn owners_for_update(tx: &mut Tenant) -> Result<Vec<i64>, sqlx::Error> {
    let sql = match tx.backend() {
        crate::db::Backend::Postgres => {
            "SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner' FOR UPDATE"
        }
        crate::db::Backend::Sqlite => "SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner'",
    };
    sqlx::query_scalar(sql).bind(tx.org()).fetch_all(&mut **tx).await
}

/// Changes a member's role.
pub async fn set_role(tx: &mut Tenant, user: i64, role: Role) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3")
        .bind(role.as_str())
        .bind(tx.org())
        .bind(user)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Removes a member: their membership and sessions go, their API tokens are revoked (not
/// deleted: the audit log keeps naming them).
pub async fn remove_member(tx: &mut Tenant, user: i64) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM memberships WHERE org_id = $1 AND user_id = $2",
        "DELETE FROM sessions WHERE org_id = $1 AND user_id = $2",
    ] {
        sqlx::query(sql).bind(tx.org()).bind(user).execute(&mut **tx).await?;
    }
    sqlx::query(
        "UPDATE api_tokens SET revoked_at = $1 WHERE org_id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(tx.now())
    .bind(tx.org())
    .bind(user)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The organization's name and the person's e-mail (the console's header).
pub async fn names(tx: &mut Tenant, user: i64) -> Result<(String, String), sqlx::Error> {
    sqlx::query_as("SELECT o.name, u.email FROM organizations o, users u WHERE o.id = $1 AND u.id = $2")
        .bind(tx.org())
        .bind(user)
        .fetch_one(&mut **tx)
        .await
}

/// Every organization `user` belongs to (a lookup across organizations), by name.
pub async fn organizations_of(conn: &mut AnyConnection, user: i64) -> Result<Vec<OrgChoice>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, o.slug, o.name FROM memberships m JOIN organizations o ON o.id = m.org_id \
         WHERE m.user_id = $1 ORDER BY o.name",
    )
    .bind(user)
    .fetch_all(conn)
    .await
}

/// `user`'s membership in the organization named `slug` (or their first one, for an empty
/// slug): the organization and the role. A lookup across organizations.
pub async fn membership_by_slug(
    conn: &mut AnyConnection,
    user: i64,
    slug: &str,
) -> Result<Option<(i64, Role)>, sqlx::Error> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT m.org_id, m.role FROM memberships m JOIN organizations o ON o.id = m.org_id \
         WHERE m.user_id = $1 AND ($2 = '' OR o.slug = $2) ORDER BY m.org_id LIMIT 1",
    )
    .bind(user)
    .bind(slug)
    .fetch_optional(conn)
    .await?;
    row.map(|(org, role)| Ok((org, Role::try_from(role).map_err(|e| sqlx::Error::Decode(e.into()))?)))
        .transpose()
}

/// The audit log, newest first: at most `limit` entries older than id `before`.
pub async fn audit_log(tx: &mut Tenant, before: i64, limit: i64) -> Result<Vec<AuditEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.id, a.at, a.actor, u.email AS actor_email, a.action, a.object, a.detail FROM audit_log a \
         LEFT JOIN users u ON a.actor = 'user:' || CAST(u.id AS TEXT) \
         WHERE a.org_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3",
    )
    .bind(tx.org())
    .bind(before)
    .bind(limit)
    .fetch_all(&mut **tx)
    .await
}

/// The organization named `slug` and its first owner (a lookup across organizations).
pub async fn first_owner_by_slug(
    conn: &mut AnyConnection,
    slug: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT o.id, m.user_id FROM organizations o JOIN memberships m ON m.org_id = o.id \
         WHERE o.slug = $1 AND m.role = 'owner' ORDER BY m.user_id LIMIT 1",
    )
    .bind(slug)
    .fetch_optional(conn)
    .await
}
