//! `ExhaustionPolicy::Block` through the drain thread: producers that outrun a stalling
//! sink wait instead of dropping (zero losses, every record in order); a timeout turns
//! waiting into drops counted under `timeout`, each reported once in the next
//! delivery's gap; the registry's shutdown releases waiting producers, and a stop with
//! producers waiting returns and accounts for every event.
//!
//! Every record is its position in its lane (the producers write 0, 1, 2, …), so the
//! sink sees each hole and checks it against the delivery's `lost_before`.
#![allow(non_snake_case)]

use ada_drain::{ClosureSink, Delivery, Drain, DrainConfig, DrainReport, SinkError};
use ada_ring_pool::{DropCounts, ExhaustionPolicy, LaneConfig, LaneMode};
use ada_thread_registry::{Registry, RegistryConfig};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Index lanes of `rings` × `ring_records` that block (for at most `timeout`); default
/// detail lanes (no detail records are written).
fn registry(
    capacity: usize,
    rings: usize,
    ring_records: usize,
    timeout: Option<Duration>,
) -> Arc<Registry<u64, u64>> {
    Registry::new(RegistryConfig {
        capacity,
        index: LaneConfig {
            rings,
            ring_records,
            policy: ExhaustionPolicy::Block { timeout },
            mode: LaneMode::SubmitAll,
        },
        detail: LaneConfig::detail_lane(),
    })
    .unwrap()
}

/// Per lane (slot, generation): every delivery's records and `lost_before`, in order.
type Seen = Arc<Mutex<BTreeMap<(usize, u32), Vec<(Vec<u64>, DropCounts)>>>>;

/// A sink that keeps what it sees and, before returning, calls `stall` (which sleeps or
/// holds the drain).
fn sink(
    seen: Seen,
    stall: impl Fn() + Send + 'static,
) -> ClosureSink<impl FnMut(&Delivery<'_, u64>) -> Result<(), SinkError> + Send> {
    ClosureSink(move |delivery: &Delivery<'_, u64>| {
        seen.lock()
            .unwrap()
            .entry((delivery.origin.slot, delivery.origin.generation))
            .or_default()
            .push((delivery.records.to_vec(), delivery.lost_before));
        stall();
        Ok(())
    })
}

/// Checks every lane's deliveries against positions (each hole is exactly the next
/// delivery's `lost_before`, all of it `timeout`), and returns per lane the records
/// delivered and the losses reported.
fn check_positions(seen: &Seen) -> Vec<(u64, DropCounts)> {
    let seen = seen.lock().unwrap();
    seen.values()
        .map(|deliveries| {
            let (mut next, mut delivered, mut lost) = (0_u64, 0_u64, DropCounts::default());
            for (records, lost_before) in deliveries {
                // A ring whose records were all collected in place before it was
                // submitted (a full ring, when its lane ran out) is delivered empty.
                let first = records
                    .first()
                    .copied()
                    .unwrap_or(next + lost_before.total());
                assert_eq!(
                    first - next,
                    lost_before.total(),
                    "the hole before {first} is what the delivery says was lost"
                );
                assert_eq!(lost_before.total(), lost_before.timeout, "{lost_before:?}");
                for (record, position) in records.iter().zip(first..) {
                    assert_eq!(*record, position, "no hole inside a delivery");
                }
                next = first + records.len() as u64;
                delivered += records.len() as u64;
                lost.timeout += lost_before.timeout;
            }
            (delivered, lost)
        })
        .collect()
}

/// Runs `producers` threads writing `0..events` each, then stops the drain.
fn run(
    registry: &Arc<Registry<u64, u64>>,
    drain: &Drain<u64, u64>,
    producers: usize,
    events: u64,
) -> DrainReport {
    std::thread::scope(|s| {
        for _ in 0..producers {
            s.spawn(|| {
                let mut handle = registry.register().unwrap();
                for event in 0..events {
                    handle.index(event);
                }
            });
        }
    });
    drain.stop().unwrap()
}

#[test]
fn block__sink_slower_than_producers__then_zero_drops_every_record_in_order() {
    let registry = registry(4, 4, 64, None);
    let seen = Seen::default();
    // 2 ms per ring: the four producers could fill their lanes hundreds of times over.
    let sink = sink(Arc::clone(&seen), || {
        std::thread::sleep(Duration::from_millis(2))
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
    drain.start().unwrap();
    let report = run(&registry, &drain, 4, 2_000);
    let totals = report.totals;
    assert!(totals.is_conserved(), "{totals:?}");
    assert_eq!(totals.dropped.total(), 0, "{totals:?}");
    assert_eq!(
        (totals.events_written, totals.events_delivered),
        (8_000, 8_000)
    );
    assert!(
        totals.blocked_waits > 0,
        "the producers had to wait: {totals:?}"
    );
    assert!(totals.blocked_ns > 0);
    let lanes = check_positions(&seen);
    assert_eq!(lanes.len(), 4);
    for (delivered, lost) in lanes {
        assert_eq!((delivered, lost.total()), (2_000, 0));
    }
    for thread in &report.threads {
        assert!(thread.index.is_conserved());
        assert_eq!(thread.index.dropped.total(), 0);
    }
}

#[test]
fn block__timeout_under_a_stalled_sink__then_drops_counted_as_timeout_each_reported_once() {
    let registry = registry(1, 2, 16, Some(Duration::from_millis(5)));
    let seen = Seen::default();
    // The first delivery stalls 100 ms (the producer times out and drops), then the
    // sink keeps up.
    let first = AtomicBool::new(true);
    let sink = sink(Arc::clone(&seen), move || {
        if first.swap(false, Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
    drain.start().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut handle = registry.register().unwrap();
            // Both rings fill, the next write waits 5 ms and drops, and so does every
            // write after it without waiting, until the drain hands a ring back.
            let started = Instant::now();
            for event in 0..1_000 {
                handle.index(event);
            }
            let dropping = started.elapsed();
            assert!(
                dropping < Duration::from_millis(500),
                "{dropping:?}: the producer waited again for every write"
            );
            std::thread::sleep(Duration::from_millis(300));
            // The stalled delivery is over: these are written, and the first ring of
            // them reports the drops.
            for event in 1_000..1_100 {
                handle.index(event);
            }
        });
    });
    let report = drain.stop().unwrap();
    let totals = report.totals;
    assert!(totals.is_conserved(), "{totals:?}");
    assert_eq!(
        (
            totals.events_written,
            totals.events_delivered,
            totals.dropped.timeout
        ),
        (1_100, 132, 968),
        "{totals:?}"
    );
    assert_eq!(totals.dropped.total(), totals.dropped.timeout);
    assert!(totals.blocked_waits >= 1, "{totals:?}");
    let lanes = check_positions(&seen);
    let (delivered, lost) = lanes[0];
    assert_eq!(delivered, totals.events_delivered);
    // The producer wrote after its drops, so the deliveries' gaps account for all.
    assert_eq!(lost, totals.dropped, "each drop reported once, by cause");
}

#[test]
fn block__shutdown_while_producers_wait__then_every_producer_returns_and_events_conserved() {
    // Rings of 16: the 33rd write of each producer finds both rings the drain's.
    let registry = registry(3, 2, 16, None);
    let seen = Seen::default();
    let hold = Arc::new(AtomicBool::new(true));
    let sink = sink(Arc::clone(&seen), {
        let hold = Arc::clone(&hold);
        move || {
            while hold.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
    drain.start().unwrap();
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                let mut handle = registry.register().unwrap();
                for event in 0..33 {
                    handle.index(event);
                }
            });
        }
        let started = Instant::now();
        while registry.waiting_producers() < 3 {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "never all waiting"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        // What a stopping drain does first: the waiting producers are released (the
        // drain itself is held in the sink) and the scope's threads return.
        registry.shutdown();
    });
    hold.store(false, Ordering::Release);
    let report = drain.stop().unwrap();
    let totals = report.totals;
    assert!(totals.is_conserved(), "{totals:?}");
    assert_eq!(totals.events_in_flight(), 0);
    assert_eq!(
        (
            totals.events_written,
            totals.events_delivered,
            totals.dropped.timeout
        ),
        (99, 96, 3),
        "each producer's waiting event dropped, everything submitted delivered"
    );
    assert_eq!(totals.dropped.total(), 3);
    assert_eq!(registry.waiting_producers(), 0);
    check_positions(&seen);
}

#[test]
fn block__drain_stopped_while_producers_wait__then_stop_returns_and_producers_finish() {
    let registry = registry(2, 2, 16, None);
    let seen = Seen::default();
    let sink = sink(Arc::clone(&seen), || {
        std::thread::sleep(Duration::from_millis(20))
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
    drain.start().unwrap();
    let (report, unreported) = std::thread::scope(|s| {
        let producers: Vec<_> = (0..2)
            .map(|_| {
                // Registered before the stop can refuse it.
                let mut handle = registry.register().unwrap();
                s.spawn(move || {
                    // At 20 ms per ring of 16, this would take seconds: the stop cuts it.
                    for event in 0..10_000 {
                        handle.index(event);
                    }
                    handle.unreported_events()
                })
            })
            .collect();
        let started = Instant::now();
        while registry.waiting_producers() == 0 {
            assert!(started.elapsed() < Duration::from_secs(10), "never waited");
            std::thread::sleep(Duration::from_millis(1));
        }
        let report = drain.stop().unwrap();
        let unreported: u64 = producers.into_iter().map(|p| p.join().unwrap()).sum();
        (report, unreported)
    });
    let totals = report.totals;
    assert_eq!(
        totals.events_written + unreported,
        20_000,
        "what the report did not count, the handles did"
    );
    assert_eq!(totals.dropped.total(), totals.dropped.timeout, "{totals:?}");
    assert!(
        totals.dropped.timeout > 0,
        "released producers drop: {totals:?}"
    );
    assert_eq!(registry.waiting_producers(), 0);
    check_positions(&seen);
}
