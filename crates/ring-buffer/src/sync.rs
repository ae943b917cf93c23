//! The only place this crate takes atomics, cells (and the owned handles' `Arc`) from:
//! `core` and `alloc` normally, loom under `--cfg loom`, so every cross-thread access
//! can be model-checked.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(all(feature = "alloc", loom))]
pub(crate) use loom::sync::{Arc, atomic::AtomicBool};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicUsize, Ordering};
#[cfg(all(feature = "alloc", not(loom)))]
pub(crate) use {alloc::sync::Arc, core::sync::atomic::AtomicBool};

pub(crate) use ada_slots::cell::UnsafeCell;
