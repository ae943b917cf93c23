//! Parking the drain and waking it: the two sides of one `SeqCst` fence pair, kept
//! together here (`docs/protocol.md`, "Wake-up").
//!
//! The drain stores `parked`, fences, then looks for work; a producer publishes work (a
//! submitted ring, a retirement), fences, then loads `parked`. With both fences at least
//! one side sees the other's store (store–fence–load on both sides; Release/Acquire alone
//! cannot order a store before a later load), so no wake-up is lost. An `unpark` that
//! comes before the `park` leaves a token, and the park returns at once.

use crate::sync::{self, AtomicBool, Mutex, Ordering, Thread};
use crossbeam_utils::CachePadded;
use std::time::Duration;

/// The drain's parking place.
pub(crate) struct DrainParking {
    /// Set by a drain about to park; read by producers that just published work.
    parked: CachePadded<AtomicBool>,
    /// The parking drain's thread, to unpark.
    thread: Mutex<Option<Thread>>,
}

impl DrainParking {
    pub(crate) fn new() -> Self {
        Self {
            parked: CachePadded::new(AtomicBool::new(false)),
            thread: Mutex::new(None),
        }
    }

    /// The drain's side: parks the calling thread for at most `timeout`, unless
    /// `has_work`, asked after the fence, finds work waiting.
    pub(crate) fn park(&self, timeout: Duration, has_work: impl FnOnce() -> bool) {
        {
            let mut thread = self
                .thread
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if thread.is_none() {
                *thread = Some(sync::current());
            }
        }
        self.parked.store(true, Ordering::Relaxed);
        // SeqCst fence: pairs with the producer's fence in `wake`, below.
        // mutant: thread_registry.park_fence
        sync::fence(Ordering::SeqCst);
        if !has_work() {
            sync::park_timeout(timeout);
        }
        self.parked.store(false, Ordering::Relaxed);
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
        if self.parked.load(Ordering::Relaxed) {
            let thread = self
                .thread
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(thread) = thread.as_ref() {
                thread.unpark();
            }
        }
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
