//! The drain handle: taking submitted rings, and collecting the producer's active ring
//! in place.

use crate::lane::Lane;
use crate::ledger::Gap;
use crate::pin::{Pin, end_pin};
use crate::sync::{Ordering, Place};
use crate::taken::TakenRing;

/// The single drain of a [`Lane`]: takes submitted rings and collects the active one.
pub struct LaneDrain<'l, T> {
    pub(crate) lane: &'l Lane<T>,
}

/// What became of records the drain handed to its consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Settlement {
    /// The consumer has them: they count as delivered.
    Delivered,
    /// The consumer failed (or panicked): they count as lost to the sink.
    Failed,
}

impl<'l, T: Copy> LaneDrain<'l, T> {
    /// A drain of `lane`. The caller ([`Lane::drain`]) holds the only-drain contract.
    pub(crate) fn new(lane: &'l Lane<T>) -> Self {
        Self { lane }
    }

    /// Takes the oldest submitted ring, if any. The ring returns to the producer when the
    /// [`TakenRing`] is delivered, failed or dropped.
    pub fn take(&mut self) -> Option<TakenRing<'_, 'l, T>> {
        let lane = self.lane;
        let index = lane.submit.claim()?;
        lane.places.moved(index, Place::Submitted, Place::Drain);
        // SAFETY: the claim (Acquire on `tail`) made the ring the drain's; the producer
        // wrote the header before the push the claim observed.
        let header = unsafe { lane.ring(index).header_unchecked() };
        Some(TakenRing::new(self, index, header))
    }

    /// Reads the committed, not yet collected records of the producer's active ring in
    /// place, without waiting for the ring to fill: how records of a quiet or exiting
    /// thread reach the sink. Returns `f`'s result, or `None` when there was nothing to
    /// pin (a closed lane, the producer swapping rings at that instant, a flight
    /// recorder's window that is not kept, or older submitted rings still to
    /// [`take`](Self::take) first, which keeps records in order) or nothing new to
    /// collect; `f` is called only with records.
    ///
    /// `f` also gets the [`Gap`] before the records: what the lane lost since its
    /// previous delivery. The records count as delivered when `f` returns `Ok`, and as
    /// lost to the sink when it returns `Err` or panics.
    pub fn collect_active<R, E>(
        &mut self,
        f: impl FnOnce(&[T], Gap) -> Result<R, E>,
    ) -> Option<Result<R, E>> {
        let lane = self.lane;
        // Relaxed: the compare-and-swap below validates the value.
        let word = lane.active.load(Ordering::Relaxed);
        let index = word.ring()?;
        let epoch = lane.drain.pins_ended.load(Ordering::Relaxed).next();
        let pinned = word.pinned(epoch);
        // AcqRel on success: Acquire sees the producer's reset of the ring before it made
        // it active; Release carries the end of our earlier pins to the producer's swap.
        // mutant: ring_pool.pin_claim
        lane.active
            .compare_exchange(word, pinned, Ordering::AcqRel, Ordering::Relaxed)
            .ok()?;
        // A flight recorder's unkept window may be held and reset by the producer's next
        // swaps without a look at this pin: touch nothing of it (this check comes before
        // any read of the ring or its start). A kept window is submitted, never held.
        // mutant: ring_pool.collect_kept_only
        if lane.is_flight_recorder() && !lane.producer.windows.is_kept(index) {
            end_pin(lane, pinned, index, epoch);
            return None;
        }
        let buffer = &lane.ring(index);
        // SAFETY: the drain is the ring's only reader; the pin keeps the producer from
        // resetting it until the guard below ends the pin.
        let mut reader = unsafe { buffer.reader() };
        let pin = Pin {
            lane,
            pinned,
            index,
            epoch,
            records: 0,
            settlement: Settlement::Failed,
            reader: &mut reader,
        };
        // Order: the producer submits a ring before it activates the next one, and our
        // pin observed that activation, so every ring older than this one is visible in
        // the submit queue now. If one is still there, it must reach the sink first.
        if !lane.submit.is_drained() {
            drop(pin); // ends the pin, covering no records
            return None;
        }
        pin.hand_over(f)
    }

    /// The lane's counters as a stopping drain reports them: as [`Lane::snapshot`],
    /// except that a flight recorder's unkept windows (the held window, and the active
    /// one when it holds no mark) count as discarded, since no mark can send them to the
    /// drain any more. With the final passes done (every submitted ring taken, a kept
    /// active window collected in place) and the producer quiescent, nothing is left in
    /// flight.
    #[must_use]
    pub fn final_snapshot(&self) -> ada_metrics::LaneSnapshot {
        self.lane.final_snapshot()
    }
}

impl<T> core::fmt::Debug for LaneDrain<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LaneDrain").finish_non_exhaustive()
    }
}
