//! Unit tests of blocking producers (`ExhaustionPolicy::Block`) through the registry:
//! a producer waits until the drain recycles one of its rings, gives up after its
//! timeout (once, not on every write), is released by `shutdown` and never waits after
//! it; every event is delivered or counted, exactly.
#![allow(non_snake_case)]

use super::*;
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneConfigError, LaneMode, LaneSnapshot};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One slot; index lanes of `rings` × `ring_records` under `Block { timeout }`; detail
/// lanes as usual.
fn blocking(
    rings: usize,
    ring_records: usize,
    timeout: Option<Duration>,
) -> Arc<Registry<u64, u64>> {
    Registry::new(RegistryConfig {
        capacity: 1,
        index: LaneConfig {
            rings,
            ring_records,
            policy: ExhaustionPolicy::Block { timeout },
            mode: LaneMode::SubmitAll,
        },
        detail: LaneConfig {
            rings: 2,
            ring_records: 4,
            ..LaneConfig::detail_lane()
        },
    })
    .unwrap()
}

/// What a drain delivered of the registry's index lanes, and the slots it released.
#[derive(Debug, Default)]
struct Drained {
    records: Vec<u64>,
    released: Vec<RetiredSlot>,
}

/// One drain pass: takes (sleeping `per_ring` before delivering each) and delivers
/// every submitted index ring, releases retired slots.
fn pass(registry: &Registry<u64, u64>, per_ring: Duration, drained: &mut Drained) {
    let mut drain = registry.drain().expect("one drain");
    drain.for_each_slot(|mut slot| {
        let mut lane = slot.index_drain();
        while let Some(ring) = lane.take() {
            std::thread::sleep(per_ring);
            drained.records.extend_from_slice(ring.records());
            ring.deliver();
        }
        if let Ok(retired) = slot.release() {
            drained.released.push(retired);
        }
    }); // the visit ends: a producer waiting for a ring is woken
}

/// Drains on this thread, `per_ring` per ring, until `retirements` slots were released.
fn drain_until_released(
    registry: &Registry<u64, u64>,
    per_ring: Duration,
    retirements: usize,
) -> Drained {
    let mut drained = Drained::default();
    let started = Instant::now();
    while drained.released.len() < retirements {
        assert!(started.elapsed() < Duration::from_secs(30), "no progress");
        pass(registry, per_ring, &mut drained);
        std::thread::yield_now();
    }
    drained
}

/// Waits until `n` producers wait for a ring.
fn until_waiting(registry: &Registry<u64, u64>, n: usize) {
    let started = Instant::now();
    while registry.waiting_producers() != n {
        assert!(started.elapsed() < Duration::from_secs(10), "never waited");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn index_snapshot(registry: &Registry<u64, u64>) -> LaneSnapshot {
    let mut drain = registry.drain().expect("one drain");
    let mut snapshot = None;
    drain.for_each_slot(|slot| snapshot = Some(slot.snapshots().0));
    snapshot.expect("a registered slot")
}

#[test]
fn block__drain_slower_than_producer__then_producer_waits_and_nothing_is_lost() {
    let registry = blocking(2, 4, None);
    let producer = std::thread::spawn({
        let registry = Arc::clone(&registry);
        move || {
            let mut handle = registry.register().unwrap();
            for event in 0..100 {
                handle.index(event);
            }
            handle.index_slice(&(100..150).collect::<Vec<_>>());
        }
    });
    let drained = drain_until_released(&registry, Duration::from_micros(300), 1);
    producer.join().unwrap();
    assert_eq!(drained.records, (0..150).collect::<Vec<_>>());
    let lane = drained.released[0].index;
    assert!(lane.is_conserved(), "{lane:?}");
    assert_eq!((lane.events_written, lane.dropped.total()), (150, 0));
    assert!(lane.blocked_waits > 0, "two rings cannot hold 150 events");
    assert!(lane.blocked_ns > 0);
    assert_eq!(registry.waiting_producers(), 0);
}

#[test]
fn block__timeout__then_waits_once_and_drops_counted_as_timeout_until_a_ring_returns() {
    let timeout = Duration::from_millis(50);
    let registry = blocking(2, 2, Some(timeout));
    let mut handle = registry.register().unwrap();
    for event in 0..4 {
        handle.index(event); // both rings fill: no wait yet
    }
    let started = Instant::now();
    for event in 4..14 {
        handle.index(event); // the first waits `timeout`, the others not at all
    }
    let waited = started.elapsed();
    assert!(waited >= timeout, "{waited:?}");
    assert!(
        waited < timeout * 5,
        "ten writes waited {waited:?}: each one waited again"
    );
    let lane = index_snapshot(&registry);
    assert_eq!((lane.blocked_waits, lane.dropped.timeout), (1, 10));
    assert!(lane.blocked_ns >= u64::try_from(timeout.as_nanos()).unwrap());
    // The drain hands rings back: the lane writes again.
    let mut drained = Drained::default();
    pass(&registry, Duration::ZERO, &mut drained);
    for event in 14..16 {
        handle.index(event);
    }
    drop(handle);
    let rest = drain_until_released(&registry, Duration::ZERO, 1);
    drained.records.extend(rest.records);
    assert_eq!(drained.records, [0, 1, 2, 3, 14, 15]);
    let lane = rest.released[0].index;
    assert!(lane.is_conserved(), "{lane:?}");
    assert_eq!((lane.events_written, lane.dropped.timeout), (16, 10));
    assert_eq!(lane.dropped.total(), lane.dropped.timeout);
}

#[test]
fn block__shutdown_while_producer_waits__then_released_and_every_event_counted() {
    let registry = blocking(2, 2, None);
    let producer = std::thread::spawn({
        let registry = Arc::clone(&registry);
        move || {
            let mut handle = registry.register().unwrap();
            for event in 0..5 {
                handle.index(event); // 4 waits: no drain takes anything
            }
            // Released by the shutdown: from now on nothing waits.
            for event in 5..8 {
                handle.index(event);
            }
        }
    });
    until_waiting(&registry, 1);
    registry.shutdown();
    producer.join().unwrap();
    assert_eq!(registry.waiting_producers(), 0);
    let drained = drain_until_released(&registry, Duration::ZERO, 1);
    assert_eq!(drained.records, [0, 1, 2, 3]);
    let lane = drained.released[0].index;
    assert!(lane.is_conserved(), "{lane:?}");
    assert_eq!(
        (
            lane.events_written,
            lane.events_delivered,
            lane.dropped.timeout
        ),
        (8, 4, 4)
    );
    assert_eq!(lane.blocked_waits, 1);
}

#[test]
fn block__registry_already_shut_down__then_producer_never_waits() {
    let registry = blocking(2, 2, None);
    let mut handle = registry.register().unwrap();
    registry.shutdown();
    let started = Instant::now();
    handle.index_slice(&(0..10).collect::<Vec<_>>());
    for event in 10..20 {
        handle.index(event);
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    let lane = index_snapshot(&registry);
    assert_eq!(
        (
            lane.events_written,
            lane.dropped.timeout,
            lane.events_in_flight()
        ),
        (20, 16, 4)
    );
    assert!(
        lane.blocked_waits <= 1,
        "at most the one that found the flag"
    );
    drop(handle);
    let drained = drain_until_released(&registry, Duration::ZERO, 1);
    assert_eq!(drained.records, [0, 1, 2, 3]);
    assert!(drained.released[0].index.is_conserved());
}

#[test]
fn block__handle_dropped_after_giving_up__then_slot_released_and_conserved() {
    let registry = blocking(2, 2, Some(Duration::ZERO));
    let mut handle = registry.register().unwrap();
    for event in 0..6 {
        handle.index(event);
    }
    drop(handle); // the lane is vacant: close submits nothing more
    let drained = drain_until_released(&registry, Duration::ZERO, 1);
    assert_eq!(drained.records, [0, 1, 2, 3]);
    let lane = drained.released[0].index;
    assert_eq!((lane.events_written, lane.dropped.timeout), (6, 2));
    assert!(lane.is_conserved());
    // The slot is clean for the next thread.
    let mut handle = registry.register().unwrap();
    handle.index(7);
    assert_eq!(index_snapshot(&registry).events_written, 1);
}

#[test]
fn registry_config__block_on_a_flight_recorder_lane__then_typed_error() {
    let block = ExhaustionPolicy::Block { timeout: None };
    let detail = LaneConfig {
        policy: block,
        ..LaneConfig::detail_lane()
    };
    let error = Registry::<u64, u64>::new(RegistryConfig {
        detail,
        ..RegistryConfig::default()
    })
    .unwrap_err();
    assert_eq!(
        error,
        RegistryError::DetailLane(LaneConfigError::BlockOnFlightRecorder)
    );
    assert!(error.to_string().starts_with("detail lane: "), "{error}");
    let error = Registry::<u64, u64>::new(RegistryConfig {
        index: LaneConfig {
            policy: block,
            mode: LaneMode::FlightRecorder { max_mark_depth: 1 },
            ..LaneConfig::index_lane()
        },
        ..RegistryConfig::default()
    })
    .unwrap_err();
    assert_eq!(
        error,
        RegistryError::IndexLane(LaneConfigError::BlockOnFlightRecorder)
    );
    // Both lanes blocking, the detail lane submitting every ring: fine.
    assert!(
        Registry::<u64, u64>::new(RegistryConfig {
            index: LaneConfig {
                policy: block,
                ..LaneConfig::index_lane()
            },
            detail: LaneConfig {
                mode: LaneMode::SubmitAll,
                ..detail
            },
            ..RegistryConfig::default()
        })
        .is_ok()
    );
}

#[test]
fn block__detail_lane_submit_all__then_waits_like_the_index_lane() {
    let lane = LaneConfig {
        rings: 2,
        ring_records: 2,
        policy: ExhaustionPolicy::Block { timeout: None },
        mode: LaneMode::SubmitAll,
    };
    let registry = Registry::<u64, u64>::new(RegistryConfig {
        capacity: 1,
        index: lane,
        detail: lane,
    })
    .unwrap();
    let producer = std::thread::spawn({
        let registry = Arc::clone(&registry);
        move || {
            let mut handle = registry.register().unwrap();
            for event in 0..20 {
                handle.detail(event);
            }
            handle.detail_slice(&(20..40).collect::<Vec<_>>());
        }
    });
    let mut delivered = Vec::new();
    let mut released = None;
    let started = Instant::now();
    while released.is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "no progress");
        let mut drain = registry.drain().unwrap();
        drain.for_each_slot(|mut slot| {
            let mut detail = slot.detail_drain();
            while let Some(ring) = detail.take() {
                delivered.extend_from_slice(ring.records());
                ring.deliver();
            }
            released = slot.release().ok();
        });
        drop(drain);
        std::thread::yield_now();
    }
    producer.join().unwrap();
    assert_eq!(delivered, (0..40).collect::<Vec<_>>());
    let detail = released.unwrap().detail;
    assert!(detail.is_conserved());
    assert_eq!(detail.dropped.total(), 0);
}
