//! The thread-local layer: one handle per (thread, registry), made on first use and
//! retired by the thread-local destructor when the thread exits.
//!
//! Each thread keeps a short list of `(registry address, handle)`. The address is a
//! sound key: the entry's handle holds an `Arc` of its registry, so the registry (and
//! its address) outlives the entry. Lookups are a linear scan of that list, which holds
//! one entry per registry the thread writes to (usually one).
//!
//! An entry keeps its registry alive, so a long-lived thread must not keep entries of
//! registries that were shut down (a thread pool that makes a tracer per job would keep
//! every job's registry, all its slots' rings, until the thread exits). Whenever the
//! thread registers with a new registry (the cold path), it first drops its entries of
//! registries that are shutting down: their handles retire and release their registries.
//! A thread thus keeps at most one shut-down registry alive (the last one it wrote to),
//! until it registers elsewhere or exits. The write path checks nothing.
//!
//! The address also fixes the handle's type: the registry at that address is the
//! `Registry<I, D>` the entry was made for, and no other registry can have the address
//! while the entry lives. So an entry keeps its handle as a type-erased pointer and
//! casts it back without a run-time type check (a `dyn Any` downcast costs an indirect
//! call on every write).

use crate::error::RegisterError;
use crate::handle::ThreadHandle;
use crate::registry::Registry;
use std::cell::RefCell;
use std::ptr::NonNull;
use std::sync::Arc;

struct Entry {
    registry: usize,
    /// A `Box<ThreadHandle<I, D>>` turned into a raw pointer, for the registry's `I, D`.
    handle: NonNull<()>,
    /// Drops `handle` as the box it was.
    drop_handle: unsafe fn(NonNull<()>),
    /// Whether `handle`'s registry is shutting down.
    shut_down: unsafe fn(NonNull<()>) -> bool,
}

impl Entry {
    /// Whether the entry's registry is shutting down (its handle can be dropped).
    fn is_shut_down(&self) -> bool {
        // SAFETY: `handle` is the `Box<ThreadHandle<I, D>>` that `shut_down` was
        // instantiated for, alive until the entry drops.
        unsafe { (self.shut_down)(self.handle) }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        // SAFETY: `handle` came from `Box::into_raw` of the type `drop_handle` was
        // instantiated for, and is dropped once, here.
        unsafe { (self.drop_handle)(self.handle) }
    }
}

/// # Safety
/// `handle` is a `Box<ThreadHandle<I, D>>` from `Box::into_raw`, not yet dropped.
unsafe fn drop_handle<I: Copy + Send + 'static, D: Copy + Send + 'static>(handle: NonNull<()>) {
    // SAFETY: the caller's contract.
    drop(unsafe { Box::from_raw(handle.cast::<ThreadHandle<I, D>>().as_ptr()) });
}

/// # Safety
/// `handle` is a live `Box<ThreadHandle<I, D>>` from `Box::into_raw`.
unsafe fn shut_down<I: Copy + Send + 'static, D: Copy + Send + 'static>(
    handle: NonNull<()>,
) -> bool {
    // SAFETY: the caller's contract; only a shared reference, and the thread-local list
    // is borrowed by the caller, so no `&mut` to the handle exists.
    unsafe { handle.cast::<ThreadHandle<I, D>>().as_ref() }.is_registry_shutting_down()
}

thread_local! {
    static HANDLES: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with the calling thread's handle for `registry`, registering on first use.
///
/// Inlined, with registration kept out of line: a record the caller's closure captures
/// then stays in registers. Called through a non-inlined function, it went through a
/// stack slot and was copied into the ring with wider loads than the stores that built
/// it (a store-forwarding stall: 5.9 instead of ~2 ns per write).
#[inline]
pub(crate) fn with<I, D, R>(
    registry: &Arc<Registry<I, D>>,
    f: impl FnOnce(&mut ThreadHandle<I, D>) -> R,
) -> Result<R, RegisterError>
where
    I: Copy + Send + 'static,
    D: Copy + Send + 'static,
{
    let key = Arc::as_ptr(registry) as usize;
    HANDLES
        .try_with(|cell| {
            let Ok(mut entries) = cell.try_borrow_mut() else {
                return Err(RegisterError::LocalUnavailable);
            };
            let handle = match entries.iter().find(|entry| entry.registry == key) {
                Some(entry) => entry.handle,
                None => register(registry, &mut entries)?,
            };
            // SAFETY: the entry for `key` holds a `ThreadHandle<I, D>` (see the module
            // docs: the address fixes the type), alive while the entry is; the borrow of
            // `entries` is held across `f`, so no other reference to it exists.
            let handle = unsafe { &mut *handle.cast::<ThreadHandle<I, D>>().as_ptr() };
            Ok(f(handle))
        })
        .unwrap_or(Err(RegisterError::LocalUnavailable))
}

/// The first use on this thread: registers and keeps the handle.
#[cold]
#[inline(never)]
fn register<I: Copy + Send + 'static, D: Copy + Send + 'static>(
    registry: &Arc<Registry<I, D>>,
    entries: &mut Vec<Entry>,
) -> Result<NonNull<()>, RegisterError> {
    // Entries of shut-down registries go first: each one keeps its registry alive.
    entries.retain(|entry| !entry.is_shut_down());
    let handle = Box::new(registry.register()?);
    let handle = NonNull::from(Box::leak(handle)).cast::<()>();
    entries.push(Entry {
        registry: Arc::as_ptr(registry) as usize,
        handle,
        drop_handle: drop_handle::<I, D>,
        shut_down: shut_down::<I, D>,
    });
    Ok(handle)
}
