//! The producer handle: writing records (the fast path), flushing, marking and closing;
//! everything that changes rings is in the slow path (`swap.rs`).

use crate::config::{LaneMode, MarkError};
use crate::lane::Lane;
use crate::outcome::{Blocked, FlushOutcome, Submission};
use crate::swap::{ProducerState, RotateReason, Rotation};
use ada_ring_buffer::RingWriter;
use core::time::Duration;

/// The single producer of a [`Lane`]: writes records, swaps rings, marks windows.
///
/// Every operation that can hand a ring to the drain (a write that fills a ring, a
/// flush, a mark) reports it ([`Submission`], [`FlushOutcome`]), so the caller can wake
/// a drain that may be parked.
///
/// On an [`ExhaustionPolicy::Block`](crate::ExhaustionPolicy::Block) lane a caller that
/// can wait writes with [`try_write`](Self::try_write) /
/// [`try_write_slice`](Self::try_write_slice): when no ring is free they report
/// [`Blocked`] instead of dropping, and the caller waits until
/// [`has_empty_ring`](Self::has_empty_ring), then writes the rest again.
///
/// ```
/// use ada_ring_pool::{ExhaustionPolicy, Lane, LaneConfig};
///
/// let lane = Lane::<u64>::new(LaneConfig {
///     rings: 2,
///     ring_records: 2,
///     policy: ExhaustionPolicy::Block { timeout: None },
///     ..LaneConfig::index_lane()
/// })?;
/// // SAFETY: this thread is the lane's only producer, and (below) its only drain.
/// let mut producer = unsafe { lane.producer() }.expect("the lane is open");
/// for event in 0..4 {
///     producer.try_write(event).expect("a spare ring");
/// }
/// // Both rings full: the full one is submitted, nothing is dropped, 4 waits.
/// let blocked = producer.try_write(4).unwrap_err();
/// assert!(blocked.submission.is_submitted());
/// assert!(!producer.has_empty_ring());
/// // The drain recycles a ring (a real caller parks until the drain wakes it).
/// let mut drain = unsafe { lane.drain() };
/// drain.take().expect("the first ring").deliver();
/// assert!(producer.has_empty_ring());
/// producer.try_write(4).expect("a ring came back");
/// assert_eq!(lane.snapshot().dropped.total(), 0);
/// # Ok::<(), ada_ring_pool::LaneConfigError>(())
/// ```
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
    ///
    /// On a [`Block`](crate::ExhaustionPolicy::Block) lane this call does not wait: it
    /// acts as a zero timeout (the record is dropped, cause `timeout`, and so is every
    /// record that finds no ring until the drain hands one back). A caller that can
    /// wait uses [`try_write`](Self::try_write).
    #[inline]
    pub fn write(&mut self, record: T) -> Submission {
        if self.writer.is_full() {
            return match self.write_after_making_room(record, Waiting::No) {
                Ok(submission) | Err(Blocked { submission, .. }) => submission,
            };
        }
        let written = self.writer.push(record);
        debug_assert!(written.is_ok(), "the ring has room");
        Submission::NothingSubmitted
    }

    /// Writes one record, as [`write`](Self::write), except on a
    /// [`Block`](crate::ExhaustionPolicy::Block) lane with no empty ring: there the full
    /// ring is submitted and the record is neither written nor counted.
    ///
    /// # Errors
    /// [`Blocked`] on a `Block` lane with no empty ring: wait until
    /// [`has_empty_ring`](Self::has_empty_ring) (the drain recycles a ring) and write the
    /// record again, or [`give_up_waiting`](Self::give_up_waiting) first. Never on the
    /// other policies, nor once the caller gave up (until a ring comes back).
    #[inline]
    pub fn try_write(&mut self, record: T) -> Result<Submission, Blocked> {
        if self.writer.is_full() {
            return self.write_after_making_room(record, Waiting::Yes);
        }
        let written = self.writer.push(record);
        debug_assert!(written.is_ok(), "the ring has room");
        Ok(Submission::NothingSubmitted)
    }

    /// The part of [`write`](Self::write) and [`try_write`](Self::try_write) that follows
    /// a full ring. Inlined into them, so the record never reaches the slow path:
    /// passing it there would make the compiler build it in a stack slot and copy it
    /// out with wider loads than the stores that built it, a store-forwarding stall that
    /// tripled the cost of every write.
    #[inline(always)]
    fn write_after_making_room(
        &mut self,
        record: T,
        waiting: Waiting,
    ) -> Result<Submission, Blocked> {
        match self.make_room(waiting) {
            Room::Ready(submission) => {
                let written = self.writer.push(record);
                debug_assert!(written.is_ok(), "a fresh ring has room");
                Ok(submission)
            }
            Room::Dropped(submission) => Ok(submission),
            Room::Blocked(submission) => Err(Blocked {
                written: 0,
                submission,
            }),
        }
    }

    /// Writes a batch of records (one publishing store per ring touched). Returns
    /// [`Submission::Submitted`] when at least one ring was handed to the drain. On a
    /// [`Block`](crate::ExhaustionPolicy::Block) lane it does not wait, as
    /// [`write`](Self::write).
    pub fn write_slice(&mut self, mut records: &[T]) -> Submission {
        let mut submission = Submission::NothingSubmitted;
        loop {
            match self.try_write_slice(records) {
                Ok(done) => return submission.or(done),
                Err(blocked) => {
                    // A zero timeout: the rest is dropped unless a ring comes back.
                    submission = submission.or(blocked.submission);
                    self.give_up_waiting();
                    records = &records[blocked.written..];
                }
            }
        }
    }

    /// Writes a batch of records, as [`write_slice`](Self::write_slice), except on a
    /// [`Block`](crate::ExhaustionPolicy::Block) lane that runs out of empty rings: there
    /// it stops, with the full ring submitted, and reports how many records it wrote.
    ///
    /// # Errors
    /// [`Blocked`] as [`try_write`](Self::try_write): the records from
    /// [`Blocked::written`] on are neither written nor counted.
    pub fn try_write_slice(&mut self, mut records: &[T]) -> Result<Submission, Blocked> {
        let total = records.len();
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
            match rotation {
                Rotation::NoRing => {
                    self.count_dropped_on_arrival(records.len() as u64);
                    break;
                }
                Rotation::Blocked(_) => {
                    return Err(Blocked {
                        written: total - records.len(),
                        submission,
                    });
                }
                Rotation::Submitted | Rotation::Held | Rotation::Refilled => {}
            }
        }
        Ok(submission)
    }

    /// Whether a write would find an empty ring now: a [`Block`] lane's producer that
    /// got [`Blocked`] waits for this (the drain recycled a ring). The check loads the
    /// free queue's tail (Acquire, `ada-spsc`): a caller that parks stores its own
    /// "waiting" flag and fences before it asks, and the drain fences after the push and
    /// before it reads the flag, so one of the two sees the other.
    ///
    /// [`Block`]: crate::ExhaustionPolicy::Block
    #[must_use]
    pub fn has_empty_ring(&self) -> bool {
        // SAFETY: this handle is the free queue's only consumer; the query reads the
        // queue's positions and pops nothing.
        let free = unsafe { self.lane.free.consumer() };
        // A spare ring is at hand only before the lane first ran out, never while the
        // caller waits; checked anyway, without the state cell: `vacant` says it.
        !free.is_empty() || !self.is_vacant() || self.lane.reserve_has_free()
    }

    /// The caller stops waiting for a ring on a [`Block`](crate::ExhaustionPolicy::Block)
    /// lane (its timeout passed, or it is shutting down): until the drain hands a ring
    /// back, writes that find no ring drop their records (counted, cause `timeout`)
    /// instead of reporting [`Blocked`]. Does nothing when the lane is not waiting.
    pub fn give_up_waiting(&mut self) {
        self.with_state(|lane, state, _| lane.give_up(state));
    }

    /// Counts one wait of the caller for a ring on a
    /// [`Block`](crate::ExhaustionPolicy::Block) lane, and its length: the lane's
    /// `blocked_waits` and `blocked_ns` (the producer's statistics).
    pub fn record_wait(&mut self, waited: Duration) {
        let counters = &self.lane.producer.counters;
        counters.blocked_waits.add(1);
        counters
            .blocked_ns
            .add(u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Replaces the full active ring; when no ring can be had, counts the arriving
    /// record as dropped, or (`Block`, `Waiting::Yes`) reports that it would block.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self, waiting: Waiting) -> Room {
        let rotate = |this: &mut Self| {
            this.with_state(|lane, state, writer| {
                lane.rotate(state, writer, RotateReason::RingFull)
            })
        };
        match rotate(self) {
            Rotation::NoRing => {
                self.count_dropped_on_arrival(1);
                Room::Dropped(Submission::NothingSubmitted)
            }
            Rotation::Blocked(submission) if waiting == Waiting::Yes => Room::Blocked(submission),
            Rotation::Blocked(submission) => {
                // A zero timeout: give up now; a ring that came back meanwhile is used.
                self.give_up_waiting();
                if rotate(self) == Rotation::Refilled {
                    Room::Ready(submission)
                } else {
                    self.count_dropped_on_arrival(1);
                    Room::Dropped(submission)
                }
            }
            rotation @ (Rotation::Submitted | Rotation::Held | Rotation::Refilled) => {
                Room::Ready(rotation.submission())
            }
        }
    }

    /// Counts `events` dropped on arrival: `timeout` on a blocking lane (its producer
    /// gave up waiting), `newest` otherwise.
    fn count_dropped_on_arrival(&mut self, events: u64) {
        let counters = &self.lane.producer.counters;
        counters.events_written.add(events);
        let timeout = self.lane.config.policy.is_block();
        if timeout {
            counters.dropped_timeout.add(events);
        } else {
            counters.dropped_newest.add(events);
        }
        self.with_state(|_, state, _| {
            state.emitted.events += events;
            if timeout {
                state.emitted.dropped_timeout += events;
            } else {
                state.emitted.dropped_newest += events;
            }
        });
    }

    /// Whether the lane is vacant (a blocking lane waiting for a ring: nothing active).
    fn is_vacant(&self) -> bool {
        // SAFETY: this handle is the lane's only producer, and `&self` excludes the
        // `&mut self` methods that change the state: this read overlaps no write.
        self.lane
            .producer
            .state
            .with(|state| unsafe { (*state).vacant })
    }

    /// Submits the partly filled active ring now (flagged `PARTIAL`), so a thread that
    /// goes quiet does not keep its records. Uses a free ring only: a flush never drops
    /// older rings to make room.
    pub fn flush(&mut self) -> FlushOutcome {
        // A vacant lane (a blocking lane waiting for a ring) submitted its full ring.
        if self.writer.is_empty() || self.is_vacant() {
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
                // A flush neither refills a vacant lane nor blocks (checked above).
                Rotation::Refilled | Rotation::Blocked(_) => FlushOutcome::Empty,
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

    /// Records in the active ring (0 while a blocking lane waits for a ring).
    #[must_use]
    pub fn active_len(&self) -> usize {
        if self.is_vacant() {
            0
        } else {
            self.writer.len()
        }
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

/// Whether a write on a blocking lane may report [`Blocked`] (`try_write`) or gives up
/// at once (`write`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Yes,
    No,
}

/// What making room for one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    /// An empty ring is active: write the record.
    Ready(Submission),
    /// No ring: the record was counted as dropped.
    Dropped(Submission),
    /// A blocking lane with no ring: the record is neither written nor counted.
    Blocked(Submission),
}

impl<T> core::fmt::Debug for LaneProducer<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LaneProducer").finish_non_exhaustive()
    }
}
