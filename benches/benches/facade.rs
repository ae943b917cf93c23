//! The facade end to end: events per delivered event from one and two producer threads
//! through `ada::Tracer` to a null sink (thread-local path and explicit handle) and to a
//! capture file (explicit handle). Same record (`ada::Event`, 32 bytes) and ring
//! geometry as the drain bench's ada design.

use ada::{DrainConfig, Event, ExhaustionPolicy, FileSink, LaneConfig, LaneMode, NullSink, Tracer};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

const RING_RECORDS: usize = 4096;

#[derive(Clone, Copy)]
enum Path {
    ThreadLocal,
    Handle,
}

#[derive(Clone, Copy)]
enum SinkKind {
    Null,
    File,
}

fn run(producers: u64, per_producer: u64, path: Path, sink: SinkKind) -> Duration {
    let dir = std::env::temp_dir().join(format!("ada-bench-{}", std::process::id()));
    let builder = Tracer::builder()
        .threads(producers as usize)
        .index_lane(LaneConfig {
            rings: 8,
            ring_records: RING_RECORDS,
            policy: ExhaustionPolicy::DropNewest,
            mode: LaneMode::SubmitAll,
        })
        .drain(DrainConfig {
            park_interval: Duration::from_micros(100),
            ..DrainConfig::default()
        });
    let builder = match sink {
        SinkKind::Null => builder.sink(NullSink::default()),
        SinkKind::File => {
            std::fs::create_dir_all(&dir).unwrap();
            builder.sink(FileSink::create(dir.join("bench.ada")).unwrap())
        }
    };
    let tracer = builder.build().unwrap();
    let start = Instant::now();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..producers)
            .map(|thread| {
                let tracer = &tracer;
                s.spawn(move || {
                    let event = |i: u64| Event {
                        ticks: i,
                        name: thread as u32,
                        category: 0,
                        argument: black_box(i),
                        kind: 1,
                        depth: 0,
                    };
                    match path {
                        Path::ThreadLocal => {
                            for i in 0..per_producer {
                                tracer.index(event(i)).unwrap();
                            }
                        }
                        Path::Handle => {
                            let mut handle = tracer.handle().unwrap();
                            for i in 0..per_producer {
                                handle.index(event(i));
                            }
                        }
                    }
                })
            })
            .collect();
        // Joined explicitly: a scope's end does not wait for TLS destructors, which
        // retire the thread-local handles.
        for worker in workers {
            worker.join().unwrap();
        }
    });
    let report = tracer.shutdown().unwrap();
    let elapsed = start.elapsed();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(report.totals.is_conserved());
    // As in the drain bench: ada drops rather than blocks, so it is timed per delivered
    // event (elapsed × written / delivered).
    let written = report.totals.events_written as f64;
    let delivered = report.totals.events_delivered.max(1) as f64;
    elapsed.mul_f64(written / delivered)
}

fn facade(c: &mut Criterion) {
    for producers in [1_u64, 2] {
        let mut group = c.benchmark_group(format!("facade_end_to_end_{producers}_producers"));
        group.throughput(Throughput::Elements(1));
        group.sample_size(20);
        let variants = [
            (
                "ada::Tracer thread-local, null sink",
                Path::ThreadLocal,
                SinkKind::Null,
            ),
            (
                "ada::Tracer explicit handle, null sink",
                Path::Handle,
                SinkKind::Null,
            ),
            (
                "ada::Tracer explicit handle, file sink",
                Path::Handle,
                SinkKind::File,
            ),
        ];
        for (name, path, sink) in variants {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| run(producers, iters.div_ceil(producers).max(1), path, sink));
            });
        }
        group.finish();
    }
}

criterion_group!(benches, facade);
criterion_main!(benches);
