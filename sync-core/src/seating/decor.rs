//! The shapes of a [`super::SeatMap`]: the plan's stage, bars, exits and texts, so a box
//! office drawing the map offline shows where the stage is.
//!
//! A plan's [`Shape`] is JSON with a `shape` tag and `f64` coordinates; the map travels in the
//! journal as postcard, which cannot read internally tagged enums, so the map keeps its own
//! copy: the same kinds, coordinates rounded like the seats', and bounds checked on arrival.

use super::plan::{Point, Shape};
use serde::{Deserialize, Serialize};

/// Most shapes in a map (as in a plan).
pub const MAX_SHAPES: usize = 1_000;
/// Most corners of a polygon (as in a plan).
const MAX_POINTS: usize = 200;
/// Longest text or colour (a plan's texts are at most 200 characters).
const MAX_TEXT: usize = 800;

/// A shape of the map: drawn, never sold. Plan units, rounded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MapShape {
    /// A rectangle from its top left corner, turned `rotation` degrees clockwise about it.
    Rectangle {
        /// Corner and size.
        x: i32,
        /// Corner.
        y: i32,
        /// Width.
        width: i32,
        /// Height.
        height: i32,
        /// Degrees clockwise.
        rotation: i32,
        /// Fill colour ("" for the default).
        color: String,
        /// Text written in it ("STAGE").
        text: String,
    },
    /// An ellipse about its centre.
    Ellipse {
        /// Centre.
        x: i32,
        /// Centre.
        y: i32,
        /// Horizontal radius.
        rx: i32,
        /// Vertical radius.
        ry: i32,
        /// Fill colour.
        color: String,
        /// Text written in it.
        text: String,
    },
    /// A polygon.
    Polygon {
        /// Its corners.
        points: Vec<(i32, i32)>,
        /// Fill colour.
        color: String,
        /// Text written in it.
        text: String,
    },
    /// A text on its own ("EXIT").
    Text {
        /// Where it starts.
        x: i32,
        /// Its baseline.
        y: i32,
        /// Its size.
        size: i32,
        /// Its colour.
        color: String,
        /// What it says.
        text: String,
    },
}

#[allow(clippy::cast_possible_truncation)] // a checked plan keeps within ±100,000
fn round(v: f64) -> i32 {
    v.round() as i32
}

impl MapShape {
    /// The map's copy of a (checked) plan's shape.
    pub fn from_plan(shape: &Shape) -> Self {
        match shape {
            Shape::Rectangle { x, y, width, height, rotation, color, text } => Self::Rectangle {
                x: round(*x),
                y: round(*y),
                width: round(*width),
                height: round(*height),
                rotation: round(*rotation),
                color: color.clone(),
                text: text.clone(),
            },
            Shape::Ellipse { x, y, rx, ry, color, text } => Self::Ellipse {
                x: round(*x),
                y: round(*y),
                rx: round(*rx),
                ry: round(*ry),
                color: color.clone(),
                text: text.clone(),
            },
            Shape::Polygon { points, color, text } => Self::Polygon {
                points: points.iter().map(|p| (round(p.x), round(p.y))).collect(),
                color: color.clone(),
                text: text.clone(),
            },
            Shape::Text { x, y, text, size, color } => Self::Text {
                x: round(*x),
                y: round(*y),
                size: round(*size),
                color: color.clone(),
                text: text.clone(),
            },
        }
    }

    /// As a plan's shape again (to draw).
    pub fn to_plan(&self) -> Shape {
        let f = f64::from;
        match self {
            Self::Rectangle { x, y, width, height, rotation, color, text } => Shape::Rectangle {
                x: f(*x),
                y: f(*y),
                width: f(*width),
                height: f(*height),
                rotation: f(*rotation),
                color: color.clone(),
                text: text.clone(),
            },
            Self::Ellipse { x, y, rx, ry, color, text } => Shape::Ellipse {
                x: f(*x),
                y: f(*y),
                rx: f(*rx),
                ry: f(*ry),
                color: color.clone(),
                text: text.clone(),
            },
            Self::Polygon { points, color, text } => Shape::Polygon {
                points: points.iter().map(|(x, y)| Point { x: f(*x), y: f(*y) }).collect(),
                color: color.clone(),
                text: text.clone(),
            },
            Self::Text { x, y, size, color, text } => {
                Shape::Text { x: f(*x), y: f(*y), text: text.clone(), size: f(*size), color: color.clone() }
            }
        }
    }

    /// The lowest right corner it reaches (the drawing's size covers it).
    pub fn reach(&self) -> (i32, i32) {
        match self {
            Self::Rectangle { x, y, width, height, .. } => {
                (x.saturating_add(*width), y.saturating_add(*height))
            }
            Self::Ellipse { x, y, rx, ry, .. } => (x.saturating_add(*rx), y.saturating_add(*ry)),
            Self::Polygon { points, .. } => {
                points.iter().fold((0, 0), |(a, b), (x, y)| (a.max(*x), b.max(*y)))
            }
            Self::Text { x, y, size, text, .. } => {
                let wide = i32::try_from(text.chars().count()).unwrap_or(i32::MAX).saturating_mul(*size);
                (x.saturating_add(wide), *y)
            }
        }
    }

    /// Whether it keeps to the bounds a map arriving over sync must (texts and polygons).
    pub fn within_bounds(&self) -> bool {
        let (color, text) = match self {
            Self::Rectangle { color, text, .. }
            | Self::Ellipse { color, text, .. }
            | Self::Polygon { color, text, .. }
            | Self::Text { color, text, .. } => (color, text),
        };
        let points_ok = match self {
            Self::Polygon { points, .. } => (3..=MAX_POINTS).contains(&points.len()),
            _ => true,
        };
        color.len() <= MAX_TEXT && text.len() <= MAX_TEXT && points_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_shape_comes_back_as_drawn_rounded() {
        let shapes: Vec<Shape> = serde_json::from_str(
            r##"[{"shape":"rectangle","x":40.4,"y":10,"width":230,"height":40,"rotation":5,"color":"#333","text":"STAGE"},
                 {"shape":"ellipse","x":300,"y":50,"rx":20,"ry":10,"text":"Bar"},
                 {"shape":"polygon","points":[{"x":0,"y":0},{"x":10,"y":0},{"x":5,"y":9.6}]},
                 {"shape":"text","x":5,"y":290,"text":"EXIT","size":12}]"##,
        )
        .unwrap();
        let back: Vec<Shape> = shapes.iter().map(|s| MapShape::from_plan(s).to_plan()).collect();
        let mut rounded = shapes.clone();
        if let Shape::Rectangle { x, .. } = &mut rounded[0] {
            *x = 40.0;
        }
        if let Shape::Polygon { points, .. } = &mut rounded[2] {
            points[2].y = 10.0;
        }
        assert_eq!(back, rounded);
        let map: Vec<MapShape> = shapes.iter().map(MapShape::from_plan).collect();
        assert_eq!(map[0].reach(), (270, 50));
        assert_eq!(map[3].reach(), (53, 290));
        assert!(map.iter().all(MapShape::within_bounds));
    }

    #[test]
    fn a_polygon_of_two_points_or_a_huge_text_is_out_of_bounds() {
        let line =
            MapShape::Polygon { points: vec![(0, 0), (1, 1)], color: String::new(), text: String::new() };
        assert!(!line.within_bounds());
        let text = MapShape::Text { x: 0, y: 0, size: 16, color: String::new(), text: "x".repeat(801) };
        assert!(!text.within_bounds());
    }
}
