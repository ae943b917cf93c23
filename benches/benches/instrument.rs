//! Instrumentation, nanoseconds per operation in one run: the clock (`ada_clock::now`
//! against `Instant::now`), a bare write through an explicit handle, a timestamped event
//! (`handle.index(Event::now(..))`), a span (`ada::span!`, enter and leave, global
//! tracer), and Tracy's zone (`tracy_client::span!`, its client running, no server
//! attached) as the peer. Targets: span ≤ 1.2 × (2 clock reads + 2 bare writes), and at
//! least 2× cheaper than Tracy's zone.
//!
//! Every ada path writes into lanes large enough for a whole sample between drain visits
//! and a null sink, so the numbers are the write paths, not losses.

use ada::{Event, EventKind, ExhaustionPolicy, LaneConfig, LaneMode, NullSink, Tracer};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Instant;

fn builder() -> ada::TracerBuilder<Event, ada::Detail> {
    Tracer::builder()
        .threads(4)
        .index_lane(LaneConfig {
            rings: 16,
            ring_records: 1 << 14,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::SubmitAll,
        })
        .sink(NullSink::default())
}

fn instrument(c: &mut Criterion) {
    let mut group = c.benchmark_group("instrument");
    group.bench_function("ada_clock::now", |b| {
        b.iter(|| black_box(ada::clock::now()))
    });
    group.bench_function("Instant::now", |b| b.iter(|| black_box(Instant::now())));
    {
        let tracer = builder().build().unwrap();
        let mut handle = tracer.handle().unwrap();
        let mut i = 0_u64;
        group.bench_function("ada handle.index(event), bare", |b| {
            b.iter(|| {
                handle.index(Event::at(i, EventKind::Enter, 1, black_box(i)));
                i += 1;
            });
        });
        group.bench_function("ada handle.index(Event::now(..))", |b| {
            b.iter(|| {
                handle.index(Event::now(EventKind::Enter, 1, black_box(i)));
                i += 1;
            });
        });
        drop(handle);
        tracer.shutdown().unwrap();
    }
    {
        let guard = ada::install(builder()).unwrap();
        group.bench_function("ada::span! (global tracer)", |b| {
            b.iter(|| {
                let _span = ada::span!("bench");
            });
        });
        guard.finish().unwrap();
    }
    {
        let _client = tracy_client::Client::start();
        group.bench_function("tracy_client::span! (no server)", |b| {
            b.iter(|| {
                let _span = tracy_client::span!("bench");
            });
        });
    }
    group.finish();
}

criterion_group!(benches, instrument);
criterion_main!(benches);
