//! loom models of the lane protocol: swap vs recycle, drop-oldest reclaim vs the drain's
//! claim (the race the original C system got wrong), in-place collection of a partly
//! filled ring vs a concurrent write and swap, and exhaustion under drop-oldest vs takes
//! and collections (every loss reported once, just before the right delivery).
//!
//! Every model runs producer and drain on spawned threads, checks ring ownership on every
//! move (the place tracker panics when a ring moves from a place it is not in), checks
//! order, exact conservation, and each delivery's gap against the hole before its first
//! record (records are their lane positions), and checks that loom explored the outcomes
//! that matter
//! (loom 0.7 can stop after one iteration when a thread begins with an atomic load:
//! tokio-rs/loom#392). Ring records and headers are loom-tracked cells, so an ordering
//! too weak to order a reset or a record read is reported as a data race.
#![allow(non_snake_case)]

use super::*;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::vec::Vec;

/// One execution's result: the delivered records, events lost, rings dropped, records
/// collected in place, and what the deliveries' gaps reported (oldest, newest).
type Outcome = (Vec<u64>, u64, u64, u64, (u64, u64));

/// Checks each delivery's gap against the hole before its first record, and that the
/// gaps plus what is missing after the last delivery are the lane's losses; returns the
/// gaps' sums (oldest, newest).
fn check_gaps(deliveries: &[(Vec<u64>, Gap)], events: u64, snapshot: &LaneSnapshot) -> (u64, u64) {
    let (mut next, mut oldest, mut newest) = (0, 0, 0);
    for (records, gap) in deliveries {
        let hole = records.first().map_or(0, |first| first - next);
        assert_eq!(
            gap.lost.total(),
            hole,
            "gap before {records:?}: {deliveries:?}"
        );
        assert_eq!((gap.lost.sink, gap.discarded), (0, 0));
        next += hole + records.len() as u64;
        oldest += gap.lost.oldest;
        newest += gap.lost.newest;
    }
    let dropped = snapshot.dropped;
    assert_eq!(
        oldest + newest + (events - next),
        dropped.total(),
        "{deliveries:?}"
    );
    assert!(
        oldest <= dropped.oldest && newest <= dropped.newest,
        "{deliveries:?}"
    );
    (oldest, newest)
}

/// Runs `events` writes (then `close`) against a drain that first makes `collects`
/// rounds of (collect the active ring in place, take one ring), then takes rings until
/// the producer is closed. Checks order and conservation in every execution and returns
/// every distinct outcome.
fn model(
    config: LaneConfig,
    events: u64,
    collects: usize,
    preemptions: usize,
    yields: bool,
) -> BTreeSet<Outcome> {
    model_with_reserve(config, (0, 0), events, collects, preemptions, yields).0
}

/// As [`model`], for a lane that borrows from a shared reserve of `reserve.0` rings, of
/// which it may keep `reserve.1` (`Reserve::adopting`); also checks that every borrowed
/// ring is back in the reserve once the lane is dropped, and returns the rings borrowed
/// in each execution.
fn model_with_reserve(
    config: LaneConfig,
    (reserve_rings, adopt): (usize, usize),
    events: u64,
    collects: usize,
    preemptions: usize,
    yields: bool,
) -> (BTreeSet<Outcome>, BTreeSet<u64>) {
    let outcomes = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen_outcomes = std::sync::Arc::clone(&outcomes);
    let borrowed = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let seen_borrowed = std::sync::Arc::clone(&borrowed);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.max_branches = 100000;
    builder.check(move || {
        let reserve = (reserve_rings > 0).then(|| {
            std::sync::Arc::new(
                Reserve::<u64>::new(config.ring_records, reserve_rings)
                    .unwrap()
                    .adopting(adopt),
            )
        });
        let lane = Arc::new(
            match &reserve {
                Some(reserve) => Lane::<u64>::with_reserve(config, std::sync::Arc::clone(reserve)),
                None => Lane::<u64>::new(config),
            }
            .unwrap(),
        );
        let closed = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicUsize::new(0));
        let (producer_lane, producer_closed) = (Arc::clone(&lane), Arc::clone(&closed));
        let (producer_started, drain_started) = (Arc::clone(&started), Arc::clone(&started));
        let producer = thread::spawn(move || {
            // A first operation that is not a load (tokio-rs/loom#392).
            producer_started.fetch_add(1, Ordering::Relaxed);
            // SAFETY: the only producer.
            let mut producer = unsafe { producer_lane.producer() }.unwrap();
            for event in 0..events {
                producer.write(event);
                // A scheduling point between writes: without it loom 0.7's DPOR did not
                // explore the drain recycling a ring in time for the next swap. With it,
                // it explored fewer stale reads; models run both ways where both matter.
                if yields {
                    thread::yield_now();
                }
            }
            producer.close();
            producer_closed.store(true, Ordering::Release);
        });
        let drain_lane = Arc::clone(&lane);
        let drain = thread::spawn(move || {
            drain_started.fetch_add(1, Ordering::Relaxed);
            // SAFETY: the only drain.
            let mut drain = unsafe { drain_lane.drain() };
            let mut deliveries = Vec::new();
            let mut collected = 0;
            for _ in 0..collects {
                drain.collect_active(|records, gap| {
                    deliveries.push((records.to_vec(), gap));
                    collected += records.len() as u64;
                    Ok::<(), ()>(())
                });
                if let Some(ring) = drain.take() {
                    deliveries.push((ring.records().to_vec(), ring.gap()));
                    ring.deliver();
                }
            }
            loop {
                let done = closed.load(Ordering::Acquire);
                match drain.take() {
                    Some(ring) => {
                        deliveries.push((ring.records().to_vec(), ring.gap()));
                        ring.deliver();
                    }
                    None if done => break,
                    None => thread::yield_now(),
                }
            }
            (deliveries, collected)
        });
        producer.join().unwrap();
        let (deliveries, collected) = drain.join().unwrap();
        let snapshot = lane.snapshot();
        let gaps = check_gaps(&deliveries, events, &snapshot);
        let seen: Vec<u64> = deliveries.into_iter().flat_map(|(r, _)| r).collect();
        assert!(
            seen.windows(2).all(|pair| pair[0] < pair[1]),
            "order: {seen:?}"
        );
        assert_eq!(snapshot.events_written, events);
        assert_eq!(snapshot.events_delivered, seen.len() as u64);
        assert!(snapshot.is_conserved(), "{snapshot:?}");
        if let Some(reserve) = &reserve {
            // A ring the lane keeps goes back when the lane is dropped.
            assert_eq!(reserve.lent() as u64, lane.adopted_rings());
            drop(lane);
            assert_eq!(reserve.lent(), 0, "every borrowed ring is back");
        }
        seen_borrowed
            .lock()
            .unwrap()
            .insert(snapshot.rings_borrowed);
        seen_outcomes.lock().unwrap().insert((
            seen,
            snapshot.events_lost(),
            snapshot.rings_dropped,
            collected,
            gaps,
        ));
    });
    let outcomes = outcomes.lock().unwrap().clone();
    let borrowed = borrowed.lock().unwrap().clone();
    (outcomes, borrowed)
}

fn config(rings: usize, ring_records: usize, policy: ExhaustionPolicy) -> LaneConfig {
    LaneConfig {
        rings,
        ring_records,
        policy,
        mode: LaneMode::SubmitAll,
    }
}

#[test]
fn loom__swap_vs_recycle__then_every_record_once_in_order() {
    // Two one-record rings and three records: the producer's third write needs the ring
    // the drain recycles; with DropNewest it is either back in time or the write is lost.
    let outcomes = model(config(2, 1, ExhaustionPolicy::DropNewest), 3, 0, 6, true);
    assert!(
        outcomes
            .iter()
            .any(|(seen, lost, rings, _, _)| *seen == [0, 1, 2] && *lost == 0 && *rings == 0),
        "recycled in time: {outcomes:?}"
    );
    assert!(
        outcomes.iter().any(|(_, lost, _, _, _)| *lost > 0),
        "explored a lost write: {outcomes:?}"
    );
}

#[test]
fn loom__drop_oldest_reclaim_vs_drain_claim__then_one_owner() {
    // The producer takes back the oldest submitted ring while the drain may be claiming
    // it: whoever wins the head CAS owns the ring; the other never touches it.
    let outcomes = model(config(2, 1, ExhaustionPolicy::DropOldest), 3, 0, 3, true);
    assert!(
        outcomes
            .iter()
            .any(|(seen, lost, rings, _, _)| *seen == [0, 1, 2] && *lost == 0 && *rings == 0),
        "drain won: {outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|(seen, lost, rings, _, _)| *rings == 1 && *lost == 1 && !seen.contains(&0)),
        "producer won: {outcomes:?}"
    );
    // Without scheduling points loom explores the drain loading a head the producer's
    // take-back advanced together with a stale tail (the bug it found in the claim).
    let outcomes = model(config(2, 1, ExhaustionPolicy::DropOldest), 3, 0, 3, false);
    assert!(
        outcomes.iter().any(|(_, _, rings, _, _)| *rings == 1),
        "{outcomes:?}"
    );
}

#[test]
fn loom__collect_partial_vs_write_and_swap__then_no_race_no_duplicate() {
    // The drain pins the active ring and reads its committed records while the producer
    // keeps writing, swaps, and may take back the pinned ring under DropOldest.
    let outcomes = model(config(2, 2, ExhaustionPolicy::DropOldest), 5, 1, 2, true);
    assert!(
        outcomes
            .iter()
            .any(|(_, _, _, collected, _)| *collected > 0),
        "explored a collection in place: {outcomes:?}"
    );
}

#[test]
fn loom__reclaim_of_a_pinned_ring__then_waits_for_the_pin_to_end() {
    // One-record rings: the drain pins ring 0 and reads record 0 while the producer
    // submits ring 0 and, out of rings, wants it back. It may take it back only after
    // the pin has ended (or it drops the newest record instead); the reset and rewrite
    // of the ring must happen after the drain's reads, or loom reports a race. The drain
    // pins twice, so a pin of a ring the producer took back and reactivated is explored.
    let outcomes = model(config(2, 1, ExhaustionPolicy::DropOldest), 3, 2, 3, true);
    assert!(
        outcomes
            .iter()
            .any(|(_, lost, rings, collected, _)| *collected > 0 && *rings == 1 && *lost == 0),
        "explored a take-back after the pin ended: {outcomes:?}"
    );
}

#[test]
fn loom__exhaustion_under_drop_oldest_vs_take_and_collect__then_each_loss_reported_once_in_place() {
    // Two two-record rings and six records: the producer runs out of rings and takes
    // back the oldest queued one (possibly partly collected in place; when the drain
    // still pins it, it drops the newest record instead) while the drain collects the
    // active ring in place and takes rings. In every execution (`check_gaps`) every event
    // is delivered or lost exactly once, and each loss is reported, with its cause, by
    // the delivery right after it, or is missing after the last one.
    let outcomes = model(config(2, 2, ExhaustionPolicy::DropOldest), 6, 2, 2, false);
    let explored = |what: &str, found: &dyn Fn(&Outcome) -> bool| {
        assert!(outcomes.iter().any(found), "explored {what}: {outcomes:?}");
    };
    explored(
        "a take-back of a partly collected ring, its rest reported by the next delivery",
        &|(_, _, rings, collected, (oldest, _))| {
            *collected > 0 && *oldest > 0 && *oldest < 2 * *rings
        },
    );
    explored("both causes reported in one execution", &|(
        _,
        _,
        _,
        _,
        (oldest, newest),
    )| {
        *oldest > 0 && *newest > 0
    });
    explored("a loss after the last delivery", &|(
        _,
        lost,
        _,
        _,
        (oldest, newest),
    )| {
        *lost > oldest + newest
    });
}

#[test]
fn loom__snapshot_vs_ring_change_and_close__then_each_ring_counted_once() {
    // Two-record rings: the producer's third write replaces the full ring, and its close
    // counts and submits the partly filled one, while a reader takes snapshots. No
    // snapshot may count more than was written by its end: a read between a change's
    // count and its `active` swap counted a ring twice; the change sequence makes the
    // reader retry. (A snapshot may lag: nothing orders the producer's latest writes
    // before it.) Once the producer is joined, the count is exact.
    let seen = std::sync::Arc::new(Mutex::new(BTreeSet::new()));
    let outcomes = std::sync::Arc::clone(&seen);
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.max_branches = 100_000;
    builder.check(move || {
        let lane = Arc::new(Lane::<u64>::new(config(2, 2, ExhaustionPolicy::DropOldest)).unwrap());
        // What the producer has written so far: a `core` atomic, outside the model (a
        // record of real time, which loom runs one thread at a time).
        let written = std::sync::Arc::new(core::sync::atomic::AtomicU64::new(0));
        let (producer_lane, producer_written) =
            (Arc::clone(&lane), std::sync::Arc::clone(&written));
        let producer = thread::spawn(move || {
            // SAFETY: the only producer.
            let mut producer = unsafe { producer_lane.producer() }.unwrap();
            for event in 0..3 {
                producer.write(event);
                producer_written.store(event + 1, core::sync::atomic::Ordering::SeqCst);
            }
            producer.close();
        });
        let reader_lane = Arc::clone(&lane);
        let reader = thread::spawn(move || {
            let mut counted = Vec::new();
            for _ in 0..2 {
                let snapshot = reader_lane.snapshot();
                let after = written.load(core::sync::atomic::Ordering::SeqCst);
                assert!(
                    snapshot.events_written <= after,
                    "written {after}, counted {}",
                    snapshot.events_written
                );
                counted.push(snapshot.events_written);
            }
            counted
        });
        producer.join().unwrap();
        let counted = reader.join().unwrap();
        outcomes.lock().unwrap().insert(counted);
        assert_eq!(lane.snapshot().events_written, 3);
    });
    let seen = seen.lock().unwrap();
    assert!(
        seen.iter()
            .any(|counted| counted.iter().any(|&n| n > 0 && n < 3)),
        "explored a snapshot during the writes: {seen:?}"
    );
}

#[test]
fn loom__borrow_vs_give_back_vs_drop_oldest_take_back__then_one_owner_and_every_ring_back() {
    // Two one-record rings of its own and one in the reserve, four records: the lane
    // borrows when the drain has not recycled its rings yet, the drain gives the
    // borrowed ring back to the reserve (not the lane's free queue) once delivered, and
    // with all three out the producer takes back the oldest submitted ring, which may
    // be the borrowed one. In every execution: order, exact conservation, gaps, the
    // place tracker (a ring in two places panics), and the reserve whole at the end.
    // Then again with a lane that may keep the reserve's ring (`Reserve::adopting`):
    // the drain then puts it in the lane's free queue instead.
    for adopt in [0, 1] {
        let (outcomes, borrowed) = model_with_reserve(
            config(2, 1, ExhaustionPolicy::DropOldest),
            (1, adopt),
            4,
            0,
            2,
            true,
        );
        assert!(
            borrowed.contains(&0) && borrowed.iter().any(|&b| b > 0),
            "explored a swap that borrowed and one that did not: {borrowed:?}"
        );
        assert!(
            outcomes.iter().any(|(_, lost, _, _, _)| *lost > 0),
            "explored a take-back: {outcomes:?}"
        );
    }
}

#[test]
fn loom__reserve_shared_by_two_borrowers__then_a_ring_has_one_holder() {
    // Two threads borrow from a two-ring reserve (one takes both), write into their
    // rings and give them back: the stack's compare-and-swaps hand a ring to one holder
    // at a time, the giver's writes happen-before the next borrower's (ring cells are
    // loom-tracked: an ordering too weak to order them is a data race), and the stack
    // links stay whole (both rings can be borrowed again at the end).
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(2);
    builder.check(|| {
        let reserve = std::sync::Arc::new(Reserve::<u64>::new(1, 2).unwrap());
        let borrowers: Vec<_> = [1_usize, 2]
            .into_iter()
            .map(|rings| {
                let reserve = std::sync::Arc::clone(&reserve);
                thread::spawn(move || {
                    let mut held = Vec::new();
                    for _ in 0..rings {
                        if let Some(lent) = reserve.borrow() {
                            let ring = reserve.ring(lent);
                            // SAFETY: the pop made the ring ours.
                            unsafe {
                                ring.reset_unchecked();
                                ring.writer().push(lent.into()).unwrap();
                            }
                            held.push(lent);
                        }
                    }
                    for &lent in &held {
                        reserve.give_back(lent);
                    }
                    held.len()
                })
            })
            .collect();
        for borrower in borrowers {
            borrower.join().unwrap();
        }
        assert_eq!(reserve.lent(), 0);
        let again: BTreeSet<u32> = (0..2).filter_map(|_| reserve.borrow()).collect();
        assert_eq!(
            again,
            BTreeSet::from([0, 1]),
            "both rings on the stack once"
        );
        assert_eq!(reserve.borrow(), None);
    });
}
