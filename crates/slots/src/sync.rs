//! The only place this crate takes atomics and the `Arc` of [`pair`](crate::pair) from:
//! `core` and `alloc` normally, loom under `--cfg loom`, so the crates above see the
//! pair's flag and its `Arc` in their models.

#[cfg(loom)]
pub(crate) use loom::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

#[cfg(not(loom))]
pub(crate) use {
    alloc::sync::Arc,
    core::sync::atomic::{AtomicBool, Ordering},
};
