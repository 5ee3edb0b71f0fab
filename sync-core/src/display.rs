//! Verdict → what the gate screen shows: a colour, a short title and one plain sentence.
//!
//! Both apps (and the CLI) render verdicts through this one mapping, so the wording staff read
//! lives in one place. Rules for the wording: say what happened and what to do next, name
//! gates, devices and times as people know them, never show a raw error.
//!
//! Colours: green — let them through; amber — a genuine ticket that cannot pass here or now
//! (already inside, wrong gate, too early, device needs a sync); red — not a valid ticket.

use crate::admission::ScanRecord;
use crate::ids::{DeviceId, GateId, Timestamp};
use crate::manifest::{Direction, EntryPolicy, EventManifest};
use crate::seating::SeatMap;
use crate::ticket::{DecodeError, DelegationProblem, Issuer};
use crate::verdict::{TicketRef, Verdict};
use serde::Serialize;
use time::{OffsetDateTime, UtcOffset, macros::format_description};

/// The screen colour of a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    /// Let them through.
    Green,
    /// Genuine ticket, but not here or not now: staff act (redirect, wait, sync).
    Amber,
    /// Not a valid ticket.
    Red,
}

/// What the verdict screen shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerdictDisplay {
    /// Background colour.
    pub colour: Colour,
    /// A large word or two.
    pub title: String,
    /// One sentence in plain language.
    pub reason: String,
    /// The verdict's stable code (for sounds, styling and logs).
    pub code: &'static str,
    /// The ticket's reserved seat, "Stalls · Row F · Seat 12", so staff can direct people
    /// (shown for every verdict about a seated ticket: the amber ones too).
    pub seat: Option<String>,
}

/// How to render times: the scan's "now" (for "12 min ago") and the local UTC offset of the
/// venue (the device's own time zone, since the device stands at the venue).
#[derive(Clone, Copy, Debug)]
pub struct DisplayClock {
    /// The current time.
    pub now: Timestamp,
    /// Offset of local time from UTC.
    pub offset: UtcOffset,
}

/// Renders a verdict for the screen; `seats` names a seated ticket's seat (the event's seat
/// map, when the device has it: without it the seat is given by its number).
pub fn describe(
    verdict: &Verdict,
    manifest: &EventManifest,
    seats: Option<&SeatMap>,
    clock: DisplayClock,
) -> VerdictDisplay {
    let names = Names { manifest, clock };
    let (colour, title, reason) = match verdict {
        Verdict::Admitted { ticket } => (Colour::Green, "Admitted".into(), names.ticket(ticket)),
        Verdict::ReEntry { ticket, last_exit } => {
            let left = last_exit.map_or(String::new(), |r| format!(" — went out {}", names.record(&r)));
            (Colour::Green, "Welcome back".into(), format!("{}, re-entry{left}", names.ticket(ticket)))
        }
        Verdict::ExitRecorded { ticket } => {
            let rule = match ticket.policy {
                Some(EntryPolicy::SingleEntry) => "no re-entry on this ticket",
                _ => "may come back in",
            };
            (Colour::Green, "Exit recorded".into(), format!("{} — {rule}", names.ticket(ticket)))
        }
        // Amber, not red: the ticket is genuine, and what staff do next depends on when and
        // where it went in (the same person a minute ago, or a ticket passed back outside).
        Verdict::AlreadyInside { ticket, first_entry, since } => match ticket.policy {
            Some(EntryPolicy::SingleEntry) => {
                (Colour::Amber, "Already used".into(), format!("Entered {}", names.record(first_entry)))
            }
            _ => (Colour::Amber, "Already inside".into(), format!("Came in {}", names.record(since))),
        },
        Verdict::Revoked { ticket, reason } => (
            Colour::Red,
            "Ticket revoked".into(),
            format!("{} was {} and is no longer valid", names.ticket(ticket), reason.describe()),
        ),
        Verdict::WrongEvent { event } => (
            Colour::Red,
            "Wrong event".into(),
            format!("This ticket is not for {} (it names event no. {event})", manifest.name),
        ),
        Verdict::WrongGate { gate, direction } => (
            Colour::Amber,
            "Check device setup".into(),
            match manifest.gate(*gate) {
                Some(g) => format!(
                    "{} does not take {} scans: change the direction or gate in settings",
                    g.name,
                    direction_word(*direction)
                ),
                None => format!(
                    "This device is set to a gate that is not part of {}: choose the gate in settings",
                    manifest.name
                ),
            },
        ),
        Verdict::TypeNotAllowedAtGate { ticket, gate } => (
            Colour::Amber,
            "Wrong gate".into(),
            format!(
                "{} cannot enter at {} — send them to {}",
                names.type_name(ticket),
                names.gate(*gate),
                names.allowed_gates(ticket)
            ),
        ),
        Verdict::NotYetValid { ticket, valid_from } => (
            Colour::Amber,
            "Not valid yet".into(),
            format!("{} is valid from {}", names.ticket(ticket), names.time(*valid_from)),
        ),
        Verdict::Expired { ticket, valid_until } => (
            Colour::Red,
            "Ticket expired".into(),
            format!("{} was valid until {}", names.ticket(ticket), names.time(*valid_until)),
        ),
        // Red: the key id is an unverified claim, and a forger can name any key. A genuine
        // ticket under a brand-new key passes once the device has synced.
        Verdict::UnknownKey { .. } => (
            Colour::Red,
            "Cannot check ticket".into(),
            "It names a signing key this device does not have: if the device has not synced lately, sync and scan again".into(),
        ),
        Verdict::UnknownTicketType { ticket } => (
            Colour::Amber,
            "Device needs a sync".into(),
            format!(
                "Ticket type {} is missing from this device's event data: sync, then scan again",
                ticket.ticket_type
            ),
        ),
        Verdict::BadSignature => (
            Colour::Red,
            "Invalid ticket".into(),
            "This code is not a genuine ticket for this event: it was altered, forged or issued elsewhere"
                .into(),
        ),
        Verdict::Malformed(e) => (Colour::Red, "Not a ticket".into(), malformed(e)),
        Verdict::DelegationInvalid(p) => {
            (Colour::Red, "Invalid box-office ticket".into(), delegation(p, &names))
        }
    };
    let seat = verdict.ticket().and_then(|t| t.seat).map(|n| match seats.and_then(|m| m.name(n)) {
        Some(name) => name.to_string(),
        None => format!("Seat no. {n} (sync this device for the seat's name)"),
    });
    VerdictDisplay { colour, title, reason, code: verdict.code(), seat }
}

fn malformed(e: &DecodeError) -> String {
    match e {
        DecodeError::MissingPrefix => "This code is not a Voelgoed ticket".into(),
        DecodeError::Empty => "Nothing was read: scan again".into(),
        DecodeError::TooLong { .. } => "This code is far too long to be a ticket".into(),
        DecodeError::UnsupportedVersion(_) => {
            "This ticket is from a newer version of Voelgoed: update this app, then scan again".into()
        }
        // The detail (which byte, which field) is in the verdict for the log, not for staff.
        _ => "The code is damaged or was read only in part: scan again, or type in the code".into(),
    }
}

fn delegation(p: &DelegationProblem, names: &Names<'_>) -> String {
    match p {
        DelegationProblem::Expired { expires } => format!(
            "Sold at the door under a permission that ran out {}: send them to the box office",
            names.time(*expires)
        ),
        DelegationProblem::SerialOutOfRange { .. } | DelegationProblem::TypeNotAllowed(_) => {
            "Sold by a box office that was not allowed to sell this ticket: send them to the box office"
                .into()
        }
        DelegationProblem::BadSignature | DelegationProblem::InvalidDeviceKey => {
            "This code is not a genuine ticket for this event: it was altered, forged or issued elsewhere"
                .into()
        }
    }
}

fn direction_word(d: Direction) -> &'static str {
    match d {
        Direction::Entry => "entry",
        Direction::Exit => "exit",
    }
}

/// Looks up names in the manifest and formats times.
/// One double admission as a sentence for the gate's list: "No. 1234 admitted twice: 14:02 at
/// North gate (N2), 3 min ago, then 14:03 at South gate (S1), 2 min ago."
pub fn describe_double(
    double: &crate::admission::DoubleAdmission,
    manifest: &EventManifest,
    clock: DisplayClock,
) -> String {
    let names = Names { manifest, clock };
    format!(
        "No. {} admitted twice: {}, then {}.",
        double.serial,
        names.record(&double.first),
        names.record(&double.second)
    )
}

struct Names<'a> {
    manifest: &'a EventManifest,
    clock: DisplayClock,
}

impl Names<'_> {
    fn type_name(&self, t: &TicketRef) -> String {
        self.manifest
            .ticket_type(t.ticket_type)
            .map_or_else(|| format!("Ticket type {}", t.ticket_type), |s| s.name.clone())
    }

    /// "Weekend pass no. 1234" (+ "sold at the box office").
    fn ticket(&self, t: &TicketRef) -> String {
        let sold = match t.issuer {
            Issuer::Hub => "",
            Issuer::Device(_) => " (box office)",
        };
        format!("{} no. {}{sold}", self.type_name(t), t.serial)
    }

    fn gate(&self, id: GateId) -> String {
        self.manifest.gate(id).map_or_else(|| format!("gate {id}"), |g| g.name.clone())
    }

    fn device(&self, id: DeviceId) -> String {
        self.manifest.device_name(id).map_or_else(|| format!("device {id}"), str::to_owned)
    }

    /// The gates this ticket type may enter through (exit-only gates left out).
    fn allowed_gates(&self, t: &TicketRef) -> String {
        let entrances = |ids: &Vec<GateId>| -> Vec<String> {
            ids.iter()
                .filter_map(|&id| self.manifest.gate(id))
                .filter(|g| g.serves.allows(Direction::Entry))
                .map(|g| g.name.clone())
                .collect()
        };
        let gates = self
            .manifest
            .ticket_type(t.ticket_type)
            .and_then(|s| s.allowed_gates.as_ref())
            .map(entrances)
            .unwrap_or_default();
        if gates.is_empty() { "another gate".into() } else { gates.join(" or ") }
    }

    /// "14:02 at North gate (N2), 12 min ago".
    fn record(&self, r: &ScanRecord) -> String {
        format!(
            "{} at {} ({}), {}",
            self.time(r.at),
            self.gate(r.gate),
            self.device(r.device),
            self.ago(r.at)
        )
    }

    /// "14:02" today, "Sat 6 Jun 14:02" on another day, in local time.
    fn time(&self, t: Timestamp) -> String {
        let local = |t: Timestamp| {
            OffsetDateTime::from_unix_timestamp(t.unix_seconds()).ok().map(|d| d.to_offset(self.clock.offset))
        };
        let (Some(then), Some(now)) = (local(t), local(self.clock.now)) else {
            return t.to_string();
        };
        let format = if then.date() == now.date() {
            then.format(format_description!("[hour]:[minute]"))
        } else {
            then.format(format_description!(
                "[weekday repr:short] [day padding:none] [month repr:short] [hour]:[minute]"
            ))
        };
        format.unwrap_or_else(|_| t.to_string())
    }

    fn ago(&self, t: Timestamp) -> String {
        // Stamps come from other devices' journals: never trust them not to overflow.
        let minutes = self.clock.now.0.saturating_sub(t.0) / 60_000;
        match minutes {
            ..=0 => "just now".into(),
            1..=59 => format!("{minutes} min ago"),
            _ => format!("{} h {} min ago", minutes / 60, minutes % 60),
        }
    }
}
