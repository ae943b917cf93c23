//! The only place this crate takes atomics and cells from: `core` normally, loom under
//! `--cfg loom`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// A pause in a retry loop: a spin hint, or under loom a yield (so that a model does
/// not explore every turn of a loop waiting for another thread).
#[inline]
pub(crate) fn spin_hint() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    core::hint::spin_loop();
}

/// A longer pause in a retry loop: gives the CPU to another thread (with `std`; a spin
/// hint without), or under loom a yield.
#[inline]
pub(crate) fn yield_hint() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(all(not(loom), feature = "std"))]
    std::thread::yield_now();
    #[cfg(all(not(loom), not(feature = "std")))]
    core::hint::spin_loop();
}

pub(crate) use ada_slots::cell::UnsafeCell;

// Counters are statistics, not part of any protocol: they order nothing, and exact
// totals are read only after the threads involved have synchronised (joined, or handed
// the lane over). So they are `core` atomics even under loom, which keeps the models'
// state space on the protocol.
#[cfg(target_has_atomic = "64")]
use core::sync::atomic::AtomicU64 as CounterWord;
// Targets without 64-bit atomics (thumbv7em) count in 32 bits: readers see the counter
// wrap after 2^32 and must take differences of snapshots.
#[cfg(not(target_has_atomic = "64"))]
use core::sync::atomic::AtomicU32 as CounterWord;

/// A counter with one writing thread, read by any: the writer adds with a plain
/// load + store (no read-modify-write, so no locked instruction on the hot path).
#[derive(Debug, Default)]
pub(crate) struct Counter(CounterWord);

impl Counter {
    /// Adds `n`. Only the counter's owning thread may call this.
    #[inline(always)]
    pub(crate) fn add(&self, n: u64) {
        // Relaxed: single writer; readers want a recent value, not an ordering.
        let value = self.0.load(core::sync::atomic::Ordering::Relaxed);
        #[allow(clippy::cast_possible_truncation)]
        self.0.store(
            value.wrapping_add(n as _),
            core::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Raises the counter to `n` if it is lower (a high-water mark). Owner only.
    #[inline(always)]
    pub(crate) fn raise_to(&self, n: u64) {
        if self.get() < n {
            #[allow(clippy::cast_possible_truncation)]
            self.0.store(n as _, core::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Sets the counter to `n` (a gauge). Owner only.
    #[inline(always)]
    pub(crate) fn set(&self, n: u64) {
        #[allow(clippy::cast_possible_truncation)]
        self.0.store(n as _, core::sync::atomic::Ordering::Relaxed);
    }

    /// Sets the counter back to zero, for a lane being reused. Exclusive access only.
    pub(crate) fn reset(&self) {
        self.0.store(0, core::sync::atomic::Ordering::Relaxed);
    }

    /// The current value.
    #[inline(always)]
    // The conversion widens a 32-bit counter on targets without 64-bit atomics.
    #[allow(clippy::useless_conversion)]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(core::sync::atomic::Ordering::Relaxed).into()
    }
}

/// Where a ring is, for the ring-ownership invariant (debug builds and loom models).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Place {
    /// In the producer's hands: active, held, or spare.
    Producer = 0,
    /// In the submit queue.
    Submitted = 1,
    /// In the drain's hands.
    Drain = 2,
    /// In the free queue.
    Free = 3,
    /// A shared reserve's ring not lent to this lane.
    Reserve = 4,
}

/// Records where each ring is and checks every move starts where the ring is.
///
/// This is a checker, not part of any protocol: it uses `core` atomics (never loom's)
/// so it adds no interleavings to a model, and loom runs one thread at a time, so a
/// check always sees the latest move.
#[cfg(any(debug_assertions, loom))]
pub(crate) struct PlaceTracker(alloc::boxed::Box<[core::sync::atomic::AtomicU8]>);

#[cfg(any(debug_assertions, loom))]
impl PlaceTracker {
    /// `own` rings in the producer's hands, then `reserve` rings in the reserve.
    pub(crate) fn new(own: usize, reserve: usize) -> Self {
        let tracker = Self(
            (0..own + reserve)
                .map(|_| core::sync::atomic::AtomicU8::new(Place::Producer as u8))
                .collect(),
        );
        tracker.reset(own);
        tracker
    }

    /// Every own ring back in the producer's hands and every reserve ring in the
    /// reserve, for a lane being reused.
    pub(crate) fn reset(&self, own: usize) {
        for (ring, place) in self.0.iter().enumerate() {
            let place_now = if ring < own {
                Place::Producer
            } else {
                Place::Reserve
            };
            place.store(place_now as u8, core::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Moves ring `index` from `from` to `to`; panics (a bug in the protocol) when the
    /// ring was elsewhere.
    pub(crate) fn moved(&self, index: u32, from: Place, to: Place) {
        let was = self.0[index as usize].swap(to as u8, core::sync::atomic::Ordering::Relaxed);
        assert_eq!(
            was, from as u8,
            "ring {index} moved from {from:?} but was elsewhere ({was})"
        );
    }
}

#[cfg(not(any(debug_assertions, loom)))]
pub(crate) struct PlaceTracker;

#[cfg(not(any(debug_assertions, loom)))]
impl PlaceTracker {
    #[inline(always)]
    pub(crate) fn new(_own: usize, _reserve: usize) -> Self {
        Self
    }

    #[inline(always)]
    pub(crate) fn reset(&self, _own: usize) {}

    #[inline(always)]
    pub(crate) fn moved(&self, _index: u32, _from: Place, _to: Place) {}
}
