//! End-to-end pipelines: `producers` threads each move `per_producer` 32-byte records
//! to one consuming thread that touches every record (sums a field). ada (registry +
//! drain + a summing sink) and the designs a Rust user would otherwise pick, shared by
//! the `drain` bench (ada under a drop policy) and the `pipeline_block` bench (ada under
//! `ExhaustionPolicy::Block`, lossless like every peer here).
//!
//! Every peer is lossless and blocks (or spins) its producers when the consumer falls
//! behind; each returns the time from the start until the consumer has summed the last
//! record.

use crate::{Event, event};
use ada_drain::{ClosureSink, Delivery, Drain, DrainConfig, DrainReport};
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
use ada_thread_registry::{Registry, RegistryConfig};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Records per ring / channel capacity / batch size, the same for every design.
pub const CHUNK: usize = 4096;

/// Rings per ada lane, and Vecs per producer in [`vec_batches`]: the same memory bound.
pub const RINGS: usize = 8;

/// One design: moves `per_producer` events from each of `producers` threads to one
/// consumer that sums a field of every record, and returns the time it took.
pub type Design = fn(u64, u64) -> Duration;

/// A registry whose index lanes have `rings` rings of `ring_records` records under
/// `policy` and whose detail lanes are minimal (the benches write no detail records).
#[must_use]
pub fn ada_registry(
    capacity: usize,
    rings: usize,
    ring_records: usize,
    policy: ExhaustionPolicy,
) -> Arc<Registry<Event, u8>> {
    let index = LaneConfig {
        rings,
        ring_records,
        policy,
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

/// ada end to end: `producers` registered threads write `per_producer` events each
/// into index lanes of [`RINGS`] × [`CHUNK`] records under `policy`; the drain hands
/// every ring to a sink that sums a field of each record. Returns the time until the
/// drain stopped (everything delivered or counted) and its report.
pub fn ada(producers: u64, per_producer: u64, policy: ExhaustionPolicy) -> (Duration, DrainReport) {
    let registry = ada_registry(producers as usize, RINGS, CHUNK, policy);
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
    (elapsed, report)
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

/// `crossbeam-channel`'s bounded channel of [`CHUNK`] records.
#[must_use]
pub fn crossbeam_channel(producers: u64, per_producer: u64) -> Duration {
    channel_design(
        producers,
        per_producer,
        crossbeam_channel::bounded(CHUNK),
        |s, e| {
            s.send(e).unwrap();
        },
    )
}

/// `std::sync::mpsc::sync_channel` of [`CHUNK`] records.
#[must_use]
pub fn std_mpsc(producers: u64, per_producer: u64) -> Duration {
    channel_design(
        producers,
        per_producer,
        std::sync::mpsc::sync_channel(CHUNK),
        |s, e| {
            s.send(e).unwrap();
        },
    )
}

/// One `rtrb` SPSC ring of [`CHUNK`] records per producer (spinning when full), polled
/// by the consumer.
#[must_use]
pub fn rtrb_polled(producers: u64, per_producer: u64) -> Duration {
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

/// A hand-rolled ring pool: each producer fills Vecs of [`CHUNK`] records and sends
/// them whole through a `crossbeam-channel`; the consumer sums each and returns the
/// emptied Vec to its producer through another channel. [`RINGS`] Vecs per producer,
/// so a producer waits (blocks in `recv`) when the consumer holds all of them.
#[must_use]
pub fn vec_batches(producers: u64, per_producer: u64) -> Duration {
    let (full_tx, full_rx) =
        crossbeam_channel::bounded::<(usize, Vec<Event>)>(RINGS * producers as usize);
    let returns: Vec<_> = (0..producers)
        .map(|_| {
            let (tx, rx) = crossbeam_channel::bounded::<Vec<Event>>(RINGS);
            for _ in 0..RINGS {
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
