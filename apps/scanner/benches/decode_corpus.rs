//! Decode rate and time per frame for each condition of the corpus (1280×720 frames).
//!
//! ```sh
//! cargo bench -p scanner --bench decode_corpus            # 60 frames per condition
//! VOELGOED_CORPUS_FRAMES=200 cargo bench -p scanner --bench decode_corpus
//! VOELGOED_CORPUS_DIR=/tmp/corpus cargo bench -p scanner --bench decode_corpus   # also saves the frames
//! ```
//!
//! The saved frames (`<condition>-<n>.png`) are what `benches/zxing_compare.py` reads with
//! ZXing (zxing-cpp) and with `scanner-decode`, to compare the two on the same pictures.
//!
//! Targets (issue 5): ≥ 99 % of the corpus read; median decode ≤ 10 ms per 1280×720 frame.
//! Prints one row per condition and a total; medians, since this machine is noisy.

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use scanner_app::decode::Decoder;
use std::collections::BTreeMap;
use std::time::Instant;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// Per condition: frames, read, times (ms), reads per decoder step.
type Row<'a> = (usize, usize, Vec<f64>, BTreeMap<&'a str, usize>);

fn main() {
    let per_condition: usize =
        std::env::var("VOELGOED_CORPUS_FRAMES").ok().and_then(|v| v.parse().ok()).unwrap_or(60);
    let text = corpus::ticket_text();
    let frames = corpus::corpus(&text, per_condition, 0x00C0_FFEE);
    if let Some(dir) = std::env::var_os("VOELGOED_CORPUS_DIR") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("VOELGOED_CORPUS_DIR");
        for (i, frame) in frames.iter().enumerate() {
            frame.image.save(dir.join(format!("{}-{i:04}.png", frame.condition))).expect("a corpus frame");
        }
    }
    let decoder = Decoder::default();
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    let mut all = Vec::new();
    let mut read_total = 0usize;
    for frame in &frames {
        let started = Instant::now();
        let decoded = decoder.decode(&frame.image);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let row = rows.entry(frame.condition).or_default();
        row.0 += 1;
        if let Some(d) = decoded.filter(|d| d.text == text) {
            row.1 += 1;
            read_total += 1;
            *row.3.entry(d.decoder).or_default() += 1;
        }
        row.2.push(ms);
        all.push(ms);
    }
    println!(
        "decoding corpus: {} frames of {}x{}, {per_condition} per condition",
        frames.len(),
        corpus::WIDTH,
        corpus::HEIGHT
    );
    println!(
        "{:<14} {:>7} {:>8} {:>10} {:>10}  read by",
        "condition", "frames", "read", "median ms", "p95 ms"
    );
    for (condition, (n, read, mut times, by)) in rows {
        times.sort_by(f64::total_cmp);
        #[allow(clippy::cast_precision_loss)]
        let rate = read as f64 * 100.0 / n as f64;
        let by: Vec<String> = by.iter().map(|(d, c)| format!("{d} {c}")).collect();
        println!(
            "{condition:<14} {n:>7} {rate:>7.1}% {:>10.2} {:>10.2}  {}",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            by.join(", ")
        );
    }
    // The camera's usual frame holds no code at all, and runs every step of the pipeline.
    let mut empty: Vec<f64> = (0..30u64)
        .map(|seed| {
            let view = image::GrayImage::from_pixel(corpus::WIDTH, corpus::HEIGHT, image::Luma([180]));
            let view = imageproc::noise::gaussian_noise(&view, 0.0, 12.0, seed);
            let started = Instant::now();
            assert!(decoder.decode(&view).is_none());
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    empty.sort_by(f64::total_cmp);
    println!(
        "{:<14} {:>7} {:>8} {:>10.2} {:>10.2}  (frames without a code: not in the totals)",
        "no code",
        empty.len(),
        "-",
        percentile(&empty, 0.5),
        percentile(&empty, 0.95)
    );
    all.sort_by(f64::total_cmp);
    #[allow(clippy::cast_precision_loss)]
    let rate = read_total as f64 * 100.0 / frames.len() as f64;
    println!(
        "{:<14} {:>7} {rate:>7.1}% {:>10.2} {:>10.2}  panics contained: {}",
        "all",
        frames.len(),
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        decoder.panics()
    );
}
