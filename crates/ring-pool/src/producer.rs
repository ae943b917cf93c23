//! The producer handle: writing records (the fast path), flushing, marking and closing;
//! everything that changes rings is in the slow path (`swap.rs`).

use crate::config::{LaneMode, MarkError};
use crate::lane::Lane;
use crate::outcome::{FlushOutcome, Submission};
use crate::swap::{ProducerState, RotateReason, Rotation};
use ada_ring_buffer::RingWriter;

/// The single producer of a [`Lane`]: writes records, swaps rings, marks windows.
///
/// Every operation that can hand a ring to the drain (a write that fills a ring, a
/// flush, a mark) reports it ([`Submission`], [`FlushOutcome`]), so the caller can wake
/// a drain that may be parked.
pub struct LaneProducer<'l, T> {
    lane: &'l Lane<T>,
    /// Writer of the active ring (its length cached, so a write loads nothing shared).
    writer: RingWriter<'l, 'static, T>,
}

impl<'l, T: Copy> LaneProducer<'l, T> {
    /// A handle writing `writer`, the lane's active ring. The caller
    /// ([`Lane::producer`]) holds the only-producer contract.
    pub(crate) fn new(lane: &'l Lane<T>, writer: RingWriter<'l, 'static, T>) -> Self {
        Self { lane, writer }
    }

    /// Writes one record. Never blocks and never fails: when no ring is free, the
    /// lane's [`ExhaustionPolicy`](crate::ExhaustionPolicy) decides what is lost, and the
    /// loss is counted. Returns [`Submission::Submitted`] when the full ring was handed
    /// to the drain to make room.
    #[inline]
    pub fn write(&mut self, record: T) -> Submission {
        if self.writer.is_full() {
            return self.write_after_making_room(record);
        }
        let written = self.writer.push(record);
        debug_assert!(written.is_ok(), "the ring has room");
        Submission::NothingSubmitted
    }

    /// The part of [`write`](Self::write) that follows a full ring. Inlined into it, so
    /// the record never reaches the slow path: passing it there would make the compiler
    /// build it in a stack slot and copy it out with wider loads than the stores that
    /// built it, a store-forwarding stall that tripled the cost of every write.
    #[inline(always)]
    fn write_after_making_room(&mut self, record: T) -> Submission {
        let rotation = self.make_room();
        if rotation == Rotation::NoRing {
            return Submission::NothingSubmitted;
        }
        let written = self.writer.push(record);
        debug_assert!(written.is_ok(), "a fresh ring has room");
        rotation.submission()
    }

    /// Writes a batch of records (one publishing store per ring touched). Returns
    /// [`Submission::Submitted`] when at least one ring was handed to the drain.
    pub fn write_slice(&mut self, mut records: &[T]) -> Submission {
        let mut submission = Submission::NothingSubmitted;
        while !records.is_empty() {
            let written = self.writer.push_slice(records);
            records = &records[written..];
            if records.is_empty() {
                break;
            }
            let rotation = self.with_state(|lane, state, writer| {
                lane.rotate(state, writer, RotateReason::RingFull)
            });
            submission = submission.or(rotation.submission());
            if rotation == Rotation::NoRing {
                self.count_dropped_on_arrival(records.len() as u64);
                break;
            }
        }
        submission
    }

    /// Replaces the full active ring; when no ring can be had, counts the arriving
    /// record as dropped.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) -> Rotation {
        let rotation = self
            .with_state(|lane, state, writer| lane.rotate(state, writer, RotateReason::RingFull));
        if rotation == Rotation::NoRing {
            self.count_dropped_on_arrival(1);
        }
        rotation
    }

    fn count_dropped_on_arrival(&mut self, events: u64) {
        let counters = &self.lane.producer.counters;
        counters.events_written.add(events);
        counters.dropped_newest.add(events);
        self.with_state(|_, state, _| {
            state.emitted.events += events;
            state.emitted.dropped_newest += events;
        });
    }

    /// Submits the partly filled active ring now (flagged `PARTIAL`), so a thread that
    /// goes quiet does not keep its records. Uses a free ring only: a flush never drops
    /// older rings to make room.
    pub fn flush(&mut self) -> FlushOutcome {
        if self.writer.is_empty() {
            return FlushOutcome::Empty;
        }
        self.with_state(|lane, state, writer| {
            if !lane.keeps_window(state) {
                return FlushOutcome::Unmarked;
            }
            match lane.rotate(state, writer, RotateReason::Flush) {
                Rotation::Submitted => FlushOutcome::Submitted,
                Rotation::NoRing => FlushOutcome::NoFreeRing,
                // A kept window is submitted, never held.
                Rotation::Held => FlushOutcome::Unmarked,
            }
        })
    }

    /// Marks the current window: it is submitted (flagged `MARKED`) instead of being
    /// recycled, and the window before it, if still held, is submitted now as context
    /// (flagged `CONTEXT`; then this returns [`Submission::Submitted`]). On a `SubmitAll`
    /// lane the current ring is flagged `MARKED`.
    pub fn mark(&mut self) -> Submission {
        self.with_state(|lane, state, _| lane.mark(state))
    }

    /// Opens a marked scope: every window until the matching [`mark_pop`](Self::mark_pop)
    /// is submitted. Marks the current window as [`mark`](Self::mark) does, which may
    /// submit the held window.
    ///
    /// # Errors
    /// [`MarkError::DepthExceeded`] beyond the lane's `max_mark_depth`,
    /// [`MarkError::NotAFlightRecorder`] on a `SubmitAll` lane.
    pub fn mark_push(&mut self) -> Result<Submission, MarkError> {
        self.with_state(|lane, state, _| {
            let LaneMode::FlightRecorder { max_mark_depth } = lane.config.mode else {
                return Err(MarkError::NotAFlightRecorder);
            };
            if state.mark_depth >= max_mark_depth {
                return Err(MarkError::DepthExceeded {
                    max: max_mark_depth,
                });
            }
            state.mark_depth += 1;
            Ok(lane.mark(state))
        })
    }

    /// Closes the innermost marked scope and flushes the partly filled window, so the
    /// scope's records reach the drain.
    ///
    /// # Errors
    /// [`MarkError::NotMarked`] when no scope is open.
    pub fn mark_pop(&mut self) -> Result<FlushOutcome, MarkError> {
        let was_open = self.with_state(|_, state, _| {
            if state.mark_depth == 0 {
                return false;
            }
            state.mark_depth -= 1;
            // The window holds marked records, whatever the depth now is.
            state.window_marked = true;
            true
        });
        if was_open {
            Ok(self.flush())
        } else {
            Err(MarkError::NotMarked)
        }
    }

    /// Open marked scopes.
    #[must_use]
    pub fn mark_depth(&mut self) -> u8 {
        self.with_state(|_, state, _| state.mark_depth)
    }

    /// Ends production (thread exit): submits the partly filled ring (a marked window on
    /// a flight recorder), discards unmarked windows, and leaves the lane with no active
    /// ring, so the drain can take everything that was committed.
    pub fn close(mut self) {
        let len = self.writer.len();
        self.with_state(|lane, state, _| lane.close(state, len));
    }

    /// Records in the active ring.
    #[must_use]
    pub fn active_len(&self) -> usize {
        self.writer.len()
    }

    /// Runs `f` with the lane, the producer state and the writer.
    fn with_state<R>(
        &mut self,
        f: impl FnOnce(&'l Lane<T>, &mut ProducerState, &mut RingWriter<'l, 'static, T>) -> R,
    ) -> R {
        let lane = self.lane;
        let writer = &mut self.writer;
        // SAFETY: this handle is the lane's only producer (the `producer()` contract)
        // and `&mut self` makes this the only live reference to the state.
        lane.producer
            .state
            .with_mut(|state| f(lane, unsafe { &mut *state }, writer))
    }
}

impl<T> core::fmt::Debug for LaneProducer<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LaneProducer").finish_non_exhaustive()
    }
}
