//! Newtype identifiers and the timestamp type.
//!
//! Every number that crosses a boundary (a ticket, a manifest, a journal entry) gets its own type
//! so an event id can never be passed where a serial is expected. The widths are the widths of
//! the ticket format (docs/ticket-format.md): they are part of the wire contract, not a guess.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An event, as numbered by the hub. 32 bits in the ticket.
    EventId(u32)
);
id_type!(
    /// A ticket's serial number, dense per event (0, 1, 2, …). 32 bits in the ticket.
    Serial(u32)
);
id_type!(
    /// A ticket type (price category) within an event. 16 bits in the ticket.
    TicketTypeId(u16)
);
id_type!(
    /// A seat of an event, numbered by the hub in its plan's order (0, 1, 2, …; see
    /// [`crate::seating::SeatMap`]). 16 bits in the ticket, when the ticket has a seat: a plan
    /// has at most 50,000 seats, and two bytes keep every delegated ticket within QR version 10.
    SeatNumber(u16)
);
id_type!(
    /// A gate (entrance or exit point) within an event.
    GateId(u16)
);
id_type!(
    /// A scanning or selling device, as numbered by the hub at enrollment.
    DeviceId(u32)
);
id_type!(
    /// Which of an event's signing keys made a signature. 8 bits in the ticket: an event may
    /// have up to 256 keys over its life, several valid at once while keys rotate.
    KeyId(u8)
);

/// A point in time: milliseconds since the Unix epoch, UTC.
///
/// sync-core never reads the wall clock itself; callers pass the time in (the scan context),
/// which keeps the validator pure and its tests deterministic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The time `secs` seconds after the Unix epoch.
    pub const fn from_unix_seconds(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    /// Whole seconds since the Unix epoch (rounded towards minus infinity).
    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// This time moved by `secs` seconds (negative moves it back), saturating at the ends.
    #[must_use]
    pub const fn plus_seconds(self, secs: i64) -> Self {
        Self(self.0.saturating_add(secs.saturating_mul(1000)))
    }

    /// The current wall-clock time. Only the shells (apps, CLI, hub) call this; sync-core's
    /// logic takes the time as an argument.
    pub fn now() -> Self {
        let elapsed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Self(i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match time::OffsetDateTime::from_unix_timestamp(self.unix_seconds()) {
            Ok(t) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            Err(_) => write!(f, "{}ms", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_converts_seconds_both_ways() {
        let t = Timestamp::from_unix_seconds(1_790_000_000);
        assert_eq!(t.unix_seconds(), 1_790_000_000);
        assert_eq!(Timestamp(-1).unix_seconds(), -1, "rounds towards minus infinity");
        assert_eq!(t.plus_seconds(-60).unix_seconds(), 1_789_999_940);
    }

    #[test]
    fn timestamp_displays_as_utc() {
        assert_eq!(Timestamp::from_unix_seconds(0).to_string(), "1970-01-01T00:00:00Z");
    }
}
