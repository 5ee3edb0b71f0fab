//! Organizations, people, roles — and the audit log that records who changed what.
//!
//! Every row of tenant data belongs to one organization; users are global (a person may work
//! for several organizations) and reach an organization only through a membership with a role.

mod members;
pub mod passwords;

pub use members::routes;

use crate::db::Db;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use sqlx::{Any, Row, Transaction};

/// What a member may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including members and deleting the organization.
    Owner,
    /// Everything but ownership.
    Admin,
    /// Sells at the door; sees orders.
    BoxOffice,
    /// Scans; sees check-ins.
    GateStaff,
    /// Reads only.
    Viewer,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::BoxOffice => "box_office",
            Self::GateStaff => "gate_staff",
            Self::Viewer => "viewer",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Owner, Self::Admin, Self::BoxOffice, Self::GateStaff, Self::Viewer]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// The current time in Unix milliseconds (the hub stores times as such).
pub fn now_ms() -> i64 {
    sync_core::Timestamp::now().0
}

/// A new organization and its first owner.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrganization {
    /// Display name.
    pub name: String,
    /// URL-safe short name (a–z, 0–9, '-'; 2–40 characters).
    pub slug: String,
    /// The owner's e-mail (login).
    pub owner_email: String,
    /// The owner's name.
    pub owner_name: String,
    /// The owner's password (at least [`passwords::MIN_PASSWORD_LEN`] characters).
    pub owner_password: String,
}

/// Ids of what [`create_organization`] made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CreatedOrganization {
    /// The organization.
    pub org_id: i64,
    /// Its owner.
    pub user_id: i64,
}

fn check(new: &NewOrganization) -> Result<(), ApiError> {
    let slug_ok = (2..=40).contains(&new.slug.len())
        && new.slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !slug_ok {
        return Err(ApiError::invalid("slug", "2–40 characters of a–z, 0–9 and '-'"));
    }
    if new.name.trim().is_empty() || new.name.len() > 200 {
        return Err(ApiError::invalid("name", "1–200 characters"));
    }
    if !new.owner_email.contains('@') || new.owner_email.len() > 254 {
        return Err(ApiError::invalid("owner_email", "an e-mail address"));
    }
    if new.owner_password.chars().count() < passwords::MIN_PASSWORD_LEN {
        return Err(ApiError::invalid(
            "owner_password",
            format!("at least {} characters", passwords::MIN_PASSWORD_LEN),
        ));
    }
    Ok(())
}

/// Creates an organization with its first owner (an existing user with that e-mail becomes the
/// owner; the password is then ignored). Recorded in the audit log.
pub async fn create_organization(db: &Db, new: &NewOrganization) -> Result<CreatedOrganization, ApiError> {
    check(new)?;
    let now = now_ms();
    let hash = passwords::hash(&new.owner_password)?;
    let mut tx = db.system().await?;
    let taken = sqlx::query("SELECT 1 FROM organizations WHERE slug = $1")
        .bind(&new.slug)
        .fetch_optional(&mut *tx)
        .await?;
    if taken.is_some() {
        return Err(ApiError::Conflict {
            code: "slug_taken",
            message: format!("slug {:?} is taken", new.slug),
        });
    }
    let org_id: i64 =
        sqlx::query("INSERT INTO organizations (name, slug, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(new.name.trim())
            .bind(&new.slug)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?
            .get(0);
    let email = new.owner_email.trim().to_lowercase();
    let existing =
        sqlx::query("SELECT id FROM users WHERE email = $1").bind(&email).fetch_optional(&mut *tx).await?;
    let user_id: i64 = match existing {
        Some(row) => row.get(0),
        None => sqlx::query(
            "INSERT INTO users (email, name, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&email)
        .bind(new.owner_name.trim())
        .bind(&hash)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .get(0),
    };
    sqlx::query("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
        .bind(org_id)
        .bind(user_id)
        .bind(Role::Owner.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    audit(
        &mut tx,
        org_id,
        "system",
        "organization.create",
        &format!("organization:{org_id}"),
        serde_json::json!({"owner": user_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedOrganization { org_id, user_id })
}

/// Records who changed what, in the transaction that makes the change: an audit line exists
/// exactly when the change does.
pub async fn audit(
    tx: &mut Transaction<'static, Any>,
    org: i64,
    actor: &str,
    action: &str,
    object: &str,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    sqlx::query(
        "INSERT INTO audit_log (org_id, actor, action, object, detail, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org)
    .bind(actor)
    .bind(action)
    .bind(object)
    .bind(detail.to_string())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
