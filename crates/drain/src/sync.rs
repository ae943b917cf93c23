//! The only place this crate takes atomics and thread calls from: `std` normally, loom
//! under `--cfg loom` (for the stop-versus-park model). No other module names an atomic
//! type or an `Ordering`.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, Ordering};
#[cfg(loom)]
pub(crate) use loom::thread::yield_now;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, Ordering};
#[cfg(not(loom))]
pub(crate) use std::thread::yield_now;

/// Counters the unit tests' sinks share with the test thread.
#[cfg(all(test, not(loom)))]
pub(crate) use std::sync::atomic::AtomicU64;

/// One published statistic: the drain thread alone stores it, any thread loads it.
///
/// Statistics order nothing (no data is published through them), so they are `std`
/// atomics even under loom, which keeps the model's state space on the stop/park
/// protocol; and `Relaxed` both ways: a reader wants a recent value, not an ordering.
#[derive(Debug, Default)]
pub(crate) struct Statistic(std::sync::atomic::AtomicU64);

impl Statistic {
    /// Stores `value`. Only the drain thread calls this.
    #[inline]
    pub(crate) fn set(&self, value: u64) {
        self.0.store(value, std::sync::atomic::Ordering::Relaxed);
    }

    /// The last stored value.
    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}
