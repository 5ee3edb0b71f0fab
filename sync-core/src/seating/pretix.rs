//! pretix's seating-plan JSON (its public schema, `seating-plan.schema.json`), read and
//! written, so a venue moving from pretix brings its plans and one moving on takes them along.
//!
//! How the two formats meet:
//!
//! | pretix | native |
//! |---|---|
//! | `zones[]` (`name`, `position`) | `sections[]`; seat and area positions are relative to their zone and become absolute |
//! | `rows[]` (`row_number`, `row_label`) | `rows[]`: the label is `row_label`, else `row_number` |
//! | `seats[]` (`seat_guid`, `seat_number`, `position`, `category`) | `seats[]` (`id`, `label`, `x`, `y`, `category`) |
//! | `areas[]` (`rectangle`, `circle`, `ellipse`, `polygon`, `text`) | `shapes[]` |
//! | `categories[]`, `size`, `name` | the same |
//!
//! What pretix's format cannot say is lost on export and defaults on import: accessibility
//! flags, standing areas (exported as rectangles with their name and capacity as text), the
//! focus, row curves. Rotations of shapes other than rectangles are dropped on import.

use super::plan::{Category, Plan, PlanError, Point, Row, Seat, Section, Shape, Size};
use serde::{Deserialize, Serialize};

/// A pretix seating plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PretixPlan {
    name: String,
    #[serde(default)]
    categories: Vec<PretixCategory>,
    zones: Vec<Zone>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<PretixSize>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PretixSize {
    width: f64,
    height: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PretixCategory {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    color: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(clippy::struct_field_names)] // pretix's names
struct Zone {
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    zone_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    displayed: Option<bool>,
    position: Point,
    rows: Vec<PretixRow>,
    #[serde(default)]
    areas: Vec<Area>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PretixRow {
    row_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    row_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seat_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uuid: Option<String>,
    seats: Vec<PretixSeat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    row_number_position: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    number_of_seats: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seats_spacing: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<Point>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PretixSeat {
    seat_guid: String,
    seat_number: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_direction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    radius: Option<f64>,
    position: Point,
    category: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Area {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    border_color: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rotation: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<Point>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uuid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shape: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    polygon: Option<Polygon>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rectangle: Option<Rect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ellipse: Option<Ellipse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    circle: Option<Circle>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<AreaText>,
    // The schema's first version put the size on the area itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    height: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Polygon {
    points: Vec<Point>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rect {
    width: f64,
    height: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Ellipse {
    radius: Point,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Circle {
    radius: f64,
}

/// pretix's first schema had `text` as a plain string; the current one as an object.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum AreaText {
    Plain(String),
    Placed {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        color: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        position: Option<Point>,
    },
}

impl AreaText {
    fn words(&self) -> &str {
        match self {
            Self::Plain(t) | Self::Placed { text: t, .. } => t,
        }
    }
}

/// Reads a pretix seating plan into the native format (then [`Plan::check`] it).
///
/// # Errors
/// Not JSON, or not pretix's format: the line and column and what was expected; an area
/// without the size its shape needs.
pub fn import(text: &[u8]) -> Result<Plan, PlanError> {
    let p: PretixPlan = serde_json::from_slice(text)
        .map_err(|e| PlanError { path: "plan".into(), message: e.to_string() })?;
    let mut shapes = Vec::new();
    let mut sections = Vec::new();
    let (mut right, mut bottom) = (0.0f64, 0.0f64);
    for (z, zone) in p.zones.into_iter().enumerate() {
        let (zx, zy) = (zone.position.x, zone.position.y);
        let rows = zone
            .rows
            .into_iter()
            .map(|row| Row {
                label: row.row_label.filter(|l| !l.trim().is_empty()).unwrap_or(row.row_number),
                curve: 0.0,
                seats: row
                    .seats
                    .into_iter()
                    .map(|s| {
                        right = right.max(zx + s.position.x);
                        bottom = bottom.max(zy + s.position.y);
                        Seat {
                            id: s.seat_guid,
                            label: s.seat_number,
                            x: zx + s.position.x,
                            y: zy + s.position.y,
                            category: s.category,
                            wheelchair: false,
                            companion: false,
                            restricted_view: false,
                        }
                    })
                    .collect(),
            })
            .collect();
        for (a, area) in zone.areas.into_iter().enumerate() {
            shapes.push(
                shape(area, zx, zy)
                    .map_err(|message| PlanError { path: format!("zones[{z}].areas[{a}]"), message })?,
            );
        }
        let name = if zone.name.trim().is_empty() { format!("Zone {}", z + 1) } else { zone.name };
        sections.push(Section { name, rows, standing: vec![] });
    }
    let size =
        p.size.map_or(Size { width: (right + 20.0).max(1.0), height: (bottom + 20.0).max(1.0) }, |s| Size {
            width: s.width,
            height: s.height,
        });
    Ok(Plan {
        name: p.name,
        size,
        focus: None,
        categories: p
            .categories
            .into_iter()
            .map(|c| Category { name: c.name, color: c.color.unwrap_or_else(|| "#888888".into()) })
            .collect(),
        sections,
        shapes,
    })
}

fn shape(area: Area, zx: f64, zy: f64) -> Result<Shape, String> {
    let at = area.position.unwrap_or(Point { x: 0.0, y: 0.0 });
    let (x, y) = (zx + at.x, zy + at.y);
    let color = area.color.clone().unwrap_or_default();
    let text = area.text.as_ref().map(|t| t.words().to_owned()).unwrap_or_default();
    let kind = area.shape.as_deref().unwrap_or("rectangle");
    Ok(match kind {
        "rectangle" => {
            let (width, height) = match (&area.rectangle, area.width, area.height) {
                (Some(r), _, _) => (r.width, r.height),
                (None, Some(w), Some(h)) => (w, h),
                _ => return Err("a rectangle needs a width and a height".into()),
            };
            Shape::Rectangle { x, y, width, height, rotation: area.rotation.unwrap_or(0.0), color, text }
        }
        "circle" => {
            let r = area.circle.as_ref().ok_or("a circle needs a radius")?.radius;
            Shape::Ellipse { x, y, rx: r, ry: r, color, text }
        }
        "ellipse" => {
            let r = area.ellipse.as_ref().ok_or("an ellipse needs its radii")?.radius;
            Shape::Ellipse { x, y, rx: r.x, ry: r.y, color, text }
        }
        "polygon" => {
            let points = area.polygon.ok_or("a polygon needs its points")?.points;
            Shape::Polygon {
                points: points.iter().map(|p| Point { x: x + p.x, y: y + p.y }).collect(),
                color,
                text,
            }
        }
        "text" => {
            let (size, color) = match &area.text {
                Some(AreaText::Placed { size, color: c, .. }) => {
                    (size.unwrap_or(16.0), c.clone().unwrap_or(color))
                }
                _ => (16.0, color),
            };
            Shape::Text { x, y, text, size, color }
        }
        other => return Err(format!("unknown shape {other:?}: polygon, rectangle, ellipse, circle or text")),
    })
}

/// Writes `plan` in pretix's format: one zone per section at (0, 0), with absolute positions.
pub fn export(plan: &Plan) -> PretixPlan {
    let zones = plan
        .sections
        .iter()
        .enumerate()
        .map(|(i, section)| Zone {
            name: section.name.clone(),
            zone_id: Some(format!("z{}", i + 1)),
            uuid: None,
            displayed: None,
            position: Point { x: 0.0, y: 0.0 },
            rows: section
                .rows
                .iter()
                .map(|row| PretixRow {
                    row_number: row.label.clone(),
                    row_label: None,
                    seat_label: None,
                    uuid: None,
                    seats: row
                        .seats
                        .iter()
                        .map(|s| PretixSeat {
                            seat_guid: s.id.clone(),
                            seat_number: s.label.clone(),
                            uuid: None,
                            start_direction: None,
                            radius: None,
                            position: Point { x: s.x, y: s.y },
                            category: s.category.clone(),
                        })
                        .collect(),
                    row_number_position: None,
                    number_of_seats: None,
                    seats_spacing: None,
                    position: None,
                })
                .collect(),
            areas: section
                .standing
                .iter()
                .map(|a| Area {
                    shape: Some("rectangle".into()),
                    position: Some(Point { x: a.x, y: a.y }),
                    rectangle: Some(Rect { width: a.width, height: a.height }),
                    text: Some(AreaText::Placed {
                        text: format!("{} ({})", a.name, a.capacity),
                        color: None,
                        size: None,
                        position: None,
                    }),
                    ..Area::default()
                })
                .chain(if i == 0 { plan.shapes.iter().map(area).collect() } else { vec![] })
                .collect(),
        })
        .collect();
    PretixPlan {
        name: plan.name.clone(),
        categories: plan
            .categories
            .iter()
            .map(|c| PretixCategory { name: c.name.clone(), color: Some(c.color.clone()) })
            .collect(),
        zones,
        size: Some(PretixSize { width: plan.size.width, height: plan.size.height }),
    }
}

fn area(shape: &Shape) -> Area {
    let words = |t: &str| {
        (!t.is_empty()).then(|| AreaText::Placed {
            text: t.to_owned(),
            color: None,
            size: None,
            position: None,
        })
    };
    let fill = |c: &str| (!c.is_empty()).then(|| c.to_owned());
    match shape {
        Shape::Rectangle { x, y, width, height, rotation, color, text } => Area {
            shape: Some("rectangle".into()),
            position: Some(Point { x: *x, y: *y }),
            rectangle: Some(Rect { width: *width, height: *height }),
            rotation: (*rotation != 0.0).then_some(*rotation),
            color: fill(color),
            text: words(text),
            ..Area::default()
        },
        Shape::Ellipse { x, y, rx, ry, color, text } => Area {
            shape: Some("ellipse".into()),
            position: Some(Point { x: *x, y: *y }),
            ellipse: Some(Ellipse { radius: Point { x: *rx, y: *ry } }),
            color: fill(color),
            text: words(text),
            ..Area::default()
        },
        Shape::Polygon { points, color, text } => Area {
            shape: Some("polygon".into()),
            position: Some(Point { x: 0.0, y: 0.0 }),
            polygon: Some(Polygon { points: points.clone() }),
            color: fill(color),
            text: words(text),
            ..Area::default()
        },
        Shape::Text { x, y, text, size, color } => Area {
            shape: Some("text".into()),
            position: Some(Point { x: *x, y: *y }),
            text: Some(AreaText::Placed {
                text: text.clone(),
                color: fill(color),
                size: Some(*size),
                position: None,
            }),
            ..Area::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan as pretix's own test suite writes one (zone, row, seats, a stage).
    const GROSSER_SAAL: &str = r##"{
      "name": "Grosser Saal",
      "categories": [{"name": "Stalls", "color": "red"}, {"name": "Balcony"}],
      "zones": [
        {"name": "Main Area", "position": {"x": 0, "y": 0},
         "rows": [
           {"row_number": "0", "seats": [
             {"seat_guid": "0-0", "seat_number": "0-0", "position": {"x": 0, "y": 0}, "category": "Stalls"},
             {"seat_guid": "0-1", "seat_number": "0-1", "position": {"x": 33, "y": 0}, "category": "Stalls"}]}],
         "areas": [
           {"shape": "rectangle", "position": {"x": 0, "y": 60}, "rectangle": {"width": 100, "height": 20},
            "color": "#ccc", "text": {"text": "STAGE", "position": {"x": 10, "y": 10}}}]},
        {"name": "Balcony", "position": {"x": 0, "y": 100}, "zone_id": "b", "uuid": "9d1e",
         "rows": [
           {"row_number": "1", "row_label": "Row 1", "seats": [
             {"seat_guid": "b-1", "seat_number": "1", "position": {"x": 10, "y": 5}, "category": "Balcony", "radius": 10}]}]}
      ],
      "size": {"width": 200, "height": 200}
    }"##;

    #[test]
    fn a_pretix_plan_imports_with_absolute_positions() {
        let plan = import(GROSSER_SAAL.as_bytes()).unwrap();
        let summary = plan.check().unwrap();
        assert_eq!(summary.seats["Stalls"], 2);
        assert_eq!(summary.seats["Balcony"], 1);
        let balcony = &plan.sections[1].rows[0];
        assert_eq!(balcony.label, "Row 1");
        assert_eq!((balcony.seats[0].x, balcony.seats[0].y), (10.0, 105.0), "zone offset added");
        assert_eq!(plan.categories[1].color, "#888888");
        assert!(matches!(&plan.shapes[0], Shape::Rectangle { text, .. } if text == "STAGE"));
    }

    #[test]
    fn export_then_import_keeps_every_seat() {
        let plan = import(GROSSER_SAAL.as_bytes()).unwrap();
        let again = import(&serde_json::to_vec(&export(&plan)).unwrap()).unwrap();
        assert_eq!(again.seats().count(), plan.seats().count());
        assert_eq!(
            again.seats().map(|(_, _, s)| s.clone()).collect::<Vec<_>>(),
            plan.seats().map(|(_, _, s)| s.clone()).collect::<Vec<_>>()
        );
        assert_eq!(again.shapes, plan.shapes);
        assert_eq!(again.categories, plan.categories);
    }

    #[test]
    fn the_fuzzers_seed_is_a_good_plan() {
        let plan = import(include_bytes!("../../fuzz/seeds/seat_plan/pretix.json")).unwrap();
        assert_eq!(plan.check().unwrap().seats["Stalls"], 2);
    }

    #[test]
    fn not_pretix_is_refused_in_words() {
        let e = import(br#"{"name": "x", "zones": [{"rows": []}]}"#).unwrap_err();
        assert!(e.message.contains("missing field `position`"), "{e}");
        let e = import(br#"{"name": "x", "zones": [{"position": {"x":0,"y":0}, "rows": [], "areas": [{"shape": "star"}]}]}"#)
            .unwrap_err();
        assert_eq!(e.path, "zones[0].areas[0]");
    }
}
