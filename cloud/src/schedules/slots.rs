//! When a schedule is due: its slots, on the event's clock. Pure functions of the rule, the time
//! zone and two instants — no IO, so the maintenance round, the console's "next" and the tests
//! all ask the same question the same way.
//!
//! A slot is a local time of day on chosen weekdays. On the day a clock skips an hour, a slot
//! inside the gap runs at the first minute after it (02:30 → 03:30); on the day an hour
//! repeats, at its first occurrence: every chosen day has exactly one slot (jiff's
//! "compatible" disambiguation, as RFC 5545 calendars do).

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// How far back a schedule catches up after an outage: slots older than this are forgotten.
/// (A month of daily slots; their report would be one and the same, sent once.)
pub const CATCH_UP_MS: i64 = 31 * 86_400_000;

/// The weekdays, as the API names them, Monday first.
pub const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// When a schedule runs: a minute of the local day, on some weekdays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Minutes after local midnight, 0–1439.
    pub minute: u16,
    /// Bit 0 Monday … bit 6 Sunday; never 0.
    pub days: u8,
}

impl Rule {
    /// A rule, if `minute` is in the day and some day is chosen.
    pub fn new(minute: u16, days: u8) -> Option<Self> {
        (minute < 24 * 60 && days & 0x7F != 0).then_some(Self { minute, days: days & 0x7F })
    }

    fn runs_on(self, date: Date) -> bool {
        let index = date.weekday().to_monday_zero_offset();
        self.days & (1 << index) != 0
    }

    /// The slot on `date`, if it is one of the rule's days (Unix ms).
    fn slot_on(self, date: Date, zone: &TimeZone) -> Option<i64> {
        if !self.runs_on(date) {
            return None;
        }
        let (hour, minute) = (i8::try_from(self.minute / 60).ok()?, i8::try_from(self.minute % 60).ok()?);
        let zoned = date.at(hour, minute, 0, 0).to_zoned(zone.clone()).ok()?;
        Some(zoned.timestamp().as_millisecond())
    }
}

/// `days` as "mon,tue,…" (how it is stored).
pub fn days_text(days: u8) -> String {
    DAY_NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| days & (1 << i) != 0)
        .map(|(_, d)| *d)
        .collect::<Vec<_>>()
        .join(",")
}

/// The days named in `text` ("mon,tue"); `None` if a name is unknown or none is given.
pub fn parse_days<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<u8> {
    let mut days = 0u8;
    for name in names {
        let index = DAY_NAMES.iter().position(|d| *d == name.trim())?;
        days |= 1 << index;
    }
    (days != 0).then_some(days)
}

/// "08:00" → 480; `None` unless it is a 24-hour time with two-digit minutes.
pub fn parse_time(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.is_empty() || hours.len() > 2 || minutes.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    (h < 24
        && m < 60
        && hours.bytes().all(|b| b.is_ascii_digit())
        && minutes.bytes().all(|b| b.is_ascii_digit()))
    .then_some(h * 60 + m)
}

/// 480 → "08:00".
pub fn time_text(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn local_date(ms: i64, zone: &TimeZone) -> Option<Date> {
    Some(Timestamp::from_millisecond(ms).ok()?.to_zoned(zone.clone()).date())
}

/// The slots after `after` up to and including `until` (Unix ms), oldest first — none older
/// than [`CATCH_UP_MS`] before `until`.
pub fn due(rule: Rule, zone: &TimeZone, after: i64, until: i64) -> Vec<i64> {
    let after = after.max(until.saturating_sub(CATCH_UP_MS));
    let (Some(mut date), Some(last)) = (local_date(after, zone), local_date(until, zone)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    while date <= last {
        if let Some(slot) = rule.slot_on(date, zone)
            && slot > after
            && slot <= until
        {
            out.push(slot);
        }
        let Ok(next) = date.tomorrow() else { break };
        date = next;
    }
    out
}

/// The first slot after `after` (Unix ms); `None` only past the end of the calendar.
pub fn next(rule: Rule, zone: &TimeZone, after: i64) -> Option<i64> {
    let mut date = local_date(after, zone)?;
    // Every rule runs on some weekday: within eight local days there is a slot after `after`.
    for _ in 0..8 {
        if let Some(slot) = rule.slot_on(date, zone)
            && slot > after
        {
            return Some(slot);
        }
        date = date.tomorrow().ok()?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn amsterdam() -> TimeZone {
        TimeZone::get("Europe/Amsterdam").unwrap()
    }

    /// Unix ms of a local time in Amsterdam.
    fn at(text: &str) -> i64 {
        let dt: jiff::civil::DateTime = text.parse().unwrap();
        dt.to_zoned(amsterdam()).unwrap().timestamp().as_millisecond()
    }

    const EVERY_DAY: u8 = 0x7F;

    #[test]
    fn a_daily_slot_is_due_once_its_minute_has_come() {
        let rule = Rule::new(8 * 60, EVERY_DAY).unwrap();
        let zone = amsterdam();
        assert!(due(rule, &zone, at("2026-06-13T07:00"), at("2026-06-13T07:59:59")).is_empty());
        assert_eq!(
            due(rule, &zone, at("2026-06-13T07:00"), at("2026-06-13T08:00")),
            [at("2026-06-13T08:00")]
        );
        assert!(due(rule, &zone, at("2026-06-13T08:00"), at("2026-06-13T09:00")).is_empty(), "not twice");
        assert_eq!(next(rule, &zone, at("2026-06-13T08:00")), Some(at("2026-06-14T08:00")));
    }

    #[test]
    fn an_outage_leaves_every_missed_slot_due_back_to_a_month() {
        let rule = Rule::new(8 * 60, EVERY_DAY).unwrap();
        let zone = amsterdam();
        let missed = due(rule, &zone, at("2026-06-10T09:00"), at("2026-06-13T10:00"));
        assert_eq!(missed, [at("2026-06-11T08:00"), at("2026-06-12T08:00"), at("2026-06-13T08:00")]);
        let long = due(rule, &zone, at("2025-01-01T09:00"), at("2026-06-13T10:00"));
        assert_eq!(long.len(), 31, "a month back, no more");
        assert_eq!(long.last(), Some(&at("2026-06-13T08:00")));
    }

    #[test]
    fn only_the_chosen_weekdays_run() {
        // Mondays and Fridays; 13 June 2026 is a Saturday.
        let rule = Rule::new(18 * 60 + 30, parse_days(["mon", "fri"]).unwrap()).unwrap();
        let zone = amsterdam();
        let slots = due(rule, &zone, at("2026-06-13T00:00"), at("2026-06-21T00:00"));
        assert_eq!(slots, [at("2026-06-15T18:30"), at("2026-06-19T18:30")]);
        assert_eq!(next(rule, &zone, at("2026-06-19T18:30")), Some(at("2026-06-22T18:30")));
    }

    #[test]
    fn clock_changes_keep_one_slot_a_day() {
        let zone = amsterdam();
        // 29 March 2026: 02:00 → 03:00. A 02:30 slot runs at 03:30 local (01:30 UTC).
        let gap = Rule::new(2 * 60 + 30, EVERY_DAY).unwrap();
        let spring = due(gap, &zone, at("2026-03-28T12:00"), at("2026-03-30T12:00"));
        assert_eq!(spring.len(), 2);
        assert_eq!(spring[0], at("2026-03-29T03:30"));
        assert_eq!(spring[1] - spring[0], 23 * 3_600_000, "back to 02:30 the day after");
        // 25 October 2026: 03:00 → 02:00. A 02:30 slot runs once, at the first 02:30.
        let autumn = due(gap, &zone, at("2026-10-24T12:00"), at("2026-10-26T12:00"));
        assert_eq!(autumn.len(), 2);
        assert_eq!(autumn[1] - autumn[0], 25 * 3_600_000, "the 25-hour day between them");
    }

    #[test]
    fn times_and_days_parse_strictly() {
        assert_eq!(parse_time("08:00"), Some(480));
        assert_eq!(parse_time("8:05"), Some(485));
        assert_eq!(parse_time("23:59"), Some(1439));
        for bad in ["24:00", "08:60", "8", "08:0", "-1:00", "08:00:00", "", "+8:00", "08:+5"] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
        assert_eq!(time_text(485), "08:05");
        assert_eq!(parse_days(["sun", "mon"]), Some(0b100_0001));
        assert_eq!(parse_days(["monday"]), None);
        assert_eq!(parse_days([]), None);
        assert_eq!(days_text(0b100_0001), "mon,sun");
        assert_eq!(Rule::new(1440, EVERY_DAY), None);
        assert_eq!(Rule::new(0, 0), None);
    }

    proptest! {
        /// Running every round between two instants sees each slot exactly once, however the
        /// rounds fall (an instance's maintenance period, an outage): the slots of the whole
        /// span, no more, no fewer.
        #[test]
        fn rounds_see_each_slot_once(
            minute in 0u16..1440,
            days in 1u8..128,
            start in 1_767_225_600_000i64..1_798_761_600_000, // 2026
            steps in proptest::collection::vec(1i64..3 * 86_400_000, 1..10), // within CATCH_UP_MS
        ) {
            let rule = Rule::new(minute, days).unwrap();
            let zone = amsterdam();
            let mut seen = Vec::new();
            let mut from = start;
            for step in &steps {
                let until = from + step;
                seen.extend(due(rule, &zone, from, until));
                from = until;
            }
            prop_assert_eq!(&seen, &due(rule, &zone, start, from));
            prop_assert!(seen.windows(2).all(|w| w[0] < w[1]));
            if let Some(first) = seen.first() {
                prop_assert_eq!(next(rule, &zone, start), Some(*first));
            }
        }
    }
}
