//! Bounded slots of per-thread lane sets: how each traced thread gets its own lanes, and
//! how the drain finds every thread's lanes.
//!
//! A [`Registry`] is a value (no process global): two registries in one process are
//! fully independent. It holds a fixed number of slots, each with one thread's lane set,
//! an index lane and a detail lane (`ada-ring-pool`). A slot goes
//! `Free → Active → Retiring → Free`:
//!
//! - [`Registry::register`] claims a free slot (a bit in a bitmap of words, so any
//!   capacity works) and returns a [`ThreadHandle`]; a full registry is a typed error the
//!   thread can retry, a registry shutting down refuses with its own error.
//! - Dropping the handle (thread exit) closes both lanes (the partly filled rings are
//!   submitted) and marks the slot `Retiring`. The slot becomes free only when the drain
//!   has taken everything and calls [`ActiveSlot::release`], which resets the lanes, so a
//!   reused slot starts clean; every registration bumps the slot's generation.
//! - [`RegistryDrain::for_each_slot`] enumerates every non-free slot across the whole
//!   capacity, from a rotating start, without locks or allocation.
//! - [`RegistryDrain::park`] parks an idle drain; the [`ThreadHandle`] wakes it after
//!   every operation whose lane reports that it handed a ring over (a write that fills
//!   a ring, a flush, a mark) and at retirement, so callers never wake it themselves.
//!   Only the first producer that finds the drain parked pays the wake-up
//!   ([`RegistryDrain::producer_wakes`] counts them).
//! - A lane whose policy is [`ExhaustionPolicy::Block`](ada_ring_pool::ExhaustionPolicy::Block) loses nothing: a producer that
//!   finds no free ring submits its full one, spins briefly, then parks until the drain
//!   recycles one of its rings (the [`ActiveSlot`] whose lanes the drain recycled
//!   wakes it when dropped), its timeout passes, or [`Registry::shutdown`] releases it (then it drops,
//!   counted under `timeout`); [`Registry::waiting_producers`] says how many wait now,
//!   each lane's `blocked_waits` and `blocked_ns` what waiting cost.
//! - [`Registry::with_local`] registers the calling thread on first use and keeps its
//!   handle in thread-local storage until the thread exits; it works with several
//!   registries at once.
//!
//! ```
//! use ada_thread_registry::{Registry, RegistryConfig};
//!
//! let registry = Registry::<u64, [u8; 64]>::new(RegistryConfig::default())?;
//! std::thread::scope(|s| {
//!     for t in 0..4_u64 {
//!         let registry = &registry;
//!         s.spawn(move || {
//!             let mut handle = registry.register().expect("64 slots, 4 threads");
//!             for event in 0..1000 {
//!                 handle.index(t * 1000 + event);
//!             }
//!         }); // the handle drops here: the slot retires, nothing is lost
//!     }
//! });
//! let mut drain = registry.drain().expect("the only drain");
//! let mut delivered = 0;
//! let mut released = 0;
//! drain.for_each_slot(|mut slot| {
//!     let mut lane = slot.index_drain();
//!     while let Some(ring) = lane.take() {
//!         delivered += ring.records().len();
//!         ring.deliver();
//!     }
//!     if let Ok(retired) = slot.release() {
//!         assert!(retired.index.is_conserved());
//!         released += 1;
//!     }
//! });
//! assert_eq!((delivered, released), (4000, 4));
//! # Ok::<(), ada_thread_registry::RegistryError>(())
//! ```
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod active_slot;
mod block;
mod config;
mod drain;
mod error;
mod handle;
mod local;
mod occupancy;
mod registry;
mod slot;
mod sync;
mod wake;

pub use active_slot::{ActiveSlot, RetiredSlot};
pub use config::{MAX_CAPACITY, RegistryConfig, ReserveConfig};
pub use drain::RegistryDrain;
pub use error::{RegisterError, RegistryError, ReleaseError};
pub use handle::{Flushed, ThreadHandle};
pub use registry::{Registry, ReserveCounts, ReserveUsage};
pub use slot::SlotIdentity;

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, not(loom)))]
mod block_tests;

#[cfg(all(test, not(loom)))]
mod reserve_tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
