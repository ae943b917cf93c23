//! Blocking producers (`ExhaustionPolicy::Block`): a producer waiting for an empty ring,
//! and the drain or the registry's shutdown waking it. Both sides of one `SeqCst` fence
//! pair, kept together here (`docs/protocol.md`, "Blocking producers"), as the drain's
//! own parking is in `wake.rs`.
//!
//! The producer has already submitted its full ring (the lane is vacant), so it holds
//! nothing the drain needs while it waits, and no lock. It spins briefly re-checking
//! its free queue, then stores `waiting`, fences, re-checks the free queue and the
//! shutdown flag, and parks. The drain pushes recycled rings to the free queue (tail
//! `Release`), fences, and loads `waiting`; `shutdown` stores its flag, fences, and
//! loads every slot's `waiting`. With both fences at least one side sees the other's
//! store (store–fence–load on both sides), so no wake-up is lost: the producer always
//! ends, with a ring, or released by the shutdown. An `unpark` before the `park` leaves
//! a token, and the park returns at once.

use crate::sync::{self, AtomicBool, Ordering, PlainMutex, Thread};
use std::time::{Duration, Instant};

/// Free-queue checks before a waiting producer parks: a ring recycled within these
/// (a few microseconds) costs no system call on either side. One under loom, to keep
/// the models small.
#[cfg(not(loom))]
const SPINS: u32 = 128;
#[cfg(loom)]
const SPINS: u32 = 1;

/// The longest a producer parks at once without a timeout of its own: it re-checks
/// then (a safety net only; the fence pair is what wakes it).
const PARK_LIMIT: Duration = Duration::from_millis(100);

/// How a producer's wait for a ring ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitEnd {
    /// The free queue holds a ring: write again.
    Ring,
    /// The lane's timeout passed without a ring.
    TimedOut,
    /// The registry is shutting down: the producer stops waiting (and never starts).
    ShuttingDown,
}

/// One slot's waiting producer, if any. Written by the producer (its slow path only),
/// read by the drain after it recycled the slot's rings and by `shutdown`: the slot
/// keeps it on a cache line of its own (`Slot::waiter`).
pub(crate) struct ProducerWaiter {
    /// Set by a producer about to park for a ring.
    waiting: AtomicBool,
    /// The waiting producer's thread, to unpark (set before `waiting`; a handle can
    /// move between threads, so it is set at every wait). Locked only to store or clone
    /// it, never across a park or an unpark.
    thread: PlainMutex<Option<Thread>>,
}

impl ProducerWaiter {
    pub(crate) fn new() -> Self {
        Self {
            waiting: AtomicBool::new(false),
            thread: PlainMutex::new(None),
        }
    }

    /// The producer's side: waits until `has_ring` (asked first, then while spinning,
    /// then after the fence before each park), the `deadline` passes, or
    /// `shutting_down` is set. Never parks once the registry is shutting down.
    pub(crate) fn wait(
        &self,
        shutting_down: &AtomicBool,
        deadline: Option<Instant>,
        has_ring: impl Fn() -> bool,
    ) -> WaitEnd {
        let passed = || deadline.is_some_and(|deadline| Instant::now() >= deadline);
        for _ in 0..SPINS {
            if has_ring() {
                return WaitEnd::Ring;
            }
            // Acquire: a shutdown that happened-before this wait is seen here.
            if shutting_down.load(Ordering::Acquire) {
                return WaitEnd::ShuttingDown;
            }
            if passed() {
                return WaitEnd::TimedOut;
            }
            core::hint::spin_loop();
        }
        let current = sync::current();
        *self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(current);
        let end = loop {
            // Relaxed: the fence below orders it before the checks.
            self.waiting.store(true, Ordering::Relaxed);
            // SeqCst fence: pairs with the fence in `wake` (the drain after its free
            // queue push, or `shutdown` after its flag): either we see the ring (or the
            // flag) below, or they see `waiting` and unpark us.
            // mutant: thread_registry.block_wait_fence
            sync::fence(Ordering::SeqCst);
            if has_ring() {
                break WaitEnd::Ring;
            }
            // Acquire: as above (the fence is what makes the flag visible in time).
            if shutting_down.load(Ordering::Acquire) {
                break WaitEnd::ShuttingDown;
            }
            let park = match deadline {
                None => PARK_LIMIT,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => left.min(PARK_LIMIT),
                    _ => break WaitEnd::TimedOut,
                },
            };
            sync::park_timeout(park);
        };
        // Relaxed: a stale `true` costs the drain one needless unpark, no more.
        self.waiting.store(false, Ordering::Relaxed);
        end
    }

    /// The drain's side, after it pushed recycled rings of the slot to a free queue,
    /// and `shutdown`'s after it set its flag: unparks the slot's producer if it is
    /// waiting, or about to park. The check is a fence and a load; the system call
    /// happens only when the producer waits.
    pub(crate) fn wake(&self) {
        // SeqCst fence: with the producer's fence in `wait`, either this load sees the
        // producer waiting, or the producer's re-check sees what we published.
        // mutant: thread_registry.block_wake_fence
        sync::fence(Ordering::SeqCst);
        // Relaxed: ordered by the fence pair.
        if self.waiting.load(Ordering::Relaxed) {
            // A producer that stores `waiting` has stored its thread before: it is there.
            let thread = self
                .thread
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            if let Some(thread) = thread {
                thread.unpark();
            }
        }
    }

    /// Whether a producer waits now (a statistic: Relaxed, no ordering).
    pub(crate) fn is_waiting(&self) -> bool {
        self.waiting.load(Ordering::Relaxed)
    }

    /// The slot is being freed: forget its last producer's thread.
    pub(crate) fn forget_thread(&self) {
        *self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! loom models of a producer waiting for a ring: against the drain recycling one,
    //! and against the registry's shutdown. `sync::park_timeout` parks without a
    //! timeout under loom, so a lost wake-up leaves the producer parked for ever: a
    //! deadlock (or a drain polling for ever) that loom reports.
    #![allow(non_snake_case)]

    use crate::{Registry, RegistryConfig, RegistryDrain, RetiredSlot};
    use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
    use loom::thread;
    use std::collections::BTreeSet;
    use std::sync::{Arc, Mutex};

    /// One slot whose lanes hold 2 rings of 1 record and block without a timeout: the
    /// third write finds both rings the drain's.
    fn registry() -> Arc<Registry<u64, u64>> {
        let lane = LaneConfig {
            rings: 2,
            ring_records: 1,
            policy: ExhaustionPolicy::Block { timeout: None },
            mode: LaneMode::SubmitAll,
        };
        Registry::new(RegistryConfig {
            capacity: 1,
            index: lane,
            detail: lane,
        })
        .unwrap()
    }

    /// A model thread with room for the producer's wait (loom's default stack, 32 KiB,
    /// is too small for it).
    fn spawn(f: impl FnOnce() + Send + 'static) -> thread::JoinHandle<()> {
        spawn_returning(f)
    }

    fn spawn_returning<T: Send + 'static>(
        f: impl FnOnce() -> T + Send + 'static,
    ) -> thread::JoinHandle<T> {
        thread::Builder::new().stack_size(1 << 20).spawn(f).unwrap()
    }

    /// One drain pass: delivers every submitted index ring, releases a retired slot;
    /// the end of the slot's visit wakes a producer waiting for a recycled ring.
    fn pass(
        drain: &mut RegistryDrain<'_, u64, u64>,
        delivered: &mut Vec<u64>,
    ) -> Option<RetiredSlot> {
        let mut released = None;
        drain.for_each_slot(|mut slot| {
            let mut lane = slot.index_drain();
            while let Some(ring) = lane.take() {
                delivered.extend_from_slice(ring.records());
                ring.deliver();
            }
            released = slot.release().ok();
        });
        released
    }

    #[test]
    fn loom__producer_waits_for_a_ring_vs_drain_recycling__then_woken_nothing_lost() {
        // Whether the third write had to wait (the drain had not recycled a ring yet).
        let waits = Arc::new(Mutex::new(BTreeSet::new()));
        let seen_waits = Arc::clone(&waits);
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(move || {
            let registry = registry();
            let mut handle = registry.register().unwrap();
            let producer = spawn(move || {
                handle.index(1);
                handle.index(2); // submits the ring holding 1
                handle.index(3); // submits the ring holding 2; waits unless 1's came back
                drop(handle); // submits the ring holding 3, retires
            });
            // The drain parks (without a timeout, under loom) whenever it finds no work;
            // the producer wakes it after each submit (`ThreadHandle`). So a lost wake-up
            // of the producer leaves both parked: a deadlock loom reports.
            let drain = {
                let registry = Arc::clone(&registry);
                spawn_returning(move || {
                    let mut drain = registry.drain().unwrap();
                    let mut delivered = Vec::new();
                    loop {
                        if let Some(retired) = pass(&mut drain, &mut delivered) {
                            break (delivered, retired);
                        }
                        drain.park(std::time::Duration::MAX);
                    }
                })
            };
            producer.join().unwrap();
            let (delivered, retired) = drain.join().unwrap();
            assert_eq!(delivered, [1, 2, 3]);
            let lane = retired.index;
            assert!(lane.is_conserved(), "{lane:?}");
            assert_eq!(lane.dropped.total(), 0);
            seen_waits.lock().unwrap().insert(lane.blocked_waits);
        });
        let waits = waits.lock().unwrap().clone();
        assert_eq!(
            waits,
            BTreeSet::from([0, 1]),
            "loom explored a write that waited and one that did not"
        );
    }

    #[test]
    fn loom__producer_waits_for_a_ring_vs_shutdown__then_released_every_event_counted() {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.check(|| {
            let registry = registry();
            let mut handle = registry.register().unwrap();
            let producer = spawn(move || {
                handle.index(1);
                handle.index(2);
                handle.index(3); // no drain: waits until the shutdown releases it
                handle.index(4); // after it: never waits, dropped
            });
            let stopper = {
                let registry = Arc::clone(&registry);
                thread::spawn(move || registry.shutdown())
            };
            stopper.join().unwrap();
            producer.join().unwrap();
            let mut delivered = Vec::new();
            let mut drain = registry.drain().unwrap();
            let lane = pass(&mut drain, &mut delivered).expect("retired").index;
            assert_eq!(delivered, [1, 2]);
            assert_eq!(
                (lane.events_written, lane.dropped.timeout),
                (4, 2),
                "{lane:?}"
            );
            assert!(lane.is_conserved());
        });
    }
}
