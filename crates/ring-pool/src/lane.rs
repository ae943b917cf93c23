//! The lane itself: its rings and queues, how it is built and sized, the producer and
//! drain handles it gives out, its snapshot, and its reset for reuse.

use crate::active_word::{ActiveWord, AtomicActiveWord, AtomicPinEpoch, PinEpoch};
use crate::change::ChangeSequence;
use crate::config::{LaneConfig, LaneConfigError, LaneMode, MAX_RINGS};
use crate::counters::{DrainCounters, ProducerCounters, ProducerCounts, lane_snapshot};
use crate::drain::LaneDrain;
use crate::ledger::{Ledger, RingStart};
use crate::producer::LaneProducer;
use crate::reserve::{BorrowedRings, Reserve, max_reserve_for};
use crate::submit::SubmitQueue;
use crate::swap::ProducerState;
use crate::sync::{Counter, Ordering, Place, PlaceTracker, UnsafeCell};
use crate::window::Windows;
use ada_metrics::LaneSnapshot;
use ada_ring_buffer::RingBuffer;
use ada_spsc::Queue;
use alloc::boxed::Box;
use alloc::sync::Arc;
use arrayvec::ArrayVec;
use core::mem::size_of;
use crossbeam_utils::CachePadded;

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
    pub(crate) config: LaneConfig,
    pub(crate) rings: Box<[RingBuffer<'static, T>]>,
    /// Per ring, where it starts in the lane's stream of events: written by the producer
    /// before it makes the ring active, read by the producer when it submits the ring and
    /// by a drain that pinned it (`ledger.rs`).
    starts: Box<[UnsafeCell<RingStart>]>,
    pub(crate) submit: SubmitQueue,
    pub(crate) free: Queue<'static, u32>,
    /// The active ring's index, plus the drain's pin bit and pin epoch. The producer
    /// swaps it when it changes rings; the drain compare-and-swaps it to pin the active
    /// ring while it reads committed records in place.
    pub(crate) active: CachePadded<AtomicActiveWord>,
    /// Spare rings shared with other lanes (`reserve.rs`): this lane names them after
    /// its own, as `rings.len() + their number in the reserve`.
    reserve: Option<Arc<Reserve<T>>>,
    /// Which of the reserve's rings this lane holds now (in any of its places): given
    /// back when the lane is reset or dropped. Set by the producer when it borrows,
    /// cleared by whoever gives the ring back.
    borrowed: BorrowedRings,
    pub(crate) producer: CachePadded<ProducerSide>,
    pub(crate) drain: CachePadded<DrainSide>,
    pub(crate) places: PlaceTracker,
}

// SAFETY: the producer state cell is touched only through a `LaneProducer`, of which the
// `producer()` contract allows one at a time, and the drain's ledger only through a
// `LaneDrain` (one at a time, the `drain()` contract); a ring's start is written only
// while no drain can read it (`set_start`); everything else is atomics, rings and queues
// that are `Sync` under the lane's protocol.
unsafe impl<T: Send> Sync for Lane<T> {}

/// Written by the producer only.
pub(crate) struct ProducerSide {
    pub(crate) state: UnsafeCell<ProducerState>,
    pub(crate) counters: ProducerCounters,
    /// Odd while the producer replaces its active ring or closes the lane, for
    /// snapshots (`change.rs`).
    pub(crate) change: ChangeSequence,
    /// A flight recorder's windows, as the drain's final passes need them (`window.rs`).
    pub(crate) windows: Windows,
}

/// Written by the drain only.
pub(crate) struct DrainSide {
    /// Epoch of the drain's last finished pin.
    pub(crate) pins_ended: AtomicPinEpoch,
    pub(crate) counters: DrainCounters,
    /// Rings the drain has put back in the free queue (`Lane::rings_recycled`).
    pub(crate) recycled: Counter,
    /// The reserve's rings this lane keeps as its own now (`Reserve::adopting`), and
    /// which: written by the drain only.
    adopted: Counter,
    adopted_rings: BorrowedRings,
    /// The lane's `rings_borrowed` when the drain last decided about a borrowed ring.
    borrowed_seen: Counter,
    /// How far the drain has delivered, for each delivery's gap.
    ledger: UnsafeCell<Ledger>,
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
        Self::build(config, None)
    }

    /// A lane that borrows from `reserve` when its own rings are all out, before its
    /// exhaustion policy applies (see [`Reserve`]). Borrowing is on the swap path only:
    /// a write into the active ring costs the same wherever the ring lives.
    ///
    /// # Errors
    /// As [`new`](Self::new); [`LaneConfigError::ReserveOnFlightRecorder`] for a
    /// flight recorder, [`LaneConfigError::ReserveShape`] when the reserve's rings hold
    /// another number of records, [`LaneConfigError::ReserveTooLarge`] when the lane
    /// cannot name all of the reserve's rings beside its own.
    pub fn with_reserve(
        config: LaneConfig,
        reserve: Arc<Reserve<T>>,
    ) -> Result<Self, LaneConfigError> {
        config.validate()?;
        if matches!(config.mode, LaneMode::FlightRecorder { .. }) {
            return Err(LaneConfigError::ReserveOnFlightRecorder);
        }
        if reserve.ring_records() != config.ring_records && !reserve.is_empty() {
            return Err(LaneConfigError::ReserveShape {
                lane: config.ring_records,
                reserve: reserve.ring_records(),
            });
        }
        let max = max_reserve_for(config.rings);
        if reserve.len() > max {
            return Err(LaneConfigError::ReserveTooLarge {
                rings: reserve.len(),
                max,
            });
        }
        Self::build(config, Some(reserve))
    }

    fn build(
        config: LaneConfig,
        reserve: Option<Arc<Reserve<T>>>,
    ) -> Result<Self, LaneConfigError> {
        config.validate()?;
        let addresses = config.rings + reserve.as_ref().map_or(0, |reserve| reserve.len());
        let rings = (0..config.rings)
            .map(|_| RingBuffer::with_capacity(config.ring_records))
            .collect::<Result<Box<[_]>, _>>()
            .map_err(LaneConfigError::Storage)?;
        // Own rings, and the reserve's rings the lane may keep (`Reserve::adopting`).
        let adoptable = reserve.as_ref().map_or(0, |reserve| reserve.adopt_limit());
        let free =
            Queue::with_capacity(config.rings + adoptable).map_err(LaneConfigError::Storage)?;
        Ok(Self {
            config,
            rings,
            starts: (0..addresses)
                .map(|_| UnsafeCell::new(RingStart::default()))
                .collect(),
            submit: SubmitQueue::new(addresses),
            free,
            active: CachePadded::new(AtomicActiveWord::new(ActiveWord::unpinned(0))),
            reserve,
            borrowed: BorrowedRings::default(),
            producer: CachePadded::new(ProducerSide {
                state: UnsafeCell::new(ProducerState::new(Self::spare_rings(&config))),
                counters: ProducerCounters::default(),
                change: ChangeSequence::new(),
                windows: Windows::new(),
            }),
            drain: CachePadded::new(DrainSide {
                pins_ended: AtomicPinEpoch::new(PinEpoch::NONE_ENDED),
                counters: DrainCounters::default(),
                recycled: Counter::default(),
                adopted: Counter::default(),
                adopted_rings: BorrowedRings::default(),
                borrowed_seen: Counter::default(),
                ledger: UnsafeCell::new(Ledger::default()),
            }),
            places: PlaceTracker::new(config.rings, addresses - config.rings),
        })
    }

    /// The rings a new producer holds besides its active ring 0, highest first so they
    /// are used in index order.
    fn spare_rings(config: &LaneConfig) -> ArrayVec<u32, MAX_RINGS> {
        #[allow(clippy::cast_possible_truncation)] // at most MAX_RINGS
        (1..config.rings as u32).rev().collect()
    }

    /// The lane's configuration.
    #[must_use]
    pub fn config(&self) -> &LaneConfig {
        &self.config
    }

    /// Bytes this lane occupies: the lane itself, its rings' records, headers and
    /// starts, and both queues' slots.
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
                    + size_of::<UnsafeCell<RingStart>>()
                    + config.ring_records * size_of::<T>()
                    + 2 * size_of::<u32>())
    }

    /// The producer handle, or `None` once the lane is closed
    /// ([`LaneProducer::close`]), or while a [`Block`](crate::ExhaustionPolicy::Block)
    /// lane whose previous handle was dropped as it waited for a ring still has none
    /// (try again once the drain has recycled one).
    ///
    /// # Safety
    /// At most one `LaneProducer` of this lane exists at a time, and everything an
    /// earlier one did happens-before this call (it ran on this thread, or was handed
    /// over through a synchronising operation).
    pub unsafe fn producer(&self) -> Option<LaneProducer<'_, T>> {
        let active = self.producer.state.with_mut(|state| {
            // SAFETY: the caller guarantees this is the only producer, so nothing else
            // touches the producer state.
            let state = unsafe { &mut *state };
            if state.vacant {
                // Its full ring is submitted: a writer needs an empty one.
                let next = self.take_refill(state)?;
                self.install(state, next);
            }
            state.active_ring()
        })?;
        // SAFETY: the only producer writes only its active ring.
        let writer = unsafe { self.ring(active).writer() };
        Some(LaneProducer::new(self, writer))
    }

    /// The drain handle.
    ///
    /// # Safety
    /// At most one `LaneDrain` of this lane exists at a time, and everything an earlier
    /// one did happens-before this call.
    pub unsafe fn drain(&self) -> LaneDrain<'_, T> {
        LaneDrain::new(self)
    }

    /// The lane's counters now. Exact once the producer is closed and the drain has
    /// taken everything; while both run, counters read at slightly different instants.
    #[must_use]
    pub fn snapshot(&self) -> LaneSnapshot {
        // The drain's counters first: whatever it delivered had been written before, so a
        // snapshot of a lane still in use does not show more delivered than written (the
        // counters are Relaxed statistics; exact totals come after the threads synchronise).
        let drain = self.drain.counters.read();
        // A ring change moves the active ring's records into `events_written`: read both
        // as of one moment, so that a ring is counted once (`change.rs`).
        let (producer, _, active_len) = self.producer.change.read(|| self.producer_now());
        lane_snapshot(producer, drain, active_len)
    }

    /// The producer's counters, its active ring and that ring's records now; for a
    /// reader of the change sequence, which makes the three one moment's.
    ///
    /// The active ring is read before the counters. Under the change sequence the order
    /// does not matter; it makes a torn read (were the sequence's check broken) count a
    /// ring twice, which the loom model then sees at the scheduling point of the
    /// `active` load.
    pub(crate) fn producer_now(&self) -> (ProducerCounts, Option<u32>, u64) {
        // Acquire: the active ring's count is read after the swap that made it active.
        let active = self.active.load(Ordering::Acquire).ring();
        let active_len = active.map_or(0, |ring| self.ring(ring).len());
        (self.producer.counters.read(), active, active_len as u64)
    }

    /// Whether the producer has closed the lane and the drain has taken every ring it
    /// submitted: nothing committed is left to deliver, and the lane may be
    /// [`reset`](Self::reset_unchecked) for a new producer.
    #[must_use]
    pub fn is_drained(&self) -> bool {
        // Acquire: pairs with the producer's swap in `close`, so its final submit is
        // visible to the queue check below.
        self.active.load(Ordering::Acquire) == ActiveWord::CLOSED && self.submit.is_drained()
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
    ///
    /// [`TakenRing`]: crate::TakenRing
    pub unsafe fn reset_unchecked(&self) {
        for ring in &self.rings[..] {
            // SAFETY: the caller owns the lane and every ring in it.
            unsafe { ring.reset_unchecked() };
        }
        for start in &self.starts[..] {
            // SAFETY: as above.
            start.with_mut(|slot| unsafe { *slot = RingStart::default() });
        }
        // SAFETY: as above; the next drain starts from position 0.
        unsafe { self.ledger(|ledger| *ledger = Ledger::default()) };
        self.submit.reset();
        // SAFETY: no handle of the free queue is in use (the caller's contract).
        unsafe { self.free.reset_unchecked() };
        // SAFETY: the caller owns the lane and every ring it holds.
        unsafe { self.give_back_borrowed() };
        self.places.reset(self.rings.len());
        // Relaxed: as above, exclusivity orders the reset.
        self.active
            .store(ActiveWord::unpinned(0), Ordering::Relaxed);
        self.drain
            .pins_ended
            .store(PinEpoch::NONE_ENDED, Ordering::Relaxed);
        let spare = Self::spare_rings(&self.config);
        // SAFETY: no producer handle exists, so nothing else touches the state.
        self.producer
            .state
            .with_mut(|state| unsafe { *state = ProducerState::new(spare) });
        self.producer.counters.reset();
        self.producer.change.reset();
        self.producer.windows.reset();
        self.drain.counters.reset();
        self.drain.recycled.reset();
        self.drain.adopted.reset();
        self.drain.adopted_rings.take_all(|_| {});
        self.drain.borrowed_seen.reset();
    }

    /// Ring `ring` of the lane: its own, or (numbered after them) the reserve's.
    #[inline]
    pub(crate) fn ring(&self, ring: u32) -> &RingBuffer<'static, T> {
        match ring.checked_sub(self.own_rings()) {
            None => &self.rings[ring as usize],
            Some(lent) => self
                .reserve
                .as_ref()
                .expect("only a lane with a reserve names rings past its own")
                .ring(lent),
        }
    }

    /// Whether the lane's reserve has a free ring now (a hint: another lane may take
    /// it first).
    pub(crate) fn reserve_has_free(&self) -> bool {
        self.reserve
            .as_ref()
            .is_some_and(|reserve| reserve.has_free())
    }

    /// The shared reserve this lane borrows from, if any.
    #[must_use]
    pub fn reserve(&self) -> Option<&Arc<Reserve<T>>> {
        self.reserve.as_ref()
    }

    /// How many rings the lane owns (the reserve's are numbered after them).
    #[inline]
    pub(crate) fn own_rings(&self) -> u32 {
        #[allow(clippy::cast_possible_truncation)] // at most MAX_RINGS
        {
            self.rings.len() as u32
        }
    }

    /// Borrows an empty ring from the reserve, if the lane has one and a ring is free:
    /// the lane's number for it. Producer only.
    pub(crate) fn borrow_ring(&self) -> Option<u32> {
        let reserve = self.reserve.as_ref()?;
        let lent = reserve.borrow()?;
        // SAFETY: the pop made the ring ours, after everything its last holder did.
        unsafe { reserve.ring(lent).reset_unchecked() };
        let ring = self.own_rings() + lent;
        self.borrowed.insert(lent);
        self.places.moved(ring, Place::Reserve, Place::Producer);
        self.producer.counters.rings_borrowed.add(1);
        Some(ring)
    }

    /// Whether the lane keeps borrowed ring `ring` (the lane's number), which the drain
    /// has just delivered and reset, as its own: the drain's decision of
    /// [`Reserve::adopting`]. Drain only.
    pub(crate) fn keeps_borrowed(&self, ring: u32) -> bool {
        let Some(reserve) = &self.reserve else {
            return false;
        };
        let lent = ring - self.own_rings();
        // Relaxed: a statistic of the producer's; a stale value delays a decision by one
        // ring.
        let borrowed = self.producer.counters.rings_borrowed.get();
        let pressure = borrowed != self.drain.borrowed_seen.get();
        self.drain.borrowed_seen.set(borrowed);
        let kept = self.drain.adopted_rings.contains(lent);
        let adopted = self.drain.adopted.get();
        if pressure && (kept || adopted < reserve.adopt_limit() as u64) {
            if !kept {
                self.drain.adopted_rings.insert(lent);
                self.drain.adopted.add(1);
            }
            return true;
        }
        if kept {
            self.drain.adopted_rings.remove(lent);
            self.drain.adopted.set(adopted - 1);
        }
        false
    }

    /// The reserve's rings this lane keeps as its own now (a statistic).
    #[must_use]
    pub fn adopted_rings(&self) -> u64 {
        self.drain.adopted.get()
    }

    /// Gives borrowed ring `ring` (the lane's number) back to the reserve, from `from`.
    ///
    /// # Safety
    /// The caller owns the ring (the drain after its claim, or the lane's owner), and no
    /// pin on it is open.
    pub(crate) unsafe fn give_back(&self, ring: u32, from: Place) {
        let lent = ring - self.own_rings();
        self.places.moved(ring, from, Place::Reserve);
        self.borrowed.remove(lent);
        if let Some(reserve) = &self.reserve {
            reserve.give_back(lent);
        }
    }

    /// Stamps where `ring` starts in the lane.
    ///
    /// # Safety
    /// The caller is the producer (or owns the lane), `ring` is in its hands, and no
    /// drain's pin on it is open (`start` is read under a pin).
    pub(crate) unsafe fn set_start(&self, ring: u32, start: RingStart) {
        // SAFETY: no concurrent access (the caller's contract).
        self.starts[ring as usize].with_mut(|slot| unsafe { *slot = start });
    }

    /// Where `ring` starts in the lane.
    ///
    /// # Safety
    /// No [`set_start`](Self::set_start) of `ring` runs concurrently, and the last one
    /// happens-before this call: the caller is the producer, the drain holding a pin
    /// on `ring` (the pin's Acquire pairs with the swap that made the ring active), or
    /// the drain holding `ring` after its claim (the claim's Acquire pairs with the
    /// submit that followed the stamp).
    pub(crate) unsafe fn start(&self, ring: u32) -> RingStart {
        // SAFETY: no concurrent writer (the caller's contract).
        self.starts[ring as usize].with(|slot| unsafe { *slot })
    }

    /// Runs `f` on the drain's ledger.
    ///
    /// # Safety
    /// The caller is the lane's only drain (a `LaneDrain`, or something it owns), or owns
    /// the lane.
    pub(crate) unsafe fn ledger<R>(&self, f: impl FnOnce(&mut Ledger) -> R) -> R {
        // SAFETY: only the drain touches the ledger (the caller's contract), one call at
        // a time (`f` cannot reach the ledger again).
        self.drain
            .ledger
            .with_mut(|ledger| f(unsafe { &mut *ledger }))
    }

    /// Rings waiting in the submit queue now.
    #[must_use]
    pub fn submitted_len(&self) -> usize {
        self.submit.len()
    }
}

impl<T> Lane<T> {
    /// Gives back every borrowed ring the lane still holds.
    ///
    /// # Safety
    /// The caller owns the lane and every ring it holds (no handle in use, no pin open).
    unsafe fn give_back_borrowed(&self) {
        let Some(reserve) = &self.reserve else {
            return;
        };
        // Wherever the lane had them (the producer's spares after a close, or rings a
        // dropped lane never had delivered); the borrower resets a ring it takes, and
        // the caller resets the place tracker.
        self.borrowed.take_all(|lent| reserve.give_back(lent));
    }

    /// Rings the drain has put back in the free queue (each [`TakenRing`] delivered,
    /// failed or dropped) since the lane was built or reset: written by the drain only.
    /// A drain's owner compares it before and after a visit of the lane to tell whether
    /// to wake an [`ExhaustionPolicy::Block`](crate::ExhaustionPolicy::Block) lane's
    /// producer that may be waiting for a ring (the thread registry does it for every
    /// slot its drain visits). A statistic for any other reader (32 bits on targets
    /// without 64-bit atomics).
    ///
    /// [`TakenRing`]: crate::TakenRing
    #[must_use]
    pub fn rings_recycled(&self) -> u64 {
        self.drain.recycled.get()
    }
}

impl<T> core::fmt::Debug for Lane<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Lane")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<T> Drop for Lane<T> {
    fn drop(&mut self) {
        // A lane dropped with borrowed rings (never drained, or closed with a borrowed
        // spare) hands them back, so the reserve does not shrink for the other lanes.
        // SAFETY: `&mut self`: no handle, ring or pin of the lane is alive.
        unsafe { self.give_back_borrowed() };
    }
}
