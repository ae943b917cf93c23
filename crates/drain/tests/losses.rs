//! Loss accounting through the drain thread: every delivery says exactly what its lane
//! lost just before it, by cause, so a sink that adds up `lost_before` (plus what was
//! lost after a lane's last delivery) gets the report's dropped counters, per lane.
//!
//! Every record is its position in its lane (the producers write 0, 1, 2, … and every
//! write counts, dropped or not), so the sink sees each hole and checks it against the
//! delivery's `lost_before`.
#![allow(non_snake_case)]

use ada_drain::{Delivery, Drain, DrainConfig, DrainReport, LaneKind, Sink, SinkError};
use ada_ring_pool::{DropCounts, ExhaustionPolicy, LaneConfig, LaneMode, RingFlags};
use ada_thread_registry::{Registry, RegistryConfig};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One delivery as the test sink saw it.
#[derive(Debug, Clone)]
struct Seen {
    lost_before: DropCounts,
    discarded_before: u64,
    loss_flag: Option<bool>,
    records: Vec<u64>,
    failed: bool,
}

/// Per lane (slot, generation), every delivery in order.
type Deliveries = Arc<Mutex<BTreeMap<(usize, u32), Vec<Seen>>>>;

/// Keeps every index delivery; stalls for `stall` on the first delivery of a taken ring,
/// then sets `stall_over`; fails every `fail_every`-th delivery (0: never).
///
/// Not on an in-place collection: the drain holds a pin on the ring it collects, and a
/// producer that submits that ring cannot take it back while pinned, so a stall there
/// makes it drop the newest events instead of the oldest (it did, under TSan's
/// slowness, where a sweep came before the first full ring).
struct LossSink {
    deliveries: Deliveries,
    stall: Duration,
    stall_over: Arc<AtomicBool>,
    fail_every: u64,
    calls: u64,
}

impl Sink<u64, u64> for LossSink {
    fn index(&mut self, delivery: &Delivery<'_, u64>) -> Result<(), SinkError> {
        if delivery.header.is_some() && !self.stall_over.load(Ordering::Relaxed) {
            std::thread::sleep(self.stall);
            self.stall_over.store(true, Ordering::Release);
        }
        self.calls += 1;
        let failed = self.fail_every > 0 && self.calls.is_multiple_of(self.fail_every);
        assert_eq!(delivery.lane, LaneKind::Index);
        self.deliveries
            .lock()
            .unwrap()
            .entry((delivery.origin.slot, delivery.origin.generation))
            .or_default()
            .push(Seen {
                lost_before: delivery.lost_before,
                discarded_before: delivery.discarded_before,
                loss_flag: delivery
                    .header
                    .map(|header| header.flags.contains(RingFlags::LOSS_BEFORE)),
                records: delivery.records.to_vec(),
                failed,
            });
        if failed {
            Err(SinkError("refused".to_owned()))
        } else {
            Ok(())
        }
    }

    fn detail(&mut self, _: &Delivery<'_, u64>) -> Result<(), SinkError> {
        Ok(())
    }
}

fn registry(capacity: usize) -> Arc<Registry<u64, u64>> {
    Registry::new(RegistryConfig {
        capacity,
        index: LaneConfig {
            rings: 4,
            ring_records: 16,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::SubmitAll,
        },
        detail: LaneConfig::detail_lane(),
    })
    .unwrap()
}

fn config() -> DrainConfig {
    DrainConfig {
        park_interval: Duration::from_micros(200),
        latency_bound: Duration::from_millis(1),
        ..DrainConfig::default()
    }
}

/// Checks one lane's deliveries against its positions and returns the sum of their
/// `lost_before`, the sink losses of a failed last delivery, and the events missing
/// after the last delivery (`written` events were written).
fn check_lane(deliveries: &[Seen], written: u64) -> (DropCounts, u64, u64) {
    let (mut next, mut sum, mut failed_before) = (0_u64, DropCounts::default(), 0);
    for (n, seen) in deliveries.iter().enumerate() {
        let hole = seen.records.first().map_or(0, |first| first - next);
        let lost = seen.lost_before;
        assert_eq!(
            lost.oldest + lost.newest + seen.discarded_before,
            hole,
            "delivery {n}: the hole before {:?}",
            seen.records.first()
        );
        assert_eq!(
            lost.sink, failed_before,
            "delivery {n}: the failed one before"
        );
        if let Some(flag) = seen.loss_flag {
            assert_eq!(flag, lost.total() > 0, "delivery {n}: LOSS_BEFORE");
        }
        for (record, position) in seen.records.iter().zip(next + hole..) {
            assert_eq!(*record, position, "delivery {n}: no hole inside a delivery");
        }
        next += hole + seen.records.len() as u64;
        failed_before = if seen.failed {
            seen.records.len() as u64
        } else {
            0
        };
        sum.oldest += lost.oldest;
        sum.newest += lost.newest;
        sum.sink += lost.sink;
    }
    (sum, failed_before, written - next)
}

/// Runs `threads` producers of `events` records each (plus one last record written
/// after the sink's stall is over) against a drain whose sink stalls for `stall` on its
/// first delivery and fails every `fail_every`-th; returns the report and the
/// deliveries.
fn run(
    threads: u64,
    events: u64,
    stall: Duration,
    fail_every: u64,
) -> (DrainReport, BTreeMap<(usize, u32), Vec<Seen>>) {
    let registry = registry(threads as usize);
    let deliveries = Deliveries::default();
    let stall_over = Arc::new(AtomicBool::new(false));
    let sink = LossSink {
        deliveries: Arc::clone(&deliveries),
        stall,
        stall_over: Arc::clone(&stall_over),
        fail_every,
        calls: 0,
    };
    let mut drain = Drain::new(Arc::clone(&registry), sink, config()).unwrap();
    drain.start().unwrap();
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (registry, stall_over) = (&registry, &stall_over);
            s.spawn(move || {
                let mut handle = registry.register().unwrap();
                for event in 0..events {
                    handle.index(event);
                }
                let deadline = Instant::now() + Duration::from_secs(30);
                while !stall_over.load(Ordering::Acquire) {
                    assert!(Instant::now() < deadline, "the sink never stalled");
                    std::thread::sleep(Duration::from_millis(1));
                }
                // The drain catches up; the last record follows every loss.
                std::thread::sleep(Duration::from_millis(20));
                handle.index(events);
            });
        }
    });
    let report = drain.stop().unwrap();
    let deliveries = deliveries.lock().unwrap().clone();
    (report, deliveries)
}

#[test]
fn delivery__drain_stalls_under_drop_oldest__then_lost_before_adds_up_to_the_report_by_cause() {
    let (threads, events) = (2, 20_000);
    let (report, deliveries) = run(threads, events, Duration::from_millis(300), 0);
    assert_eq!(report.threads.len(), threads as usize);
    for thread in &report.threads {
        let lane = &deliveries[&(thread.slot, thread.generation)];
        let (lost_before, failed_last, after) = check_lane(lane, events + 1);
        assert_eq!(
            (failed_last, after),
            (0, 0),
            "the last record was delivered"
        );
        assert_eq!(
            lost_before, thread.index.dropped,
            "slot {}: Σ lost_before by cause = dropped by cause",
            thread.slot
        );
        assert!(
            thread.index.dropped.oldest > events / 2,
            "the stall made the producer take rings back: {:?}",
            thread.index
        );
        assert!(thread.index.is_conserved(), "{:?}", thread.index);
    }
}

#[test]
fn delivery__sink_fails__then_the_next_delivery_reports_the_records_with_cause_sink() {
    let events = 5_000;
    let (report, deliveries) = run(1, events, Duration::ZERO, 3);
    assert!(report.drain.sink_errors > 0);
    let thread = &report.threads[0];
    let lane = &deliveries[&(thread.slot, thread.generation)];
    // `check_lane` checks each delivery's `sink` against the failed delivery before it.
    let (lost_before, failed_last, after) = check_lane(lane, events + 1);
    assert_eq!(after, 0);
    assert!(lost_before.sink > 0);
    let dropped = thread.index.dropped;
    assert_eq!(
        (
            lost_before.oldest,
            lost_before.newest,
            lost_before.sink + failed_last
        ),
        (dropped.oldest, dropped.newest, dropped.sink),
        "Σ lost_before + the failed last delivery = dropped by cause"
    );
    assert!(thread.index.is_conserved(), "{:?}", thread.index);
}
