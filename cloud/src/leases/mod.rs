//! Box-office leases: selling at the door without overselling, offline (brief §3, §7).
//!
//! The hub is the only place capacity rights are made. A lease gives one box-office device
//! `n` rights of one ticket type: `n` serials of its own (from the event's dense sequence) and
//! the event key's delegation for exactly those serials, so gates admit the tickets the device
//! signs — even gates offline since before the lease. Granting takes the rights from capacity
//! with the same conditional UPDATE as online checkout (`leased` counts them, [`crate::capacity`]),
//! so online and door sales never sell the same seat twice. The grant travels to the device as
//! a hub journal entry with the delegation inside.
//!
//! What the device reports through sync (door sales, voids, returns, shifts) is materialized
//! by the journal ([`crate::journal::materialize`]). A device that is lost can have its lease
//! revoked: its unsold serials are revoked at every gate.
//!
//! | file | what |
//! |---|---|
//! | `store.rs` | the queries |
//! | `views.rs` | what the API answers and the console shows |
//! | `routes.rs` | granting, listing, extending, revoking; a box office asking for more |
//! | `handover.rs` | a box office asking the hub to e-mail a door sale's tickets |
//! | `vouchers.rs` | a voucher's uses leased to a box office, redeemed there offline |

mod handover;
mod routes;
pub mod store;
pub mod views;
pub mod vouchers;

pub use routes::{NewLease, grant_lease};

/// Every lease route, with its OpenAPI documentation.
pub fn routes() -> utoipa_axum::router::OpenApiRouter<crate::state::AppState> {
    routes::routes().merge(vouchers::routes())
}
pub use views::LeaseView;

/// Most rights a box office may ask for at once (an organizer may grant more).
pub const MAX_DEVICE_REQUEST: u32 = 1_000;
/// Most rights in one lease.
pub const MAX_LEASE: u32 = 10_000;
