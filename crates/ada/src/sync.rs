//! The only place this crate takes atomics and locks from: `std` normally, loom under
//! `--cfg loom`, so that the global tracer's install/shutdown protocol can be
//! model-checked (`loom_tests.rs`).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

/// Runs its closure once per process (the panic hook's installation): `std`'s even
/// under loom (a `static`; no model runs it).
pub(crate) use std::sync::Once;

/// Locks `mutex`, ignoring poison: the data it guards (an `Option` and counters) is
/// whole after any panic, since nothing panics while it is half-updated.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
