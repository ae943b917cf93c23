//! The calling thread's handle of the global tracer, in a thread-local of its own.
//!
//! The global tracer's registry is always a `Registry<Event, Detail>`, and only this
//! module registers threads with it (the tracer itself is out of reach behind the
//! global's lock), so the handle is kept here rather than in the registry's thread-local
//! list: a hit is one compare of the global key with this thread's cached key, then the
//! handle's write; no type to check, no list.
//!
//! The handle (a leaked `Box`, owned by `OWNED`) lives until this thread writes to
//! another global tracer (the old handle retires, releasing its registry) or exits (the
//! thread-local destructor retires it: its committed records reach the drain). A thread
//! that wrote to a tracer since shut down keeps that registry alive until then.
//!
//! `CACHE` (constant-initialised, no destructor: a plain TLS access) names the owned
//! handle: `key` is its registry's address, which no other registry can have while the
//! handle (holding an `Arc` of it) lives. It is cleared before the handle goes (the
//! cold path replacing it, the thread-exit destructor), so it never dangles. Writes run
//! none of the caller's code, so nothing can re-enter while one holds the handle; the
//! cold path clears the cache while it holds the handle itself.

use crate::event::{Detail, Event};
use crate::global::GLOBAL;
use ada_thread_registry::ThreadHandle;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::Arc;

type Handle = ThreadHandle<Event, Detail>;

/// The handle this thread registered with the global tracer of key `key`.
struct Owned {
    key: usize,
    /// From `Box::into_raw`; dropped (retired) with `Owned`.
    handle: NonNull<Handle>,
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: `handle` came from `Box::into_raw` and is dropped once, here; the cache
        // was cleared before (see `Slot::drop` and `write_cold`), so nothing refers to it.
        drop(unsafe { Box::from_raw(self.handle.as_ptr()) });
    }
}

/// The owned handle, if any; dropping it (thread exit) clears the cache first.
struct Slot(Option<Owned>);

impl Drop for Slot {
    fn drop(&mut self) {
        CACHE.with(Cache::clear);
    }
}

struct Cache {
    /// The owned handle's key, or 0.
    key: Cell<usize>,
    /// The owned handle, when `key` is not 0.
    handle: Cell<*mut Handle>,
}

impl Cache {
    fn clear(&self) {
        self.key.set(0);
        self.handle.set(std::ptr::null_mut());
    }
}

thread_local! {
    static OWNED: RefCell<Slot> = const { RefCell::new(Slot(None)) };
    /// Const-initialised and without a destructor: accessing it is a TLS address, no
    /// lazy-initialisation or destroyed-state check, and it is never destroyed.
    static CACHE: Cache = const {
        Cache {
            key: Cell::new(0),
            handle: Cell::new(std::ptr::null_mut()),
        }
    };
}

/// This thread's cached handle, if it is the one of the global tracer of key `key`.
#[inline(always)]
fn cached(key: usize) -> Option<*mut Handle> {
    CACHE.with(|cache| (cache.key.get() == key).then(|| cache.handle.get()))
}

/// Writes `record` to the global tracer of key `key` (not 0) on this thread's lane;
/// whether it was written (not: that tracer is gone, or this thread cannot register).
#[inline(always)]
pub(crate) fn write(key: usize, record: Event) -> bool {
    match cached(key) {
        Some(handle) => {
            // SAFETY: the cache names `key` only while `OWNED` holds that handle (it is
            // cleared before the handle goes), so `handle` is live; no other reference
            // to it exists: the cold path, which makes one, clears the cache first, and
            // a write cannot re-enter (module docs).
            unsafe { (*handle).index(record) };
            true
        }
        None => write_cold(key, &[record]),
    }
}

/// Writes `records` one after the other (adjacent in the lane), as [`write`].
#[inline(always)]
pub(crate) fn write_all(key: usize, records: &[Event]) -> bool {
    match cached(key) {
        Some(handle) => {
            // SAFETY: as in `write`.
            let handle = unsafe { &mut *handle };
            for record in records {
                handle.index(*record);
            }
            true
        }
        None => write_cold(key, records),
    }
}

/// The miss: registers with the installed tracer if its key is still `key` (replacing
/// the handle of a previous tracer), writes, and caches the handle.
#[cold]
#[inline(never)]
fn write_cold(key: usize, records: &[Event]) -> bool {
    OWNED
        .try_with(|slot| {
            let Ok(mut slot) = slot.try_borrow_mut() else {
                return false;
            };
            // The handle is about to be used here, or replaced.
            CACHE.with(Cache::clear);
            if slot.0.as_ref().is_none_or(|owned| owned.key != key) {
                // The `Arc` keeps the registry alive while this thread registers, even if
                // the tracer is shut down meanwhile (the registration is then refused).
                let Some(registry) =
                    GLOBAL.with_installed(key, |tracer| Arc::clone(tracer.registry()))
                else {
                    return false;
                };
                slot.0 = None; // the previous tracer's handle retires
                let Ok(handle) = registry.register() else {
                    return false;
                };
                slot.0 = Some(Owned {
                    key,
                    handle: NonNull::from(Box::leak(Box::new(handle))),
                });
            }
            let Some(owned) = &slot.0 else {
                return false;
            };
            // SAFETY: `owned.handle` is live while `slot` holds it; the cache is clear, so
            // this is the only reference until the cache names it again below.
            let handle = unsafe { &mut *owned.handle.as_ptr() };
            for record in records {
                handle.index(*record);
            }
            CACHE.with(|cache| {
                cache.key.set(key);
                cache.handle.set(owned.handle.as_ptr());
            });
            true
        })
        .unwrap_or(false)
}

/// Hands this thread's partly filled rings of the global tracer of key `key` to the
/// drain (a panic hook's flush); nothing when this thread has no handle of it.
pub(crate) fn flush(key: usize) {
    if key == 0 {
        return; // nothing installed: the empty cache's key
    }
    if let Some(handle) = cached(key) {
        // SAFETY: as in `write`; the caller (the panic hook) skips panics raised inside
        // this crate family, where a write could be holding the handle.
        unsafe { (*handle).flush() };
    }
}
