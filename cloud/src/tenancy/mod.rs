//! Organizations, people, roles — and the audit log that records who changed what.
//!
//! Every row of tenant data belongs to one organization; users are global (a person may work
//! for several organizations) and reach an organization only through a membership with a role.

pub mod passwords;
pub mod store;
mod views;

pub use views::{AuditEntry, Member, OrgChoice};

use crate::checks;
use crate::db::Db;
use crate::error::ApiError;
use serde::{Deserialize, Serialize};

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
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Every role, most powerful first.
    pub const ALL: [Self; 5] = [Self::Owner, Self::Admin, Self::BoxOffice, Self::GateStaff, Self::Viewer];

    /// The role as people read it ("Box office").
    pub fn label(self) -> &'static str {
        match self {
            Self::Owner => "Owner",
            Self::Admin => "Admin",
            Self::BoxOffice => "Box office",
            Self::GateStaff => "Gate staff",
            Self::Viewer => "Viewer",
        }
    }
}

/// Decoding a stored role (`#[sqlx(try_from = "String")]` in typed rows).
impl TryFrom<String> for Role {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| format!("unknown role {s:?}"))
    }
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
    checks::text("name", &new.name, 200)?;
    checks::email("owner_email", new.owner_email.trim())?;
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
    let hash = passwords::hash(&new.owner_password)?;
    let mut system = db.system().await?;
    let now = system.now();
    if store::slug_taken(&mut system, &new.slug).await? {
        return Err(ApiError::Conflict {
            code: "slug_taken",
            message: format!("slug {:?} is taken", new.slug),
        });
    }
    let org_id = store::insert_organization(&mut system, new.name.trim(), &new.slug, now).await?;
    let email = new.owner_email.trim().to_lowercase();
    let user_id = match store::user_by_email(&mut system, &email).await? {
        Some(user) => user.id,
        None => store::insert_user(&mut system, &email, new.owner_name.trim(), &hash, now)
            .await?
            .ok_or_else(|| anyhow::anyhow!("user {email} appeared meanwhile"))?,
    };
    let mut tx = system.into_tenant(org_id).await?;
    store::add_membership(&mut tx, user_id, Role::Owner).await?;
    tx.audit(
        "system",
        "organization.create",
        &format!("organization:{org_id}"),
        serde_json::json!({"owner": user_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedOrganization { org_id, user_id })
}
