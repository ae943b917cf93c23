//! The lane: rings, queues, the producer's swap path and the drain's side.

use crate::config::{
    ExhaustionPolicy, LaneConfig, LaneConfigError, LaneMode, MAX_RINGS, MarkError,
};
use crate::submit::SubmitQueue;
use crate::sync::{AtomicU32, Counter, Ordering, Place, PlaceTracker, UnsafeCell};
use ada_metrics::{DropCounts, LaneSnapshot};
use ada_ring_buffer::{RingBuffer, RingFlags, RingHeader, RingWriter};
use ada_spsc::Queue;
use alloc::boxed::Box;
use arrayvec::ArrayVec;
use core::mem::size_of;
use crossbeam_utils::CachePadded;

/// Bits of the `active` word: the active ring's index.
const INDEX_MASK: u32 = 0xFF;
/// The `active` word's index when the producer has closed the lane.
const NO_RING: u32 = 0xFF;
/// Set in the `active` word while the drain reads the active ring in place.
const PINNED: u32 = 1 << 8;
/// The pin's epoch sits above the pin bit.
const EPOCH_SHIFT: u32 = 9;
const EPOCH_MASK: u32 = (1 << (32 - EPOCH_SHIFT)) - 1;

/// Whether pin `epoch` has ended, given the last ended epoch (wrapping comparison).
fn epoch_ended(ended: u32, epoch: u32) -> bool {
    ended.wrapping_sub(epoch) & EPOCH_MASK <= EPOCH_MASK / 2
}

/// One lane: a pool of rings, the producer's active ring, a submit queue (producer →
/// drain) and a free queue (drain → producer).
///
/// A lane is shared (by reference or `Arc`) between exactly one producer thread, which
/// writes through a [`LaneProducer`], and one drain thread, which takes rings through a
/// [`LaneDrain`]. The protocol and every atomic are described in `docs/protocol.md`.
///
/// ```
/// use ada_ring_pool::{Lane, LaneConfig};
///
/// let lane = Lane::<u64>::new(LaneConfig { ring_records: 4, ..LaneConfig::index_lane() })?;
/// std::thread::scope(|s| {
///     // SAFETY: this thread is the lane's only producer.
///     let mut producer = unsafe { lane.producer() }.expect("the lane is open");
///     s.spawn(move || {
///         for event in 0..10 {
///             producer.write(event);
///         }
///         producer.close(); // thread exit: the partly filled ring is submitted too
///     });
/// });
/// // SAFETY: this thread is the lane's only drain.
/// let mut drain = unsafe { lane.drain() };
/// let mut seen = Vec::new();
/// while let Some(ring) = drain.take() {
///     seen.extend_from_slice(ring.records());
///     ring.deliver();
/// }
/// assert_eq!(seen, (0..10).collect::<Vec<_>>());
/// assert!(lane.snapshot().is_conserved());
/// # Ok::<(), ada_ring_pool::LaneConfigError>(())
/// ```
pub struct Lane<T> {
    config: LaneConfig,
    rings: Box<[RingBuffer<'static, T>]>,
    submit: SubmitQueue,
    free: Queue<'static, u32>,
    /// The active ring's index, plus the drain's pin bit and pin epoch. The producer
    /// swaps it when it changes rings; the drain compare-and-swaps it to pin the active
    /// ring while it reads committed records in place.
    active: CachePadded<AtomicU32>,
    producer: CachePadded<ProducerSide>,
    drain: CachePadded<DrainSide>,
    places: PlaceTracker,
}

// SAFETY: the producer state cell is touched only through a `LaneProducer`, of which the
// `producer()` contract allows one at a time; everything else is atomics, rings and
// queues that are `Sync` under the lane's protocol.
unsafe impl<T: Send> Sync for Lane<T> {}

/// Written by the producer only.
struct ProducerSide {
    state: UnsafeCell<ProducerState>,
    counters: ProducerCounters,
}

struct ProducerState {
    /// Index of the ring being written.
    active: u32,
    /// Sequence number of the next submitted ring.
    next_sequence: u64,
    /// Events lost since the last submitted ring, for that ring's header.
    pending_lost: u64,
    /// Empty rings in the producer's hands.
    spare: ArrayVec<u32, MAX_RINGS>,
    /// Flight recorder: the previous, full, unmarked window, kept as context.
    held: Option<u32>,
    /// The current window holds a mark.
    window_marked: bool,
    /// Open `mark_push` scopes.
    mark_depth: u8,
    /// A ring the drain pinned (index, epoch) that must not be reused before the pin
    /// ends.
    pinned: Option<(u32, u32)>,
    /// `close` was called.
    closed: bool,
}

impl ProducerState {
    /// Ring 0 active, `spare` in hand, nothing submitted, no marks.
    fn new(spare: ArrayVec<u32, MAX_RINGS>) -> Self {
        Self {
            active: 0,
            next_sequence: 0,
            pending_lost: 0,
            spare,
            held: None,
            window_marked: false,
            mark_depth: 0,
            pinned: None,
            closed: false,
        }
    }
}

#[derive(Default)]
struct ProducerCounters {
    /// Events committed into rings that are no longer active, plus events dropped on
    /// arrival. The active ring's records are added by `snapshot`.
    events_written: Counter,
    dropped_oldest: Counter,
    dropped_newest: Counter,
    events_discarded: Counter,
    windows_discarded: Counter,
    rings_dropped: Counter,
    rings_submitted: Counter,
    swaps: Counter,
    exhaustions: Counter,
    submit_high_water: Counter,
}

/// Written by the drain only.
#[derive(Default)]
struct DrainSide {
    /// Epoch of the drain's last finished pin.
    pins_ended: AtomicU32,
    events_delivered: Counter,
    rings_delivered: Counter,
    dropped_sink: Counter,
}

impl<T: Copy> Lane<T> {
    /// Builds a lane, allocating all its rings up front.
    ///
    /// # Errors
    /// [`LaneConfigError`] naming the setting that is wrong: fewer than 2 rings, more than
    /// [`MAX_RINGS`], rings of 0 records, or ring memory that cannot be allocated.
    ///
    /// ```
    /// use ada_ring_pool::{Lane, LaneConfig, LaneConfigError};
    /// let one_ring = LaneConfig { rings: 1, ..LaneConfig::index_lane() };
    /// assert_eq!(
    ///     Lane::<u64>::new(one_ring).err(),
    ///     Some(LaneConfigError::TooFewRings { rings: 1 })
    /// );
    /// ```
    pub fn new(config: LaneConfig) -> Result<Self, LaneConfigError> {
        config.validate()?;
        let rings = (0..config.rings)
            .map(|_| RingBuffer::with_capacity(config.ring_records))
            .collect::<Result<Box<[_]>, _>>()
            .map_err(LaneConfigError::Storage)?;
        let free = Queue::with_capacity(config.rings).map_err(LaneConfigError::Storage)?;
        let mut spare = ArrayVec::new();
        // Ring 0 is active; the others start in the producer's hands, highest first so
        // they are used in index order.
        #[allow(clippy::cast_possible_truncation)] // at most MAX_RINGS
        spare.extend((1..config.rings as u32).rev());
        Ok(Self {
            config,
            rings,
            submit: SubmitQueue::new(config.rings),
            free,
            active: CachePadded::new(AtomicU32::new(0)),
            producer: CachePadded::new(ProducerSide {
                state: UnsafeCell::new(ProducerState::new(spare)),
                counters: ProducerCounters::default(),
            }),
            drain: CachePadded::new(DrainSide::default()),
            places: PlaceTracker::new(config.rings),
        })
    }

    /// The lane's configuration.
    #[must_use]
    pub fn config(&self) -> &LaneConfig {
        &self.config
    }

    /// Bytes this lane occupies: the lane itself, its rings' records and headers, and
    /// both queues' slots.
    #[must_use]
    pub fn memory_bytes(&self) -> usize {
        Self::memory_bytes_for(&self.config)
    }

    /// Bytes a lane of `config` occupies (as [`memory_bytes`](Self::memory_bytes),
    /// without building one).
    #[must_use]
    pub fn memory_bytes_for(config: &LaneConfig) -> usize {
        size_of::<Self>()
            + config.rings
                * (size_of::<RingBuffer<'static, T>>()
                    + config.ring_records * size_of::<T>()
                    + 2 * size_of::<u32>())
    }

    /// The producer handle, or `None` once the lane is closed
    /// ([`LaneProducer::close`]).
    ///
    /// # Safety
    /// At most one `LaneProducer` of this lane exists at a time, and everything an
    /// earlier one did happens-before this call (it ran on this thread, or was handed
    /// over through a synchronising operation).
    pub unsafe fn producer(&self) -> Option<LaneProducer<'_, T>> {
        // SAFETY: the caller guarantees this is the only producer, so nothing else
        // touches the producer state.
        let active = self.producer.state.with(|state| unsafe { (*state).active });
        if active == NO_RING {
            return None;
        }
        Some(LaneProducer {
            lane: self,
            // SAFETY: the only producer writes only its active ring.
            writer: unsafe { self.rings[active as usize].writer() },
        })
    }

    /// The drain handle.
    ///
    /// # Safety
    /// At most one `LaneDrain` of this lane exists at a time, and everything an earlier
    /// one did happens-before this call.
    pub unsafe fn drain(&self) -> LaneDrain<'_, T> {
        LaneDrain { lane: self }
    }

    /// The lane's counters now. Exact once the producer is closed and the drain has
    /// taken everything; while both run, counters read at slightly different instants.
    #[must_use]
    pub fn snapshot(&self) -> LaneSnapshot {
        let producer = &self.producer.counters;
        let drain = &self.drain;
        // Acquire: the active ring's count is read after the swap that made it active.
        let active = self.active.load(Ordering::Acquire) & INDEX_MASK;
        let active_len = if active == NO_RING {
            0
        } else {
            self.rings[active as usize].len()
        };
        LaneSnapshot {
            events_written: producer.events_written.get() + active_len as u64,
            events_delivered: drain.events_delivered.get(),
            dropped: DropCounts {
                oldest: producer.dropped_oldest.get(),
                newest: producer.dropped_newest.get(),
                sink: drain.dropped_sink.get(),
            },
            events_discarded: producer.events_discarded.get(),
            windows_discarded: producer.windows_discarded.get(),
            rings_dropped: producer.rings_dropped.get(),
            rings_submitted: producer.rings_submitted.get(),
            rings_delivered: drain.rings_delivered.get(),
            swaps: producer.swaps.get(),
            exhaustions: producer.exhaustions.get(),
            submit_high_water: producer.submit_high_water.get(),
        }
    }

    /// Whether the producer has closed the lane and the drain has taken every ring it
    /// submitted: nothing committed is left to deliver, and the lane may be
    /// [`reset`](Self::reset_unchecked) for a new producer.
    #[must_use]
    pub fn is_drained(&self) -> bool {
        // Acquire: pairs with the producer's swap in `close`, so its final submit is
        // visible to the queue check below.
        self.active.load(Ordering::Acquire) & INDEX_MASK == NO_RING && self.submit.is_drained()
    }

    /// Makes a closed and drained lane new again: every ring empty and in the producer's
    /// hands, queues empty, counters zero, no marks, sequence numbers from 0.
    ///
    /// # Safety
    /// No producer or drain handle of the lane is in use, no [`TakenRing`] is alive, the
    /// lane [`is_drained`](Self::is_drained), and everything done with the lane before
    /// happens-before this call (the caller owns the lane, e.g. as the drain of a slot
    /// whose thread has retired). The next producer must be handed the lane through a
    /// synchronising operation.
    pub unsafe fn reset_unchecked(&self) {
        for ring in &self.rings[..] {
            // SAFETY: the caller owns the lane and every ring in it.
            unsafe { ring.reset_unchecked() };
        }
        self.submit.reset();
        // SAFETY: no handle of the free queue is in use (the caller's contract).
        unsafe { self.free.reset_unchecked() };
        self.places.reset();
        // Relaxed: as above, exclusivity orders the reset.
        self.active.store(0, Ordering::Relaxed);
        self.drain.pins_ended.store(0, Ordering::Relaxed);
        let mut spare = ArrayVec::new();
        #[allow(clippy::cast_possible_truncation)] // at most MAX_RINGS
        spare.extend((1..self.config.rings as u32).rev());
        // SAFETY: no producer handle exists, so nothing else touches the state.
        self.producer
            .state
            .with_mut(|state| unsafe { *state = ProducerState::new(spare) });
        let counters = &self.producer.counters;
        for counter in [
            &counters.events_written,
            &counters.dropped_oldest,
            &counters.dropped_newest,
            &counters.events_discarded,
            &counters.windows_discarded,
            &counters.rings_dropped,
            &counters.rings_submitted,
            &counters.swaps,
            &counters.exhaustions,
            &counters.submit_high_water,
            &self.drain.events_delivered,
            &self.drain.rings_delivered,
            &self.drain.dropped_sink,
        ] {
            counter.reset();
        }
    }

    /// Rings waiting in the submit queue now.
    #[must_use]
    pub fn submitted_len(&self) -> usize {
        self.submit.len()
    }
}

impl<T> core::fmt::Debug for Lane<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lane")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What [`LaneProducer::flush`] did.
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

/// The single producer of a [`Lane`]: writes records, swaps rings, marks windows.
pub struct LaneProducer<'l, T> {
    lane: &'l Lane<T>,
    /// Writer of the active ring (its length cached, so a write loads nothing shared).
    writer: RingWriter<'l, 'static, T>,
}

impl<'l, T: Copy> LaneProducer<'l, T> {
    /// Writes one record. Never blocks and never fails: when no ring is free, the
    /// lane's [`ExhaustionPolicy`] decides what is lost, and the loss is counted.
    #[inline]
    pub fn write(&mut self, record: T) {
        // The slow path never sees the record: passing it there would make the compiler
        // build it in a stack slot and copy it out with wider loads than the stores that
        // built it, a store-forwarding stall that tripled the cost of every write.
        if self.writer.is_full() && !self.make_room() {
            return;
        }
        let written = self.writer.push(record);
        debug_assert!(written.is_ok(), "the ring has room");
    }

    /// Writes a batch of records (one publishing store per ring touched).
    pub fn write_slice(&mut self, mut records: &[T]) {
        while !records.is_empty() {
            let written = self.writer.push_slice(records);
            records = &records[written..];
            if !records.is_empty()
                && !self.with_state(|lane, state, writer| lane.rotate(state, writer, false))
            {
                self.count_dropped_on_arrival(records.len() as u64);
                return;
            }
        }
    }

    /// Submits the full active ring and activates another; when the policy finds none,
    /// counts the arriving record as dropped and returns `false`.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) -> bool {
        let rotated = self.with_state(|lane, state, writer| lane.rotate(state, writer, false));
        if !rotated {
            self.count_dropped_on_arrival(1);
        }
        rotated
    }

    fn count_dropped_on_arrival(&mut self, events: u64) {
        let counters = &self.lane.producer.counters;
        counters.events_written.add(events);
        counters.dropped_newest.add(events);
        self.with_state(|_, state, _| state.pending_lost += events);
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
            if lane.rotate(state, writer, true) {
                FlushOutcome::Submitted
            } else {
                FlushOutcome::NoFreeRing
            }
        })
    }

    /// Marks the current window: it is submitted (flagged `MARKED`) instead of being
    /// recycled, and the window before it, if still held, is submitted now as context
    /// (flagged `CONTEXT`). On a `SubmitAll` lane the current ring is flagged `MARKED`.
    pub fn mark(&mut self) {
        self.with_state(|lane, state, _| lane.mark(state));
    }

    /// Opens a marked scope: every window until the matching [`mark_pop`](Self::mark_pop)
    /// is submitted.
    ///
    /// # Errors
    /// [`MarkError::DepthExceeded`] beyond the lane's `max_mark_depth`,
    /// [`MarkError::NotAFlightRecorder`] on a `SubmitAll` lane.
    pub fn mark_push(&mut self) -> Result<(), MarkError> {
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
            lane.mark(state);
            Ok(())
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

/// The producer's slow path: everything but appending to a ring with room.
impl<T: Copy> Lane<T> {
    fn keeps_window(&self, state: &ProducerState) -> bool {
        match self.config.mode {
            LaneMode::SubmitAll => true,
            LaneMode::FlightRecorder { .. } => state.window_marked || state.mark_depth > 0,
        }
    }

    /// Replaces the active ring. Returns `false` when no ring could be had (the caller
    /// drops what it was writing). `partial`: a flush, not a full ring.
    fn rotate<'l>(
        &'l self,
        state: &mut ProducerState,
        writer: &mut RingWriter<'l, 'static, T>,
        partial: bool,
    ) -> bool {
        if state.closed {
            return false;
        }
        let outgoing = state.active;
        let keep = self.keeps_window(state);
        let marked = state.window_marked || state.mark_depth > 0;
        if !keep && let Some(previous) = state.held.take() {
            // Flight recorder, unmarked full window: the older held window is
            // discarded and becomes the active ring; the full one is held.
            self.discard(previous);
            self.activate(state, writer, previous);
            state.held = Some(outgoing);
            return true;
        }
        let Some(next) = self.fresh_ring(state, !partial) else {
            return false;
        };
        // Submit before activating: a drain that pins the next ring then sees, in the
        // submit queue, every ring older than it (see `LaneDrain::collect_active`).
        if keep {
            let mut flags = RingFlags::empty();
            flags.set(RingFlags::PARTIAL, partial);
            flags.set(RingFlags::MARKED, marked);
            self.submit(state, outgoing, flags);
        } else {
            state.held = Some(outgoing);
        }
        self.activate(state, writer, next);
        true
    }

    /// An empty ring: a spare, then one from the free queue, then (if `use_policy`) one
    /// taken back under the exhaustion policy.
    fn fresh_ring(&self, state: &mut ProducerState, use_policy: bool) -> Option<u32> {
        if let Some(ring) = state.spare.pop() {
            return Some(ring);
        }
        // SAFETY: the producer is the free queue's only consumer.
        if let Some(ring) = unsafe { self.free.consumer() }.pop() {
            self.places.moved(ring, Place::Free, Place::Producer);
            // The drain recycled it, so any pin on it has ended.
            if state.pinned.is_some_and(|(pinned, _)| pinned == ring) {
                state.pinned = None;
            }
            return Some(ring);
        }
        if !use_policy {
            return None;
        }
        self.producer.counters.exhaustions.add(1);
        match self.config.policy {
            ExhaustionPolicy::DropOldest => self.reclaim_oldest(state),
            ExhaustionPolicy::DropNewest => None,
        }
    }

    /// Takes back the oldest ring the drain has not claimed, counting its unread events
    /// as lost.
    fn reclaim_oldest(&self, state: &mut ProducerState) -> Option<u32> {
        let pinned = state.pinned;
        let ring = self.submit.claim_if(|ring| match pinned {
            // Acquire: the drain's in-place reads of the ring happen-before our reset.
            Some((index, epoch)) if index == ring => {
                epoch_ended(self.drain.pins_ended.load(Ordering::Acquire), epoch)
            }
            _ => true,
        })?;
        if pinned.is_some_and(|(index, _)| index == ring) {
            state.pinned = None;
        }
        self.places.moved(ring, Place::Submitted, Place::Producer);
        let buffer = &self.rings[ring as usize];
        // Records the drain already collected in place are delivered; the rest is lost.
        let lost = buffer.unread() as u64;
        let counters = &self.producer.counters;
        counters.dropped_oldest.add(lost);
        counters.rings_dropped.add(1);
        state.pending_lost += lost;
        // SAFETY: the claim made the ring ours, and no pin on it is open.
        unsafe { buffer.reset_unchecked() };
        Some(ring)
    }

    /// Makes `next` (empty, the producer's) the active ring.
    fn activate<'l>(
        &'l self,
        state: &mut ProducerState,
        writer: &mut RingWriter<'l, 'static, T>,
        next: u32,
    ) {
        let counters = &self.producer.counters;
        counters.events_written.add(writer.len() as u64);
        counters.swaps.add(1);
        state.active = next;
        state.window_marked = false;
        // AcqRel: Release publishes the reset of `next` to a drain that pins it; Acquire
        // makes a pin of the outgoing ring (and the end of every earlier pin) visible.
        let previous = self.active.swap(next, Ordering::AcqRel);
        if previous & PINNED != 0 {
            state.pinned = Some((previous & INDEX_MASK, previous >> EPOCH_SHIFT));
        }
        // SAFETY: the producer is the only writer of its active ring, and `next` is
        // empty and in the producer's hands.
        *writer = unsafe { self.rings[next as usize].writer() };
    }

    /// Hands `ring` to the drain with the next sequence number and the pending loss.
    fn submit(&self, state: &mut ProducerState, ring: u32, mut flags: RingFlags) {
        let lost = core::mem::take(&mut state.pending_lost);
        flags.set(RingFlags::LOSS_BEFORE, lost > 0);
        let header = RingHeader {
            sequence: state.next_sequence,
            flags,
            lost_events: lost,
        };
        state.next_sequence += 1;
        // SAFETY: the ring is the producer's; the drain reads the header only after it
        // claims the ring, which the push below publishes.
        unsafe { self.rings[ring as usize].set_header_unchecked(header) };
        self.places.moved(ring, Place::Producer, Place::Submitted);
        let queued = self.submit.push(ring);
        let counters = &self.producer.counters;
        counters.rings_submitted.add(1);
        counters.submit_high_water.raise_to(queued as u64);
    }

    /// Recycles a producer-held flight-recorder window without submitting it.
    fn discard(&self, ring: u32) {
        let buffer = &self.rings[ring as usize];
        let counters = &self.producer.counters;
        counters.windows_discarded.add(1);
        counters.events_discarded.add(buffer.len() as u64);
        // SAFETY: held windows are the producer's and never pinned (the drain pins only
        // `SubmitAll` lanes' active rings).
        unsafe { buffer.reset_unchecked() };
    }

    fn mark(&self, state: &mut ProducerState) {
        if let Some(previous) = state.held.take() {
            self.submit(state, previous, RingFlags::CONTEXT);
        }
        state.window_marked = true;
    }

    fn close(&self, state: &mut ProducerState, active_len: usize) {
        if state.closed {
            return;
        }
        state.closed = true;
        let active = state.active;
        let keep = self.keeps_window(state);
        let marked = state.window_marked || state.mark_depth > 0;
        let counters = &self.producer.counters;
        counters.events_written.add(active_len as u64);
        if let Some(previous) = state.held.take() {
            self.discard(previous);
            state.spare.push(previous);
        }
        // As in `rotate`: submit, then retire the active word.
        if active_len > 0 && keep {
            let mut flags = RingFlags::PARTIAL;
            flags.set(RingFlags::MARKED, marked);
            self.submit(state, active, flags);
        } else {
            if active_len > 0 {
                self.discard(active);
            }
            state.spare.push(active);
        }
        // AcqRel: as in `activate`; afterwards the drain can no longer pin any ring.
        let previous = self.active.swap(NO_RING, Ordering::AcqRel);
        if previous & PINNED != 0 {
            state.pinned = Some((previous & INDEX_MASK, previous >> EPOCH_SHIFT));
        }
        state.active = NO_RING;
    }
}

/// The single drain of a [`Lane`]: takes submitted rings and collects the active one.
pub struct LaneDrain<'l, T> {
    lane: &'l Lane<T>,
}

impl<'l, T: Copy> LaneDrain<'l, T> {
    /// Takes the oldest submitted ring, if any. The ring returns to the producer when the
    /// [`TakenRing`] is delivered, failed or dropped.
    pub fn take(&mut self) -> Option<TakenRing<'_, 'l, T>> {
        let lane = self.lane;
        let index = lane.submit.claim()?;
        lane.places.moved(index, Place::Submitted, Place::Drain);
        // SAFETY: the claim (AcqRel) made the ring the drain's; the producer wrote the
        // header before the push the claim observed.
        let header = unsafe { lane.rings[index as usize].header_unchecked() };
        Some(TakenRing {
            drain: self,
            index,
            header,
        })
    }

    /// Reads the committed, not yet collected records of the producer's active ring in
    /// place, without waiting for the ring to fill: how records of a quiet or exiting
    /// thread reach the sink. Returns `f`'s result, or `None` when there was nothing to
    /// pin (a flight-recorder lane, a closed lane, the producer swapping rings at that
    /// instant, or older submitted rings still to [`take`](Self::take) first, which keeps
    /// records in order).
    ///
    /// The records passed to `f` count as delivered when `f` returns `Ok`, and as lost
    /// to the sink when it returns `Err` or panics.
    pub fn collect_active<R, E>(
        &mut self,
        f: impl FnOnce(&[T]) -> Result<R, E>,
    ) -> Option<Result<R, E>> {
        let lane = self.lane;
        if lane.config.mode != LaneMode::SubmitAll {
            return None;
        }
        // Relaxed: the compare-and-swap below validates the value.
        let word = lane.active.load(Ordering::Relaxed);
        let index = word & INDEX_MASK;
        if index == NO_RING {
            return None;
        }
        debug_assert_eq!(word & PINNED, 0, "only the drain pins, one pin at a time");
        let epoch = lane
            .drain
            .pins_ended
            .load(Ordering::Relaxed)
            .wrapping_add(1)
            & EPOCH_MASK;
        let pinned = index | PINNED | (epoch << EPOCH_SHIFT);
        // AcqRel on success: Acquire sees the producer's reset of the ring before it made
        // it active; Release carries the end of our earlier pins to the producer's swap.
        lane.active
            .compare_exchange(word, pinned, Ordering::AcqRel, Ordering::Relaxed)
            .ok()?;
        let buffer = &lane.rings[index as usize];
        // SAFETY: the drain is the ring's only reader; the pin keeps the producer from
        // resetting it until the guard below ends the pin.
        let mut reader = unsafe { buffer.reader() };
        // Order: the producer submits a ring before it activates the next one, and our
        // pin observed that activation, so every ring older than this one is visible in
        // the submit queue now. If one is still there, it must reach the sink first.
        if !lane.submit.is_drained() {
            drop(Pin {
                lane,
                pinned,
                index,
                epoch,
                records: 0,
                delivered: true,
                reader: &mut reader,
            });
            return None;
        }
        let records = reader.peek();
        let mut pin = Pin {
            lane,
            pinned,
            index,
            epoch,
            records: records.len(),
            delivered: false,
            reader: &mut reader,
        };
        let result = f(records);
        pin.delivered = result.is_ok();
        Some(result)
    }
}

/// Ends a pin, even when the sink panics, and accounts for the records it covered.
struct Pin<'a, 'l, T: Copy> {
    lane: &'l Lane<T>,
    pinned: u32,
    index: u32,
    epoch: u32,
    records: usize,
    delivered: bool,
    reader: &'a mut ada_ring_buffer::RingReader<'l, 'static, T>,
}

impl<T: Copy> Drop for Pin<'_, '_, T> {
    fn drop(&mut self) {
        let drain = &self.lane.drain;
        self.reader.advance(self.records);
        if self.delivered {
            drain.events_delivered.add(self.records as u64);
        } else {
            drain.dropped_sink.add(self.records as u64);
        }
        // Release: our reads of the ring happen-before the producer's next swap.
        // If the producer swapped meanwhile, the word is no longer ours to change.
        let _ = self.lane.active.compare_exchange(
            self.pinned,
            self.index,
            Ordering::Release,
            Ordering::Relaxed,
        );
        // Release: our reads happen-before a producer that sees this epoch ended and
        // reuses the ring.
        drain.pins_ended.store(self.epoch, Ordering::Release);
    }
}

impl<T> core::fmt::Debug for LaneDrain<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LaneDrain").finish_non_exhaustive()
    }
}

/// A submitted ring in the drain's hands. Deliver it ([`deliver`](Self::deliver)) once
/// the sink has its records, or [`fail`](Self::fail) it when the sink failed; dropping it
/// counts as a failure. Either way the ring returns to the producer.
pub struct TakenRing<'d, 'l, T: Copy> {
    drain: &'d mut LaneDrain<'l, T>,
    index: u32,
    header: RingHeader,
}

impl<'l, T: Copy> TakenRing<'_, 'l, T> {
    /// The records not collected in place earlier, in write order.
    #[must_use]
    pub fn records(&self) -> &[T] {
        // SAFETY: the ring is the drain's until this handle is settled.
        unsafe { self.drain.lane.rings[self.index as usize].reader() }.peek()
    }

    /// Sequence number, flags (`MARKED`, `PARTIAL`, `CONTEXT`, `LOSS_BEFORE`) and the
    /// events lost just before this ring.
    #[must_use]
    pub fn header(&self) -> RingHeader {
        self.header
    }

    /// Counts the records as delivered and recycles the ring.
    pub fn deliver(self) {
        self.settle(true);
    }

    /// Counts the records as lost to the sink and recycles the ring.
    pub fn fail(self) {
        self.settle(false);
    }

    fn settle(self, delivered: bool) {
        let mut this = core::mem::ManuallyDrop::new(self);
        this.recycle(delivered);
    }

    fn recycle(&mut self, delivered: bool) {
        let lane = self.drain.lane;
        let buffer = &lane.rings[self.index as usize];
        let records = buffer.unread() as u64;
        if delivered {
            lane.drain.events_delivered.add(records);
            lane.drain.rings_delivered.add(1);
        } else {
            lane.drain.dropped_sink.add(records);
        }
        // SAFETY: the drain owns the ring (claimed, not yet pushed back).
        unsafe { buffer.reset_unchecked() };
        lane.places.moved(self.index, Place::Drain, Place::Free);
        // SAFETY: the drain is the free queue's only producer (`&mut LaneDrain`).
        let pushed = unsafe { lane.free.producer() }.push(self.index);
        // The free queue holds every ring of the lane, so it cannot be full.
        debug_assert!(pushed.is_ok());
    }
}

impl<T: Copy> Drop for TakenRing<'_, '_, T> {
    fn drop(&mut self) {
        self.recycle(false);
    }
}

impl<T: Copy> core::fmt::Debug for TakenRing<'_, '_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TakenRing")
            .field("index", &self.index)
            .field("header", &self.header)
            .finish()
    }
}
