//! The drain end to end: events per second from 1, 2 and 4 producer threads to one
//! consuming thread that touches every record (sums a field), side by side with the
//! designs a Rust user would otherwise pick; and the drain's poll cycle over 64
//! registered idle threads.

use ada_benches::pipelines::{
    self, Design, ada_registry, crossbeam_channel, rtrb_polled, std_mpsc, vec_batches,
};
use ada_benches::{Event, event};
use ada_drain::{Drain, DrainConfig};
use ada_ring_pool::ExhaustionPolicy;
use ada_thread_registry::{Registry, RegistryConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn ada(producers: u64, per_producer: u64) -> Duration {
    let (elapsed, report) = pipelines::ada(producers, per_producer, ExhaustionPolicy::DropNewest);
    // ada never blocks a producer under a drop policy: when the drain falls behind,
    // events are dropped (and counted), while the other designs block their producers
    // instead. So ada is timed per *delivered* event: the elapsed time is scaled by
    // written / delivered. (`pipeline_block` times ada under `Block`, lossless.)
    let written = report.totals.events_written as f64;
    let delivered = report.totals.events_delivered.max(1) as f64;
    elapsed.mul_f64(written / delivered)
}

fn end_to_end(c: &mut Criterion) {
    for producers in [1_u64, 2, 4] {
        let mut group = c.benchmark_group(format!("end_to_end_{producers}_producers"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(20);
        let designs: [(&str, Design); 5] = [
            (
                "ada (registry + drain, sink sums), per delivered event",
                ada,
            ),
            ("crossbeam-channel bounded", crossbeam_channel),
            ("std sync_channel", std_mpsc),
            ("rtrb per thread, polled", rtrb_polled),
            ("Vec batches over a channel, recycled", vec_batches),
        ];
        for (name, run) in designs {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| run(producers, iters.div_ceil(producers).max(1)));
            });
        }
        group.finish();
    }
}

fn poll_cycle(c: &mut Criterion) {
    // What an idle drain cycle does: enumerate 64 registered threads and try to take a
    // ring from each of their two lanes.
    let registry = Registry::<Event, u8>::new(RegistryConfig::default()).unwrap();
    let _handles: Vec<_> = (0..64).map(|_| registry.register().unwrap()).collect();
    let mut group = c.benchmark_group("drain_poll_cycle");
    group.bench_function("ada-drain idle cycle, 64 registered threads", |b| {
        let mut drain = registry.drain().unwrap();
        b.iter(|| {
            drain.for_each_slot(|mut slot| {
                black_box(slot.index_drain().take().is_some());
                black_box(slot.detail_drain().take().is_some());
            })
        });
    });
    group.finish();
}

fn rings_through_null_sink(c: &mut Criterion) {
    // Small rings, one producer, a null sink: the cost of moving one ring from a
    // producer through the drain, per delivered ring.
    const RING_RECORDS: usize = 16;
    let mut group = c.benchmark_group("drain_rings_null_sink");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.bench_function(
        "ada-drain rings of 16 records, null sink, per delivered ring",
        |b| {
            b.iter_custom(|rings| {
                let registry = ada_registry(1, 64, RING_RECORDS, ExhaustionPolicy::DropNewest);
                let mut drain = Drain::new(
                    Arc::clone(&registry),
                    ada_drain::NullSink::default(),
                    DrainConfig::default(),
                )
                .unwrap();
                let start = Instant::now();
                drain.start().unwrap();
                {
                    let mut handle = registry.register().unwrap();
                    for i in 0..rings * RING_RECORDS as u64 {
                        handle.index(event(i));
                    }
                }
                let report = drain.stop().unwrap();
                let elapsed = start.elapsed();
                // Per *delivered* ring: when the drain falls behind, rings are dropped
                // (counted) and must not count as moved.
                let written = report.totals.events_written as f64;
                let delivered = report.totals.events_delivered.max(1) as f64;
                elapsed.mul_f64(written / delivered)
            });
        },
    );
    group.finish();
}

criterion_group!(benches, end_to_end, poll_cycle, rings_through_null_sink);
criterion_main!(benches);
