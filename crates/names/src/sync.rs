//! The only place this crate takes atomics, locks and cells from: `std` normally, loom
//! under `--cfg loom`, so the table's publication protocol can be model-checked.

#[cfg(loom)]
pub(crate) use loom::sync::RwLock;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::RwLock;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) use ada_slots::cell::UnsafeCell;

/// A cached id a [`crate::Callsite`] stores and any thread loads: a `std` atomic even
/// under loom, because it must be constructible in a `const fn` (callsites are statics)
/// and because it publishes nothing: the name behind the id is published by the table's
/// own `len` (Release/Acquire), which [`crate::lookup`] loads. So `Relaxed` both ways.
#[derive(Debug)]
pub(crate) struct CachedId(std::sync::atomic::AtomicU32);

impl CachedId {
    pub(crate) const fn new() -> Self {
        Self(std::sync::atomic::AtomicU32::new(0))
    }

    #[inline(always)]
    pub(crate) fn get(&self) -> u32 {
        // Relaxed: the id is the whole datum (see the type's doc).
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn set(&self, id: u32) {
        // Relaxed: two threads racing here store the same id (the table gives one id
        // per string), and nothing else is published through it.
        self.0.store(id, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A count any thread bumps and any thread reads (the callsites' overflows): a `std`
/// atomic even under loom (a `static`, and it orders nothing), `Relaxed` both ways.
#[derive(Debug)]
pub(crate) struct Counter(std::sync::atomic::AtomicU64);

impl Counter {
    pub(crate) const fn new() -> Self {
        Self(std::sync::atomic::AtomicU64::new(0))
    }

    pub(crate) fn bump(&self) {
        // Relaxed: a statistic; no data is published through it.
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        // Relaxed: a statistic.
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}
