//! `/members` (who belongs to the organization, in which role) and `/audit` (who changed
//! what): owners and admins.

use super::{Layout, PageResult, Staff, local_time, render, role_name};
use crate::server::AppState;
use crate::tenancy::Role;
use askama::Template;
use axum::extract::{Query, State};
use serde::Deserialize;
use sqlx::Row;

const MANAGERS: &[Role] = &[Role::Owner, Role::Admin];
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
}

/// `GET /members`.
pub(super) async fn page(State(state): State<AppState>, staff: Staff) -> PageResult {
    staff.0.require(MANAGERS)?;
    let layout = staff.layout(&state, "members").await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let members = sqlx::query(
        "SELECT u.id, u.email, u.name, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 ORDER BY u.email",
    )
    .bind(staff.0.org_id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .filter_map(|r| {
        let role = Role::parse(&r.get::<String, _>(3))?;
        let user_id: i64 = r.get(0);
        Some(MemberRow {
            user_id,
            email: r.get(1),
            name: r.get(2),
            role: role.as_str(),
            role_label: role_name(role),
            is_me: user_id == staff.0.user_id,
        })
    })
    .collect();
    tx.commit().await?;
    // Only owners make owners: admins are not offered it.
    let roles = ROLES.iter().copied().filter(|(r, _)| *r != "owner" || staff.0.role == Role::Owner).collect();
    Ok(render(&MembersPage { layout, members, roles, me_owner: staff.0.role == Role::Owner }))
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
    Query(page): Query<Before>,
) -> PageResult {
    staff.0.require(MANAGERS)?;
    let layout = staff.layout(&state, "audit").await?;
    let mut tx = state.db.tenant(staff.0.org_id).await?;
    let rows = sqlx::query(
        "SELECT a.id, a.at, a.actor, a.action, a.object, a.detail, COALESCE(u.email, '') FROM audit_log a \
         LEFT JOIN users u ON a.actor = 'user:' || CAST(u.id AS TEXT) \
         WHERE a.org_id = $1 AND a.id < $2 ORDER BY a.id DESC LIMIT $3",
    )
    .bind(staff.0.org_id)
    .bind(page.before.unwrap_or(i64::MAX))
    .bind(PAGE)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let older =
        (i64::try_from(rows.len()).unwrap_or(0) == PAGE).then(|| rows.last().map(|r| r.get(0))).flatten();
    let entries = rows
        .iter()
        .map(|r| {
            let email: String = r.get(6);
            AuditRow {
                at: local_time(Some(r.get(1)), "UTC"),
                actor: if email.is_empty() { r.get(2) } else { email },
                action: r.get(3),
                object: r.get(4),
                detail: r.get(5),
            }
        })
        .collect();
    Ok(render(&AuditPage { layout, entries, older }))
}
