//! The thread-local layer: one handle per (thread, registry), made on first use and
//! retired by the thread-local destructor when the thread exits.
//!
//! Each thread keeps a short list of `(registry address, handle)`. The address is a
//! sound key: the entry's handle holds an `Arc` of its registry, so the registry (and
//! its address) outlives the entry. Lookups are a linear scan of that list, which holds
//! one entry per registry the thread writes to (usually one).
//!
//! In front of the list sits a one-entry cache: the last `(registry address, handle
//! pointer)` this thread used, in `Cell`s of a constant-initialised thread-local
//! without a destructor (a plain TLS access, no lazy-initialisation check). A hit is one
//! compare; only a miss takes the list (a `RefCell` borrow and the scan, out of line).
//! The cache never outlives what it points to: it is cleared whenever the list drops
//! entries (the cold path prunes, the thread-exit destructor drops all).
//!
//! Two kinds of callers use a cached handle:
//!
//! - A caller's closure ([`Registry::with_local`]) can run any code, a nested call
//!   included: while it holds the handle the cache says `BUSY` instead of an address, so
//!   a nested call misses, finds `BUSY` and is refused (`LocalUnavailable`) rather than
//!   making a second `&mut` to the handle. A guard restores the cache when the closure
//!   returns or unwinds.
//! - A write ([`Registry::index_local`] and its siblings) runs none of the caller's code:
//!   nothing can re-enter while it holds the handle, so it skips the marking (two stores
//!   on every record). Its only panics are checks of internal invariants (a bug); were
//!   one to fire, a panic hook on this thread writing through the same registry could
//!   meet the handle mid-write, as any code could meet state left by a broken invariant.
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
use std::cell::{Cell, RefCell};
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

/// The thread's list; dropping it (thread exit) clears the cache first, so that a later
/// thread-local destructor that writes misses, finds the list gone and is refused.
struct Entries(Vec<Entry>);

impl Drop for Entries {
    fn drop(&mut self) {
        CACHE.with(Cache::clear);
    }
}

/// The cache's key when it names nothing (no `Arc` payload lives at address 0).
const NONE: usize = 0;
/// The cache's key while a closure runs on a handle (an `Arc` payload is aligned to at
/// least 8, so never at address 1).
const BUSY: usize = 1;

/// The last handle this thread used, in separate cells so that a hit loads and stores
/// only the words it needs.
struct Cache {
    /// The address of the handle's registry; `NONE`, or `BUSY` while a closure holds
    /// the handle.
    registry: Cell<usize>,
    /// The entry's handle (a `ThreadHandle<I, D>` of that registry's `I, D`).
    handle: Cell<*mut ()>,
}

impl Cache {
    fn clear(&self) {
        self.registry.set(NONE);
        self.handle.set(std::ptr::null_mut());
    }
}

thread_local! {
    static HANDLES: RefCell<Entries> = const { RefCell::new(Entries(Vec::new())) };
    /// Const-initialised and without a destructor: accessing it is a TLS address, no
    /// lazy-initialisation or destroyed-state check, and it is never destroyed.
    static CACHE: Cache = const {
        Cache {
            registry: Cell::new(NONE),
            handle: Cell::new(std::ptr::null_mut()),
        }
    };
}

/// Puts the registry address back in the cache when dropped: after the closure returns,
/// or while it unwinds (a panicking closure must not leave the cache `BUSY` for good).
struct Restore(usize);

impl Drop for Restore {
    #[inline]
    fn drop(&mut self) {
        CACHE.with(|cache| cache.registry.set(self.0));
    }
}

impl<I: Copy + Send + 'static, D: Copy + Send + 'static> Registry<I, D> {
    /// Writes an index record through the calling thread's thread-local handle,
    /// registering on first use: [`with_local`](Self::with_local)`(|h| h.index(record))`
    /// at less cost, since a write runs none of the caller's code and so need not guard
    /// against re-entry: after the first use, one compare in front of the handle's write.
    ///
    /// ```
    /// use ada_thread_registry::{Registry, RegistryConfig};
    ///
    /// let registry = Registry::<u64, u64>::new(RegistryConfig::default())?;
    /// std::thread::spawn({
    ///     let registry = registry.clone();
    ///     move || {
    ///         registry.index_local(1).unwrap();
    ///         registry.index_all_local(&[2, 3]).unwrap();
    ///         registry.detail_local(4).unwrap();
    ///     }
    /// })
    /// .join()
    /// .unwrap();
    /// assert_eq!(registry.occupied(), 1); // retiring until drained
    /// # Ok::<(), ada_thread_registry::RegistryError>(())
    /// ```
    ///
    /// # Errors
    /// As [`with_local`](Self::with_local).
    #[inline]
    pub fn index_local(self: &Arc<Self>, record: I) -> Result<(), RegisterError> {
        write_local(self, |handle| handle.index(record))
    }

    /// Writes a detail record, as [`index_local`](Self::index_local).
    ///
    /// # Errors
    /// As [`with_local`](Self::with_local).
    #[inline]
    pub fn detail_local(self: &Arc<Self>, record: D) -> Result<(), RegisterError> {
        write_local(self, |handle| handle.detail(record))
    }

    /// Writes index records one after the other (adjacent in the lane: nothing of this
    /// thread comes between them), as [`index_local`](Self::index_local): one batch
    /// ([`ThreadHandle::index_slice`]: one room check, one copy, one publishing store per
    /// ring touched).
    ///
    /// # Errors
    /// As [`with_local`](Self::with_local).
    #[inline]
    pub fn index_all_local(self: &Arc<Self>, records: &[I]) -> Result<(), RegisterError> {
        write_local(self, |handle| handle.index_slice(records))
    }
}

/// Runs `f` with the calling thread's handle for `registry`, registering on first use.
///
/// Inlined, with the miss kept out of line: a record the caller's closure captures
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
    let handle = CACHE.with(|cache| {
        if cache.registry.get() == key {
            // Nested calls see `BUSY` until `Restore` drops.
            cache.registry.set(BUSY);
            Some(cache.handle.get())
        } else {
            None
        }
    });
    let Some(handle) = handle else {
        return with_listed(registry, f);
    };
    let _restore = Restore(key);
    // SAFETY: the cache names `key` only while the list holds the entry for `key`
    // (cleared whenever entries drop), so `handle` is that entry's live
    // `ThreadHandle<I, D>` (the `Arc` proves the registry's type; the address fixes the
    // handle's, see the module docs); the cache is `BUSY` until `f` returns, so no other
    // reference to the handle is made meanwhile.
    let handle = unsafe { &mut *handle.cast::<ThreadHandle<I, D>>() };
    Ok(f(handle))
}

/// `write` on the cached handle for `registry`, or (a miss) through the list.
///
/// `write` must run no code that could re-enter this layer on this thread (one of the
/// handle's own writes, which call no code of the caller's): the cache is not marked
/// busy while it runs.
#[inline(always)]
fn write_local<I, D>(
    registry: &Arc<Registry<I, D>>,
    write: impl FnOnce(&mut ThreadHandle<I, D>),
) -> Result<(), RegisterError>
where
    I: Copy + Send + 'static,
    D: Copy + Send + 'static,
{
    let key = Arc::as_ptr(registry) as usize;
    match CACHE.with(|cache| (cache.registry.get() == key).then(|| cache.handle.get())) {
        Some(handle) => {
            // SAFETY: the cache names the registry only while the list holds its entry
            // (cleared whenever entries drop): `handle` is that entry's live
            // `ThreadHandle<I, D>` (as in `with`). No other reference to it exists: a
            // closure holding one keeps the cache `BUSY`, which is no registry's address,
            // and `write` makes none (it cannot re-enter; module docs).
            write(unsafe { &mut *handle.cast::<ThreadHandle<I, D>>() });
            Ok(())
        }
        None => with_listed(registry, write),
    }
}

/// The miss: the list, registering if this thread has no handle for `registry`; then
/// the handle becomes the cached one.
#[cold]
#[inline(never)]
fn with_listed<I, D, R>(
    registry: &Arc<Registry<I, D>>,
    f: impl FnOnce(&mut ThreadHandle<I, D>) -> R,
) -> Result<R, RegisterError>
where
    I: Copy + Send + 'static,
    D: Copy + Send + 'static,
{
    if CACHE.with(|cache| cache.registry.get()) == BUSY {
        return Err(RegisterError::LocalUnavailable);
    }
    let key = Arc::as_ptr(registry) as usize;
    HANDLES
        .try_with(|cell| {
            let Ok(mut entries) = cell.try_borrow_mut() else {
                return Err(RegisterError::LocalUnavailable);
            };
            let handle = match entries.0.iter().find(|entry| entry.registry == key) {
                Some(entry) => entry.handle,
                None => register(registry, &mut entries.0)?,
            };
            let _restore = Restore(key);
            CACHE.with(|cache| {
                cache.registry.set(BUSY);
                cache.handle.set(handle.as_ptr());
            });
            // SAFETY: the entry for `key` holds a `ThreadHandle<I, D>` (see the module
            // docs: the address fixes the type), alive while the entry is; the borrow of
            // `entries` is held across `f` and the cache is `BUSY`, so no other
            // reference to it exists.
            let handle = unsafe { &mut *handle.cast::<ThreadHandle<I, D>>().as_ptr() };
            Ok(f(handle))
        })
        .unwrap_or(Err(RegisterError::LocalUnavailable))
}

/// The first use on this thread: registers and keeps the handle.
fn register<I: Copy + Send + 'static, D: Copy + Send + 'static>(
    registry: &Arc<Registry<I, D>>,
    entries: &mut Vec<Entry>,
) -> Result<NonNull<()>, RegisterError> {
    // The cache may name an entry about to go: forget it first.
    CACHE.with(Cache::clear);
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

#[cfg(all(test, not(loom)))]
mod tests {
    #![allow(non_snake_case)]

    use super::*;
    use crate::RegistryConfig;
    use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};

    fn registry() -> Arc<Registry<u64, u64>> {
        Registry::new(RegistryConfig {
            capacity: 2,
            index: LaneConfig {
                rings: 2,
                ring_records: 64,
                policy: ExhaustionPolicy::DropNewest,
                mode: LaneMode::SubmitAll,
            },
            detail: LaneConfig {
                rings: 2,
                ring_records: 4,
                ..LaneConfig::detail_lane()
            },
        })
        .unwrap()
    }

    /// Every index record the registry's lanes hold (submitted or still active). The
    /// tests join their threads explicitly: a scope can end before a thread's
    /// thread-local destructor (which retires its handle) has run; `join` waits for it.
    fn index_records(registry: &Registry<u64, u64>) -> Vec<u64> {
        let mut records = Vec::new();
        registry.drain().unwrap().for_each_slot(|mut slot| {
            let mut lane = slot.index_drain();
            while let Some(ring) = lane.take() {
                records.extend_from_slice(ring.records());
                ring.deliver();
            }
            lane.collect_active(|committed, _| {
                records.extend_from_slice(committed);
                Ok::<(), ()>(())
            });
        });
        records
    }

    #[test]
    fn with__two_registries_alternating__then_each_record_in_its_own_registry() {
        let (first, second) = (registry(), registry());
        std::thread::scope(|s| {
            s.spawn(|| {
                for n in 0..40 {
                    // Both paths: a caller's closure and a plain write.
                    first.with(n);
                    second.index_local(1000 + n).unwrap();
                    // A hit on the cache right after a miss.
                    first.index_local(2000 + n).unwrap();
                }
            })
            .join()
            .unwrap();
        });
        let mut firsts = index_records(&first);
        firsts.sort_unstable();
        let expected: Vec<u64> = (0..40).chain(2000..2040).collect();
        assert_eq!(firsts, expected);
        assert_eq!(index_records(&second), (1000..1040).collect::<Vec<_>>());
    }

    trait Write {
        fn with(&self, record: u64);
    }

    impl Write for Arc<Registry<u64, u64>> {
        fn with(&self, record: u64) {
            with(self, |handle| handle.index(record)).unwrap();
        }
    }

    #[test]
    fn with__nested_call_on_a_cache_hit_or_miss__then_local_unavailable() {
        let (first, second) = (registry(), registry());
        std::thread::scope(|s| {
            s.spawn(|| {
                // A miss (first use), then hits.
                for _ in 0..3 {
                    let nested = with(&first, |_| {
                        (
                            with(&first, |_| ()),
                            with(&second, |_| ()),
                            first.index_local(1),
                            second.index_local(2),
                        )
                    });
                    assert_eq!(
                        nested,
                        Ok((
                            Err(RegisterError::LocalUnavailable),
                            Err(RegisterError::LocalUnavailable),
                            Err(RegisterError::LocalUnavailable),
                            Err(RegisterError::LocalUnavailable)
                        ))
                    );
                }
                // And afterwards the cache is back: the same handle, no new slot.
                assert_eq!(with(&first, |handle| handle.slot()), Ok(0));
                assert_eq!(first.occupied(), 1);
            })
            .join()
            .unwrap();
        });
    }

    #[test]
    fn with__closure_panics_on_a_cache_hit__then_next_call_uses_the_same_handle() {
        let registry = registry();
        std::thread::scope(|s| {
            s.spawn(|| {
                let generation = with(&registry, |handle| handle.generation()).unwrap();
                let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    with(&registry, |_| panic!("in the closure"))
                }));
                assert!(unwound.is_err());
                assert_eq!(
                    with(&registry, |handle| {
                        handle.index(7);
                        handle.generation()
                    }),
                    Ok(generation),
                    "the cache was restored, not left busy"
                );
            })
            .join()
            .unwrap();
        });
        assert_eq!(registry.occupied(), 1);
        assert_eq!(index_records(&registry), [7]);
    }

    #[test]
    fn with__cached_registry_shut_down_and_pruned__then_refused_not_dangling() {
        let (old, new) = (registry(), registry());
        std::thread::scope(|s| {
            s.spawn(|| {
                with(&old, |handle| handle.index(1)).unwrap();
                old.shutdown();
                // The miss on `new` prunes `old`'s entry, the cached one.
                with(&new, |handle| handle.index(2)).unwrap();
                assert_eq!(
                    with(&old, |_| ()),
                    Err(RegisterError::ShuttingDown),
                    "the cache no longer names the dropped handle"
                );
                assert_eq!(old.index_local(3), Err(RegisterError::ShuttingDown));
            })
            .join()
            .unwrap();
        });
        assert_eq!(index_records(&new), [2]);
    }

    /// Writes through `registry` from a thread-local destructor that runs after the
    /// list's (destructors run in reverse order of first use).
    struct LateWriter(Option<Arc<Registry<u64, u64>>>);

    thread_local! {
        static LATE: RefCell<LateWriter> = const { RefCell::new(LateWriter(None)) };
    }

    static LATE_RESULT: std::sync::Mutex<Option<Result<(), RegisterError>>> =
        std::sync::Mutex::new(None);

    impl Drop for LateWriter {
        fn drop(&mut self) {
            if let Some(registry) = &self.0 {
                let result = registry.index_local(99);
                let closure = with(registry, |handle| handle.index(98));
                assert_eq!(result, closure, "both paths alike");
                *LATE_RESULT.lock().unwrap() = Some(result);
            }
        }
    }

    #[test]
    fn with__thread_local_destructor_after_the_list_is_gone__then_local_unavailable() {
        let registry = registry();
        std::thread::spawn({
            let registry = Arc::clone(&registry);
            move || {
                // First use of `LATE`, then of the list: the list is destroyed first.
                LATE.with(|late| late.borrow_mut().0 = Some(Arc::clone(&registry)));
                with(&registry, |handle| handle.index(1)).unwrap();
            }
        })
        .join()
        .unwrap();
        assert_eq!(
            *LATE_RESULT.lock().unwrap(),
            Some(Err(RegisterError::LocalUnavailable)),
            "the cache was cleared with the list"
        );
        assert_eq!(index_records(&registry), [1]);
    }
}
