//! Bulk data for scale runs: an event sold out at festival size ([`sale`]) and its evening's
//! check-ins from many gates ([`checkins`]), made in minutes where buying and scanning one at a
//! time would take hours — each through the hub's own code, as the modules say — and the
//! database's size afterwards ([`size`]).

pub mod checkins;
pub mod sale;
pub mod size;
