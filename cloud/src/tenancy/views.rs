//! What the API answers and the console shows about members and the audit log.

use super::Role;
use serde::Serialize;
use utoipa::ToSchema;

/// A member of the organization.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Member {
    /// The person.
    pub user_id: i64,
    /// Their login.
    pub email: String,
    /// Their name.
    pub name: String,
    /// Their role here.
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// One line of the audit log: who changed what, when.
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    /// Its id (page with `before`).
    pub id: i64,
    /// When (Unix ms).
    pub at: i64,
    /// Who: `user:<id>`, `device:<id>`, `provider` or `system`.
    pub actor: String,
    /// The person's e-mail, when the actor is a user who still exists.
    pub actor_email: Option<String>,
    /// What was done, e.g. `event.create`.
    pub action: String,
    /// To what, e.g. `event:12`.
    pub object: String,
    /// What the action recorded about itself (free-form by design: each action keeps what
    /// matters to it).
    #[sqlx(try_from = "String")]
    #[schema(value_type = Object)]
    pub detail: Detail,
}

/// An audit line's detail: the JSON the action recorded.
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct Detail(pub serde_json::Value);

impl From<String> for Detail {
    fn from(text: String) -> Self {
        Self(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An organization a person belongs to (the console's switch).
#[derive(Clone, Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct OrgChoice {
    /// The organization.
    pub id: i64,
    /// Its short name.
    pub slug: String,
    /// Its name.
    pub name: String,
}
