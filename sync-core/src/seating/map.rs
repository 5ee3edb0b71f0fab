//! The seat map: an event's seats as devices need them, numbered.
//!
//! A seated ticket carries a [`SeatNumber`] under its signature — two bytes, not the seat's
//! names, so the QR code stays small. The number is the seat's place in the plan's order
//! ([`super::Plan::seats`]: sections, rows, seats as drawn), fixed when the hub assigns the
//! plan to the event (the plan cannot change once anything seated is sold). The hub publishes
//! this map through the journal; a gate names a ticket's seat from it ("Stalls · Row F · Seat
//! 12") and a box office draws and sells leased seats from it, offline.
//!
//! Sections and rows are listed once and referred to by index, so a 20,000-seat map is a few
//! hundred kilobytes. [`SeatMap::check`] bounds everything, since the map arrives over sync.

use super::decor::{MAX_SHAPES, MapShape};
use super::{MAX_ROWS, MAX_SEATS, Plan};
use crate::ids::{SeatNumber, TicketTypeId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Seat flag: a wheelchair space.
pub const WHEELCHAIR: u8 = 0b001;
/// Seat flag: a companion seat (beside a wheelchair space).
pub const COMPANION: u8 = 0b010;
/// Seat flag: the view is restricted.
pub const RESTRICTED_VIEW: u8 = 0b100;
/// Longest section name, row or seat label in a map (the plan's own limits are tighter).
const MAX_NAME: usize = 200;
/// Most sections in a map (as in a plan).
const MAX_SECTIONS: usize = 100;
// Every seat of a plan has a number that fits the ticket's two bytes.
const _: () = assert!(MAX_SEATS <= 1 << 16);

/// An event's seats, indexed by [`SeatNumber`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatMap {
    /// Section names ("Stalls"), referred to by [`MapRow::section`].
    pub sections: Vec<String>,
    /// Rows, referred to by [`MapSeat::row`].
    pub rows: Vec<MapRow>,
    /// The seats: seat number `n` is `seats[n]`.
    pub seats: Vec<MapSeat>,
    /// The plan's shapes (stage, bars, exits, texts): the box office draws them around the
    /// seats, so a cashier can say how close to the stage a seat is.
    pub shapes: Vec<MapShape>,
}

/// A row of a [`SeatMap`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapRow {
    /// Index into [`SeatMap::sections`].
    pub section: u32,
    /// Its label ("F").
    pub label: String,
}

/// A seat of a [`SeatMap`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapSeat {
    /// Index into [`SeatMap::rows`].
    pub row: u32,
    /// Its label ("12").
    pub label: String,
    /// Where it is drawn (plan units, rounded).
    pub x: i32,
    /// Where it is drawn.
    pub y: i32,
    /// The ticket type its category sells as.
    pub ticket_type: TicketTypeId,
    /// [`WHEELCHAIR`], [`COMPANION`], [`RESTRICTED_VIEW`].
    pub flags: u8,
}

/// A seat's names, as staff and buyers say them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatName<'a> {
    /// The section ("Stalls").
    pub section: &'a str,
    /// The row label ("F").
    pub row: &'a str,
    /// The seat label ("12").
    pub seat: &'a str,
}

impl fmt::Display for SeatName<'_> {
    /// "Stalls · Row F · Seat 12".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} · Row {} · Seat {}", self.section, self.row, self.seat)
    }
}

/// Why a map was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("seat map refused: {0}")]
pub struct MapError(&'static str);

/// Colours the drawing gives its categories, in turn.
const PALETTE: [&str; 6] = ["#3b7dd8", "#d9822b", "#2f9e6b", "#b8478f", "#7a5cc4", "#c9a227"];

impl SeatMap {
    /// The map as a plan to draw (the apps' `seatmap.js` draws plans): a category per ticket
    /// type, named by `type_name` and coloured in turn; each seat's id is its number; the
    /// plan's shapes. A map has no standing areas, so neither has the drawing.
    pub fn drawing(&self, type_name: impl Fn(TicketTypeId) -> String) -> Plan {
        let mut types: Vec<TicketTypeId> = self.seats.iter().map(|s| s.ticket_type).collect();
        types.sort_unstable();
        types.dedup();
        let categories = types
            .iter()
            .zip(PALETTE.iter().cycle())
            .map(|(t, colour)| super::Category { name: type_name(*t), color: (*colour).to_owned() })
            .collect();
        let mut sections: Vec<super::Section> = self
            .sections
            .iter()
            .map(|name| super::Section { name: name.clone(), rows: Vec::new(), standing: Vec::new() })
            .collect();
        let mut rows: Vec<super::Row> = self
            .rows
            .iter()
            .map(|r| super::Row { label: r.label.clone(), curve: 0.0, seats: Vec::new() })
            .collect();
        let (mut width, mut height) = (1.0_f64, 1.0_f64);
        for (n, seat) in self.seats.iter().enumerate() {
            let Some(row) = usize::try_from(seat.row).ok().and_then(|r| rows.get_mut(r)) else { continue };
            let (x, y) = (f64::from(seat.x), f64::from(seat.y));
            (width, height) = (width.max(x + 40.0), height.max(y + 40.0));
            row.seats.push(super::Seat {
                id: n.to_string(),
                label: seat.label.clone(),
                x,
                y,
                category: type_name(seat.ticket_type),
                wheelchair: seat.flags & WHEELCHAIR != 0,
                companion: seat.flags & COMPANION != 0,
                restricted_view: seat.flags & RESTRICTED_VIEW != 0,
            });
        }
        for shape in &self.shapes {
            let (x, y) = shape.reach();
            (width, height) = (width.max(f64::from(x) + 20.0), height.max(f64::from(y) + 20.0));
        }
        for (row, map_row) in rows.into_iter().zip(&self.rows) {
            if let Some(section) = usize::try_from(map_row.section).ok().and_then(|s| sections.get_mut(s)) {
                section.rows.push(row);
            }
        }
        Plan {
            name: String::new(),
            size: super::Size { width, height },
            focus: None,
            categories,
            sections,
            shapes: self.shapes.iter().map(MapShape::to_plan).collect(),
        }
    }

    /// The map of `plan` (which passed [`Plan::check`]) with each category's ticket type
    /// from `ticket_type`; a seat whose category has none is left out of sale but keeps its
    /// number (`TicketTypeId(0)`), so numbers always follow the plan.
    pub fn from_plan(plan: &Plan, ticket_type: impl Fn(&str) -> Option<TicketTypeId>) -> Self {
        let mut map = Self::default();
        for section in &plan.sections {
            let s = u32::try_from(map.sections.len()).unwrap_or(u32::MAX);
            map.sections.push(section.name.clone());
            for row in &section.rows {
                let r = u32::try_from(map.rows.len()).unwrap_or(u32::MAX);
                map.rows.push(MapRow { section: s, label: row.label.clone() });
                for seat in &row.seats {
                    let flags = [(seat.wheelchair, WHEELCHAIR), (seat.companion, COMPANION)]
                        .into_iter()
                        .chain([(seat.restricted_view, RESTRICTED_VIEW)])
                        .filter_map(|(on, bit)| on.then_some(bit))
                        .fold(0, |a, b| a | b);
                    #[allow(clippy::cast_possible_truncation)] // a checked plan keeps within ±100,000
                    map.seats.push(MapSeat {
                        row: r,
                        label: seat.label.clone(),
                        x: seat.x.round() as i32,
                        y: seat.y.round() as i32,
                        ticket_type: ticket_type(&seat.category).unwrap_or(TicketTypeId(0)),
                        flags,
                    });
                }
            }
        }
        map.shapes = plan.shapes.iter().map(MapShape::from_plan).collect();
        map
    }

    /// Seat `n`'s names, if the map has it.
    pub fn name(&self, n: SeatNumber) -> Option<SeatName<'_>> {
        let seat = self.seats.get(usize::from(n.0))?;
        let row = self.rows.get(usize::try_from(seat.row).ok()?)?;
        let section = self.sections.get(usize::try_from(row.section).ok()?)?;
        Some(SeatName { section, row: &row.label, seat: &seat.label })
    }

    /// Refuses a map that is too big or refers to rows or sections it lacks (it arrives over
    /// sync: a device checks it before keeping it).
    pub fn check(&self) -> Result<(), MapError> {
        if self.seats.len() > MAX_SEATS
            || self.rows.len() > MAX_ROWS
            || self.sections.len() > MAX_SECTIONS
            || self.shapes.len() > MAX_SHAPES
        {
            return Err(MapError("more seats, rows, sections or shapes than a plan may have"));
        }
        if !self.shapes.iter().all(MapShape::within_bounds) {
            return Err(MapError("a shape's text too long or a polygon of too few or many points"));
        }
        let long = |s: &String| s.len() > MAX_NAME;
        if self.sections.iter().any(long)
            || self.rows.iter().any(|r| long(&r.label))
            || self.seats.iter().any(|s| long(&s.label))
        {
            return Err(MapError("a name longer than 200 bytes"));
        }
        let sections = self.sections.len();
        if self.rows.iter().any(|r| usize::try_from(r.section).map_or(true, |i| i >= sections)) {
            return Err(MapError("a row in a section the map lacks"));
        }
        let rows = self.rows.len();
        if self.seats.iter().any(|s| usize::try_from(s.row).map_or(true, |i| i >= rows)) {
            return Err(MapError("a seat in a row the map lacks"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan::from_json(
            br##"{"name":"Hall","size":{"width":400,"height":300},
            "categories":[{"name":"A","color":"#c00"},{"name":"B","color":"#00c"}],
            "sections":[{"name":"Stalls","rows":[
              {"label":"E","seats":[{"id":"e1","label":"1","x":50,"y":100,"category":"A"},{"id":"e2","label":"2","x":80,"y":100,"category":"A","wheelchair":true}]},
              {"label":"F","seats":[{"id":"f12","label":"12","x":50.4,"y":130,"category":"B","restricted_view":true}]}]},
              {"name":"Balcony","rows":[{"label":"A","seats":[{"id":"b1","label":"1","x":50,"y":250,"category":"B"}]}]}]}"##,
        )
        .unwrap()
    }

    #[test]
    fn numbers_follow_the_plan_and_name_the_seat_as_staff_say_it() {
        let plan = plan();
        plan.check().unwrap();
        let map = SeatMap::from_plan(&plan, |c| Some(TicketTypeId(if c == "A" { 1 } else { 2 })));
        map.check().unwrap();
        assert_eq!(map.seats.len(), plan.seats().count());
        assert_eq!(map.name(SeatNumber(2)).unwrap().to_string(), "Stalls · Row F · Seat 12");
        assert_eq!(map.name(SeatNumber(3)).unwrap().to_string(), "Balcony · Row A · Seat 1");
        assert_eq!(map.name(SeatNumber(4)), None);
        assert_eq!((map.seats[1].flags, map.seats[2].flags), (WHEELCHAIR, RESTRICTED_VIEW));
        assert_eq!((map.seats[2].x, map.seats[2].ticket_type), (50, TicketTypeId(2)));
    }

    #[test]
    fn the_drawing_keeps_the_stage_and_grows_to_hold_it() {
        let mut plan = plan();
        plan.shapes = serde_json::from_str(
            r#"[{"shape":"rectangle","x":40,"y":10,"width":600,"height":40,"text":"STAGE"}]"#,
        )
        .unwrap();
        plan.size.width = 700.0;
        plan.check().unwrap();
        let map = SeatMap::from_plan(&plan, |_| Some(TicketTypeId(1)));
        map.check().unwrap();
        let drawing = map.drawing(|_| "Seat".into());
        assert_eq!(drawing.shapes, plan.shapes);
        assert!(drawing.size.width >= 640.0, "the stage fits: {:?}", drawing.size);
        let mut crowded = map;
        crowded.shapes = vec![crowded.shapes[0].clone(); 1_001];
        assert!(crowded.check().is_err());
    }

    #[test]
    fn a_map_pointing_outside_itself_is_refused() {
        let mut map = SeatMap::from_plan(&plan(), |_| Some(TicketTypeId(1)));
        map.seats[0].row = 99;
        assert!(map.check().is_err());
        let mut map = SeatMap::from_plan(&plan(), |_| Some(TicketTypeId(1)));
        map.rows[0].section = 7;
        assert!(map.check().is_err());
        let mut map = SeatMap::from_plan(&plan(), |_| Some(TicketTypeId(1)));
        map.sections[0] = "x".repeat(201);
        assert!(map.check().is_err());
    }
}
