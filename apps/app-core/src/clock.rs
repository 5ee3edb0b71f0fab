//! The screen's clock: times are shown in the venue's time zone, which the web view knows as a
//! UTC offset in minutes.

use sync_core::display::DisplayClock;
use sync_core::ids::Timestamp;
use time::UtcOffset;

/// The clock for `now` at the web view's `offset_minutes` (clamped to the ±18 h a
/// `UtcOffset` allows).
pub fn display_clock(now: Timestamp, offset_minutes: i32) -> DisplayClock {
    let seconds = offset_minutes.clamp(-18 * 60 + 1, 18 * 60 - 1) * 60;
    DisplayClock { now, offset: UtcOffset::from_whole_seconds(seconds).unwrap_or(UtcOffset::UTC) }
}

/// `at` on the screen's clock, formatted with `format` (a `time` format description).
fn format(
    at: Timestamp,
    clock: DisplayClock,
    format: &[time::format_description::BorrowedFormatItem<'_>],
) -> String {
    time::OffsetDateTime::from_unix_timestamp(at.unix_seconds())
        .map(|t| t.to_offset(clock.offset))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

/// The clock's time, "14:02:07".
pub fn clock_time(clock: DisplayClock) -> String {
    time_of(clock.now, clock)
}

/// `at` as "14:02:07" on the screen's clock.
pub fn time_of(at: Timestamp, clock: DisplayClock) -> String {
    format(at, clock, time::macros::format_description!("[hour]:[minute]:[second]"))
}

/// `at` as "2026-06-06 14:02" on the screen's clock.
pub fn date_time_of(at: Timestamp, clock: DisplayClock) -> String {
    format(at, clock, time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_the_venues() {
        let noon = Timestamp::from_unix_seconds(1_780_747_200); // 2026-06-06 12:00 UTC
        let clock = display_clock(noon, 120);
        assert_eq!(clock_time(clock), "14:00:00");
        assert_eq!(date_time_of(noon, clock), "2026-06-06 14:00");
        assert_eq!(clock_time(display_clock(noon, 100_000)).len(), 8, "an absurd offset is clamped");
    }
}
