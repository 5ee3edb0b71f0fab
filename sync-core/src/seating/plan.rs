//! The native seat-plan format and its rules.
//!
//! Coordinates are plan units, `x` to the right and `y` down, from the plan's top left corner;
//! a seat is drawn as a circle of radius [`SEAT_RADIUS`] (10 units, as in pretix), so rows are
//! usually 25–35 units apart. The plan's `focus` is where the audience looks (the stage): best
//! available seats are the free ones closest to it.
//!
//! [`Plan::check`] enforces, in this order, and names the first rule broken with its path:
//!
//! 1. sizes: a name of 1–200 characters; width and height finite, 1–100,000 units; at most
//!    [`MAX_SEATS`] seats, [`MAX_ROWS`] rows, 100 sections, 200 categories, 1,000 shapes;
//! 2. categories: a non-empty name of at most 64 characters, each once, and a colour
//!    (`#rgb`, `#rrggbb` or a CSS colour word);
//! 3. seats: an id of 1–64 printable characters without spaces, unique in the whole plan
//!    (standing areas included) — the id is what orders and tickets keep; a label of 1–16
//!    characters; a category of the plan; a position inside the plan; a row label of 1–16
//!    characters; no two seats of a row at the same place;
//! 4. standing areas: a rectangle inside the plan, a category, a capacity of 1 or more and at
//!    most one person per [`PERSON_AREA`] square units of its area, no two areas overlapping,
//!    and no seat inside one;
//! 5. shapes: finite coordinates, a text of at most 200 characters, polygons of 3–200 points.
//!
//! A plan that passes can be sold: every seat has one category and one place, every standing
//! place fits its area, and nothing in it is ambiguous.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// How big a seat is drawn (plan units).
pub const SEAT_RADIUS: f64 = 10.0;
/// The floor a standing person takes at most density (square plan units: a seat's square,
/// 20 × 20): a standing area of `w × h` holds at most `w·h / PERSON_AREA` people.
pub const PERSON_AREA: f64 = 400.0;
/// Most seats in one plan (the largest arenas have about 20,000).
pub const MAX_SEATS: usize = 50_000;
/// Most rows in one plan.
pub const MAX_ROWS: usize = 5_000;
/// Largest coordinate or size.
const MAX_UNITS: f64 = 100_000.0;

/// A seat plan.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// What the venue calls the hall ("Grosse Saal").
    pub name: String,
    /// The drawing's size.
    pub size: Size,
    /// Where the audience looks (the stage): best available seats are closest to it. Default:
    /// the middle of the top edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<Point>,
    /// The price levels, with the colour the map draws their seats in.
    pub categories: Vec<Category>,
    /// The sections (zones: stalls, balcony).
    #[serde(default)]
    pub sections: Vec<Section>,
    /// What only decorates: stage, bar, exits, labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shapes: Vec<Shape>,
}

/// A width and a height.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Size {
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// A place on the plan.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// To the right.
    pub x: f64,
    /// Down.
    pub y: f64,
}

/// A price level ("stalls", "balcony"); an event maps each to a ticket type.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Its name, unique in the plan.
    pub name: String,
    /// The colour its seats are drawn in.
    pub color: String,
}

/// A section of the hall.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Its name, printed on tickets ("Stalls").
    pub name: String,
    /// Its rows, front to back as drawn.
    #[serde(default)]
    pub rows: Vec<Row>,
    /// Its standing areas.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub standing: Vec<Standing>,
}

/// A row of seats.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// Its label, printed on tickets ("F").
    pub label: String,
    /// How far the builder bent it (0: straight; kept so the builder can edit it again; the
    /// seats' positions are what counts).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub curve: f64,
    /// Its seats, in the order they stand (left to right as drawn); best available keeps
    /// seats together by this order.
    pub seats: Vec<Seat>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// One seat.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seat {
    /// Its id, unique in the plan and stable across edits: orders and tickets keep it.
    pub id: String,
    /// Its label, printed on tickets ("12").
    pub label: String,
    /// Where it is.
    pub x: f64,
    /// Where it is.
    pub y: f64,
    /// Its category.
    pub category: String,
    /// A wheelchair space.
    #[serde(default, skip_serializing_if = "is_false")]
    pub wheelchair: bool,
    /// A companion seat beside a wheelchair space.
    #[serde(default, skip_serializing_if = "is_false")]
    pub companion: bool,
    /// The view of the stage is restricted (a pillar, a steep angle).
    #[serde(default, skip_serializing_if = "is_false")]
    pub restricted_view: bool,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_false(v: &bool) -> bool {
    !*v
}

/// A standing (general admission) area: sold by number, not by place.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Standing {
    /// Its id, unique in the plan.
    pub id: String,
    /// Its name ("Front of stage").
    pub name: String,
    /// Its category.
    pub category: String,
    /// How many people it holds.
    pub capacity: u32,
    /// Its top left corner.
    pub x: f64,
    /// Its top left corner.
    pub y: f64,
    /// Its width.
    pub width: f64,
    /// Its height.
    pub height: f64,
}

/// A shape that only decorates.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "shape", rename_all = "lowercase", deny_unknown_fields)]
pub enum Shape {
    /// A rectangle from its top left corner, turned `rotation` degrees clockwise about it.
    Rectangle {
        /// Corner.
        x: f64,
        /// Corner.
        y: f64,
        /// Width.
        width: f64,
        /// Height.
        height: f64,
        /// Degrees clockwise.
        #[serde(default)]
        rotation: f64,
        /// Fill colour.
        #[serde(default)]
        color: String,
        /// Text written in it ("STAGE").
        #[serde(default)]
        text: String,
    },
    /// An ellipse (a circle when both radii are equal) about its centre.
    Ellipse {
        /// Centre.
        x: f64,
        /// Centre.
        y: f64,
        /// Horizontal radius.
        rx: f64,
        /// Vertical radius.
        ry: f64,
        /// Fill colour.
        #[serde(default)]
        color: String,
        /// Text written in it.
        #[serde(default)]
        text: String,
    },
    /// A polygon.
    Polygon {
        /// Its corners.
        points: Vec<Point>,
        /// Fill colour.
        #[serde(default)]
        color: String,
        /// Text written in it.
        #[serde(default)]
        text: String,
    },
    /// A text on its own ("EXIT").
    Text {
        /// Where it starts.
        x: f64,
        /// Its baseline.
        y: f64,
        /// What it says.
        text: String,
        /// Its size (plan units).
        #[serde(default = "text_size")]
        size: f64,
        /// Its colour.
        #[serde(default)]
        color: String,
    },
}

fn text_size() -> f64 {
    16.0
}

/// Why a plan was refused: where (a JSON path such as `sections[0].rows[3].seats[7].category`)
/// and what is wrong, in words an organizer can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PlanError {
    /// Where.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn refuse<T>(path: impl Into<String>, message: impl Into<String>) -> Result<T, PlanError> {
    Err(PlanError { path: path.into(), message: message.into() })
}

/// What a plan holds, per category.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Seats per category (every category of the plan, 0 if none).
    pub seats: BTreeMap<String, u32>,
    /// Standing places per category (categories with standing areas only).
    pub standing: BTreeMap<String, u32>,
}

impl Summary {
    /// Seats in all.
    pub fn total_seats(&self) -> u32 {
        self.seats.values().sum()
    }
}

impl Plan {
    /// Reads a plan in the native format (a clear error for anything else).
    ///
    /// # Errors
    /// Not JSON, or not a plan: the line and column, and what was expected.
    pub fn from_json(text: &[u8]) -> Result<Self, PlanError> {
        serde_json::from_slice(text).map_err(|e| PlanError { path: "plan".into(), message: e.to_string() })
    }

    /// Every seat with where it stands: (section, row, seat) indexes in plan order.
    pub fn seats(&self) -> impl Iterator<Item = (usize, usize, &Seat)> + '_ {
        self.sections.iter().enumerate().flat_map(|(s, section)| {
            section
                .rows
                .iter()
                .enumerate()
                .flat_map(move |(r, row)| row.seats.iter().map(move |seat| (s, r, seat)))
        })
    }

    /// Where the audience looks: `focus`, or the middle of the top edge.
    pub fn focus(&self) -> Point {
        self.focus.unwrap_or(Point { x: self.size.width / 2.0, y: 0.0 })
    }

    /// Checks every rule above; what the plan holds.
    ///
    /// # Errors
    /// The first rule broken, with its path.
    pub fn check(&self) -> Result<Summary, PlanError> {
        self.check_sizes()?;
        let categories = self.check_categories()?;
        let mut summary = Summary {
            seats: categories.iter().map(|c| ((*c).to_owned(), 0)).collect(),
            standing: BTreeMap::new(),
        };
        let mut ids = HashSet::new();
        for (s, section) in self.sections.iter().enumerate() {
            text(&format!("sections[{s}].name"), &section.name, 1, 100)?;
            for (r, row) in section.rows.iter().enumerate() {
                let at = format!("sections[{s}].rows[{r}]");
                text(&format!("{at}.label"), &row.label, 1, 16)?;
                finite(&format!("{at}.curve"), row.curve)?;
                let mut places = HashSet::new();
                for (i, seat) in row.seats.iter().enumerate() {
                    let at = format!("{at}.seats[{i}]");
                    self.check_seat(&at, seat, &categories, &mut ids)?;
                    if !places.insert((seat.x.to_bits(), seat.y.to_bits())) {
                        return refuse(at, "two seats of this row stand at the same place");
                    }
                    *summary.seats.entry(seat.category.clone()).or_default() += 1;
                }
            }
        }
        self.check_standing(&categories, &mut ids, &mut summary)?;
        self.check_shapes()?;
        Ok(summary)
    }

    fn check_sizes(&self) -> Result<(), PlanError> {
        text("name", &self.name, 1, 200)?;
        for (field, v) in [("size.width", self.size.width), ("size.height", self.size.height)] {
            if !(1.0..=MAX_UNITS).contains(&v) {
                return refuse(field, "between 1 and 100,000 units");
            }
        }
        if let Some(f) = self.focus {
            self.inside("focus", f.x, f.y)?;
        }
        let rows: usize = self.sections.iter().map(|s| s.rows.len()).sum();
        let seats = self.seats().count();
        for (field, n, max) in [
            ("sections", self.sections.len(), 100),
            ("categories", self.categories.len(), 200),
            ("shapes", self.shapes.len(), 1_000),
            ("sections[].rows", rows, MAX_ROWS),
            ("sections[].rows[].seats", seats, MAX_SEATS),
        ] {
            if n > max {
                return refuse(field, format!("at most {max} in one plan ({n} given)"));
            }
        }
        if self.categories.is_empty() {
            return refuse("categories", "a plan needs at least one category");
        }
        Ok(())
    }

    fn check_categories(&self) -> Result<HashSet<&str>, PlanError> {
        let mut names = HashSet::new();
        for (i, c) in self.categories.iter().enumerate() {
            text(&format!("categories[{i}].name"), &c.name, 1, 64)?;
            if !names.insert(c.name.as_str()) {
                return refuse(
                    format!("categories[{i}].name"),
                    format!("the category {:?} is named twice", c.name),
                );
            }
            if !color(&c.color) {
                return refuse(
                    format!("categories[{i}].color"),
                    "a colour: #rgb, #rrggbb or a CSS colour word",
                );
            }
        }
        Ok(names)
    }

    fn check_seat<'a>(
        &self,
        at: &str,
        seat: &'a Seat,
        categories: &HashSet<&str>,
        ids: &mut HashSet<&'a str>,
    ) -> Result<(), PlanError> {
        id(&format!("{at}.id"), &seat.id)?;
        if !ids.insert(seat.id.as_str()) {
            return refuse(format!("{at}.id"), format!("the seat id {:?} is used twice", seat.id));
        }
        text(&format!("{at}.label"), &seat.label, 1, 16)?;
        if !categories.contains(seat.category.as_str()) {
            return refuse(
                format!("{at}.category"),
                if seat.category.is_empty() {
                    "every seat needs a category".to_owned()
                } else {
                    format!("no category {:?} in this plan", seat.category)
                },
            );
        }
        self.inside(at, seat.x, seat.y)
    }

    fn check_standing<'a>(
        &'a self,
        categories: &HashSet<&str>,
        ids: &mut HashSet<&'a str>,
        summary: &mut Summary,
    ) -> Result<(), PlanError> {
        let mut areas: Vec<(String, &Standing)> = Vec::new();
        for (s, section) in self.sections.iter().enumerate() {
            for (i, a) in section.standing.iter().enumerate() {
                let at = format!("sections[{s}].standing[{i}]");
                id(&format!("{at}.id"), &a.id)?;
                if !ids.insert(a.id.as_str()) {
                    return refuse(format!("{at}.id"), format!("the id {:?} is used twice", a.id));
                }
                text(&format!("{at}.name"), &a.name, 1, 100)?;
                if !categories.contains(a.category.as_str()) {
                    return refuse(
                        format!("{at}.category"),
                        format!("no category {:?} in this plan", a.category),
                    );
                }
                self.inside(&at, a.x, a.y)?;
                self.inside(&at, a.x + a.width, a.y + a.height)?;
                if !(a.width > 0.0 && a.height > 0.0) {
                    return refuse(&at, "an area needs a width and a height");
                }
                let room = (a.width * a.height / PERSON_AREA).floor();
                if a.capacity == 0 || f64::from(a.capacity) > room {
                    return refuse(
                        format!("{at}.capacity"),
                        format!(
                            "between 1 and {room} for an area of {} × {} (one person per {PERSON_AREA} square units)",
                            a.width, a.height
                        ),
                    );
                }
                if let Some((other, _)) = areas.iter().find(|(_, b)| overlap(a, b)) {
                    return refuse(
                        &at,
                        format!("overlaps the standing area {other}: their places would be sold twice"),
                    );
                }
                if let Some((_, _, seat)) = self.seats().find(|(_, _, seat)| contains(a, seat.x, seat.y)) {
                    return refuse(&at, format!("the seat {:?} stands inside this area", seat.id));
                }
                *summary.standing.entry(a.category.clone()).or_default() += a.capacity;
                areas.push((at, a));
            }
        }
        Ok(())
    }

    fn check_shapes(&self) -> Result<(), PlanError> {
        for (i, shape) in self.shapes.iter().enumerate() {
            let at = format!("shapes[{i}]");
            let (numbers, words): (Vec<f64>, &str) = match shape {
                Shape::Rectangle { x, y, width, height, rotation, text, .. } => {
                    (vec![*x, *y, *width, *height, *rotation], text)
                }
                Shape::Ellipse { x, y, rx, ry, text, .. } => (vec![*x, *y, *rx, *ry], text),
                Shape::Polygon { points, text, .. } => {
                    if !(3..=200).contains(&points.len()) {
                        return refuse(format!("{at}.points"), "a polygon has 3–200 points");
                    }
                    (points.iter().flat_map(|p| [p.x, p.y]).collect(), text)
                }
                Shape::Text { x, y, text, size, .. } => (vec![*x, *y, *size], text),
            };
            for n in numbers {
                finite(&at, n)?;
                if n.abs() > MAX_UNITS {
                    return refuse(&at, "coordinates within ±100,000 units");
                }
            }
            if words.chars().count() > 200 {
                return refuse(format!("{at}.text"), "at most 200 characters");
            }
        }
        Ok(())
    }

    fn inside(&self, at: &str, x: f64, y: f64) -> Result<(), PlanError> {
        if !(x.is_finite() && y.is_finite())
            || x < 0.0
            || y < 0.0
            || x > self.size.width
            || y > self.size.height
        {
            return refuse(
                at,
                format!("({x}, {y}) lies outside the plan (0–{} × 0–{})", self.size.width, self.size.height),
            );
        }
        Ok(())
    }
}

fn overlap(a: &Standing, b: &Standing) -> bool {
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
}

fn contains(a: &Standing, x: f64, y: f64) -> bool {
    x > a.x && x < a.x + a.width && y > a.y && y < a.y + a.height
}

fn finite(at: &str, v: f64) -> Result<(), PlanError> {
    if v.is_finite() { Ok(()) } else { refuse(at, "a finite number") }
}

fn text(at: &str, value: &str, min: usize, max: usize) -> Result<(), PlanError> {
    let n = value.trim().chars().count();
    if n < min || value.chars().count() > max || value.chars().any(char::is_control) {
        return refuse(at, format!("{min}–{max} characters, no control characters"));
    }
    Ok(())
}

fn id(at: &str, value: &str) -> Result<(), PlanError> {
    if value.is_empty() || value.len() > 64 || !value.chars().all(|c| c.is_ascii_graphic()) {
        return refuse(at, "1–64 printable ASCII characters without spaces");
    }
    Ok(())
}

/// `#rgb`, `#rrggbb`, or a CSS colour word (letters only).
fn color(c: &str) -> bool {
    match c.strip_prefix('#') {
        Some(hex) => (hex.len() == 3 || hex.len() == 6) && hex.chars().all(|h| h.is_ascii_hexdigit()),
        None => (1..=32).contains(&c.len()) && c.chars().all(|ch| ch.is_ascii_alphabetic()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hall of `rows` rows of `per_row` seats, category "stalls", 30 units apart.
    fn hall(rows: u8, per_row: u32) -> Plan {
        Plan {
            name: "Hall".into(),
            size: Size { width: 40.0 + 30.0 * f64::from(per_row), height: 100.0 + 30.0 * f64::from(rows) },
            focus: None,
            categories: vec![Category { name: "stalls".into(), color: "#c33".into() }],
            sections: vec![Section {
                name: "Stalls".into(),
                rows: (0..rows)
                    .map(|r| Row {
                        label: ((b'A' + r % 26) as char).to_string(),
                        curve: 0.0,
                        seats: (0..per_row)
                            .map(|i| Seat {
                                id: format!("{r}-{i}"),
                                label: (i + 1).to_string(),
                                x: 20.0 + 30.0 * f64::from(i),
                                y: 80.0 + 30.0 * f64::from(r),
                                category: "stalls".into(),
                                wheelchair: false,
                                companion: false,
                                restricted_view: false,
                            })
                            .collect(),
                    })
                    .collect(),
                standing: vec![],
            }],
            shapes: vec![],
        }
    }

    fn refused(plan: &Plan) -> PlanError {
        plan.check().expect_err("refused")
    }

    #[test]
    fn a_good_plan_counts_its_seats_per_category() {
        let summary = hall(3, 4).check().unwrap();
        assert_eq!(summary.seats["stalls"], 12);
        assert_eq!(summary.total_seats(), 12);
    }

    #[test]
    fn a_seat_id_used_twice_is_refused_with_its_path() {
        let mut plan = hall(2, 3);
        plan.sections[0].rows[1].seats[2].id = "0-1".into();
        let e = refused(&plan);
        assert_eq!(e.path, "sections[0].rows[1].seats[2].id");
        assert!(e.message.contains("used twice"), "{e}");
    }

    #[test]
    fn a_seat_without_a_category_is_refused() {
        let mut plan = hall(1, 2);
        plan.sections[0].rows[0].seats[1].category = String::new();
        assert_eq!(refused(&plan).message, "every seat needs a category");
        plan.sections[0].rows[0].seats[1].category = "balcony".into();
        assert!(refused(&plan).message.contains("no category \"balcony\""));
    }

    #[test]
    fn standing_areas_must_fit_their_capacity_and_not_overlap() {
        let mut plan = hall(1, 2);
        plan.size.height = 1000.0;
        let area = |id: &str, y: f64, capacity: u32| Standing {
            id: id.into(),
            name: "Floor".into(),
            category: "stalls".into(),
            capacity,
            x: 0.0,
            y,
            width: 100.0,
            height: 200.0,
        };
        plan.sections[0].standing = vec![area("ga1", 300.0, 50)];
        assert_eq!(plan.check().unwrap().standing["stalls"], 50);
        plan.sections[0].standing = vec![area("ga1", 300.0, 51)];
        assert!(refused(&plan).message.starts_with("between 1 and 50 "), "100 × 200 / 400 = 50 people");
        plan.sections[0].standing = vec![area("ga1", 300.0, 50), area("ga2", 450.0, 10)];
        assert!(refused(&plan).message.contains("overlaps"));
        plan.sections[0].standing = vec![area("ga1", 50.0, 10)];
        assert!(refused(&plan).message.contains("stands inside this area"));
    }

    #[test]
    fn bad_numbers_and_names_are_refused() {
        let mut plan = hall(1, 2);
        plan.sections[0].rows[0].seats[0].x = f64::NAN;
        assert!(refused(&plan).message.contains("outside the plan"));
        let mut plan = hall(1, 2);
        plan.categories[0].color = "red; background: url(x)".into();
        assert_eq!(refused(&plan).path, "categories[0].color");
        let mut plan = hall(1, 2);
        plan.categories.push(plan.categories[0].clone());
        assert!(refused(&plan).message.contains("named twice"));
        let mut plan = hall(1, 2);
        plan.sections[0].rows[0].seats[1].x = plan.sections[0].rows[0].seats[0].x;
        assert!(refused(&plan).message.contains("same place"));
    }

    #[test]
    fn junk_is_refused_in_words() {
        let e = Plan::from_json(&vec![b'x'; 5 << 20]).unwrap_err();
        assert!(e.message.contains("line 1 column 1"), "{e}");
        assert!(
            Plan::from_json(br#"{"name":"a","size":{"width":1,"height":1},"categories":[],"extra":1}"#)
                .is_err()
        );
    }

    #[test]
    fn the_fuzzers_seed_is_a_good_plan() {
        let plan = Plan::from_json(include_bytes!("../../fuzz/seeds/seat_plan/native.json")).unwrap();
        assert_eq!(plan.check().unwrap().standing["stalls"], 10);
    }

    #[test]
    fn the_native_format_round_trips() {
        let plan = hall(2, 2);
        let text = serde_json::to_vec(&plan).unwrap();
        assert_eq!(Plan::from_json(&text).unwrap(), plan);
    }
}
