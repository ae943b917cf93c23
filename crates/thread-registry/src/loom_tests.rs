//! loom model: registration, retirement and enumeration racing, and reuse of a slot
//! after retirement (no ABA: the generation tells the two occupants apart).
//!
//! Each role runs on a spawned thread whose first operation is not an atomic load
//! (tokio-rs/loom#392), and the model checks that loom explored both orders of the two
//! threads competing for the single slot.
#![allow(non_snake_case)]

use super::*;
use crate::sync::Ordering;
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
use loom::sync::atomic::AtomicUsize as LoomCounter;
use loom::thread;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::Mutex;

fn config() -> RegistryConfig {
    let lane = LaneConfig {
        rings: 2,
        ring_records: 2,
        policy: ExhaustionPolicy::DropOldest,
        mode: LaneMode::SubmitAll,
    };
    RegistryConfig {
        capacity: 1,
        index: lane,
        detail: lane,
    }
}

#[test]
fn loom__register_retire_enumerate_and_reuse__then_clean_generations() {
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen_outcomes = std::sync::Arc::clone(&outcomes);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(move || {
        let registry = Registry::<u64, u64>::new(config()).unwrap();
        let finished = loom::sync::Arc::new(LoomCounter::new(0));
        let writers: std::vec::Vec<_> = [10_u64, 20]
            .into_iter()
            .map(|record| {
                let (registry, finished) =
                    (Arc::clone(&registry), loom::sync::Arc::clone(&finished));
                thread::spawn(move || {
                    finished.fetch_add(0, Ordering::Relaxed); // not a load first (loom#392)
                    let result = match registry.register() {
                        Ok(mut handle) => {
                            handle.index(record);
                            Some(handle.generation())
                        } // dropped: retires
                        Err(RegisterError::Full { .. }) => None,
                        Err(other) => panic!("{other}"),
                    };
                    finished.fetch_add(1, Ordering::Release);
                    result
                })
            })
            .collect();
        let drain = {
            let (registry, finished) = (Arc::clone(&registry), loom::sync::Arc::clone(&finished));
            thread::spawn(move || {
                finished.fetch_add(0, Ordering::Relaxed);
                let mut drain = registry.drain().unwrap();
                let mut delivered = std::vec::Vec::new();
                loop {
                    let done = finished.load(Ordering::Acquire) == 2;
                    drain.for_each_slot(|mut slot| {
                        let generation = slot.generation();
                        let identity = slot.identity().expect("published with the slot");
                        assert_eq!(identity.generation, generation);
                        let mut lane = slot.index_drain();
                        while let Some(ring) = lane.take() {
                            delivered.extend(ring.records().iter().map(|&r| (generation, r)));
                            ring.deliver();
                        }
                        let _ = slot.release();
                    });
                    if done && registry.occupied() == 0 {
                        break;
                    }
                    thread::yield_now();
                }
                delivered
            })
        };
        let generations: std::vec::Vec<Option<u32>> =
            writers.into_iter().map(|w| w.join().unwrap()).collect();
        let mut delivered = drain.join().unwrap();
        delivered.sort_unstable();
        // Every registered writer's record arrives once, under its own generation.
        let expected: std::vec::Vec<(u32, u64)> = generations
            .iter()
            .zip([10, 20])
            .filter_map(|(generation, record)| generation.map(|g| (g, record)))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(delivered, expected);
        let registered: std::vec::Vec<u32> = generations.iter().flatten().copied().collect();
        let unique: BTreeSet<u32> = registered.iter().copied().collect();
        assert_eq!(
            unique.len(),
            registered.len(),
            "two occupants, two generations"
        );
        assert_eq!(registry.occupied(), 0);
        seen_outcomes.lock().unwrap().insert(generations);
    });
    let outcomes = outcomes.lock().unwrap().clone();
    assert!(
        outcomes.contains(&std::vec![Some(1), Some(2)]),
        "{outcomes:?}"
    );
    assert!(
        outcomes.contains(&std::vec![Some(2), Some(1)]),
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|o| o.contains(&None)),
        "explored a full registry: {outcomes:?}"
    );
}

#[test]
fn loom__submit_and_retire_vs_park__then_no_lost_wake_up() {
    // The drain parks without a timeout whenever it finds no work. The producer submits
    // a ring and then waits until the drain has delivered it before it retires, so the
    // submit's wake-up is the only one that can end the drain's park: if it were lost,
    // the drain would park forever and the producer spin forever, which loom reports.
    // Then the retirement's wake-up must end the next park the same way.
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(|| {
        let lane = LaneConfig {
            rings: 2,
            ring_records: 1,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::SubmitAll,
        };
        let registry = Registry::<u64, u64>::new(RegistryConfig {
            capacity: 1,
            index: lane,
            detail: lane,
        })
        .unwrap();
        let delivered_first = loom::sync::Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let mut handle = registry.register().unwrap();
        let producer = {
            let delivered_first = loom::sync::Arc::clone(&delivered_first);
            thread::spawn(move || {
                handle.index(1);
                handle.index(2); // submits the ring holding 1
                while !delivered_first.load(Ordering::Acquire) {
                    thread::yield_now();
                }
                drop(handle); // submits the ring holding 2, retires, wakes the drain
            })
        };
        let drain_registry = Arc::clone(&registry);
        let drain = thread::spawn(move || {
            let mut drain = drain_registry.drain().unwrap();
            let mut delivered = std::vec::Vec::new();
            let mut released = false;
            while !released {
                drain.for_each_slot(|mut slot| {
                    let mut lane = slot.index_drain();
                    while let Some(ring) = lane.take() {
                        delivered.extend_from_slice(ring.records());
                        ring.deliver();
                    }
                    released |= slot.release().is_ok();
                });
                if !delivered.is_empty() {
                    delivered_first.store(true, Ordering::Release);
                }
                if !released {
                    drain.park(std::time::Duration::MAX);
                }
            }
            delivered
        });
        producer.join().unwrap();
        assert_eq!(drain.join().unwrap(), [1, 2]);
    });
}

#[test]
fn loom__two_producers_vs_park__then_one_unpark_per_park_and_no_lost_wake_up() {
    // Two producers each submit one ring while the drain parks without a timeout until
    // it has both. Only the producer whose swap clears `parked` unparks; the other must
    // still have its ring seen, by the look for work before the drain's next park: a
    // lost wake-up parks the drain forever, which loom reports. Neither producer retires
    // (their handles outlive the model's drain), so the submits' wake-ups are the only
    // ones. Producers never unpark more often than the drain parked.
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let lane = LaneConfig {
            rings: 2,
            ring_records: 1,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::SubmitAll,
        };
        let registry = Registry::<u64, u64>::new(RegistryConfig {
            capacity: 2,
            index: lane,
            detail: lane,
        })
        .unwrap();
        let producers: std::vec::Vec<_> = [1_u64, 3]
            .into_iter()
            .map(|record| {
                let mut handle = registry.register().unwrap();
                thread::spawn(move || {
                    handle.index(record);
                    handle.index(record + 1); // submits the ring holding `record`
                    handle
                })
            })
            .collect();
        let drain_registry = Arc::clone(&registry);
        let drain = thread::spawn(move || {
            let mut drain = drain_registry.drain().unwrap();
            let mut delivered = std::vec::Vec::new();
            let mut parks = 0_u64;
            loop {
                drain.for_each_slot(|mut slot| {
                    let mut lane = slot.index_drain();
                    while let Some(ring) = lane.take() {
                        delivered.extend_from_slice(ring.records());
                        ring.deliver();
                    }
                });
                if delivered.len() == 2 {
                    break;
                }
                drain.park(std::time::Duration::MAX);
                parks += 1;
            }
            assert!(drain.producer_wakes() <= parks, "{parks} parks");
            delivered
        });
        let handles: std::vec::Vec<_> = producers.into_iter().map(|p| p.join().unwrap()).collect();
        let mut delivered = drain.join().unwrap();
        delivered.sort_unstable();
        assert_eq!(delivered, [1, 3]);
        drop(handles);
    });
}
