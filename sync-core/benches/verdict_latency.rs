//! Per-verdict latency percentiles (criterion reports the median of batch means; a gate cares
//! about single scans, including the slow ones). Times 20,000 individual `validate` calls per
//! case after a warm-up and prints p50 / p99 / p99.9 / max.
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench verdict_latency`
#![allow(missing_docs)]

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};
use sync_core::admission::AdmissionState;
use sync_core::revocation::RevocationSet;
use sync_core::validate::validate;

const CALLS: usize = 20_000;

fn main() {
    let (manifest, _, ctx, valid, used) = support::admitted_once();
    let revocations = RevocationSet::new();
    let empty = AdmissionState::new();

    for (name, state, expect) in
        [("valid_ticket", &empty, "admitted"), ("duplicate", &used, "already_inside")]
    {
        assert_eq!(validate(&manifest, &revocations, state, &ctx, &valid).code(), expect);
        let mut times: Vec<Duration> = Vec::with_capacity(CALLS);
        for i in 0..CALLS + 2_000 {
            let start = Instant::now();
            black_box(validate(
                black_box(&manifest),
                &revocations,
                black_box(state),
                &ctx,
                black_box(&valid),
            ));
            if i >= 2_000 {
                times.push(start.elapsed());
            }
        }
        times.sort_unstable();
        let at = |per_mille: usize| times[(times.len() * per_mille / 1000).min(times.len() - 1)];
        println!(
            "{name:14} p50 {:>8.1?}  p99 {:>8.1?}  p99.9 {:>8.1?}  max {:>8.1?}  ({CALLS} calls)",
            at(500),
            at(990),
            at(999),
            times[times.len() - 1]
        );
    }
}
