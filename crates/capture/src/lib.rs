//! ada's capture file: [`FileSink`] appends each delivered ring to a file as one
//! checksummed block (one `write` per ring) carrying the events lost just before it by
//! [`LossCause`], and at shutdown a [`Trailer`] with every lane's final counters;
//! [`CaptureReader`] reads the blocks back, validating every byte: a truncated, corrupted
//! or foreign file gives a [`CaptureError`] naming the offset, never a panic, and no
//! allocation larger than the data actually present. It checks each lane's ring order
//! and, with the trailer, [reconciles](CaptureReader::reconcile) every lane: records in
//! the file = delivered, losses announced + lost after the last block = dropped.
//!
//! Format version 3 makes a capture self-describing for records that store raw clock
//! ticks and name ids: the sink writes the process's clock calibration right after the
//! header ([`CaptureReader::timebase`] turns ticks into nanoseconds) and, before each
//! block, a names block with the names the process interned (`ada_names`) since the
//! previous one, each name once, so a file cut short still names every record of its
//! whole blocks ([`CaptureReader::names`]; an id it lacks shows as `#<id>`,
//! [`Label::Unknown`]). Version 1 and 2 files (timestamps in nanoseconds, no names; version
//! 1 without causes or trailer) are read too. `docs/file-format.md` describes the format
//! byte by byte.
//!
//! Records are stored as written, so a record type must be plain old data
//! ([`bytemuck::Pod`]) and say its layout's name ([`Record`]); the file header keeps both
//! lanes' layouts and record sizes, and reading records back as another type is a
//! [`CaptureErrorKind::LayoutMismatch`].
//!
//! ```
//! use ada_capture::{CaptureReader, FileSink};
//! use ada_drain::{Drain, DrainConfig};
//! use ada_thread_registry::{Registry, RegistryConfig};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("trace.ada");
//! let registry = Registry::<u64, u64>::new(RegistryConfig::default())?;
//! let sink = FileSink::<u64, u64>::create(&path)?;
//! let mut drain = Drain::new(registry.clone(), sink, DrainConfig::default())?;
//! drain.start()?;
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         let mut handle = registry.register().unwrap();
//!         (0..5_000).for_each(|n| handle.index(n));
//!     });
//! });
//! let report = drain.stop()?;
//!
//! let mut reader = CaptureReader::open(&path)?;
//! let mut records = Vec::new();
//! while let Some(block) = reader.next_block()? {
//!     records.extend(block.records::<u64>()?);
//! }
//! assert_eq!(records.len() as u64, report.totals.events_delivered);
//! assert_eq!(records, (0..5_000).collect::<Vec<u64>>());
//! // The stop wrote the trailer: every lane's blocks agree with its final counters.
//! assert_eq!(reader.trailer().unwrap().totals.written, 5_000);
//! assert!(reader.reconcile().unwrap().reconciles());
//! // Version 3: the writer's clock calibration converts the records' ticks.
//! assert!(reader.timebase().calibration().is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod clock;
mod format;
mod names;
mod reader;
mod reconcile;
mod sink;
mod trailer;

pub use clock::Timebase;
pub use format::{
    BlockKind, FileHeader, LaneId, LossCause, Losses, MAX_BLOCK_BYTES, MAX_CAUSES, Record,
};
pub use names::{Label, Names};
pub use reader::{Block, CaptureError, CaptureErrorKind, CaptureReader};
pub use reconcile::{LaneCheck, LaneTally, Mismatch, Reconciliation};
pub use sink::{FileSink, FileSinkError};
pub use trailer::{LaneCounters, LaneFinal, LaneKey, Trailer};

#[cfg(test)]
mod tests;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
