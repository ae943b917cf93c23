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
