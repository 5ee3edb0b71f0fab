//! Time per verdict at a gate, and the admission-state operations under it.
//!
//! Run: `cargo bench -p voelgoed-sync-core --bench validate`; medians are summarised by
//! `scripts/bench-summary`. Target (issue 2): p50 ≤ 60 µs per verdict for a valid ticket on the
//! 2-core CI machine; figures in docs/benchmarks.md.
#![allow(missing_docs)]

#[path = "support/mod.rs"]
mod support;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use sync_core::admission::{AdmissionState, Scan, ScanRecord, Stamp};
use sync_core::demo;
use sync_core::hlc::Hlc;
use sync_core::ids::{DeviceId, GateId, Serial, Timestamp};
use sync_core::keys::DeviceKey;
use sync_core::manifest::{Direction, EntryPolicy};
use sync_core::revocation::RevocationSet;
use sync_core::ticket::{DelegationGrant, encode_text};
use sync_core::validate::validate;

fn verdicts(c: &mut Criterion) {
    let (manifest, key, ctx, valid, used) = support::admitted_once();
    let revocations = RevocationSet::new();
    let empty = AdmissionState::new();

    let mut forged = key.issue(Serial(8), demo::DAY, None).bytes().to_vec();
    *forged.last_mut().unwrap() ^= 1;
    let forged = encode_text(&forged);

    let device = DeviceKey::from_seed([7; 32]);
    let grant = DelegationGrant {
        device_key: device.public_key(),
        first_serial: Serial(10_000),
        last_serial: Serial(10_999),
        expires: u32::MAX,
        ticket_types: vec![demo::DAY],
    };
    let delegation = key.delegate(grant).unwrap();
    let delegated = device.issue(&delegation, Serial(10_000), demo::DAY, None, ctx.now).unwrap().to_text();

    let mut group = c.benchmark_group("validate");
    let cases = [
        ("valid_ticket", &valid, &empty, "admitted"),
        ("duplicate", &valid, &used, "already_inside"),
        ("bad_signature", &forged, &empty, "bad_signature"),
        ("delegated_ticket", &delegated, &empty, "admitted"),
        ("not_a_ticket", &"https://example.com/".to_string(), &empty, "malformed"),
    ];
    for (name, text, state, expect) in cases {
        assert_eq!(validate(&manifest, &revocations, state, &ctx, text).code(), expect);
        group.bench_function(name, |b| {
            b.iter(|| validate(black_box(&manifest), &revocations, black_box(state), &ctx, black_box(text)));
        });
    }
    group.finish();
}

fn scans(n: u32) -> Vec<Scan> {
    (0..n)
        .map(|i| {
            let device = DeviceId(i % 40);
            Scan {
                serial: Serial(i.wrapping_mul(2_654_435_761) % 500_000),
                ticket_type: demo::DAY,
                policy: Some(EntryPolicy::SingleEntry),
                direction: if i % 10 == 9 { Direction::Exit } else { Direction::Entry },
                record: ScanRecord { at: Timestamp(i64::from(i) * 50), device, gate: GateId(1) },
                stamp: Stamp { hlc: Hlc(u64::from(i) << 16), origin: device },
            }
        })
        .collect()
}

fn admission(c: &mut Criterion) {
    let mut group = c.benchmark_group("admission");
    let mut state = AdmissionState::new();
    let mut serial = 0u32;
    group.bench_function("was_admitted", |b| {
        b.iter(|| {
            serial = serial.wrapping_add(7919) % 500_000;
            state.was_admitted(black_box(Serial(serial)))
        });
    });
    let all = scans(200_000);
    group.throughput(Throughput::Elements(200_000));
    group.sample_size(10);
    group.bench_with_input(BenchmarkId::new("rebuild", "200k_scans_500k_serials"), &all, |b, all| {
        b.iter(|| AdmissionState::rebuild(black_box(all)));
    });
    let built = AdmissionState::rebuild(&all);
    state = built;
    println!(
        "admission state after 200k scans: {} admitted, bitset {} KiB, whole state ≈ {} MiB",
        state.admitted_count(),
        state.bitset_bytes() / 1024,
        state.approx_heap_bytes() / (1024 * 1024)
    );
    group.finish();
}

criterion_group!(benches, verdicts, admission);
criterion_main!(benches);
