//! The shared reserve: borrowing when a lane's own rings are out, giving back on
//! delivery, exact conservation under churn, typed errors, and no ring kept by a lane
//! that is reset or dropped.
#![allow(non_snake_case)]

use crate::{ExhaustionPolicy, Lane, LaneConfig, LaneConfigError, LaneMode, Reserve};
use std::sync::Arc;
use std::vec::Vec;

fn config(rings: usize, ring_records: usize, policy: ExhaustionPolicy) -> LaneConfig {
    LaneConfig {
        rings,
        ring_records,
        policy,
        mode: LaneMode::SubmitAll,
    }
}

/// Takes and delivers every submitted ring; returns the records.
fn take_all(lane: &Lane<u64>) -> Vec<u64> {
    // SAFETY: the test is the lane's only drain.
    let mut drain = unsafe { lane.drain() };
    let mut seen = Vec::new();
    while let Some(ring) = drain.take() {
        seen.extend_from_slice(ring.records());
        ring.deliver();
    }
    seen
}

#[test]
fn reserve__own_rings_out__then_borrowed_before_the_policy_and_given_back_on_delivery() {
    let reserve = Arc::new(Reserve::<u64>::new(4, 2).unwrap());
    let lane = Lane::with_reserve(
        config(2, 4, ExhaustionPolicy::DropNewest),
        Arc::clone(&reserve),
    )
    .unwrap();
    // SAFETY: the only producer.
    let mut producer = unsafe { lane.producer() }.unwrap();
    for event in 0..17 {
        producer.write(event); // 4 rings of 4, then a 17th that finds none
    }
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.rings_borrowed, 2);
    assert_eq!((reserve.lent(), reserve.high_water()), (2, 2));
    assert_eq!(
        snapshot.dropped.newest, 1,
        "the policy applies once the reserve is out"
    );
    assert_eq!(take_all(&lane), (0..12).collect::<Vec<_>>());
    assert_eq!(
        reserve.lent(),
        1,
        "the delivered borrowed ring went back; the active one is still lent"
    );
    producer.close();
    assert_eq!(take_all(&lane), [12, 13, 14, 15]);
    assert_eq!(reserve.lent(), 0);
    let snapshot = lane.snapshot();
    assert!(snapshot.is_conserved());
    assert_eq!(
        (snapshot.events_written, snapshot.events_delivered),
        (17, 16)
    );
}

#[test]
fn reserve__two_lanes_churning_on_threads__then_exact_conservation_order_and_every_ring_back() {
    let events = if cfg!(miri) { 300 } else { 200_000 };
    let reserve = Arc::new(Reserve::<u64>::new(8, 3).unwrap());
    let lanes: Vec<Lane<u64>> = (0..2)
        .map(|_| {
            Lane::with_reserve(
                config(2, 8, ExhaustionPolicy::DropOldest),
                Arc::clone(&reserve),
            )
            .unwrap()
        })
        .collect();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let seen = std::thread::scope(|s| {
        for lane in &lanes {
            let done = &done;
            s.spawn(move || {
                // SAFETY: this thread is the lane's only producer.
                let mut producer = unsafe { lane.producer() }.unwrap();
                for event in 0..events {
                    producer.write(event);
                }
                producer.close();
                done.fetch_add(1, std::sync::atomic::Ordering::Release);
            });
        }
        let mut seen = [Vec::new(), Vec::new()];
        loop {
            let finished = done.load(std::sync::atomic::Ordering::Acquire) == 2;
            for (lane, seen) in lanes.iter().zip(&mut seen) {
                seen.extend(take_all(lane));
            }
            if finished {
                break seen;
            }
            std::thread::yield_now();
        }
    });
    for (lane, seen) in lanes.iter().zip(&seen) {
        let snapshot = lane.snapshot();
        assert!(snapshot.is_conserved(), "{snapshot:?}");
        assert_eq!(snapshot.events_delivered, seen.len() as u64);
        assert!(seen.windows(2).all(|w| w[0] < w[1]), "in order, once each");
        assert_eq!(
            seen.last(),
            Some(&(events - 1)),
            "the newest survive drop-oldest"
        );
    }
    let borrowed: u64 = lanes
        .iter()
        .map(|lane| lane.snapshot().rings_borrowed)
        .sum();
    assert!(borrowed > 0, "the writers outran the drain at some point");
    assert_eq!(reserve.lent(), 0, "every borrowed ring is back");
    assert!(reserve.high_water() <= reserve.len());
}

#[test]
fn reserve__lane_dropped_or_reset_holding_borrowed_rings__then_they_go_back() {
    let reserve = Arc::new(Reserve::<u64>::new(2, 2).unwrap());
    let lane = Lane::with_reserve(
        config(2, 2, ExhaustionPolicy::DropNewest),
        Arc::clone(&reserve),
    )
    .unwrap();
    // SAFETY: the only producer.
    let mut producer = unsafe { lane.producer() }.unwrap();
    for event in 0..8 {
        producer.write(event);
    }
    assert_eq!(reserve.lent(), 2);
    drop(lane); // never drained
    assert_eq!(reserve.lent(), 0);

    let lane = Lane::with_reserve(
        config(2, 2, ExhaustionPolicy::DropNewest),
        Arc::clone(&reserve),
    )
    .unwrap();
    // SAFETY: the only producer.
    let mut producer = unsafe { lane.producer() }.unwrap();
    producer.write_slice(&[1, 2, 3, 4, 5]); // the 5th in a borrowed ring
    assert_eq!(take_all(&lane), [1, 2, 3, 4]);
    assert_eq!(reserve.lent(), 1, "the ring being written is borrowed");
    producer.flush(); // submits the borrowed ring, takes an own ring
    assert_eq!(take_all(&lane), [5]);
    assert_eq!(reserve.lent(), 0, "a flush handed the borrowed ring back");
    producer.close();
    assert!(lane.is_drained());
    assert_eq!(reserve.lent(), 0);
    // SAFETY: no handle in use, drained.
    unsafe { lane.reset_unchecked() };
    assert_eq!(reserve.lent(), 0);
    // SAFETY: the lane was reset: a new producer.
    let mut producer = unsafe { lane.producer() }.unwrap();
    producer.write_slice(&[6, 7, 8, 9, 10, 11, 12, 13]);
    assert_eq!(
        lane.snapshot().rings_borrowed,
        2,
        "the reserve is whole again"
    );
}

#[test]
fn reserve__bad_shapes__then_typed_errors() {
    let reserve = Arc::new(Reserve::<u64>::new(4, 2).unwrap());
    let recorder = LaneConfig {
        mode: LaneMode::FlightRecorder { max_mark_depth: 1 },
        ..config(4, 4, ExhaustionPolicy::DropOldest)
    };
    assert_eq!(
        Lane::with_reserve(recorder, Arc::clone(&reserve)).err(),
        Some(LaneConfigError::ReserveOnFlightRecorder)
    );
    assert_eq!(
        Lane::with_reserve(
            config(2, 8, ExhaustionPolicy::DropOldest),
            Arc::clone(&reserve)
        )
        .err(),
        Some(LaneConfigError::ReserveShape {
            lane: 8,
            reserve: 4
        })
    );
    assert_eq!(
        Reserve::<u64>::new(0, 2).err(),
        Some(LaneConfigError::EmptyRings)
    );
    assert!(matches!(
        Reserve::<u64>::new(1, 253).err(),
        Some(LaneConfigError::ReserveTooLarge { rings: 253, .. })
    ));
    let big = Arc::new(Reserve::<u64>::new(1, 200).unwrap());
    assert_eq!(
        Lane::with_reserve(config(64, 1, ExhaustionPolicy::DropOldest), big).err(),
        Some(LaneConfigError::ReserveTooLarge {
            rings: 200,
            max: 190
        })
    );
}

#[test]
fn reserve__blocking_lane__then_borrows_before_it_waits() {
    let reserve = Arc::new(Reserve::<u64>::new(2, 1).unwrap());
    let blocking = ExhaustionPolicy::Block { timeout: None };
    let lane = Lane::with_reserve(config(2, 2, blocking), Arc::clone(&reserve)).unwrap();
    // SAFETY: the only producer.
    let mut producer = unsafe { lane.producer() }.unwrap();
    for event in 0..6 {
        assert!(
            producer.try_write(event).is_ok(),
            "event {event} found a ring"
        );
    }
    assert!(producer.try_write(6).is_err(), "then it blocks");
    assert_eq!(lane.snapshot().rings_borrowed, 1);
}

#[test]
fn reserve__adopting_lane_keeps_borrowing__then_grows_and_shrinks_back_only_free_rings() {
    let reserve = Arc::new(Reserve::<u64>::new(4, 4).unwrap().adopting(2));
    let lane = Lane::with_reserve(
        config(2, 4, ExhaustionPolicy::DropNewest),
        Arc::clone(&reserve),
    )
    .unwrap();
    // SAFETY: the only producer.
    let mut producer = unsafe { lane.producer() }.unwrap();
    let mut next = 0_u64;
    let mut write = |producer: &mut crate::LaneProducer<'_, u64>, n: u64| {
        for _ in 0..n {
            producer.write(next);
            next += 1;
        }
    };
    let mut seen = Vec::new();
    // Two own rings, then two borrowed (the second one active).
    write(&mut producer, 13);
    assert_eq!(reserve.lent(), 2);
    seen.extend(take_all(&lane));
    assert_eq!(
        (lane.adopted_rings(), reserve.lent()),
        (1, 2),
        "the lane borrowed again since the drain's last decision: it keeps the ring"
    );
    // Enough rings of its own now (two, and the kept one): no borrowing.
    write(&mut producer, 12);
    assert_eq!(lane.snapshot().rings_borrowed, 2, "no new borrowing");
    seen.extend(take_all(&lane));
    assert_eq!(
        (lane.adopted_rings(), reserve.lent()),
        (1, 1),
        "the borrowed ring it was writing went back; the kept one is active"
    );
    write(&mut producer, 4);
    seen.extend(take_all(&lane));
    assert_eq!(
        (lane.adopted_rings(), reserve.lent()),
        (0, 0),
        "no borrowing since: the kept ring went back once delivered"
    );
    producer.close();
    seen.extend(take_all(&lane));
    assert_eq!(seen, (0..next).collect::<Vec<_>>());
    assert!(lane.snapshot().is_conserved());
}
