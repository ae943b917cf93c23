//! The drain end to end: events per second from 1, 2 and 4 producer threads to one
//! consuming thread that touches every record (sums a field), side by side with the
//! designs a Rust user would otherwise pick; and the drain's poll cycle over 64
//! registered idle threads.

use ada_benches::{Event, event};
use ada_drain::{ClosureSink, Delivery, Drain, DrainConfig};
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
use ada_thread_registry::{Registry, RegistryConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Records per ring / channel capacity / batch size, the same for every design.
const CHUNK: usize = 4096;

/// A registry whose index lanes have `rings` rings of `ring_records` records (drop-newest)
/// and whose detail lanes are minimal (the benches write no detail records).
fn ada_registry(capacity: usize, rings: usize, ring_records: usize) -> Arc<Registry<Event, u8>> {
    let index = LaneConfig {
        rings,
        ring_records,
        policy: ExhaustionPolicy::DropNewest,
        mode: LaneMode::SubmitAll,
    };
    let detail = LaneConfig {
        rings: 2,
        ring_records: 1,
        ..LaneConfig::detail_lane()
    };
    Registry::new(RegistryConfig {
        capacity,
        index,
        detail,
    })
    .unwrap()
}

fn ada(producers: u64, per_producer: u64) -> Duration {
    let registry = ada_registry(producers as usize, 8, CHUNK);
    let sum = Arc::new(AtomicU64::new(0));
    let sink = ClosureSink({
        let sum = Arc::clone(&sum);
        move |delivery: &Delivery<'_, Event>| {
            let total: u64 = delivery.records.iter().map(|e| e.address).sum();
            sum.fetch_add(total, Ordering::Relaxed);
            Ok(())
        }
    });
    let config = DrainConfig {
        park_interval: Duration::from_micros(100),
        ..DrainConfig::default()
    };
    let mut drain = Drain::new(Arc::clone(&registry), sink, config).unwrap();
    let start = Instant::now();
    drain.start().unwrap();
    std::thread::scope(|s| {
        for _ in 0..producers {
            let registry = &registry;
            s.spawn(move || {
                let mut handle = registry.register().unwrap();
                for i in 0..per_producer {
                    handle.index(event(i));
                }
            });
        }
    });
    let report = drain.stop().unwrap();
    let elapsed = start.elapsed();
    assert!(report.totals.is_conserved());
    black_box(sum.load(Ordering::Relaxed));
    // ada never blocks a producer: when the drain falls behind, events are dropped (and
    // counted), while the other designs block their producers instead. So ada is timed
    // per *delivered* event: the elapsed time is scaled by written / delivered.
    let written = report.totals.events_written as f64;
    let delivered = report.totals.events_delivered.max(1) as f64;
    elapsed.mul_f64(written / delivered)
}

/// A bounded multi-producer channel of records: every producer sends each record, the
/// consumer sums a field of each.
fn channel_design<S: Clone + Send>(
    producers: u64,
    per_producer: u64,
    (sender, receiver): (S, impl IntoIterator<Item = Event>),
    send: fn(&S, Event),
) -> Duration {
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..producers {
            let sender = sender.clone();
            s.spawn(move || {
                for i in 0..per_producer {
                    send(&sender, event(i));
                }
            });
        }
        drop(sender);
        let mut sum = 0_u64;
        for record in receiver {
            sum = sum.wrapping_add(record.address);
        }
        black_box(sum);
    });
    start.elapsed()
}

fn crossbeam_channel(producers: u64, per_producer: u64) -> Duration {
    channel_design(
        producers,
        per_producer,
        crossbeam_channel::bounded(CHUNK),
        |s, e| {
            s.send(e).unwrap();
        },
    )
}

fn std_mpsc(producers: u64, per_producer: u64) -> Duration {
    channel_design(
        producers,
        per_producer,
        std::sync::mpsc::sync_channel(CHUNK),
        |s, e| {
            s.send(e).unwrap();
        },
    )
}

fn rtrb_polled(producers: u64, per_producer: u64) -> Duration {
    let (senders, mut receivers): (Vec<_>, Vec<_>) = (0..producers)
        .map(|_| rtrb::RingBuffer::<Event>::new(CHUNK))
        .unzip();
    let done = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for mut sender in senders {
            let done = &done;
            s.spawn(move || {
                for i in 0..per_producer {
                    let mut record = event(i);
                    while let Err(rtrb::PushError::Full(back)) = sender.push(record) {
                        record = back;
                        std::hint::spin_loop();
                    }
                }
                done.fetch_add(1, Ordering::Release);
            });
        }
        let mut sum = 0_u64;
        loop {
            let finished = done.load(Ordering::Acquire) == producers;
            let mut moved = 0;
            for receiver in &mut receivers {
                let Ok(chunk) = receiver.read_chunk(receiver.slots()) else {
                    continue;
                };
                let (first, second) = chunk.as_slices();
                for record in first.iter().chain(second) {
                    sum = sum.wrapping_add(record.address);
                }
                moved += chunk.len();
                chunk.commit_all();
            }
            if moved == 0 {
                if finished {
                    break;
                }
                std::hint::spin_loop();
            }
        }
        black_box(sum);
    });
    start.elapsed()
}

fn vec_batches(producers: u64, per_producer: u64) -> Duration {
    // A hand-rolled ring pool: each producer fills Vecs of CHUNK records and sends them
    // whole; the consumer returns each emptied Vec to its producer for reuse.
    let (full_tx, full_rx) =
        crossbeam_channel::bounded::<(usize, Vec<Event>)>(8 * producers as usize);
    let returns: Vec<_> = (0..producers)
        .map(|_| {
            let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(8);
            for _ in 0..8 {
                tx.send(Vec::with_capacity(CHUNK)).unwrap();
            }
            (tx, rx)
        })
        .collect();
    let start = Instant::now();
    std::thread::scope(|s| {
        for (owner, (_, empty_rx)) in returns.iter().enumerate() {
            let full_tx = full_tx.clone();
            s.spawn(move || {
                let mut batch = empty_rx.recv().unwrap();
                for i in 0..per_producer {
                    batch.push(event(i));
                    if batch.len() == CHUNK {
                        full_tx.send((owner, batch)).unwrap();
                        batch = empty_rx.recv().unwrap();
                    }
                }
                full_tx.send((owner, batch)).unwrap();
            });
        }
        drop(full_tx);
        let mut sum = 0_u64;
        for (owner, mut batch) in full_rx {
            for record in &batch {
                sum = sum.wrapping_add(record.address);
            }
            batch.clear();
            let _ = returns[owner].0.try_send(batch);
        }
        black_box(sum);
    });
    start.elapsed()
}

/// One design: moves `per_producer` events from each of `producers` threads to one
/// consumer that sums a field of every record, and returns the time it took.
type Design = fn(u64, u64) -> Duration;

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
                let registry = ada_registry(1, 64, RING_RECORDS);
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
