//! The only place the drain's control flow takes its atomics and thread calls from:
//! `std` normally, loom under `--cfg loom` (for the stop-versus-park model).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, Ordering};
#[cfg(loom)]
pub(crate) use loom::thread::yield_now;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU8, Ordering};
#[cfg(not(loom))]
pub(crate) use std::thread::yield_now;
