//! Streams an ada capture file (`docs/file-format.md`) to a trace viewer's format:
//! [`Format::Perfetto`], Perfetto's native protobuf trace (`.pftrace`, opened by
//! ui.perfetto.dev and `trace_processor`), or [`Format::Chrome`], the Chrome trace event
//! JSON (`chrome://tracing`, and Perfetto's JSON importer).
//!
//! What the timeline shows, in both formats:
//!
//! - one process (pid 1) and one thread track per thread *registration* (a slot and
//!   generation of the capture), named after the thread, with a small thread id of its
//!   own (2, 3, … in order of first appearance; always below 2^31);
//! - enter/leave events as spans, balanced per track: a span still open at the end is
//!   closed at its track's last timestamp and flagged (`closed` in its args), a leave
//!   without an enter is an instant `leave without enter: …`, never an unbalanced end;
//!   index timestamps that go backwards on a track are raised to the previous one, so
//!   spans nest as they were written;
//! - timestamps in nanoseconds: a version 3 capture's ticks converted with its clock
//!   record's calibration (nanoseconds since the calibration's anchor), older captures'
//!   as stored;
//! - events named by the capture's names (format version 3): the event's name (`(unnamed)`
//!   for none), its category (`ada` when it names none), and its argument records (the
//!   `Arg` records that follow it on its lane) as args beside `argument`: integers,
//!   floats, booleans and names as such (Chrome `args`, Perfetto debug annotations); a
//!   name id the capture lacks shows as `#<id>` and is counted
//!   ([`ExportSummary::unknown_names`]);
//! - instant events as instants, counters as counter samples (Chrome `C` events; Perfetto
//!   instants with a `value` annotation), detail records as instants `detail fn …` with
//!   their payload as args `p0`…`p5`, flight-recorder marks (`MARKED` rings) as instants;
//! - lost events as an instant `N events lost: CAUSE` on the thread's track at the gap
//!   (at the first record after it; spans open before the gap are closed where it
//!   starts), the cause as the block says it (`drop-oldest`, `drop-newest`, `sink`, or
//!   each cause with its count when there are several; version 1 captures say no
//!   cause);
//! - a capture that ends early (a torn last block) or has an unreadable block: what
//!   precedes it, and a process instant `capture ends: torn block at byte N`
//!   ([`ExportSummary::cut`] says so too).
//!
//! Memory is bounded by one block, the track table and the open spans, whatever the
//! capture's size; the output goes through a buffered writer.
//!
//! ```
//! use ada::{Event, EventKind, FileSink, Tracer};
//! use ada::capture::CaptureReader;
//! use ada_export::{Format, export};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("run.ada");
//! let tracer = Tracer::builder().sink(FileSink::create(&path)?).build()?;
//! let parse = ada_names::intern("parse")?.get();
//! for n in 0..10 {
//!     tracer.index(Event::now(EventKind::Enter, parse, n))?;
//!     tracer.index(Event::now(EventKind::Leave, parse, n))?;
//! }
//! tracer.shutdown()?;
//!
//! let mut json = Vec::new();
//! let summary = export(CaptureReader::open(&path)?, Format::Chrome, &mut json)?;
//! assert_eq!(summary.events, 20);
//! assert_eq!((summary.threads, summary.cut), (1, None));
//! let text = String::from_utf8(json)?;
//! assert_eq!(text.matches(r#""ph":"B""#).count(), 10);
//! assert_eq!(text.matches(r#""name":"parse""#).count(), 10);
//! assert_eq!(text.matches(r#""ph":"E""#).count(), 10);
//!
//! let mut pftrace = Vec::new();
//! export(CaptureReader::open(&path)?, Format::Perfetto, &mut pftrace)?;
//! assert!(!pftrace.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod chrome;
mod core;
mod error;
mod perfetto;
mod perfetto_protos;

pub use error::ExportError;

use ada::capture::{CaptureError, CaptureErrorKind, CaptureReader};
use std::io::{BufWriter, Read, Write};

/// Bytes the output is buffered in before each write.
const OUTPUT_BUFFER: usize = 1 << 20;

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Perfetto's native trace: `TracePacket`s with `TrackEvent`s, interned names and
    /// categories, thread track descriptors (`.pftrace`).
    Perfetto,
    /// The Chrome trace event format: one JSON object with a `traceEvents` array.
    Chrome,
}

/// How far an export has got, reported before each block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// Bytes of the capture file before the block about to be read.
    pub bytes: u64,
    /// Index events exported so far.
    pub events: u64,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ExportSummary {
    /// Index-lane records read (enters, leaves, instants, counters, argument records,
    /// and records of unknown kinds).
    pub events: u64,
    /// Counter records (each a counter sample).
    pub counters: u64,
    /// Argument records shown as args of the event they follow.
    pub args: u64,
    /// Argument records not shown: no enter or instant before them on their lane (it
    /// was lost, or a leave or counter came between), or more than 64 for one event.
    pub args_unattached: u64,
    /// Name ids (of events, categories, argument keys or values) the capture's name
    /// table lacks: each shown as `#<id>`, never as another name. A reader warning.
    pub unknown_names: u64,
    /// Detail-lane records read (each an instant).
    pub details: u64,
    /// Thread registrations (tracks).
    pub threads: u64,
    /// Loss markers written.
    pub losses: u64,
    /// Events the capture says were lost (the sum over the loss markers).
    pub events_lost: u64,
    /// Flight-recorder marks written.
    pub marks: u64,
    /// Spans closed just before a loss (their leave may have been lost).
    pub spans_closed_at_loss: u64,
    /// Spans still open at the end of the capture, closed at their track's last
    /// timestamp.
    pub spans_closed_at_end: u64,
    /// Leaves with no open span (instants in the output).
    pub unmatched_leaves: u64,
    /// Leaves of another name than the innermost open span's (they close it).
    pub mismatched_leaves: u64,
    /// Index timestamps raised to their track's previous one (they went backwards).
    pub timestamps_raised: u64,
    /// Where the capture stopped being readable, when it did before its end: a torn
    /// last block ([`CaptureErrorKind::Truncated`]) or a corrupted block. Everything
    /// before it was exported and the timeline marks the spot.
    pub cut: Option<CaptureError>,
    /// The capture's format version.
    pub version: u16,
    /// Bytes of the capture read and checked: where it ends, or where it stopped being
    /// readable.
    pub end: u64,
    /// The trailer's offset, when the capture ends with one (format version 2, its
    /// writer finished). `None` with no `cut` in a version 2 capture: its writer did not
    /// finish (a crash between two blocks).
    pub trailer: Option<u64>,
    /// Whether every lane's blocks agree with the trailer (records = delivered; losses
    /// announced + lost after the last block = dropped, per cause). `None` without a
    /// trailer.
    pub reconciles: Option<bool>,
}

impl ExportSummary {
    /// Whether the capture ended with a torn (truncated) block: what a crash leaves.
    #[must_use]
    pub fn is_torn(&self) -> bool {
        self.cut
            .as_ref()
            .is_some_and(|error| matches!(error.kind, CaptureErrorKind::Truncated { .. }))
    }
}

/// Exports every block of `capture` to `out` in `format`.
///
/// # Errors
/// [`ExportError::Layout`] when the capture does not hold ada's standard records
/// (nothing is written then), [`ExportError::Write`] when `out` fails. A capture that
/// ends early is not an error: see [`ExportSummary::cut`].
pub fn export<R: Read, W: Write>(
    capture: CaptureReader<R>,
    format: Format,
    out: W,
) -> Result<ExportSummary, ExportError> {
    export_with_progress(capture, format, out, |_| {})
}

/// [`export`], calling `progress` before each block.
///
/// # Errors
/// As [`export`].
pub fn export_with_progress<R: Read, W: Write>(
    capture: CaptureReader<R>,
    format: Format,
    out: W,
    mut progress: impl FnMut(Progress),
) -> Result<ExportSummary, ExportError> {
    core::check_layouts(capture.header())?;
    let out = BufWriter::with_capacity(OUTPUT_BUFFER, out);
    match format {
        Format::Perfetto => {
            let mut writer = perfetto::PerfettoWriter::new(out)?;
            core::walk(capture, &mut writer, &mut progress)
        }
        Format::Chrome => {
            let mut writer = chrome::ChromeWriter::new(out)?;
            core::walk(capture, &mut writer, &mut progress)
        }
    }
}

#[cfg(test)]
mod tests;

/// The crate README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
