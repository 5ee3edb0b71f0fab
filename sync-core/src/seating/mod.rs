//! Seat plans: the venue drawn once and sold by seat.
//!
//! A [`Plan`] is an organization's drawing of a hall: sections with rows of seats (each with a
//! label, a position, a category that maps to a price level, and accessibility flags),
//! standing areas with a capacity, and shapes that only decorate (stage, bar, exits). The hub
//! keeps plans, maps an event's categories to ticket types, and sells seats; the box office
//! will sell leased seats offline from the same plan — so the plan, its checks and the choice
//! of the best seats are pure code here, shared by both.
//!
//! | module | what it holds |
//! |---|---|
//! | [`plan`] | the native format and [`Plan::check`]: every rule a plan must meet |
//! | [`pretix`] | pretix's seating-plan JSON, read and written (a venue moving from pretix brings its plans) |
//! | [`best`] | best available: `n` free seats side by side in one row, closest to the stage |
//! | [`map`] | an event's seats numbered, as gates name them and box offices sell them |
//! | [`decor`] | the map's copy of the plan's shapes (stage, bars, exits), for the box office's drawing |

pub mod best;
pub mod decor;
pub mod map;
pub mod plan;
pub mod pretix;

pub use decor::MapShape;
pub use map::{MapRow, MapSeat, SeatMap, SeatName};
pub use plan::{
    Category, MAX_ROWS, MAX_SEATS, Plan, PlanError, Point, Row, Seat, Section, Shape, Size, Standing, Summary,
};
