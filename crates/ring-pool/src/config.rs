//! A lane's configuration: shape, exhaustion policy and mode, with their typed errors.

use core::fmt;
use core::time::Duration;

/// What a lane does when its producer needs an empty ring and none is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExhaustionPolicy {
    /// Take back the oldest submitted ring the drain has not claimed, count its events as
    /// lost, and reuse it: the newest events survive ("forward progress"). The claim is
    /// a compare-and-swap on the submit queue's head that the drain also uses, so a ring
    /// the drain has claimed is never taken back.
    #[default]
    DropOldest,
    /// Keep the full ring and discard new events, counted, until the drain returns a
    /// ring (LTTng's discard mode): the oldest events survive.
    DropNewest,
    /// Lossless (LTTng's blocking mode): a producer that finds no free ring submits its
    /// full ring and waits until the drain recycles one. This crate cannot wait (it is
    /// `no_std`): [`LaneProducer::try_write`](crate::LaneProducer::try_write) reports
    /// [`Blocked`](crate::Blocked) and its caller waits (the thread registry's
    /// `ThreadHandle` spins briefly, then parks until the drain wakes it), while
    /// [`LaneProducer::write`](crate::LaneProducer::write) behaves as a zero timeout.
    ///
    /// With `timeout: Some(t)`, a producer that waited `t` without a ring gives up: the
    /// event is discarded, and so is every event that finds no ring after it, without
    /// waiting again, until the drain hands a ring back (then the lane blocks again
    /// when it runs out). Those events are counted under the `timeout` cause
    /// ([`DropCounts::timeout`](crate::DropCounts::timeout)), as are the events of a
    /// producer that the registry's shutdown released (or that found the registry shut
    /// down: it never starts waiting then). `timeout: None` waits until a ring comes or
    /// the registry shuts down.
    ///
    /// Not for flight recorders ([`LaneConfigError::BlockOnFlightRecorder`]): their
    /// unmarked windows are recycled by the producer itself, never by the drain.
    ///
    /// ```
    /// use ada_ring_pool::{ExhaustionPolicy, LaneConfig};
    /// use std::time::Duration;
    ///
    /// let lossless = LaneConfig {
    ///     policy: ExhaustionPolicy::Block { timeout: Some(Duration::from_millis(10)) },
    ///     ..LaneConfig::index_lane()
    /// };
    /// assert!(lossless.policy.is_block());
    /// ```
    Block {
        /// How long a producer waits for a ring before it discards events; `None`: until
        /// a ring comes or the registry shuts down.
        timeout: Option<Duration>,
    },
}

impl ExhaustionPolicy {
    /// Whether producers wait for a ring ([`Block`](Self::Block)).
    #[must_use]
    #[inline]
    pub fn is_block(&self) -> bool {
        matches!(self, Self::Block { .. })
    }
}

/// How a lane treats its rings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LaneMode {
    /// Every ring is submitted (the index lane).
    #[default]
    SubmitAll,
    /// A flight recorder (the detail lane): a full window without a mark is recycled
    /// unsubmitted ("discarded", by design); a marked window is submitted together with
    /// the window before it, if still held, as context.
    FlightRecorder {
        /// Deepest nesting of `mark_push` scopes.
        max_mark_depth: u8,
    },
}

/// A lane's shape and behaviour.
///
/// ```
/// use ada_ring_pool::{ExhaustionPolicy, LaneConfig};
/// let index = LaneConfig::index_lane();
/// assert_eq!((index.rings, index.policy), (14, ExhaustionPolicy::DropOldest));
/// assert_eq!(LaneConfig::detail_lane().rings, 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneConfig {
    /// Rings in the pool (at least 2: one active, one in the drain's hands or queued).
    pub rings: usize,
    /// Records per ring.
    pub ring_records: usize,
    /// What to do when no ring is free.
    pub policy: ExhaustionPolicy,
    /// Submit every ring, or keep only marked windows.
    pub mode: LaneMode,
}

/// The most rings one lane may have.
pub const MAX_RINGS: usize = 64;

impl LaneConfig {
    /// The index lane's defaults: 14 rings of 1024 records, drop-oldest, every ring
    /// submitted. With the default detail lane that is about 474 KiB per thread, within
    /// a 512 KB budget; at 100 M events/s (a producer doing nothing else) the rings hold
    /// 143 µs of events, more than this VM's measured wake-up of a parked drain (up to
    /// ~140 µs), and each ring reaches the drain 10 µs after the previous one.
    #[must_use]
    pub const fn index_lane() -> Self {
        Self {
            rings: 14,
            ring_records: 1024,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::SubmitAll,
        }
    }

    /// The detail lane's defaults: 2 rings of 128 records, drop-oldest, a flight
    /// recorder with marks nested up to 2 deep.
    #[must_use]
    pub const fn detail_lane() -> Self {
        Self {
            rings: 2,
            ring_records: 128,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::FlightRecorder { max_mark_depth: 2 },
        }
    }

    pub(crate) fn validate(&self) -> Result<(), LaneConfigError> {
        if self.rings < 2 {
            return Err(LaneConfigError::TooFewRings { rings: self.rings });
        }
        if self.rings > MAX_RINGS {
            return Err(LaneConfigError::TooManyRings {
                rings: self.rings,
                max: MAX_RINGS,
            });
        }
        if self.ring_records == 0 {
            return Err(LaneConfigError::EmptyRings);
        }
        if self.policy.is_block() && matches!(self.mode, LaneMode::FlightRecorder { .. }) {
            return Err(LaneConfigError::BlockOnFlightRecorder);
        }
        Ok(())
    }
}

impl Default for LaneConfig {
    fn default() -> Self {
        Self::index_lane()
    }
}

/// Why a lane could not be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LaneConfigError {
    /// A lane needs at least 2 rings: the one being written and one to swap in.
    TooFewRings {
        /// Rings asked for.
        rings: usize,
    },
    /// More rings than a lane supports.
    TooManyRings {
        /// Rings asked for.
        rings: usize,
        /// The limit.
        max: usize,
    },
    /// `ring_records` was 0.
    EmptyRings,
    /// [`ExhaustionPolicy::Block`] on a [`LaneMode::FlightRecorder`] lane: a flight
    /// recorder's producer recycles its unmarked windows itself, so there is nothing
    /// for it to wait for.
    BlockOnFlightRecorder,
    /// A ring's or queue's memory could not be had.
    Storage(ada_ring_buffer::SlotsError),
    /// A shared reserve larger than a lane can address beside its own rings (a lane
    /// names its rings in one byte).
    ReserveTooLarge {
        /// Reserve rings asked for.
        rings: usize,
        /// The most a lane of this shape can borrow from.
        max: usize,
    },
    /// A shared reserve whose rings hold another number of records than the lane's.
    ReserveShape {
        /// The lane's records per ring.
        lane: usize,
        /// The reserve's records per ring.
        reserve: usize,
    },
    /// A shared reserve for a [`LaneMode::FlightRecorder`] lane: a flight recorder
    /// recycles its own windows and never runs out of rings.
    ReserveOnFlightRecorder,
}

impl fmt::Display for LaneConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewRings { rings } => write!(
                f,
                "a lane needs at least 2 rings (one written, one to swap in), not {rings}"
            ),
            Self::TooManyRings { rings, max } => {
                write!(f, "a lane holds at most {max} rings, not {rings}")
            }
            Self::EmptyRings => f.write_str("rings must hold at least 1 record"),
            Self::BlockOnFlightRecorder => f.write_str(
                "a flight recorder cannot block: it recycles its unmarked windows itself",
            ),
            Self::Storage(error) => write!(f, "ring storage: {error}"),
            Self::ReserveTooLarge { rings, max } => write!(
                f,
                "a lane can borrow from a reserve of at most {max} rings, not {rings}"
            ),
            Self::ReserveShape { lane, reserve } => write!(
                f,
                "the reserve's rings hold {reserve} records, the lane's {lane}: they must agree"
            ),
            Self::ReserveOnFlightRecorder => f.write_str(
                "a flight recorder cannot borrow from a reserve: it recycles its own windows",
            ),
        }
    }
}

impl core::error::Error for LaneConfigError {}

/// Why a marking call was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarkError {
    /// `mark_push` beyond the lane's `max_mark_depth`.
    DepthExceeded {
        /// The lane's limit.
        max: u8,
    },
    /// `mark_pop` with no open scope.
    NotMarked,
    /// Scopes exist only on flight-recorder lanes.
    NotAFlightRecorder,
}

impl fmt::Display for MarkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DepthExceeded { max } => write!(f, "marked scopes nest at most {max} deep"),
            Self::NotMarked => f.write_str("mark_pop without an open marked scope"),
            Self::NotAFlightRecorder => f.write_str("marked scopes need a flight-recorder lane"),
        }
    }
}

impl core::error::Error for MarkError {}
