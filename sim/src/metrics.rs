//! What a run measures: every sync exchange (bytes both ways, round-trip time), latencies as
//! percentiles, and a timeline of counters sampled while the run goes on (the chart's data).

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use sync_core::ids::DeviceId;
use sync_core::sync::message::{Framed, SyncRequest, SyncResponse};
use sync_core::sync::{Transport, TransportError};

/// Timings of one kind, in microseconds.
#[derive(Default)]
pub struct Latencies(Mutex<Vec<u64>>);

impl Latencies {
    /// Adds one timing.
    pub fn record(&self, took: Duration) {
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(micros);
    }

    /// p50, p99 and max, in milliseconds.
    pub fn summary(&self) -> LatencySummary {
        let mut all = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        all.sort_unstable();
        LatencySummary {
            count: all.len(),
            p50_ms: millis(percentile(&all, 500)),
            p99_ms: millis(percentile(&all, 990)),
            max_ms: millis(all.last().copied().unwrap_or(0)),
        }
    }
}

/// The value below which `per_mille`/1000 of the sorted `values` lie (nearest rank).
pub fn percentile(sorted: &[u64], per_mille: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * per_mille).div_ceil(1000).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

#[allow(clippy::cast_precision_loss)] // microseconds far below 2^52
fn millis(micros: u64) -> f64 {
    (micros as f64 / 10.0).round() / 100.0
}

/// Percentiles of one kind of timing.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct LatencySummary {
    /// How many were timed.
    pub count: usize,
    /// Median, ms.
    pub p50_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
}

/// Sync traffic of the whole fleet.
#[derive(Default)]
pub struct SyncStats {
    /// Encoded request bytes sent (the signed sync messages, without HTTP headers).
    pub bytes_up: AtomicU64,
    /// Encoded response bytes received.
    pub bytes_down: AtomicU64,
    /// Exchanges that got an answer.
    pub exchanges: AtomicU64,
    /// Exchanges that failed (hub unreachable, refused).
    pub failures: AtomicU64,
    /// Round-trip times of exchanges that were not long-polls.
    pub round_trips: Latencies,
}

impl SyncStats {
    /// A snapshot for the summary.
    pub fn summary(&self) -> SyncSummary {
        SyncSummary {
            exchanges: self.exchanges.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            bytes_up: self.bytes_up.load(Ordering::Relaxed),
            bytes_down: self.bytes_down.load(Ordering::Relaxed),
            round_trip: self.round_trips.summary(),
        }
    }
}

/// The sync traffic of a run.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct SyncSummary {
    /// Exchanges answered.
    pub exchanges: u64,
    /// Exchanges failed.
    pub failures: u64,
    /// Bytes devices sent.
    pub bytes_up: u64,
    /// Bytes devices received.
    pub bytes_down: u64,
    /// Round trips (long-polls excluded).
    pub round_trip: LatencySummary,
}

/// A transport that counts what passes through it.
pub struct Metered<T> {
    inner: T,
    stats: Arc<SyncStats>,
}

impl<T> Metered<T> {
    /// Wraps `inner`, counting into `stats`.
    pub fn new(inner: T, stats: Arc<SyncStats>) -> Self {
        Self { inner, stats }
    }
}

impl<T: Transport> Transport for Metered<T> {
    fn peer(&self) -> DeviceId {
        self.inner.peer()
    }

    async fn exchange(&self, request: SyncRequest) -> Result<SyncResponse, TransportError> {
        let long_poll = request.wait_ms > 0;
        // Encoding twice costs microseconds; the figure is the bytes on the wire.
        let up = request.encode().len() as u64;
        let started = Instant::now();
        let answer = self.inner.exchange(request).await;
        match &answer {
            Ok(response) => {
                self.stats.bytes_up.fetch_add(up, Ordering::Relaxed);
                self.stats.bytes_down.fetch_add(response.encode().len() as u64, Ordering::Relaxed);
                self.stats.exchanges.fetch_add(1, Ordering::Relaxed);
                if !long_poll {
                    self.stats.round_trips.record(started.elapsed());
                }
            }
            Err(_) => {
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        answer
    }
}

/// Named counters sampled every 100 ms while a run goes on: the chart's lines.
pub struct Timeline {
    started: Instant,
    names: Vec<&'static str>,
    counters: Vec<Arc<AtomicU64>>,
    samples: Mutex<Vec<(f64, Vec<u64>)>>,
}

impl Timeline {
    /// A timeline of the counters `names`, starting now.
    pub fn new(names: &[&'static str]) -> Arc<Self> {
        Arc::new(Self {
            started: Instant::now(),
            names: names.to_vec(),
            counters: names.iter().map(|_| Arc::new(AtomicU64::new(0))).collect(),
            samples: Mutex::new(Vec::new()),
        })
    }

    /// The counter `name` (one of those given to [`Timeline::new`]).
    pub fn counter(&self, name: &str) -> Arc<AtomicU64> {
        let index = self.names.iter().position(|n| *n == name).unwrap_or_else(|| panic!("no counter {name}"));
        Arc::clone(&self.counters[index])
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// Takes one sample now.
    pub fn sample(&self) {
        let values = self.counters.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push((self.elapsed(), values));
    }

    /// Samples every 100 ms until the returned guard is dropped.
    pub fn run(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                me.sample();
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    }

    /// The series: per counter, (seconds, value) points.
    pub fn series(&self) -> Vec<(&'static str, Vec<(f64, u64)>)> {
        self.sample();
        let samples = self.samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.names
            .iter()
            .enumerate()
            .map(|(i, name)| (*name, samples.iter().map(|(t, v)| (*t, v[i])).collect()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&values, 500), 50);
        assert_eq!(percentile(&values, 990), 99);
        assert_eq!(percentile(&[7], 990), 7);
        assert_eq!(percentile(&[], 500), 0);
    }
}
