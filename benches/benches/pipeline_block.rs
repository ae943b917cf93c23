//! ada lossless: end-to-end events per second from 1, 2 and 4 producer threads into
//! index lanes under `ExhaustionPolicy::Block` (registry + drain + a sink that sums a
//! field of every record), beside the lossless designs a Rust user would otherwise
//! pick, on the same 32-byte records and the same count: a recycled-Vec pipeline
//! (producers fill Vecs of 4096 records, a channel carries them to the consumer, which
//! sums and returns them; 8 Vecs per producer, so producers wait like `Block`'s 8
//! rings), `crossbeam-channel` bounded, std `sync_channel`, and one `rtrb` ring per
//! producer polled by the consumer. Short by design: 10 samples of about 2 s.

use ada_benches::pipelines::{self, Design, crossbeam_channel, rtrb_polled, std_mpsc, vec_batches};
use ada_ring_pool::ExhaustionPolicy;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::time::Duration;

/// ada under `Block { timeout: None }`: nothing may be dropped, so no scaling.
fn ada_block(producers: u64, per_producer: u64) -> Duration {
    let (elapsed, report) = pipelines::ada(
        producers,
        per_producer,
        ExhaustionPolicy::Block { timeout: None },
    );
    let totals = report.totals;
    assert_eq!(totals.dropped.total(), 0, "Block lost events: {totals:?}");
    assert_eq!(totals.events_delivered, producers * per_producer);
    elapsed
}

fn pipeline_block(c: &mut Criterion) {
    for producers in [1_u64, 2, 4] {
        let mut group = c.benchmark_group(format!("pipeline_block_{producers}_producers"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(10);
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        let designs: [(&str, Design); 5] = [
            ("ada Block (registry + drain, sink sums)", ada_block),
            ("Vec batches over a channel, recycled", vec_batches),
            ("crossbeam-channel bounded", crossbeam_channel),
            ("std sync_channel", std_mpsc),
            ("rtrb per thread, polled", rtrb_polled),
        ];
        for (name, run) in designs {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| run(producers, iters.div_ceil(producers).max(1)));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, pipeline_block);
criterion_main!(benches);
