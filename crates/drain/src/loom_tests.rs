//! loom models of the drain loop's control flow (`control::drive`, the code the drain
//! thread runs) against the real registry: a stop request racing producers' submissions,
//! a thread's retirement and the drain's idle ladder (naps, then a park). No wake-up may
//! be lost (loom reports a
//! drain parked forever as a deadlock) and the final drain must deliver every record
//! committed before the stop, including one that sits in a never-submitted active ring.
//! A second model races a thread's retirement with the final passes and the report's
//! cut (`control::final_cut`): the report counts each thread once, with nothing in
//! flight that was committed before the cut.
//!
//! Every role runs on a spawned thread whose first operation is not an atomic load
//! (tokio-rs/loom#392), and the model checks that loom explored executions where the
//! drain napped, where it parked and where it never did.
#![allow(non_snake_case)]

use crate::DrainConfig;
use crate::DrainState;
use crate::control::{IdleStep, Moved, Passes, drive, request_stop};
use crate::sync::AtomicU8;
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode, LaneSnapshot};
use ada_thread_registry::{ActiveSlot, Registry, RegistryConfig, RegistryDrain};
use loom::sync::Arc;
use loom::thread;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A pass that takes every submitted ring, collects active rings only in the final
/// drain, and releases retired slots: the worker's pass without the sink. Its clock is
/// made up (loom has no time): every pass takes one millisecond.
struct Collector {
    delivered: Vec<u64>,
    naps: u32,
    parks: u32,
    final_passes: u32,
    clock: Instant,
    /// Each thread's index lane counters as the drain reported them: at its release
    /// by a pass, or at the cut.
    reported: Vec<LaneSnapshot>,
    /// Set by the producer once its handle is dropped (a record of real time, outside
    /// the model), and what it said when the cut began.
    retired: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    retired_before_cut: Option<bool>,
}

impl Default for Collector {
    fn default() -> Self {
        Self {
            delivered: Vec::new(),
            naps: 0,
            parks: 0,
            final_passes: 0,
            clock: Instant::now(),
            reported: Vec::new(),
            retired: None,
            retired_before_cut: None,
        }
    }
}

impl Collector {
    /// Takes every submitted ring of the index lane, and (`last`) collects its active
    /// ring in place.
    fn visit(&mut self, slot: &mut ActiveSlot<'_, '_, u64, u64>, last: bool) -> Moved {
        let mut moved = Moved::default();
        let mut lane = slot.index_drain();
        while let Some(ring) = lane.take() {
            self.delivered.extend_from_slice(ring.records());
            ring.deliver();
            moved.taken += 1;
        }
        if last {
            let collected = lane.collect_active(|records, _| {
                self.delivered.extend_from_slice(records);
                Ok::<bool, ()>(!records.is_empty())
            });
            if collected == Some(Ok(true)) {
                moved.other += 1;
            }
        }
        moved
    }

    fn release(&mut self, slot: ActiveSlot<'_, '_, u64, u64>) -> bool {
        let Ok(retired) = slot.release() else {
            return false;
        };
        self.reported.push(retired.index);
        true
    }
}

impl Passes<u64, u64> for Collector {
    fn pass(&mut self, drain: &mut RegistryDrain<'_, u64, u64>, last: bool) -> Moved {
        self.clock += Duration::from_millis(1);
        let mut moved = Moved::default();
        drain.for_each_slot(|mut slot| {
            let visited = self.visit(&mut slot, last);
            moved.taken += visited.taken;
            moved.other += visited.other;
            if slot.is_retiring() && self.release(slot) {
                moved.other += 1;
            }
        });
        moved
    }

    fn final_visit(&mut self, slot: &mut ActiveSlot<'_, '_, u64, u64>) -> Moved {
        if self.retired_before_cut.is_none() {
            self.retired_before_cut = self
                .retired
                .as_ref()
                .map(|retired| retired.load(std::sync::atomic::Ordering::SeqCst));
        }
        self.visit(slot, true)
    }

    fn cut(&mut self, slot: ActiveSlot<'_, '_, u64, u64>, lanes: (LaneSnapshot, LaneSnapshot)) {
        if !(slot.is_retiring() && self.release(slot)) {
            self.reported.push(lanes.0);
        }
    }

    fn now(&self) -> Instant {
        self.clock
    }

    fn idled(&mut self, step: IdleStep) {
        self.naps += u32::from(matches!(step, IdleStep::Napped(_)));
        self.parks += u32::from(step == IdleStep::Parked);
    }

    fn final_pass(&mut self) {
        self.final_passes += 1;
    }
}

/// A registry of `capacity` slots whose lanes (both) have 2 rings of `ring_records`.
fn registry(capacity: usize, ring_records: usize) -> std::sync::Arc<Registry<u64, u64>> {
    let lane = LaneConfig {
        rings: 2,
        ring_records,
        policy: ExhaustionPolicy::DropOldest,
        mode: LaneMode::SubmitAll,
    };
    Registry::new(RegistryConfig {
        capacity,
        index: lane,
        detail: lane,
    })
    .unwrap()
}

#[test]
fn loom__stop_vs_submit_vs_park__then_no_lost_wake_up_and_no_missed_final_ring() {
    let parked = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen = std::sync::Arc::clone(&parked);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(move || {
        // One-record rings: every second write submits a ring and wakes the drain.
        let registry = registry(2, 1);
        let state = Arc::new(AtomicU8::new(DrainState::Running as u8));
        let mut retiring = registry.register().unwrap();
        let mut quiet = registry.register().unwrap();
        let drain_thread = {
            let registry = std::sync::Arc::clone(&registry);
            let state = Arc::clone(&state);
            thread::spawn(move || {
                let mut drain = registry.drain().unwrap();
                // Naps (a yield under loom) at the first pass that moves nothing within
                // 2 ms of the last taken ring, parks after that, without a timeout (loom
                // models no time): only a wake-up ends a park.
                let config = DrainConfig {
                    spin_for: Duration::ZERO,
                    nap: Duration::from_millis(1),
                    park_after: Duration::from_millis(2),
                    ..DrainConfig::default()
                };
                let mut collector = Collector::default();
                drive(&state, &registry, &mut drain, &config, &mut collector);
                collector
            })
        };
        let producer = thread::spawn(move || {
            retiring.index(1);
            retiring.index(2); // submits the ring holding 1
            drop(retiring); // submits the ring holding 2, retires
        });
        let drain_unpark = drain_thread.thread().clone();
        let stopper = thread::spawn(move || {
            quiet.index(10); // stays in the active ring: only the final drain sees it
            producer.join().unwrap();
            request_stop(&state).unwrap();
            drain_unpark.unpark(); // what `Drain::stop` does after its CAS
            quiet
        });
        let quiet = stopper.join().unwrap();
        let collector = drain_thread.join().unwrap();
        let mut delivered = collector.delivered;
        delivered.sort_unstable();
        assert_eq!(
            delivered,
            [1, 2, 10],
            "everything committed before the stop"
        );
        assert!(collector.final_passes >= 1);
        seen.lock()
            .unwrap()
            .insert((collector.naps > 0, collector.parks > 0));
        drop(quiet);
    });
    let idled = parked.lock().unwrap().clone();
    assert!(
        idled.iter().any(|&(_, parked)| parked) && idled.iter().any(|&(_, parked)| !parked),
        "explored a drain that parked and one that never did: {idled:?}"
    );
    assert!(
        idled.iter().any(|&(napped, _)| napped),
        "explored a drain that napped: {idled:?}"
    );
}

#[test]
fn loom__retirement_vs_final_passes_and_cut__then_reported_once_nothing_in_flight() {
    // A thread-local handle retires in its thread's TLS destructor, which a scope does
    // not wait for: the stop can come while the thread writes its last record or
    // retires. The final passes may find its last ring in neither the submit queue nor
    // the active ring (submitted between the two looks); the cut then visits again.
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen = std::sync::Arc::clone(&outcomes);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(move || {
        let registry = registry(1, 2);
        // The stop is requested before the drain thread starts: it goes straight to
        // the final passes.
        let state = Arc::new(AtomicU8::new(DrainState::Stopping as u8));
        let mut handle = registry.register().unwrap();
        let retired = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let producer = {
            let retired = std::sync::Arc::clone(&retired);
            thread::spawn(move || {
                handle.index(1);
                drop(handle); // submits the partly filled ring, retires
                retired.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        let drain_thread = {
            let registry = std::sync::Arc::clone(&registry);
            thread::spawn(move || {
                let mut drain = registry.drain().unwrap();
                let mut collector = Collector {
                    retired: Some(retired),
                    ..Collector::default()
                };
                drive(
                    &state,
                    &registry,
                    &mut drain,
                    &DrainConfig::default(),
                    &mut collector,
                );
                collector
            })
        };
        producer.join().unwrap();
        let collector = drain_thread.join().unwrap();
        let [reported] = collector.reported[..] else {
            panic!("one report per thread: {:?}", collector.reported);
        };
        // The producer commits one record: whatever the cut counted as written was
        // delivered (it visits again while anything is in flight).
        assert_eq!(
            (reported.events_written, reported.events_delivered),
            (
                collector.delivered.len() as u64,
                collector.delivered.len() as u64
            ),
            "{reported:?}"
        );
        // Retired before the cut began: its record was delivered.
        let retired_before_cut = collector.retired_before_cut == Some(true);
        if retired_before_cut {
            assert_eq!(collector.delivered, [1]);
        }
        seen.lock()
            .unwrap()
            .insert((retired_before_cut, collector.delivered.len()));
    });
    let outcomes = outcomes.lock().unwrap().clone();
    assert!(
        outcomes.contains(&(true, 1)) && outcomes.contains(&(false, 0)),
        "explored a retirement before the cut and one after it: {outcomes:?}"
    );
}
