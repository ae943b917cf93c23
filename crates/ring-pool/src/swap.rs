//! The producer's slow path: everything but appending to a ring with room. Swapping
//! rings, submitting the outgoing one, finding an empty one (under the exhaustion policy
//! when none is free; a blocking lane goes vacant instead, see `vacate`), flight-recorder
//! windows, marks and closing.

use crate::active_word::{ActiveWord, PinnedRing};
use crate::config::{ExhaustionPolicy, LaneMode, MAX_RINGS};
use crate::lane::Lane;
use crate::ledger::Emitted;
use crate::outcome::Submission;
use crate::sync::{Ordering, Place};
use ada_ring_buffer::{RingFlags, RingHeader, RingWriter};
use arrayvec::ArrayVec;

/// The producer's own state, in a cell of the lane that only the producer touches.
pub(crate) struct ProducerState {
    /// Index of the ring being written (meaningless once `closed`).
    active: u32,
    /// Sequence number of the next submitted ring.
    next_sequence: u64,
    /// The lane's running totals: where the next active ring starts, events dropped on
    /// arrival and events discarded so far (the stamps and headers are made of them).
    pub(crate) emitted: Emitted,
    /// Empty rings in the producer's hands.
    spare: ArrayVec<u32, MAX_RINGS>,
    /// Flight recorder: the previous, full, unmarked window, kept as context.
    held: Option<u32>,
    /// The current window holds a mark.
    pub(crate) window_marked: bool,
    /// Open `mark_push` scopes.
    pub(crate) mark_depth: u8,
    /// A ring the drain pinned, which must not be reused before the pin ends.
    pinned: Option<PinnedRing>,
    /// `close` was called.
    closed: bool,
    /// A blocking lane ran out of rings: its full ring is submitted and none is active
    /// (`active` names the submitted ring, which the producer must not touch) until an
    /// empty ring comes back (`refill`).
    pub(crate) vacant: bool,
    /// The caller gave up waiting for a ring (a timeout, or the registry's shutdown):
    /// until the lane is refilled, events that find no ring are dropped (`timeout`)
    /// instead of blocking. Only while `vacant`.
    pub(crate) gave_up: bool,
}

impl ProducerState {
    /// Ring 0 active, `spare` in hand, nothing submitted, no marks.
    pub(crate) fn new(spare: ArrayVec<u32, MAX_RINGS>) -> Self {
        Self {
            active: 0,
            next_sequence: 0,
            emitted: Emitted::default(),
            spare,
            held: None,
            window_marked: false,
            mark_depth: 0,
            pinned: None,
            closed: false,
            vacant: false,
            gave_up: false,
        }
    }

    /// The ring a new producer handle writes, or `None` once the lane is closed (the
    /// caller refills a vacant lane first).
    pub(crate) fn active_ring(&self) -> Option<u32> {
        (!self.closed && !self.vacant).then_some(self.active)
    }

    /// Forgets the pin on `ring`, which has come back to the producer.
    fn pin_ended_on(&mut self, ring: u32) {
        if self.pinned.is_some_and(|pinned| pinned.ring == ring) {
            self.pinned = None;
        }
    }
}

/// Why the producer replaces its active ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RotateReason {
    /// The ring is full: an empty ring is needed, taken under the exhaustion policy when
    /// none is free.
    RingFull,
    /// A flush of a partly filled ring: only a free ring is used (a flush never drops
    /// older data to submit newer), and the submitted ring is flagged `PARTIAL`.
    Flush,
}

/// What replacing the active ring did with the outgoing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rotation {
    /// Submitted to the drain.
    Submitted,
    /// Kept by the producer as the held flight-recorder window: nothing submitted.
    Held,
    /// No empty ring could be had: the active ring stays (the caller drops what it was
    /// writing).
    NoRing,
    /// A vacant lane got an empty ring back, now active: nothing submitted.
    Refilled,
    /// A blocking lane has no empty ring: the lane is vacant (its full ring submitted:
    /// the `Submission` says whether by this call). The caller waits for a ring, or
    /// gives up (`give_up`) and drops what it was writing.
    Blocked(Submission),
}

impl Rotation {
    #[inline]
    pub(crate) fn submission(self) -> Submission {
        match self {
            Self::Submitted => Submission::Submitted,
            Self::Blocked(submission) => submission,
            Self::Held | Self::NoRing | Self::Refilled => Submission::NothingSubmitted,
        }
    }
}

impl<T: Copy> Lane<T> {
    /// Whether the current window is submitted when it is replaced: always on a
    /// `SubmitAll` lane, when marked on a flight recorder.
    pub(crate) fn keeps_window(&self, state: &ProducerState) -> bool {
        match self.config.mode {
            LaneMode::SubmitAll => true,
            LaneMode::FlightRecorder { .. } => state.window_marked || state.mark_depth > 0,
        }
    }

    /// Replaces the active ring.
    pub(crate) fn rotate<'l>(
        &'l self,
        state: &mut ProducerState,
        writer: &mut RingWriter<'l, 'static, T>,
        reason: RotateReason,
    ) -> Rotation {
        if state.closed {
            return Rotation::NoRing;
        }
        if state.vacant {
            // No ring's records change terms: a snapshot needs no guard.
            return self.refill(state, writer, reason);
        }
        // Counts the outgoing ring as written and replaces the active word: a snapshot
        // must not read between the two (`change.rs`).
        let _changing = self.producer.change.begin();
        let outgoing = state.active;
        let keep = self.keeps_window(state);
        let marked = state.window_marked || state.mark_depth > 0;
        if !keep && let Some(previous) = state.held.take() {
            // Flight recorder, unmarked full window: the older held window is
            // discarded and becomes the active ring; the full one is held.
            self.producer.windows.set_held(0);
            self.discard(state, previous);
            self.activate(state, writer, previous);
            state.held = Some(outgoing);
            self.publish_held(outgoing);
            return Rotation::Held;
        }
        let next = match reason {
            RotateReason::RingFull => self.empty_ring_or_apply_policy(state),
            // A flush never borrows: a thread that flushes and goes quiet would keep
            // the borrowed ring as its active ring, idle, away from the other lanes.
            RotateReason::Flush => self.own_empty_ring(state),
        };
        let Some(next) = next else {
            if reason == RotateReason::RingFull && self.config.policy.is_block() {
                // Only `SubmitAll` lanes block (`LaneConfig::validate`): `keep` holds.
                debug_assert!(keep, "a blocking flight recorder");
                let mut flags = RingFlags::empty();
                flags.set(RingFlags::MARKED, marked);
                self.submit(state, outgoing, flags);
                self.vacate(state, writer);
                return Rotation::Blocked(Submission::Submitted);
            }
            return Rotation::NoRing;
        };
        // Submit before activating: a drain that pins the next ring then sees, in the
        // submit queue, every ring older than it (see `LaneDrain::collect_active`).
        let rotation = if keep {
            // A kept window follows no held one (marking submits the held window), so
            // every window before it is settled: `submit` counts its discards now.
            debug_assert!(state.held.is_none(), "a held window before a kept one");
            let mut flags = RingFlags::empty();
            flags.set(RingFlags::PARTIAL, reason == RotateReason::Flush);
            flags.set(RingFlags::MARKED, marked);
            self.submit(state, outgoing, flags);
            Rotation::Submitted
        } else {
            state.held = Some(outgoing);
            Rotation::Held
        };
        self.activate(state, writer, next);
        if rotation == Rotation::Held {
            self.publish_held(outgoing);
        }
        rotation
    }

    /// An empty ring of the lane's own: a spare, then one from the free queue.
    fn own_empty_ring(&self, state: &mut ProducerState) -> Option<u32> {
        if let Some(ring) = state.spare.pop() {
            return Some(ring);
        }
        // SAFETY: the producer is the free queue's only consumer.
        let ring = unsafe { self.free.consumer() }.pop()?;
        self.places.moved(ring, Place::Free, Place::Producer);
        // The drain recycled it, so any pin on it has ended.
        state.pin_ended_on(ring);
        Some(ring)
    }

    /// An empty ring at hand: one of the lane's own, else one borrowed from the shared
    /// reserve.
    fn empty_ring(&self, state: &mut ProducerState) -> Option<u32> {
        if let Some(ring) = self.own_empty_ring(state) {
            return Some(ring);
        }
        let ring = self.borrow_ring()?;
        // The drain gave it back to the reserve after it took it, so any pin this lane
        // saw on it (when it last had it) has ended.
        state.pin_ended_on(ring);
        Some(ring)
    }

    /// An empty ring at hand, or else (exhaustion, counted) one the exhaustion policy
    /// gives: `DropOldest` takes the oldest submitted ring back, `DropNewest` and `Block`
    /// none (`rotate` makes a blocking lane vacant).
    fn empty_ring_or_apply_policy(&self, state: &mut ProducerState) -> Option<u32> {
        if let Some(ring) = self.empty_ring(state) {
            return Some(ring);
        }
        self.producer.counters.exhaustions.add(1);
        match self.config.policy {
            ExhaustionPolicy::DropOldest => self.reclaim_oldest(state),
            ExhaustionPolicy::DropNewest | ExhaustionPolicy::Block { .. } => None,
        }
    }

    /// Takes back the oldest ring the drain has not claimed, counting its unread events
    /// as lost.
    fn reclaim_oldest(&self, state: &mut ProducerState) -> Option<u32> {
        let pinned = state.pinned;
        let ring = self.submit.claim_if(|ring| match pinned {
            Some(pin) if pin.ring == ring => {
                // Acquire: the drain's in-place reads of the ring happen-before our reset.
                // mutant: ring_pool.reclaim_sees_pin_end
                let last_ended = self.drain.pins_ended.load(Ordering::Acquire);
                pin.epoch.has_ended(last_ended)
            }
            _ => true,
        })?;
        state.pin_ended_on(ring);
        self.places.moved(ring, Place::Submitted, Place::Producer);
        let buffer = &self.ring(ring);
        // Records the drain already collected in place are delivered; the rest is lost.
        let lost = buffer.unread() as u64;
        let counters = &self.producer.counters;
        counters.dropped_oldest.add(lost);
        counters.rings_dropped.add(1);
        // Not stamped anywhere: the drain finds these events missing between the
        // positions of its deliveries (`ledger.rs`).
        // SAFETY: the claim made the ring ours, and no pin on it is open.
        unsafe { buffer.reset_unchecked() };
        Some(ring)
    }

    /// A vacant lane: makes an empty ring active if one came back. Otherwise a full
    /// ring's write blocks again (`Blocked`, nothing submitted), or, once the caller
    /// gave up waiting, finds no ring (the caller drops the event, cause `timeout`). A
    /// flush finds nothing to flush (the full ring was submitted when the lane went
    /// vacant).
    fn refill<'l>(
        &'l self,
        state: &mut ProducerState,
        writer: &mut RingWriter<'l, 'static, T>,
        reason: RotateReason,
    ) -> Rotation {
        if reason == RotateReason::Flush {
            return Rotation::NoRing;
        }
        match self.take_refill(state) {
            Some(next) => {
                self.install(state, next);
                // SAFETY: the producer is the only writer of its active ring, and `next`
                // is empty and in the producer's hands.
                *writer = unsafe { self.ring(next).writer() };
                Rotation::Refilled
            }
            None if state.gave_up => {
                // As `DropNewest` counts every event that finds no ring.
                self.producer.counters.exhaustions.add(1);
                Rotation::NoRing
            }
            None => Rotation::Blocked(Submission::NothingSubmitted),
        }
    }

    /// A vacant lane's empty ring, or `None` while none came back. The lane is no
    /// longer vacant when one did (the caller installs it and makes its writer).
    pub(crate) fn take_refill(&self, state: &mut ProducerState) -> Option<u32> {
        let next = self.empty_ring(state)?;
        state.vacant = false;
        state.gave_up = false;
        Some(next)
    }

    /// A blocking lane ran out of rings, and its full ring (`writer`'s) was just
    /// submitted: no ring is active until `refill`. The `active` word says so, so the
    /// drain pins nothing, and snapshots count no active ring; `writer` keeps its full
    /// count, so every write takes the slow path (and touches nothing of the ring: a
    /// full writer's push only compares its own count).
    fn vacate(&self, state: &mut ProducerState, writer: &RingWriter<'_, 'static, T>) {
        self.count_outgoing(state, writer);
        state.vacant = true;
        // AcqRel: as in `install` (Acquire: sees a pin of the outgoing ring).
        let previous = self.active.swap(ActiveWord::VACANT, Ordering::AcqRel);
        if let Some(pin) = previous.pin() {
            state.pinned = Some(pin);
        }
    }

    /// Gives up waiting for a ring (the caller's timeout passed, or the registry shut
    /// down): until an empty ring comes back, events that find none are dropped.
    pub(crate) fn give_up(&self, state: &mut ProducerState) {
        state.gave_up = state.vacant;
    }

    /// Makes `next` (empty, the producer's) the active ring.
    fn activate<'l>(
        &'l self,
        state: &mut ProducerState,
        writer: &mut RingWriter<'l, 'static, T>,
        next: u32,
    ) {
        self.count_outgoing(state, writer);
        self.install(state, next);
        // SAFETY: the producer is the only writer of its active ring, and `next` is
        // empty and in the producer's hands.
        *writer = unsafe { self.ring(next).writer() };
    }

    /// Counts the records of the ring that stops being active (`writer`'s) as written.
    fn count_outgoing(&self, state: &mut ProducerState, writer: &RingWriter<'_, 'static, T>) {
        let counters = &self.producer.counters;
        counters.events_written.add(writer.len() as u64);
        counters.swaps.add(1);
        state.emitted.events += writer.len() as u64;
    }

    /// Stamps `next` (empty, the producer's) and publishes it as the active ring; the
    /// caller makes the writer.
    pub(crate) fn install(&self, state: &mut ProducerState, next: u32) {
        state.active = next;
        state.window_marked = false;
        // SAFETY: `next` is the producer's and not pinned: a drain reads a ring's start
        // only under a pin, which has ended before the ring came back (through the free
        // queue, or a take-back that waited for it), or while it holds the ring after
        // its claim, which ended when it pushed the ring to the free queue; the swap
        // below publishes the stamp.
        // A flight recorder's held window, reused here, may still carry a pin the drain
        // took while it was active and unmarked, but under it the drain reads nothing
        // until it sees the window kept (`window.rs`), which only a `kept` store after
        // this stamp (Release) can tell it.
        unsafe { self.set_start(next, state.emitted.start()) };
        // Before the swap, so a drain that pins `next` reads this activation's value.
        self.publish_kept(next, state.mark_depth > 0);
        // AcqRel: Release publishes the reset of `next`, and its start, to a drain that
        // pins it; Acquire makes a pin of the outgoing ring (and the end of every earlier
        // pin) visible.
        // mutant: ring_pool.activate_swap
        let previous = self
            .active
            .swap(ActiveWord::unpinned(next), Ordering::AcqRel);
        if let Some(pin) = previous.pin() {
            state.pinned = Some(pin);
        }
    }

    /// Hands `ring` to the drain with the next sequence number and its place in the
    /// lane: its start, stamped when it became active, and the events discarded before
    /// it (counted now: a held window before it may have been discarded since then, and
    /// none before it is left to discard, see `ledger.rs`).
    fn submit(&self, state: &mut ProducerState, ring: u32, flags: RingFlags) {
        // SAFETY: the producer is the only writer of starts, and this is the producer.
        let start = unsafe { self.start(ring) };
        let header = RingHeader {
            sequence: state.next_sequence,
            flags,
            first_event: start.first_event,
            dropped_newest_before: start.dropped_newest_before,
            discarded_before: state.emitted.discarded,
            // One clock read per ring, on the slow path: the drain's submit → take latency.
            submitted_ticks: ada_clock::now(),
        };
        state.next_sequence += 1;
        // SAFETY: the ring is the producer's; the drain reads the header only after it
        // claims the ring, which the push below publishes.
        unsafe { self.ring(ring).set_header_unchecked(header) };
        self.places.moved(ring, Place::Producer, Place::Submitted);
        let queued = self.submit.push(ring);
        let counters = &self.producer.counters;
        counters.rings_submitted.add(1);
        counters.submit_high_water.raise_to(queued as u64);
    }

    /// Recycles a producer-held flight-recorder window without submitting it.
    fn discard(&self, state: &mut ProducerState, ring: u32) {
        let buffer = &self.ring(ring);
        let counters = &self.producer.counters;
        counters.windows_discarded.add(1);
        counters.events_discarded.add(buffer.len() as u64);
        state.emitted.discarded += buffer.len() as u64;
        // SAFETY: discarded windows are the producer's, and the drain never reads them:
        // it may pin an unmarked window while it is active, but reads a flight
        // recorder's pinned ring only when its window is kept (`window.rs`), and a kept
        // window is submitted, never held or discarded.
        unsafe { buffer.reset_unchecked() };
    }

    /// Marks the current window; the held window, if any, is submitted now as context.
    pub(crate) fn mark(&self, state: &mut ProducerState) -> Submission {
        let submission = match state.held.take() {
            Some(previous) => {
                self.producer.windows.set_held(0);
                self.submit(state, previous, RingFlags::CONTEXT);
                Submission::Submitted
            }
            None => Submission::NothingSubmitted,
        };
        state.window_marked = true;
        self.publish_kept(state.active, true);
        submission
    }

    /// Ends production: submits the partly filled ring if it is kept, discards the rest,
    /// and retires the `active` word.
    pub(crate) fn close(&self, state: &mut ProducerState, active_len: usize) {
        if state.closed {
            return;
        }
        state.closed = true;
        // As in `rotate`: the count of the active ring and the `active` swap below are one
        // change for a snapshot.
        let _changing = self.producer.change.begin();
        if state.vacant {
            // Nothing is active: the full ring was submitted and counted when the lane
            // went vacant (`active` names it, in the queue or the drain's hands).
            state.vacant = false;
            state.gave_up = false;
            // AcqRel: as below.
            let previous = self.active.swap(ActiveWord::CLOSED, Ordering::AcqRel);
            debug_assert!(previous.pin().is_none(), "a vacant lane has nothing to pin");
            return;
        }
        let active = state.active;
        let keep = self.keeps_window(state);
        let marked = state.window_marked || state.mark_depth > 0;
        let counters = &self.producer.counters;
        counters.events_written.add(active_len as u64);
        state.emitted.events += active_len as u64;
        if let Some(previous) = state.held.take() {
            self.producer.windows.set_held(0);
            self.discard(state, previous);
            state.spare.push(previous);
        }
        // As in `rotate`: submit, then retire the active word.
        if active_len > 0 && keep {
            let mut flags = RingFlags::PARTIAL;
            flags.set(RingFlags::MARKED, marked);
            self.submit(state, active, flags);
        } else {
            if active_len > 0 {
                self.discard(state, active);
            }
            state.spare.push(active);
        }
        // AcqRel: as in `activate`; afterwards the drain can no longer pin any ring.
        let previous = self.active.swap(ActiveWord::CLOSED, Ordering::AcqRel);
        if let Some(pin) = previous.pin() {
            state.pinned = Some(pin);
        }
    }
}
