//! `/members` (who belongs to the organization, in which role) and `/audit` (who changed
//! what): owners and admins.

use super::{Layout, PageQuery, PageResult, Staff, local_time, render};
use crate::members::MANAGERS;
use crate::state::AppState;
use crate::tenancy::Role;
use askama::Template;
use axum::extract::State;
use serde::Deserialize;
/// Audit entries per page.
const PAGE: i64 = 100;

struct MemberRow {
    user_id: i64,
    email: String,
    name: String,
    role: &'static str,
    role_label: &'static str,
    is_me: bool,
}

/// The roles a form offers, as (value, label).
const ROLES: [(&str, &str); 5] = [
    ("owner", "Owner"),
    ("admin", "Admin"),
    ("box_office", "Box office"),
    ("gate_staff", "Gate staff"),
    ("viewer", "Viewer"),
];

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    layout: Layout,
    members: Vec<MemberRow>,
    roles: Vec<(&'static str, &'static str)>,
    me_owner: bool,
    /// The organization as buyers see it (its shop settings).
    organization: crate::settings::Organization,
    /// Every language, for the organization's.
    languages: [crate::lang::Lang; 3],
}

/// `GET /members`.
pub(super) async fn page(State(state): State<AppState>, staff: Staff) -> PageResult {
    staff.0.require(MANAGERS)?;
    let layout = staff.layout(&state, "members").await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let members = crate::tenancy::store::members(&mut tx)
        .await?
        .into_iter()
        .map(|m| MemberRow {
            is_me: m.user_id == staff.0.user_id,
            user_id: m.user_id,
            email: m.email,
            name: m.name,
            role: m.role.as_str(),
            role_label: m.role.label(),
        })
        .collect();
    tx.commit().await?;
    // Only owners make owners: admins are not offered it.
    let roles = ROLES.iter().copied().filter(|(r, _)| *r != "owner" || staff.0.role == Role::Owner).collect();
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let organization = crate::settings::organization(&mut tx).await?;
    tx.commit().await?;
    Ok(render(&MembersPage {
        layout,
        members,
        roles,
        me_owner: staff.0.role == Role::Owner,
        organization,
        languages: crate::lang::Lang::ALL,
    }))
}

struct AuditRow {
    at: String,
    actor: String,
    action: String,
    object: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<AuditRow>,
    older: Option<i64>,
}

#[derive(Deserialize)]
pub(super) struct Before {
    before: Option<i64>,
}

/// `GET /audit?before=`: newest first, a page at a time.
pub(super) async fn audit(
    State(state): State<AppState>,
    staff: Staff,
    PageQuery(page): PageQuery<Before>,
) -> PageResult {
    staff.0.require(MANAGERS)?;
    let layout = staff.layout(&state, "audit").await?;
    let rows = crate::members::read_audit_log(&state.db, staff.0.org_id, page.before, PAGE).await?;
    let older = (i64::try_from(rows.len()).unwrap_or(0) == PAGE).then(|| rows.last().map(|r| r.id)).flatten();
    let entries = rows
        .into_iter()
        .map(|r| AuditRow {
            at: local_time(Some(r.at), "UTC"),
            actor: r.actor_email.unwrap_or(r.actor),
            detail: r.detail.to_string(),
            action: r.action,
            object: r.object,
        })
        .collect();
    Ok(render(&AuditPage { layout, entries, older }))
}
