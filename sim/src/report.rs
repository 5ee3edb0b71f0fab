//! The outcome of a run: a JSON summary (figures and checks) and an SVG chart of its timeline.

use crate::metrics::Timeline;
use anyhow::Context;
use plotters::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use std::path::Path;

/// One invariant a run must keep, and whether it held.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What must hold, as a sentence.
    pub name: String,
    /// Whether it held.
    pub ok: bool,
    /// The numbers behind the verdict.
    pub detail: String,
}

/// What a run measured and whether its invariants held.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// The scenario's name.
    pub scenario: &'static str,
    /// Its parameters.
    pub parameters: Value,
    /// The hub it ran against.
    pub hub: String,
    /// Simulated devices.
    pub devices: usize,
    /// Wall time of the whole run, setup included, s.
    pub duration_s: f64,
    /// The figures: latencies (p50/p99), convergence time, bytes, sales, double admissions.
    pub figures: Map<String, Value>,
    /// The invariants.
    pub checks: Vec<Check>,
}

impl Summary {
    /// A summary of `scenario` run with `parameters` against `hub`.
    pub fn new(scenario: &'static str, parameters: &impl Serialize, hub: String, devices: usize) -> Self {
        Self {
            scenario,
            parameters: serde_json::to_value(parameters).unwrap_or(Value::Null),
            hub,
            devices,
            duration_s: 0.0,
            figures: Map::new(),
            checks: Vec::new(),
        }
    }

    /// Adds figure `name`.
    pub fn figure(&mut self, name: &str, value: impl Serialize) {
        self.figures.insert(name.to_owned(), serde_json::to_value(value).unwrap_or(Value::Null));
    }

    /// Adds a check.
    pub fn check(&mut self, name: &str, ok: bool, detail: impl Into<String>) {
        self.checks.push(Check { name: name.to_owned(), ok, detail: detail.into() });
    }

    /// Whether the run checked anything and every check held. A run without checks has not
    /// shown anything, so it fails.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.ok)
    }

    /// The checks that failed, one per line (or that there were none).
    pub fn failures(&self) -> String {
        if self.checks.is_empty() {
            return "no checks: the run verified nothing".to_owned();
        }
        let failed: Vec<String> =
            self.checks.iter().filter(|c| !c.ok).map(|c| format!("{}: {}", c.name, c.detail)).collect();
        failed.join("\n")
    }
}

/// Writes `summary.json` and `chart.svg` into `dir`.
pub fn write(dir: &Path, summary: &Summary, timeline: &Timeline) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(summary)? + "\n")?;
    chart(&dir.join("chart.svg"), summary.scenario, timeline)
}

/// The timeline's counters as lines over time.
pub fn chart(path: &Path, title: &str, timeline: &Timeline) -> anyhow::Result<()> {
    let series = timeline.series();
    let x_max = series.iter().flat_map(|(_, s)| s.iter().map(|p| p.0)).fold(1.0, f64::max);
    let y_max = series.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)).max().unwrap_or(1).max(1);
    let root = SVGBackend::new(path, (960, 540)).into_drawing_area();
    let draw = || -> Result<(), Box<dyn std::error::Error>> {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("voelgoed-sim: {title}"), ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, 0u64..y_max + y_max / 20)?;
        chart.configure_mesh().x_desc("seconds").y_desc("count").draw()?;
        for (i, (name, points)) in series.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            chart
                .draw_series(LineSeries::new(points.iter().copied(), colour.stroke_width(2)))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
        root.present()?;
        Ok(())
    };
    draw().map_err(|e| anyhow::anyhow!("drawing {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::Summary;

    fn summary() -> Summary {
        Summary::new("test", &(), "http://127.0.0.1:1".to_owned(), 0)
    }

    #[test]
    fn a_run_without_checks_fails() {
        let summary = summary();
        assert!(!summary.passed());
        assert!(summary.failures().contains("no checks"), "{}", summary.failures());
    }

    #[test]
    fn passes_only_when_every_check_held() {
        let mut summary = summary();
        summary.check("one", true, "1");
        assert!(summary.passed());
        assert_eq!(summary.failures(), "");
        summary.check("two", false, "2 != 3");
        assert!(!summary.passed());
        assert_eq!(summary.failures(), "two: 2 != 3");
    }
}
