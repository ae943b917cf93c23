//! Parking the drain and waking it: the two sides of one `SeqCst` fence pair, kept
//! together here (`docs/protocol.md`, "Wake-up").
//!
//! The drain stores `parked`, fences, then looks for work; a producer publishes work (a
//! submitted ring, a retirement), fences, then loads `parked`. With both fences at least
//! one side sees the other's store (store–fence–load on both sides; Release/Acquire alone
//! cannot order a store before a later load), so no wake-up is lost. An `unpark` that
//! comes before the `park` leaves a token, and the park returns at once.
//!
//! Only one producer per park pays the `unpark` system call: a producer that sees
//! `parked` clears it with a swap, and only the one whose swap returned `true` unparks.
//! One that finds it already cleared needs no wake-up of its own: whoever cleared it
//! (another producer's unpark, or the drain itself, awake) guarantees the drain runs
//! again, and the drain's next `parked = true` is later in `parked`'s modification order
//! than the value this producer read, so its next fence comes after this producer's in
//! the `SeqCst` order and its look for work sees what the producer published.
//!
//! That producer also steers the drain off its own CPU before unparking it (Linux:
//! `sync::Placement`), and the drain takes its whole CPU set back once it runs.

use crate::sync::{self, AtomicBool, Mutex, Ordering, Placement, Statistic, Thread};
use crossbeam_utils::CachePadded;
use std::time::Duration;

/// The drain's parking place.
pub(crate) struct DrainParking {
    /// Set by a drain about to park; read by producers that just published work.
    parked: CachePadded<AtomicBool>,
    /// The parking drain's thread, to unpark.
    thread: Mutex<Option<Parker>>,
    /// Unparks producers made (one per park at most): what waking the drain cost them.
    unparks: Statistic,
}

/// The drain thread as producers wake it.
struct Parker {
    thread: Thread,
    /// Its CPU set (`None`: one CPU, or not Linux: nothing to steer).
    placement: Option<Placement>,
    /// A waker narrowed its CPU set; the drain restores it when it runs.
    steered: bool,
}

impl DrainParking {
    pub(crate) fn new() -> Self {
        Self {
            parked: CachePadded::new(AtomicBool::new(false)),
            thread: Mutex::new(None),
            unparks: Statistic::new(0),
        }
    }

    /// The drain's side: parks the calling thread for at most `timeout`, unless
    /// `has_work`, asked after the fence, finds work waiting.
    pub(crate) fn park(&self, timeout: Duration, has_work: impl FnOnce() -> bool) {
        {
            let mut parker = self
                .thread
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if parker.is_none() {
                *parker = Some(Parker {
                    thread: sync::current(),
                    placement: Placement::of_current(),
                    steered: false,
                });
            }
        }
        // A swap, not a store (the same below): every write to `parked` is then a
        // read-modify-write, which reads the latest value, so the flag's writes are
        // totally ordered as the argument in the module docs assumes (loom orders plain
        // stores only partially, and then reports a lost wake-up that C++ rules out).
        // Once per park: the cost is nil.
        self.parked.swap(true, Ordering::Relaxed);
        // SeqCst fence: pairs with the producer's fence in `wake`, below.
        // mutant: thread_registry.park_fence
        sync::fence(Ordering::SeqCst);
        if !has_work() {
            sync::park_timeout(timeout);
        }
        self.parked.swap(false, Ordering::Relaxed);
        let mut parker = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(parker) = parker.as_mut().filter(|parker| parker.steered) {
            parker.steered = false;
            if let Some(placement) = &parker.placement {
                placement.restore();
            }
        }
    }

    /// The producer's side, after it published work (a submit's `tail` store, a
    /// `Retiring` store): unparks the drain if it is parked or about to park.
    #[cold]
    #[inline(never)]
    pub(crate) fn wake(&self) {
        // SeqCst fence: with the drain's fence in `park`, above, either this load sees
        // the drain parked, or the drain's look for work sees what we published.
        // mutant: thread_registry.wake_fence
        sync::fence(Ordering::SeqCst);
        // Relaxed load, then Relaxed swap: the fence pair above orders the work; the
        // flag only decides who pays the unpark. The load first keeps producers that
        // find the drain awake (the usual case) from writing its cache line; the swap
        // lets exactly one producer per park through (see the module docs).
        // mutant: thread_registry.wake_claim
        if self.parked.load(Ordering::Relaxed) && self.parked.swap(false, Ordering::Relaxed) {
            self.unparks.add(1);
            let mut parker = self
                .thread
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(parker) = parker.as_mut() {
                if let Some(placement) = &parker.placement {
                    parker.steered |= placement.avoid_current_cpu();
                }
                parker.thread.unpark();
            }
        }
    }

    /// How many times producers unparked the drain so far.
    pub(crate) fn unparks(&self) -> u64 {
        self.unparks.get()
    }

    /// The drain handle is gone: the next one may park on another thread.
    pub(crate) fn forget_thread(&self) {
        *self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// Whether a drain is in `park` now (for tests that wait for it).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn is_parked(&self) -> bool {
        self.parked.load(Ordering::Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #![allow(non_snake_case)]
    use super::*;
    use std::time::Instant;

    /// Parks a thread on `parking` for at most 20 s; returns how long it stayed.
    fn park_until_woken(parking: &DrainParking) -> Duration {
        let start = Instant::now();
        parking.park(Duration::from_secs(20), || false);
        start.elapsed()
    }

    #[test]
    fn wake__three_producers_one_park__then_one_unpark_and_the_drain_woken() {
        let parking = DrainParking::new();
        std::thread::scope(|s| {
            let drain = s.spawn(|| park_until_woken(&parking));
            while !parking.is_parked() {
                std::thread::yield_now();
            }
            std::thread::sleep(Duration::from_millis(20)); // into the park itself
            let producers: Vec<_> = (0..3).map(|_| s.spawn(|| parking.wake())).collect();
            for producer in producers {
                producer.join().unwrap();
            }
            let slept = drain.join().unwrap();
            assert!(slept < Duration::from_secs(10), "woken: {slept:?}");
        });
        assert_eq!(parking.unparks(), 1, "only the first producer pays");
        assert!(!parking.is_parked());
        parking.wake();
        assert_eq!(
            parking.unparks(),
            1,
            "an awake drain costs producers nothing"
        );
    }

    /// The drain thread's CPU set, as the kernel has it.
    #[cfg(all(target_os = "linux", not(miri)))]
    fn cpus_of(tid: libc::pid_t) -> usize {
        // SAFETY: all-zero bytes are an empty `cpu_set_t`; the call writes at most its
        // size into the set we own; `CPU_COUNT` only reads it.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            assert_eq!(
                libc::sched_getaffinity(tid, size_of::<libc::cpu_set_t>(), &raw mut set),
                0
            );
            usize::try_from(libc::CPU_COUNT(&set)).unwrap()
        }
    }

    #[test]
    #[cfg(all(target_os = "linux", not(miri)))]
    fn wake__drain_parked__then_steered_off_the_wakers_cpu_and_restored_once_running() {
        let parking = DrainParking::new();
        std::thread::scope(|s| {
            let drain = s.spawn(|| {
                // SAFETY: `gettid` has no preconditions.
                let tid = unsafe { libc::gettid() };
                let before = cpus_of(tid);
                park_until_woken(&parking);
                (before, cpus_of(tid))
            });
            while !parking.is_parked() {
                std::thread::yield_now();
            }
            std::thread::sleep(Duration::from_millis(20));
            parking.wake();
            let (before, after) = drain.join().unwrap();
            assert_eq!(after, before, "the drain took its whole CPU set back");
            // A direct check of the steering itself, on this thread's own set.
            if let Some(placement) = Placement::of_current() {
                // SAFETY: `gettid` has no preconditions.
                let me = unsafe { libc::gettid() };
                let all = cpus_of(me);
                assert!(placement.avoid_current_cpu());
                assert_eq!(cpus_of(me), all - 1, "the current CPU left out");
                placement.restore();
                assert_eq!(cpus_of(me), all);
            }
        });
    }
}
