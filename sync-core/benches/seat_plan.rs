//! A 20,000-seat arena plan (100 rows of 200, four categories, a stage): how long the hub and
//! the box office take to read it, check it, convert it from and to pretix's format, write it,
//! and choose the best available seats in it — what an organizer's upload and a buyer's "best
//! 4 seats" cost.
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench seat_plan`; figures in docs/benchmarks.md.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use sync_core::seating::best::{self, Spot};
use sync_core::seating::{Plan, pretix};

const ROWS: u32 = 100;
const PER_ROW: u32 = 200;

/// The arena as the native format's JSON.
fn arena() -> Vec<u8> {
    let categories = ["floor", "lower", "upper", "top"];
    let rows: Vec<serde_json::Value> = (0..ROWS)
        .map(|r| {
            let seats: Vec<_> = (0..PER_ROW)
                .map(|s| {
                    serde_json::json!({"id": format!("{r}-{s}"), "label": (s + 1).to_string(),
                        "x": 20 + 25 * s, "y": 200 + 25 * r, "category": categories[(r / 25) as usize]})
                })
                .collect();
            serde_json::json!({"label": (r + 1).to_string(), "seats": seats})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "name": "Arena", "size": {"width": 40 + 25 * PER_ROW, "height": 300 + 25 * ROWS},
        "categories": categories.iter().map(|c| serde_json::json!({"name": c, "color": "#c33"})).collect::<Vec<_>>(),
        "sections": [{"name": "Bowl", "rows": rows}],
        "shapes": [{"shape": "rectangle", "x": 1000, "y": 20, "width": 3000, "height": 120, "text": "STAGE"}]
    }))
    .unwrap()
}

fn plan(c: &mut Criterion) {
    let json = arena();
    let plan = Plan::from_json(&json).unwrap();
    assert_eq!(plan.check().unwrap().total_seats(), ROWS * PER_ROW);
    let pretix_json = serde_json::to_vec(&pretix::export(&plan)).unwrap();
    println!(
        "20,000 seats: {} KB native, {} KB in pretix's format",
        json.len() / 1024,
        pretix_json.len() / 1024
    );
    let mut g = c.benchmark_group("seat_plan_20000");
    g.sample_size(20);
    g.bench_function("read", |b| b.iter(|| Plan::from_json(black_box(&json)).unwrap()));
    g.bench_function("check", |b| b.iter(|| black_box(&plan).check().unwrap()));
    g.bench_function("write", |b| b.iter(|| serde_json::to_vec(black_box(&plan)).unwrap()));
    g.bench_function("import_pretix", |b| b.iter(|| pretix::import(black_box(&pretix_json)).unwrap()));
    g.bench_function("export_pretix", |b| {
        b.iter(|| serde_json::to_vec(&pretix::export(black_box(&plan))).unwrap());
    });
    // Best 4 in a half-sold arena: every other block of 5 seats taken.
    let spots: Vec<Spot> = plan
        .seats()
        .enumerate()
        .map(|(i, (_, r, s))| Spot {
            row: u32::try_from(r).unwrap(),
            pos: u32::try_from(i).unwrap() % PER_ROW,
            x: s.x,
            y: s.y,
            free: (i / 5) % 2 == 0,
        })
        .filter(|s| s.free)
        .collect();
    g.bench_function("best_available_4", |b| b.iter(|| best::choose(black_box(&spots), 4, plan.focus())));
    g.finish();
}

criterion_group!(benches, plan);
criterion_main!(benches);
