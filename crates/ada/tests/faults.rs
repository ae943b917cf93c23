//! Fault injection through the facade: a sink that panics, fails, or blocks for
//! seconds; a registry full while threads keep arriving; shutdown while threads are
//! mid-burst; a thread that exits while the drain holds one of its rings. In each the
//! process survives, the report names the cause, and every event is accounted for.

#![allow(non_snake_case)]

use ada::drain::{ClosureSink, CollectingSink, Delivery, SinkError};
use ada::{DrainReport, ExhaustionPolicy, LaneConfig, LaneMode, RegisterError, TracerBuilder};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

type Tracer = ada::Tracer<u64, u64>;

fn small_lanes(policy: ExhaustionPolicy) -> TracerBuilder<u64, u64> {
    let lane = LaneConfig {
        rings: 4,
        ring_records: 64,
        policy,
        mode: LaneMode::SubmitAll,
    };
    TracerBuilder::new().index_lane(lane).detail_lane(lane)
}

fn assert_accounted(report: &DrainReport) {
    assert!(report.totals.is_conserved(), "{:?}", report.totals);
    for thread in &report.threads {
        assert!(thread.index.is_conserved(), "{thread:?}");
        assert!(thread.detail.is_conserved(), "{thread:?}");
    }
}

fn write_from_threads(tracer: &Tracer, threads: u64, events: u64) {
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut handle = tracer.handle().unwrap();
                for n in 0..events {
                    handle.index(n);
                }
            });
        }
    });
}

#[test]
fn fault__sink_panics__then_drain_survives_and_losses_are_counted_as_sink() {
    let calls = Arc::new(AtomicU64::new(0));
    let sink = ClosureSink({
        let calls = Arc::clone(&calls);
        move |_: &Delivery<'_, u64>| {
            if calls.fetch_add(1, Ordering::Relaxed).is_multiple_of(3) {
                panic!("injected sink panic");
            }
            Ok(())
        }
    });
    let tracer = small_lanes(ExhaustionPolicy::DropNewest)
        .sink(sink)
        .build()
        .unwrap();
    write_from_threads(&tracer, 4, 5_000);
    let report = tracer.shutdown().unwrap();
    assert!(report.drain.sink_panics > 0, "{:?}", report.drain);
    assert!(
        report.totals.dropped.sink > 0,
        "the panicking calls' records count as sink losses"
    );
    assert!(
        report.totals.events_delivered > 0,
        "the other calls still deliver"
    );
    assert_accounted(&report);
}

#[test]
fn fault__sink_returns_errors__then_counted_and_rings_recycled() {
    let sink = ClosureSink(|_: &Delivery<'_, u64>| Err(SinkError("disk full".to_owned())));
    let tracer = small_lanes(ExhaustionPolicy::DropOldest)
        .sink(sink)
        .build()
        .unwrap();
    let mut handle = tracer.handle().unwrap();
    for n in 0..10_000 {
        handle.index(n);
        if n % 64 == 0 {
            std::thread::sleep(Duration::from_micros(50)); // let the drain keep up
        }
    }
    drop(handle);
    let report = tracer.shutdown().unwrap();
    assert!(report.drain.sink_errors > 0);
    assert_eq!(report.totals.events_delivered, 0);
    // Rings came back after every failure: far more rings moved than a lane holds.
    assert!(report.drain.rings_delivered > 8, "{:?}", report.drain);
    assert_eq!(
        report.totals.events_written,
        report.totals.events_lost() + report.totals.events_discarded
    );
    assert_accounted(&report);
}

#[test]
fn fault__sink_blocks_for_seconds__then_producers_never_wait_and_drops_are_counted() {
    let blocked = Arc::new(AtomicBool::new(true));
    let sink = ClosureSink({
        let blocked = Arc::clone(&blocked);
        move |_: &Delivery<'_, u64>| {
            if blocked.swap(false, Ordering::AcqRel) {
                std::thread::sleep(Duration::from_secs(2));
            }
            Ok(())
        }
    });
    let tracer = small_lanes(ExhaustionPolicy::DropOldest)
        .sink(sink)
        .build()
        .unwrap();
    let started = Instant::now();
    write_from_threads(&tracer, 2, 200_000);
    let writing = started.elapsed();
    let report = tracer.shutdown().unwrap();
    assert!(
        writing < Duration::from_secs(2),
        "producers finished in {writing:?}, without waiting for the blocked sink"
    );
    assert!(report.totals.dropped.oldest > 0, "{:?}", report.totals);
    assert_accounted(&report);
}

#[test]
fn fault__registry_full_while_threads_keep_arriving__then_refused_then_served() {
    let tracer = small_lanes(ExhaustionPolicy::DropNewest)
        .threads(2)
        .build()
        .unwrap();
    let refused = AtomicU64::new(0);
    // Every thread tries once before any registered thread may leave, so exactly two
    // first tries succeed and six are refused; the refused ones then retry until a
    // retired slot is released to them.
    let first_tries = Barrier::new(8);
    std::thread::scope(|s| {
        for thread in 0..8_u64 {
            let (tracer, refused, first_tries) = (&tracer, &refused, &first_tries);
            s.spawn(move || {
                let first = tracer.handle();
                first_tries.wait();
                let mut handle = match first {
                    Ok(handle) => handle,
                    Err(RegisterError::Full { .. }) => {
                        refused.fetch_add(1, Ordering::Relaxed);
                        loop {
                            match tracer.handle() {
                                Ok(handle) => break handle,
                                Err(RegisterError::Full { .. }) => {
                                    std::thread::sleep(Duration::from_micros(100));
                                }
                                Err(other) => panic!("{other}"),
                            }
                        }
                    }
                    Err(other) => panic!("{other}"),
                };
                for n in 0..2_000 {
                    handle.index(thread * 1_000_000 + n);
                }
            });
        }
    });
    let report = tracer.shutdown().unwrap();
    assert_eq!(refused.load(Ordering::Relaxed), 6, "8 threads, 2 slots");
    assert_eq!(
        report.threads.len(),
        8,
        "every thread was served in the end"
    );
    assert_eq!(report.totals.events_written, 8 * 2_000);
    assert_accounted(&report);
}

#[test]
fn fault__shutdown_while_threads_mid_burst__then_everything_accounted() {
    let sink = CollectingSink::default();
    let tracer = small_lanes(ExhaustionPolicy::DropOldest)
        .threads(8)
        .sink(sink.clone())
        .build()
        .unwrap();
    let registry = Arc::clone(tracer.registry());
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(Barrier::new(5));
    let writers: Vec<_> = (0..4)
        .map(|_| {
            let (registry, stop, ready) = (registry.clone(), stop.clone(), ready.clone());
            std::thread::spawn(move || {
                let mut handle = registry.register().unwrap();
                ready.wait();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    handle.index(n);
                    n += 1;
                }
                n
            })
        })
        .collect();
    ready.wait();
    std::thread::sleep(Duration::from_millis(20));
    let report = tracer.shutdown().unwrap(); // the writers are still writing
    stop.store(true, Ordering::Relaxed);
    let written_total: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    let totals = report.totals;
    // What the report saw is exactly split into delivered, lost and in flight (records
    // written after the final pass, still in the writers' rings): nothing counted twice.
    assert!(
        totals.events_delivered + totals.events_lost() + totals.events_discarded
            <= totals.events_written
    );
    assert!(totals.events_written <= written_total);
    let collected: usize = sink
        .index_deliveries()
        .iter()
        .map(|d| d.records.len())
        .sum();
    assert_eq!(
        collected as u64, totals.events_delivered,
        "the sink got what the report says"
    );
    assert!(totals.events_delivered > 0);
}

#[test]
fn fault__thread_exits_while_drain_holds_its_ring__then_ring_delivered_and_slot_released() {
    let holding = Arc::new(Barrier::new(2));
    let exited = Arc::new(Barrier::new(2));
    let first = Arc::new(AtomicBool::new(true));
    let sink = ClosureSink({
        let (holding, exited, first) = (holding.clone(), exited.clone(), first.clone());
        move |delivery: &Delivery<'_, u64>| {
            if first.swap(false, Ordering::AcqRel) {
                holding.wait(); // the drain holds this ring now
                exited.wait(); // ... until its thread has exited
                assert_eq!(
                    delivery.records.len(),
                    64,
                    "the ring is intact after the exit"
                );
            }
            Ok(())
        }
    });
    let tracer = small_lanes(ExhaustionPolicy::DropOldest)
        .sink(sink)
        .build()
        .unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut handle = tracer.handle().unwrap();
            for n in 0..65 {
                handle.index(n); // the 65th write submits the first ring
            }
            holding.wait();
            // Dropping the handle retires the thread while its ring is in the sink.
        });
    });
    exited.wait();
    let report = tracer.shutdown().unwrap();
    assert_eq!(report.threads.len(), 1);
    assert!(
        report.threads[0].retired,
        "the slot was released after the ring came back"
    );
    assert_eq!(report.totals.events_delivered, 65);
    assert_accounted(&report);
}
