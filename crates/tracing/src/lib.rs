//! ada as a [`tracing_subscriber::Layer`]: code instrumented with `tracing`
//! (`#[instrument]`, `info_span!`, `info!`, …) writes ada records to per-thread lanes,
//! and one drain thread hands them to a sink (a capture file that `ada inspect`,
//! `ada dump` and `ada export --perfetto|--chrome` read). Nothing is lost uncounted: the
//! tracer's report says, per thread and lane, written = delivered + dropped by cause.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("run.ada");
//! let (layer, guard) =
//!     ada_tracing::layer(ada::Tracer::builder().sink(ada::FileSink::create(&path)?))?;
//! // Or, for the whole process: `tracing_subscriber::registry().with(layer).init()`.
//! let subscriber = tracing_subscriber::registry().with(layer);
//!
//! #[tracing::instrument]
//! fn parse(input: &str, base: u32) -> u32 {
//!     tracing::info!(len = input.len(), "parsing");
//!     u32::from_str_radix(input, base).unwrap_or(0)
//! }
//!
//! tracing::subscriber::with_default(subscriber, || {
//!     let _request = tracing::info_span!("request", id = 7_u64).entered();
//!     assert_eq!(parse("ff", 16), 255);
//! });
//! let report = guard.finish()?; // stops the drain: every record delivered
//! assert!(report.totals.is_conserved());
//! // request: enter, `id`, leave; parse: enter, `input`, `base`, leave;
//! // the event: an instant named "parsing", `len`.
//! assert_eq!(report.totals.events_delivered, 3 + 4 + 2);
//!
//! // The capture names everything (`ada dump run.ada` prints the same).
//! let mut reader = ada::capture::CaptureReader::open(&path)?;
//! let mut names = Vec::new();
//! while let Some(block) = reader.next_block()? {
//!     for event in block.records::<ada::Event>()? {
//!         names.extend(reader.names().get(event.name).map(str::to_owned));
//!     }
//! }
//! assert_eq!(
//!     names,
//!     ["request", "id", "parse", "input", "base", "parsing", "len", "parse", "request"]
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What the layer writes
//!
//! Every record goes to the calling thread's **index lane** (its rings are all
//! submitted; the detail lane, a flight recorder by default, is left alone), stamped
//! with `ada::clock::now()` ticks.
//!
//! | `tracing` | ada records |
//! |---|---|
//! | a span entered | an `Enter` named by the span's name, category = its target, then its fields as `Arg` records |
//! | the span exited | a `Leave` of the same name and category |
//! | an event | an `Instant` named by its `message` (or, without one, by its callsite name, `event src/main.rs:12`), category = its target, then its other fields as `Arg` records |
//! | `span.record(..)` inside the span | an `Instant` named like the span with the recorded fields (later enters carry them too) |
//!
//! - **Names** are ids of the process-wide name table (`ada::names`), interned once per
//!   callsite and thread (span name, target, field keys), so a record costs no lock.
//!   Messages and string values are interned too, through a small per-thread cache.
//! - **Events are named by their message**: that is what a timeline should show
//!   (`"cache miss"`, not `event src/cache.rs:88`). A message that varies
//!   (`info!("got {n} items")`) makes one name per distinct text; see the capacity note
//!   below.
//! - **Field values**: unsigned integers as `U64`, signed as `I64`, floats as `F64`,
//!   booleans as `Bool` (`u128`/`i128` as integers when they fit, else as text);
//!   strings, and everything recorded with `?value`/`%value` (formatted with `Debug`
//!   or `Display`), as interned names (`ArgType::Name`).
//! - **Long strings**: a value over [`MAX_STRING_LEN`] bytes is cut at the last
//!   character boundary within it, ends in `…`, and is followed by an argument
//!   `<key>.truncated` holding the original length in bytes; counted in
//!   [`LayerStats::strings_truncated`]. A `Debug` value is formatted into a fixed
//!   buffer: nothing is allocated, whatever its size.
//! - **Name table capacity**: the table holds 65 535 names for the process's life.
//!   Distinct string values (request ids, varying messages) each take one; once it is
//!   full, a new string is recorded as no name followed by `ada.unnamed = "<key>"`, and
//!   counted in [`LayerStats::names_unavailable`]. Record high-cardinality values as
//!   numbers where you can.
//! - **Parents**: nesting is each thread's own (an Enter inside another on the same
//!   lane). Explicit parents on other threads and `follows_from` links are not
//!   recorded.
//! - **Levels** are not recorded; filter with `tracing_subscriber`'s filters (per-layer
//!   filters work as for any layer).
//!
//! # Threads and async code
//!
//! The layer keeps a stack per thread of the spans it entered there, so that every
//! thread's lane stays balanced (each `Leave` closes the innermost `Enter` of the same
//! thread) whatever `tracing` does:
//!
//! - An instrumented future (`.instrument(span)`, `#[instrument]` on an `async fn`) is
//!   entered and exited around each poll, on the thread that polls it: each poll is a
//!   slice on that thread's track, wherever the runtime moves the task.
//! - A span **exited on a thread that did not enter it** writes no `Leave` there (it
//!   would close whatever that thread has open): it writes an `Instant` named like the
//!   span with `ada.exit = "exit without an open enter on this thread"`, counted in
//!   [`LayerStats::exits_unmatched`]. On the thread that entered it, the span stays
//!   open until an enclosing span of that thread exits (see below) or the capture ends
//!   (the exporter then closes it, flagged).
//! - **Exits out of order** on one thread (an enclosing span exited while a span
//!   entered after it is still open): the inner spans are left first, each with an
//!   `Instant` `ada.exit = "left early: an enclosing span exited first"` before its
//!   `Leave` ([`LayerStats::spans_left_early`]); their own exits later are unmatched
//!   exits.
//!
//! Thread names come from the tracer's registry, as for native ada records.
//!
//! # Cost and memory
//!
//! Each layer keeps the open spans' names and fields in a table of its own: 1,024 slots
//! of 128 bytes (128 KiB, allocated with the layer), found by a hash of the span id with
//! a few atomic loads at each enter, on whatever thread (a sequence lock: no lock is
//! taken). A span whose slot is taken by another open span, or with more than three
//! argument records, is kept in the registry's span extensions instead (an allocation
//! and a lock per span): correct, and slower: the more spans a program keeps open at
//! once (slots are shared by hash, so some collide long before a thousand), and the
//! wider its spans, the more of them take that path. `cargo xtask cost` counts each
//! operation's instructions beside a layer that does nothing; `docs/benchmarks.md` has
//! the times.
//!
//! The table is the layer's own and keyed by the registry's span ids, so a layer
//! belongs to one subscriber: one `AdaLayer` shared by two registries (through a
//! wrapper of your own) can show one registry's fields on the other's spans, and a layer
//! swapped in by `tracing_subscriber::reload` writes the spans already open without
//! their fields (their names still). Two ada layers on one registry are fine.
//!
//! # Finishing
//!
//! [`FlushGuard::finish`] stops the tracer and returns its report; dropping the guard
//! does the same and discards the report. [`AdaLayer::for_tracer`] writes to a tracer
//! the caller keeps instead (and whose native `ada::span!(tracer: ..)` records then
//! share the lanes).
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod fields;
mod guard;
mod ids;
mod layer;
mod stack;
mod stats;
mod sync;
mod table;

pub use fields::MAX_STRING_LEN;
pub use guard::FlushGuard;
pub use layer::AdaLayer;
pub use stats::LayerStats;

use ada::{BuildError, Detail, Event, TracerBuilder};
use std::fmt;
use std::sync::Arc;

/// Why [`layer`] could not make its tracer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The builder refused its configuration, or the drain did not start (a sink that
    /// refused the lanes, say).
    Build(BuildError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Build(error) => write!(f, "ada tracing layer: {error}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Build(error) => Some(error),
        }
    }
}

impl From<BuildError> for Error {
    fn from(error: BuildError) -> Self {
        Self::Build(error)
    }
}

/// Builds the tracer and returns a layer writing to it, with the guard that owns it:
/// `tracing_subscriber::registry().with(layer).init()`, hold the guard, and
/// [`FlushGuard::finish`] it (or drop it) to stop the tracer and get its report.
///
/// ```
/// use ada::LaneConfig;
///
/// let error = ada_tracing::layer(
///     ada::Tracer::builder().index_lane(LaneConfig { rings: 1, ..LaneConfig::index_lane() }),
/// )
/// .unwrap_err();
/// assert!(error.to_string().contains("index lane"), "{error}");
/// ```
///
/// # Errors
/// [`Error::Build`] as [`TracerBuilder::build`].
pub fn layer(builder: TracerBuilder<Event, Detail>) -> Result<(AdaLayer, FlushGuard), Error> {
    let tracer = builder.build()?;
    let stats = Arc::default();
    let layer = AdaLayer::new(Arc::clone(tracer.registry()), Arc::clone(&stats));
    Ok((layer, FlushGuard::new(tracer, stats)))
}
