//! What a producer operation did: whether it handed a ring to the drain, and what a
//! flush did.

/// Whether a producer operation handed at least one ring to the drain: a caller's cue to
/// wake a drain that may be parked. Only the producer's slow path (a swap, a flush, a
/// mark) submits; a write into a ring with room reports
/// [`NothingSubmitted`](Self::NothingSubmitted) without any extra work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Submission {
    /// No ring changed hands.
    #[default]
    NothingSubmitted,
    /// At least one ring went to the submit queue.
    Submitted,
}

impl Submission {
    /// Whether a ring was submitted.
    #[must_use]
    #[inline]
    pub fn is_submitted(self) -> bool {
        self == Self::Submitted
    }

    /// What two operations did together: submitted if either did.
    #[must_use]
    #[inline]
    pub fn or(self, other: Self) -> Self {
        if self.is_submitted() { self } else { other }
    }
}

/// A write to an [`ExhaustionPolicy::Block`](crate::ExhaustionPolicy::Block) lane found
/// no empty ring: what [`LaneProducer::try_write`](crate::LaneProducer::try_write) and
/// [`try_write_slice`](crate::LaneProducer::try_write_slice) report instead of dropping.
///
/// The lane's full ring is in the submit queue (the lane is *vacant*: no ring is
/// active), so the drain has every record written so far. The records not written (the
/// one passed to `try_write`; those of the batch from [`written`](Self::written) on) are
/// neither written nor counted: the caller waits for a ring
/// ([`LaneProducer::has_empty_ring`](crate::LaneProducer::has_empty_ring), after the
/// drain recycles one) and writes them again, or gives up
/// ([`LaneProducer::give_up_waiting`](crate::LaneProducer::give_up_waiting)) and writes
/// them again, which then drops them (counted, cause `timeout`) unless a ring came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use = "the records from `written` on were not written"]
pub struct Blocked {
    /// Records of the batch written before the lane ran out of rings (0 for a single
    /// record).
    pub written: usize,
    /// Whether the call handed rings to the drain, the full one included: wake a drain
    /// that may be parked before waiting.
    pub submission: Submission,
}

/// What [`LaneProducer::flush`](crate::LaneProducer::flush) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlushOutcome {
    /// The partly filled ring was submitted.
    Submitted,
    /// Nothing to flush.
    Empty,
    /// A flight-recorder window without a mark: it is not submitted.
    Unmarked,
    /// No empty ring to swap in: the records stay in the active ring, where the drain
    /// can still collect them in place (`LaneDrain::collect_active`).
    NoFreeRing,
}

impl FlushOutcome {
    /// Whether the flush handed a ring to the drain.
    #[must_use]
    #[inline]
    pub fn submission(self) -> Submission {
        if self == Self::Submitted {
            Submission::Submitted
        } else {
            Submission::NothingSubmitted
        }
    }
}
