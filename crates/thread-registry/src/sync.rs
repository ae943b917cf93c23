//! The only place this crate takes atomics and cells from: `std` normally, loom under
//! `--cfg loom`.

#[cfg(loom)]
pub(crate) use loom::sync::Mutex;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering, fence};
#[cfg(loom)]
pub(crate) use loom::thread::{Thread, current};

#[cfg(not(loom))]
pub(crate) use std::sync::Mutex;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering, fence};
#[cfg(not(loom))]
pub(crate) use std::thread::{Thread, current};

/// Parks the calling thread for at most `timeout` (loom models no time: it parks until
/// unparked, which is what a lost wake-up would turn into a detected deadlock).
pub(crate) fn park_timeout(timeout: std::time::Duration) {
    #[cfg(loom)]
    {
        let _ = timeout;
        loom::thread::park();
    }
    #[cfg(not(loom))]
    std::thread::park_timeout(timeout);
}

pub(crate) use ada_slots::cell::UnsafeCell;

/// A statistic one thread stores and any thread loads: `std` atomics even under loom,
/// since it orders nothing (no data is published through it), which keeps the models'
/// state space on the protocols; `Relaxed` both ways.
#[derive(Debug)]
pub(crate) struct Statistic(std::sync::atomic::AtomicU64);

impl Statistic {
    pub(crate) const fn new(value: u64) -> Self {
        Self(std::sync::atomic::AtomicU64::new(value))
    }

    pub(crate) fn set(&self, value: u64) {
        self.0.store(value, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}
