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
//!     let workers: Vec<_> = (0..4_u64)
//!         .map(|worker| {
//!             let tracer = &tracer;
//!             s.spawn(move || {
//!                 for n in 0..1_000 {
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
//! [`Tracer::handle`] instead of the thread-local path.
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
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod event;
mod tracer;

pub use event::{Detail, Event, EventKind, timestamp_ns};
pub use tracer::{BuildError, MarkFailure, Tracer, TracerBuilder};

pub use ada_capture as capture;
pub use ada_drain as drain;
pub use ada_metrics as metrics;
pub use ada_ring_buffer as ring_buffer;
pub use ada_ring_pool as ring_pool;
pub use ada_spsc as spsc;
pub use ada_thread_registry as registry;

pub use ada_capture::FileSink;
pub use ada_drain::{DrainConfig, DrainReport, DrainSnapshot, NullSink, Sink};
pub use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
pub use ada_thread_registry::{RegisterError, ThreadHandle};

#[cfg(test)]
mod tests;

/// The crate README's example (the one crates.io shows), compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
