//! A long-lived thread that writes through one tracer after another (a thread pool that
//! makes a tracer per job) must not keep every shut-down tracer's registry alive through
//! its thread-local registrations. Measured in bytes: this test binary counts the live
//! bytes of every allocation (its own global allocator), so it holds this one test only.

#![allow(non_snake_case)]

use ada::{Event, Tracer};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counter only
// observes sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, forwarded.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, forwarded.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One job: a tracer, a record from this (long-lived) thread through the thread-local
/// layer, a shutdown.
fn job(threads: usize) {
    let tracer = Tracer::builder().threads(threads).build().unwrap();
    tracer.index(Event::default()).unwrap();
    let report = tracer.shutdown().unwrap();
    assert_eq!(report.totals.events_delivered, 1);
}

#[test]
fn thread_local__tracer_per_job_on_one_long_lived_thread__then_memory_bounded() {
    const THREADS: usize = 4;
    const JOBS: usize = 40;
    // Bytes of one registry's lanes (4 slots × ~284 KB with the default lanes).
    let registry_bytes = THREADS
        * (ada::ring_pool::Lane::<Event>::memory_bytes_for(&ada::LaneConfig::index_lane())
            + ada::ring_pool::Lane::<ada::Detail>::memory_bytes_for(
                &ada::LaneConfig::detail_lane(),
            ));
    std::thread::spawn(move || {
        job(THREADS); // warm up: the thread-local list, the first registry
        let before = LIVE.load(Ordering::Relaxed);
        for _ in 0..JOBS {
            job(THREADS);
        }
        let grown = LIVE.load(Ordering::Relaxed) - before;
        assert!(
            grown < registry_bytes as isize,
            "{JOBS} jobs on one thread kept {grown} more bytes alive (one registry: \
             {registry_bytes}): shut-down registries are kept by thread-local handles"
        );
    })
    .join()
    .unwrap();
}
