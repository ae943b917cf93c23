//! ada: many threads emit trace records at a few nanoseconds each, without locks or
//! contention, into per-thread ring pools that one drain thread collects and hands to a
//! sink. Nothing is lost uncounted: at any time, per thread and lane,
//! `written = delivered + dropped (by cause) + in flight`, and after
//! [`Tracer::shutdown`] nothing is in flight.
//!
//! # From `Cargo.toml` to a captured trace
//!
//! ```toml
//! [dependencies]
//! ada-trace = "0.1"   # the package; the library is `ada`
//! ```
//!
//! ```
//! use ada::{Event, EventKind, FileSink, Tracer};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("trace.ada");
//! // Index records are `Event`s (32 bytes), detail records `Detail`s (64 bytes).
//! let tracer = Tracer::builder()
//!     .threads(8)
//!     .sink(FileSink::create(&path)?)
//!     .build()?;
//! std::thread::scope(|s| {
//!     let workers: Vec<_> = (0..4_u32)
//!         .map(|worker| {
//!             let tracer = &tracer;
//!             s.spawn(move || {
//!                 for n in 0..1_000_u64 {
//!                     // The first record registers this thread (thread-local, once).
//!                     tracer.index(Event::now(EventKind::Enter, worker, n)).unwrap();
//!                     tracer.index(Event::now(EventKind::Leave, worker, n)).unwrap();
//!                 }
//!             })
//!         })
//!         .collect();
//!     // `join` waits for each thread's exit, which retires its thread-local handle.
//!     workers.into_iter().for_each(|worker| worker.join().unwrap());
//! });
//! let report = tracer.shutdown()?;
//! assert!(report.totals.is_conserved());
//! assert_eq!(report.totals.events_written, 8_000);
//!
//! // Read it back.
//! let mut reader = ada::capture::CaptureReader::open(&path)?;
//! let mut events = 0;
//! while let Some(block) = reader.next_block()? {
//!     events += block.records::<Event>()?.len() as u64;
//! }
//! assert_eq!(events, report.totals.events_delivered);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! For the last nanosecond, take an explicit per-thread [`ThreadHandle`] with
//! [`Tracer::handle`] instead of the thread-local path (which costs one compare more: a
//! thread caches the handle it used last).
//!
//! # Instrumenting
//!
//! [`span!`], [`instant!`] and [`counter!`] write [`Event`]s named by callsite-static
//! names (interned once in the process-wide table, [`names`]; a capture file carries
//! the table, so readers show the strings). Without a `tracer:` they write to the
//! global tracer of [`install`]; hold its [`TracerGuard`] in `main`.
//!
//! ```
//! fn fib(n: u64) -> u64 {
//!     let _span = ada::span!("fib", n = n); // left when `_span` drops
//!     if n < 2 { n } else { fib(n - 1) + fib(n - 2) }
//! }
//!
//! let guard = ada::install(ada::Tracer::builder())?;
//! assert_eq!(fib(10), 55);
//! ada::instant!(category: "demo", "done", ok = true);
//! ada::counter!("calls", 177);
//! let report = guard.finish()?; // stops the drain: every thread's records delivered
//! // 177 calls: an enter, its argument and a leave each; the instant and its argument;
//! // the counter.
//! assert_eq!(report.totals.events_delivered, 177 * 3 + 2 + 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - Prefixes: `tracer: &tracer,` writes to an explicit [`Tracer`] instead;
//!   `category: "..",` (or `target:`) sets the event's category.
//! - Arguments: `key = value` ([`ArgValue`]: integers, floats, booleans, strings),
//!   written as [`EventKind::Arg`] records right after their event, on the index lane.
//! - Off at run time ([`set_enabled`]`(false)`), or with nothing installed: a relaxed
//!   load and a branch; nothing evaluated, written or counted. Compiled out: the `off`
//!   feature (`ada-trace = { version = "0.1", features = ["off"] }`) makes the macros
//!   expand to nothing that writes.
//! - Process exit: statics are not dropped, so a tracer still installed when `main`
//!   returns is never shut down: hold the guard in `main` (a panic unwinding out of
//!   `main` drops it, which delivers everything). [`flush_on_panic`] also hands a
//!   panicking thread's rings to the drain at once.
//!
//! # The crates underneath
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`ring_buffer`] | `ada-ring-buffer` | one writer, one reader, zero-copy slices |
//! | [`spsc`] | `ada-spsc` | the bounded single-producer single-consumer queue |
//! | [`ring_pool`] | `ada-ring-pool` | a thread's lane: rings, swap, exhaustion policy, marks |
//! | [`registry`] | `ada-thread-registry` | slots, registration, retirement, wake-up |
//! | [`drain`] | `ada-drain` | the drain thread, sinks, the report, the drain's metrics (`DrainSnapshot`, `Histogram`, `fairness_index`) |
//! | [`metrics`] | `ada-metrics` | lane counter snapshots (`LaneSnapshot`, `DropCounts`) and conservation |
//! | [`capture`] | `ada-capture` | the capture file and its reader |
//! | [`clock`] | `ada-clock` | raw clock ticks and their calibration to nanoseconds |
//! | [`names`] | `ada-names` | the process-wide name table, callsites |
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod event;
mod global;
mod global_handle;
mod macros;
mod slot;
mod span;
mod sync;
mod tracer;

pub use event::{ArgType, Detail, Event, EventKind, timestamp_ns};
pub use global::{
    InstallError, ShutdownError, TracerGuard, enabled, flush_on_panic, install, is_installed,
    set_enabled, shutdown,
};
pub use span::{ArgValue, Span};
pub use tracer::{
    BuildError, DEFAULT_BLOCK_TIMEOUT, DEFAULT_INDEX_POLICY, MarkFailure, Tracer, TracerBuilder,
};

/// What the macros expand to; not an API.
#[doc(hidden)]
pub mod __private {
    pub use crate::span::{Span, Target, arg, counter, instant, instant_bare};
}

pub use ada_capture as capture;
pub use ada_clock as clock;
pub use ada_drain as drain;
pub use ada_metrics as metrics;
pub use ada_names as names;
pub use ada_ring_buffer as ring_buffer;
pub use ada_ring_pool as ring_pool;
pub use ada_spsc as spsc;
pub use ada_thread_registry as registry;

pub use ada_capture::FileSink;
pub use ada_drain::{DrainConfig, DrainReport, DrainSnapshot, NullSink, Sink};
pub use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
pub use ada_thread_registry::{RegisterError, ThreadHandle};

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// The crate README's example (the one crates.io shows), compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
