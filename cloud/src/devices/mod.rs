//! Devices: enrollment, the fleet, revocation — and the hub's sync endpoint.
//!
//! Enrollment: an admin creates a single-use code (valid 24 h, shown as text and QR); the device
//! presents it with the public key it generated, and gets its id, its events and the hub's key.
//! The device is then listed in its events' manifests, which is what every peer trusts;
//! revoking it republishes the manifests without it, and the hub refuses its requests at once.
//!
//! `POST /v1/sync` is the same protocol the devices' peer server speaks (sync-core's engine),
//! with the requester authenticated against the `devices` table ([`crate::auth::DeviceCaller`])
//! and its organization's journal as the store.
//!
//! | file | what |
//! |---|---|
//! | `store.rs` | the queries: codes, devices, their events |
//! | `views.rs` | what the API answers and the console shows |
//! | `routes.rs` | `/api/v1/devices…`: the fleet, codes, enrollment, revocation |
//! | `sync.rs` | `/v1/sync`, `/v1/hello` |
//! | `edit.rs` | renaming a device and setting its PIN from the console |
//! | `exports.rs` | a revoked device's sealed export, uploaded by an administrator |

mod edit;
mod exports;
mod routes;
pub mod store;
pub mod sync;
pub mod views;

pub use routes::{Enroll, create_enrollment_code, enroll_device, fleet};
pub use sync::SeenThrottle;
pub use views::{DeviceView, EnrollmentCode, EventRef};

use crate::state::AppState;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;

/// How long an enrollment code is valid.
pub const CODE_VALIDITY_MS: i64 = 24 * 3_600_000;

/// The routes, with their OpenAPI documentation.
pub fn routes() -> OpenApiRouter<AppState> {
    routes::routes().merge(edit::routes()).merge(sync::routes()).merge(exports::routes())
}

/// Device roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceRole {
    /// A gate scanner.
    Gate,
    /// A box office.
    BoxOffice,
}

impl DeviceRole {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gate => "gate",
            Self::BoxOffice => "box_office",
        }
    }

    /// As people read it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Gate => "Gate",
            Self::BoxOffice => "Box office",
        }
    }
}

impl TryFrom<String> for DeviceRole {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "gate" => Ok(Self::Gate),
            "box_office" => Ok(Self::BoxOffice),
            _ => Err(format!("unknown device role {s:?}")),
        }
    }
}
