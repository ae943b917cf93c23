//! What a flight recorder's producer tells the drain about its windows, so that the
//! drain's final passes can deliver a live thread's marked window and count its unmarked
//! ones (`docs/protocol.md`, "Flight recorders at shutdown"):
//!
//! - **kept**: whether the active window will be submitted when it is replaced (it holds
//!   a mark, or a marked scope is open). The drain reads a pinned flight-recorder ring
//!   in place only when its window is kept: a kept window is never held, discarded or
//!   reset by the producer (it is submitted, and comes back only through the drain or a
//!   take-back that waits for the pin's end), whereas an unmarked one may be held and
//!   reset at the producer's next swap without a look at any pin.
//! - **held**: how many records the held (previous, full, unmarked) window holds. That
//!   window is producer-private: the drain never reads it, only counts it.
//!
//! Both are written by the producer only, on its slow path (a swap, a mark), never on a
//! write into a ring with room.

use crate::counters::lane_snapshot;
use crate::lane::Lane;
use crate::sync::{AtomicU32, Counter, Ordering};
use ada_metrics::LaneSnapshot;

/// The producer's published account of its flight-recorder windows.
pub(crate) struct Windows {
    /// `ring + 1` while the active ring `ring` holds a kept window, 0 otherwise.
    kept: AtomicU32,
    /// Records in the held window, 0 when none is held: a statistic (`Counter`), read
    /// only for the drain's final account.
    held: Counter,
}

impl Windows {
    /// No window kept, none held.
    pub(crate) fn new() -> Self {
        Self {
            kept: AtomicU32::new(0),
            held: Counter::default(),
        }
    }

    /// The producer: the window of the active ring `ring` is (or is not) kept. Called
    /// whenever that changes: before the `active` swap that makes `ring` active, and
    /// when a mark keeps the current window.
    pub(crate) fn publish_kept(&self, ring: u32, kept: bool) {
        let word = if kept { ring + 1 } else { 0 };
        // A drain reads this only under a pin on `ring`, and the pin's Acquire pairs
        // with the swap that made `ring` active, which this store (for that activation)
        // precedes: the drain sees this activation's value or a later one (a mark of
        // this window). Within one activation a window only ever becomes kept, never
        // unkept, and the ring is named, so no value of an earlier activation can pass
        // for this one.
        // Release: a mark submits the held window (as context) before it keeps the
        // current one, i.e. after the current ring was activated; a drain that sees the
        // window kept (Acquire) must also see that older ring in the submit queue, so it
        // takes the context before it collects the marked window (order).
        // mutant: ring_pool.kept_publish
        self.kept.store(word, Ordering::Release);
    }

    /// The drain, holding a pin on the active ring `ring`: whether its window is kept.
    pub(crate) fn is_kept(&self, ring: u32) -> bool {
        // Acquire: see `publish_kept`.
        // mutant: ring_pool.kept_acquire
        self.kept.load(Ordering::Acquire) == ring + 1
    }

    /// The producer now holds a window of `records` records (0: none). Set after the
    /// swap that counted the window's records as written, and cleared before the
    /// records are counted as discarded or handed on, so a snapshot between the two
    /// never counts a record twice.
    pub(crate) fn set_held(&self, records: usize) {
        self.held.set(records as u64);
    }

    /// Records in the held window.
    pub(crate) fn held(&self) -> u64 {
        self.held.get()
    }

    /// Back to new, for a lane being reused. Exclusive access only.
    pub(crate) fn reset(&self) {
        // Relaxed: exclusivity orders the reset (as every other reset of the lane).
        self.kept.store(0, Ordering::Relaxed);
        self.held.reset();
    }
}

impl<T: Copy> Lane<T> {
    /// Whether this lane is a flight recorder (it holds and discards unmarked windows).
    pub(crate) fn is_flight_recorder(&self) -> bool {
        matches!(self.config.mode, crate::LaneMode::FlightRecorder { .. })
    }

    /// The producer: publishes whether the active ring `ring`'s window is kept (flight
    /// recorders only: every window of a `SubmitAll` lane is).
    pub(crate) fn publish_kept(&self, ring: u32, kept: bool) {
        if self.is_flight_recorder() {
            self.producer.windows.publish_kept(ring, kept);
        }
    }

    /// The producer: publishes that it holds `ring` (just swapped out: its records are
    /// counted as written) as its context window.
    pub(crate) fn publish_held(&self, ring: u32) {
        self.producer.windows.set_held(self.ring(ring).len());
    }

    /// The lane's counters as a stopping drain accounts for them: the unkept windows of
    /// a flight recorder whose producer is still alive (the held window, and the active
    /// window when it is not kept) count as discarded, since no mark can send them to
    /// the drain any more. The counters, the active ring and the held window are read
    /// as of one moment (no ring change between them, `change.rs`), so a producer still
    /// writing makes the snapshot older, never inconsistent.
    pub(crate) fn final_snapshot(&self) -> LaneSnapshot {
        let drain = self.drain.counters.read();
        let ((producer, _, active_len), held, unkept) = self.producer.change.read(|| {
            let now = self.producer_now();
            let unkept = match now.1 {
                Some(ring) if self.is_flight_recorder() && !self.producer.windows.is_kept(ring) => {
                    self.ring(ring).unread() as u64
                }
                _ => 0,
            };
            (now, self.producer.windows.held(), unkept)
        });
        let mut snapshot = lane_snapshot(producer, drain, active_len);
        snapshot.events_discarded += held + unkept;
        snapshot.windows_discarded += u64::from(held > 0) + u64::from(unkept > 0);
        snapshot
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #![allow(non_snake_case)]
    use crate::{ExhaustionPolicy, Lane, LaneConfig, LaneDrain, LaneMode, LaneProducer};
    use std::vec;
    use std::vec::Vec;

    fn recorder(rings: usize, ring_records: usize) -> Lane<u64> {
        Lane::new(LaneConfig {
            rings,
            ring_records,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::FlightRecorder { max_mark_depth: 2 },
        })
        .unwrap()
    }

    fn producer(lane: &Lane<u64>) -> LaneProducer<'_, u64> {
        // SAFETY: one producer at a time.
        unsafe { lane.producer() }.unwrap()
    }

    fn drain(lane: &Lane<u64>) -> LaneDrain<'_, u64> {
        // SAFETY: one drain at a time.
        unsafe { lane.drain() }
    }

    /// What a final pass delivers: every submitted ring, then the active ring in place.
    fn final_pass(lane: &Lane<u64>) -> Vec<u64> {
        let mut drain = drain(lane);
        let mut seen = Vec::new();
        while let Some(ring) = drain.take() {
            seen.extend_from_slice(ring.records());
            ring.deliver();
        }
        let _ = drain.collect_active(|records, _| {
            seen.extend_from_slice(records);
            Ok::<(), ()>(())
        });
        seen
    }

    #[test]
    fn collect_active__flight_recorder_marked_window__then_collected_in_place() {
        let lane = recorder(2, 4);
        let mut producer = producer(&lane);
        producer.write_slice(&[1, 2, 3]);
        producer.mark();
        let mut drain = drain(&lane);
        let collected = drain.collect_active(|records, _| Ok::<_, ()>(records.to_vec()));
        assert_eq!(collected, Some(Ok(vec![1, 2, 3])));
        // The producer goes on: the window, still kept, is submitted from where the
        // collection stopped.
        producer.write_slice(&[4, 5]);
        let ring = drain
            .take()
            .expect("the marked window, submitted when full");
        assert_eq!(ring.records(), [4]);
        ring.deliver();
        assert_eq!(
            lane.snapshot().events_in_flight(),
            1,
            "5, in an unmarked window"
        );
        let snapshot = drain.final_snapshot();
        assert_eq!((snapshot.events_written, snapshot.events_delivered), (5, 4));
        assert_eq!(
            snapshot.events_discarded, 1,
            "at the stop, the unmarked window"
        );
        assert!(snapshot.is_conserved());
    }

    #[test]
    fn collect_active__flight_recorder_unmarked_window__then_not_read_and_pin_ended() {
        let lane = recorder(2, 4);
        let mut producer = producer(&lane);
        producer.write_slice(&[1, 2, 3]);
        let mut drain = drain(&lane);
        let collected = drain.collect_active(|records, _| Ok::<_, ()>(records.to_vec()));
        assert_eq!(collected, None, "an unmarked window stays the producer's");
        assert_eq!(lane.active.load(crate::sync::Ordering::Relaxed).pin(), None);
        // The producer recycles its windows as usual, the pinned one included.
        producer.write_slice(&(4..20).collect::<Vec<_>>());
        assert_eq!(lane.submitted_len(), 0);
        assert_eq!(lane.snapshot().events_discarded, 12, "windows up to 16");
    }

    #[test]
    fn collect_active__marked_scope_over_several_windows__then_every_record_once_in_order() {
        let lane = recorder(3, 2);
        let mut producer = producer(&lane);
        producer.write_slice(&[0, 1, 2]); // [0,1] held, 2 active
        producer.mark_push().unwrap(); // [0,1] submitted as context; the scope keeps on
        let mut seen = Vec::new();
        for event in 3..12 {
            producer.write(event);
            seen.extend(final_pass(&lane));
        }
        assert_eq!(seen, (0..12).collect::<Vec<_>>());
        let snapshot = drain(&lane).final_snapshot();
        assert!(snapshot.is_conserved(), "{snapshot:?}");
        assert_eq!(snapshot.events_discarded, 0);
    }

    #[test]
    fn final_snapshot__live_recorder_with_held_and_unmarked_windows__then_discarded_none_in_flight()
    {
        let lane = recorder(2, 4);
        let mut producer = producer(&lane);
        // [0..4] discarded, [4..8] held, [8, 9] active and unmarked.
        producer.write_slice(&(0..10).collect::<Vec<_>>());
        assert!(
            final_pass(&lane).is_empty(),
            "nothing marked, nothing delivered"
        );
        let before = lane.snapshot();
        assert_eq!((before.events_discarded, before.events_in_flight()), (4, 6));
        let snapshot = drain(&lane).final_snapshot();
        assert_eq!(snapshot.events_written, 10);
        assert_eq!(
            snapshot.events_discarded, 10,
            "held and active windows discarded"
        );
        assert_eq!(snapshot.windows_discarded, 3);
        assert_eq!(snapshot.events_in_flight(), 0);
        assert!(snapshot.is_conserved());
        // Marked now: the held window goes as context, the active one is collected;
        // the gaps say what was discarded before them, once.
        producer.mark();
        {
            let mut lane_drain = drain(&lane);
            let ring = lane_drain.take().expect("the context");
            assert_eq!(
                (ring.records(), ring.gap().discarded),
                (&[4, 5, 6, 7][..], 4)
            );
            ring.deliver();
            let collected =
                lane_drain.collect_active(|records, gap| Ok::<_, ()>((records.to_vec(), gap)));
            let (records, gap) = collected.expect("the marked window").unwrap();
            assert_eq!(records, [8, 9]);
            assert!(gap.is_empty(), "{gap:?}");
        }
        let snapshot = drain(&lane).final_snapshot();
        assert_eq!(
            (snapshot.events_delivered, snapshot.events_discarded),
            (6, 4)
        );
        assert!(snapshot.is_conserved(), "{snapshot:?}");
        // A closed lane is counted by the producer itself: the same totals.
        producer.close();
        assert_eq!(drain(&lane).final_snapshot(), lane.snapshot());
    }
}

/// The loom model of a flight recorder's collection at the stop (`docs/protocol.md`,
/// "Flight recorders at shutdown"), kept next to the code it checks. Ring records are
/// loom-tracked cells, so a read of a window the producer resets is reported as a race.
#[cfg(all(test, loom))]
mod loom_tests {
    #![allow(non_snake_case)]
    use crate::{ExhaustionPolicy, Lane, LaneConfig, LaneDrain, LaneMode};
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use loom::thread;
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    use std::vec::Vec;

    /// One flight-recorder execution's result: the delivered records, whether the drain
    /// collected a kept window in place, whether it pinned a window and left it unread, and
    /// the records lost.
    type RecorderOutcome = (Vec<u64>, bool, bool, u64);

    #[test]
    fn loom__flight_recorder_collection_at_stop_vs_writes_and_marks__then_marked_window_once_no_race()
     {
        // Two rings of two records. The producer fills window [0,1] unmarked (held at the
        // next swap, then discarded and reused as the active ring: the reset races a drain
        // that pinned it while it was active), fills [2,3] (held), marks [4,5] (submitting
        // [2,3] as context), then writes 6, which submits the marked window and starts an
        // unmarked one, and goes quiet without closing: a thread alive at shutdown. The
        // drain collects in place and takes rings while the producer writes, then makes its
        // final passes. The drain may read a flight recorder's pinned ring only when the
        // window is kept: reading an unmarked one would race with its reset (loom reports the
        // slots' data race), or deliver discarded records.
        let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::<RecorderOutcome>::new()));
        let seen_outcomes = std::sync::Arc::clone(&outcomes);
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(2);
        builder.max_branches = 100000;
        builder.check(move || {
            let lane = Arc::new(
                Lane::<u64>::new(LaneConfig {
                    rings: 2,
                    ring_records: 2,
                    policy: ExhaustionPolicy::DropOldest,
                    mode: LaneMode::FlightRecorder { max_mark_depth: 1 },
                })
                .unwrap(),
            );
            let quiet = Arc::new(AtomicBool::new(false));
            let started = Arc::new(AtomicUsize::new(0));
            let (producer_lane, producer_quiet) = (Arc::clone(&lane), Arc::clone(&quiet));
            let (producer_started, drain_started) = (Arc::clone(&started), Arc::clone(&started));
            let producer = thread::spawn(move || {
                producer_started.fetch_add(1, Ordering::Relaxed);
                // SAFETY: the only producer.
                let mut producer = unsafe { producer_lane.producer() }.unwrap();
                for event in 0..4 {
                    producer.write(event);
                }
                producer.write(4);
                producer.mark();
                producer.write(5);
                producer.write(6);
                producer_quiet.store(true, Ordering::Release);
                // Alive, not writing, never closed: a `LaneProducer` going out of scope
                // changes nothing in the lane, so the drain sees a thread alive at the stop.
            });
            let drain_lane = Arc::clone(&lane);
            let drain = thread::spawn(move || {
                drain_started.fetch_add(1, Ordering::Relaxed);
                // SAFETY: the only drain.
                let mut drain = unsafe { drain_lane.drain() };
                let mut seen = Vec::new();
                let (mut collected, mut left_unread) = (false, false);
                let mut pass = |drain: &mut LaneDrain<'_, u64>, seen: &mut Vec<u64>| {
                    while let Some(ring) = drain.take() {
                        seen.extend_from_slice(ring.records());
                        ring.deliver();
                    }
                    let pins = drain_lane.drain.pins_ended.load(Ordering::Relaxed);
                    let outcome = drain.collect_active(|records, _| {
                        seen.extend_from_slice(records);
                        Ok::<(), ()>(())
                    });
                    collected |= outcome.is_some();
                    left_unread |= outcome.is_none()
                        && drain_lane.drain.pins_ended.load(Ordering::Relaxed) != pins;
                };
                // While the producer writes: twice.
                pass(&mut drain, &mut seen);
                pass(&mut drain, &mut seen);
                // The stop: the producer is quiet; final passes until one moves nothing
                // (two suffice here).
                while !quiet.load(Ordering::Acquire) {
                    thread::yield_now();
                }
                pass(&mut drain, &mut seen);
                pass(&mut drain, &mut seen);
                let snapshot = drain.final_snapshot();
                (seen, collected, left_unread, snapshot)
            });
            producer.join().unwrap();
            let (seen, collected, left_unread, snapshot) = drain.join().unwrap();
            assert!(
                seen.windows(2).all(|pair| pair[0] < pair[1]),
                "order, once: {seen:?}"
            );
            assert!(
                seen.ends_with(&[4, 5]),
                "the marked window is always delivered: {seen:?}"
            );
            assert!(
                seen.iter().all(|event| (2..6).contains(event)),
                "only the context and the marked window: {seen:?}"
            );
            assert_eq!(snapshot.events_written, 7);
            assert_eq!(snapshot.events_delivered, seen.len() as u64);
            // 6 starts an unmarked window (discarded at the stop), or is dropped on arrival
            // when no ring is free for it (the drain holds the context ring).
            assert_eq!(
                snapshot.events_discarded + snapshot.dropped.newest,
                3,
                "[0,1], and 6: {snapshot:?}"
            );
            assert_eq!(
                snapshot.dropped.oldest,
                if seen.contains(&2) { 0 } else { 2 },
                "only the context can be taken back: {snapshot:?}"
            );
            assert!(snapshot.is_conserved(), "{snapshot:?}");
            assert_eq!(snapshot.events_in_flight(), 0);
            seen_outcomes.lock().unwrap().insert((
                seen,
                collected,
                left_unread,
                snapshot.events_lost(),
            ));
        });
        let outcomes = outcomes.lock().unwrap().clone();
        assert!(
            outcomes.iter().any(|(_, collected, _, _)| *collected),
            "explored a kept window collected in place: {outcomes:?}"
        );
        assert!(
            outcomes.iter().any(|(_, _, left_unread, _)| *left_unread),
            "explored a pinned window left unread: {outcomes:?}"
        );
        assert!(
            outcomes.iter().any(|(_, _, _, lost)| *lost > 0),
            "explored the context window taken back: {outcomes:?}"
        );
    }
}
