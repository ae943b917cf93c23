//! The lane: the write fast path beside a raw record-buffer append, the swap, and the
//! exhaustion paths, for 32-byte records.

use ada_benches::{Event, event, ring_push_floor};
use ada_ring_pool::{ExhaustionPolicy, Lane, LaneConfig, LaneMode};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn config(rings: usize, ring_records: usize, policy: ExhaustionPolicy) -> LaneConfig {
    LaneConfig {
        rings,
        ring_records,
        policy,
        mode: LaneMode::SubmitAll,
    }
}

fn write_path(c: &mut Criterion) {
    const RECORDS: usize = 4096;
    let mut group = c.benchmark_group("lane_write_32B");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ada-ring-pool LaneProducer::write", |b| {
        let lane = Lane::<Event>::new(config(4, RECORDS, ExhaustionPolicy::DropOldest)).unwrap();
        // SAFETY: one producer and one drain, both on this thread.
        let (mut producer, mut drain) = unsafe { (lane.producer().unwrap(), lane.drain()) };
        let mut i = 0_u64;
        b.iter(|| {
            producer.write(event(black_box(i)));
            i += 1;
            if i.is_multiple_of(RECORDS as u64) {
                while let Some(ring) = drain.take() {
                    black_box(ring.records().len());
                    ring.deliver();
                }
            }
        });
    });
    group.bench_function("ada-ring-buffer push (floor)", |b| {
        ring_push_floor(b, RECORDS)
    });
    group.finish();
}

fn swap(c: &mut Criterion) {
    let mut group = c.benchmark_group("lane_swap");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ada-ring-pool write+swap+take+recycle", |b| {
        // One-record rings: every write swaps; the drain takes and recycles each ring.
        let lane = Lane::<Event>::new(config(4, 1, ExhaustionPolicy::DropOldest)).unwrap();
        // SAFETY: one producer and one drain, both on this thread.
        let (mut producer, mut drain) = unsafe { (lane.producer().unwrap(), lane.drain()) };
        let mut i = 0_u64;
        b.iter(|| {
            producer.write(event(black_box(i)));
            i += 1;
            if let Some(ring) = drain.take() {
                black_box(ring.header());
                ring.deliver();
            }
        });
    });
    group.bench_function("ada-ring-pool exhaustion, drop-oldest take-back", |b| {
        // No drain: every write beyond the pool takes the oldest ring back.
        let lane = Lane::<Event>::new(config(2, 1, ExhaustionPolicy::DropOldest)).unwrap();
        // SAFETY: the only producer.
        let mut producer = unsafe { lane.producer() }.unwrap();
        let mut i = 0_u64;
        b.iter(|| {
            producer.write(event(black_box(i)));
            i += 1;
        });
    });
    group.bench_function("ada-ring-pool exhaustion, drop-newest discard", |b| {
        let lane = Lane::<Event>::new(config(2, 1, ExhaustionPolicy::DropNewest)).unwrap();
        // SAFETY: the only producer.
        let mut producer = unsafe { lane.producer() }.unwrap();
        let mut i = 0_u64;
        b.iter(|| {
            producer.write(event(black_box(i)));
            i += 1;
        });
    });
    group.finish();
}

criterion_group!(benches, write_path, swap);
criterion_main!(benches);
