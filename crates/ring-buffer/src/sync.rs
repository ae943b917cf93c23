//! The only place this crate takes atomics and cells from: `core` normally, loom under
//! `--cfg loom`, so every cross-thread access can be model-checked. (The owned handles'
//! `Arc` and abandonment flag are `ada_slots::pair`'s, which switches the same way.)

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicUsize, Ordering};

pub(crate) use ada_slots::cell::UnsafeCell;
