//! The only place this crate takes atomics from: `core` normally, loom under
//! `--cfg loom`, so every cross-thread access can be model-checked. (The owned handles'
//! `Arc` and abandonment flag are `ada_slots::pair`'s, which switches the same way.)

#[cfg(loom)]
pub(crate) use loom::{
    hint::spin_loop,
    sync::atomic::{AtomicUsize, Ordering},
};

#[cfg(not(loom))]
pub(crate) use core::{
    hint::spin_loop,
    sync::atomic::{AtomicUsize, Ordering},
};
