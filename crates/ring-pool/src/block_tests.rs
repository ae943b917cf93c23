//! Unit tests of `ExhaustionPolicy::Block` at the lane: the full ring submitted before a
//! write reports `Blocked`, the lane vacant until the drain recycles a ring, giving up
//! (drops counted under `timeout`, each reported in the next delivery's gap), and the
//! calls that must not count a vacant lane's submitted ring twice.
#![allow(non_snake_case)]

use super::*;
use core::time::Duration;
use std::string::ToString;
use std::vec::Vec;

fn blocking(rings: usize, ring_records: usize) -> Lane<u64> {
    Lane::new(LaneConfig {
        rings,
        ring_records,
        policy: ExhaustionPolicy::Block { timeout: None },
        mode: LaneMode::SubmitAll,
    })
    .unwrap()
}

fn producer(lane: &Lane<u64>) -> LaneProducer<'_, u64> {
    // SAFETY: tests use one producer at a time.
    unsafe { lane.producer() }.unwrap()
}

fn drain(lane: &Lane<u64>) -> LaneDrain<'_, u64> {
    // SAFETY: tests use one drain at a time.
    unsafe { lane.drain() }
}

/// Takes and delivers one submitted ring: its records and the gap before them.
fn deliver_one(lane: &Lane<u64>) -> Option<(Vec<u64>, Gap)> {
    let recycled = lane.rings_recycled();
    let mut drain = drain(lane);
    let ring = drain.take()?;
    let taken = (ring.records().to_vec(), ring.gap());
    ring.deliver();
    assert_eq!(
        lane.rings_recycled(),
        recycled + 1,
        "what tells the drain to wake"
    );
    Some(taken)
}

/// Takes and delivers every submitted ring.
fn deliver_all(lane: &Lane<u64>) -> Vec<(Vec<u64>, Gap)> {
    core::iter::from_fn(|| deliver_one(lane)).collect()
}

/// Fills both rings of a 2 × 2 lane and blocks on the fifth record.
fn blocked_lane(lane: &Lane<u64>) -> LaneProducer<'_, u64> {
    let mut producer = producer(lane);
    for event in 0..4 {
        assert!(producer.try_write(event).is_ok(), "{event}: a spare ring");
    }
    let blocked = producer.try_write(4).unwrap_err();
    assert_eq!(
        blocked,
        Blocked {
            written: 0,
            submission: Submission::Submitted
        },
        "the full ring is submitted before the caller waits"
    );
    producer
}

#[test]
fn block__no_empty_ring__then_full_ring_submitted_nothing_dropped_and_lane_vacant() {
    let lane = blocking(2, 2);
    let mut producer = blocked_lane(&lane);
    assert_eq!(lane.submitted_len(), 2, "both rings are the drain's");
    assert!(!producer.has_empty_ring());
    assert_eq!(producer.active_len(), 0);
    // Asking again reports `Blocked` again, with nothing new submitted.
    assert_eq!(
        producer.try_write(4),
        Err(Blocked {
            written: 0,
            submission: Submission::NothingSubmitted
        })
    );
    // The drain cannot pin a vacant lane: everything written is in the submit queue.
    let mut drain = drain(&lane);
    assert!(drain.collect_active(|_, _| Ok::<(), ()>(())).is_none());
    let snapshot = lane.snapshot();
    assert_eq!((snapshot.events_written, snapshot.dropped.total()), (4, 0));
    assert_eq!(snapshot.events_in_flight(), 4);
    assert_eq!(snapshot.exhaustions, 1);
}

#[test]
fn block__drain_recycles_a_ring__then_write_resumes_and_every_record_arrives_in_order() {
    let lane = blocking(2, 2);
    let mut producer = blocked_lane(&lane);
    let mut seen = Vec::new();
    let (records, gap) = deliver_one(&lane).unwrap();
    assert!(gap.is_empty());
    seen.extend(records);
    assert!(
        producer.has_empty_ring(),
        "the recycled ring is in the free queue"
    );
    assert_eq!(producer.try_write(4), Ok(Submission::NothingSubmitted));
    // Every further exhaustion blocks until the drain recycles again.
    for event in 5..40 {
        while let Err(blocked) = producer.try_write(event) {
            assert_eq!(blocked.written, 0);
            let (records, gap) = deliver_one(&lane).expect("a blocked lane has rings queued");
            assert!(gap.is_empty(), "nothing is lost under Block: {gap:?}");
            seen.extend(records);
        }
    }
    producer.close();
    for (records, gap) in deliver_all(&lane) {
        assert!(gap.is_empty());
        seen.extend(records);
    }
    assert_eq!(seen, (0..40).collect::<Vec<_>>());
    let snapshot = lane.snapshot();
    assert!(snapshot.is_conserved(), "{snapshot:?}");
    assert_eq!(
        (snapshot.events_written, snapshot.events_delivered),
        (40, 40)
    );
    assert_eq!(snapshot.dropped.total(), 0);
    assert!(lane.is_drained());
}

#[test]
fn block__give_up_waiting__then_drops_counted_as_timeout_until_a_ring_comes_back() {
    let lane = blocking(2, 2);
    let mut producer = blocked_lane(&lane);
    producer.give_up_waiting();
    // No waiting any more: 4, 5 and 6 find no ring and are dropped, one exhaustion each.
    for event in 4..7 {
        assert_eq!(producer.try_write(event), Ok(Submission::NothingSubmitted));
    }
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.dropped.timeout, 3);
    assert_eq!(snapshot.dropped.newest, 0);
    assert_eq!(snapshot.exhaustions, 4);
    // The drain hands a ring back: the lane writes (and would block) again.
    let mut seen = Vec::new();
    let mut timeouts = 0;
    let (records, gap) = deliver_one(&lane).unwrap();
    seen.extend(records);
    timeouts += gap.lost.timeout;
    for event in 7..9 {
        assert!(producer.try_write(event).is_ok(), "{event}");
    }
    assert!(
        producer.try_write(9).is_err(),
        "the lane blocks again once it runs out"
    );
    producer.close();
    for (records, gap) in deliver_all(&lane) {
        assert_eq!(gap.lost.total(), gap.lost.timeout);
        timeouts += gap.lost.timeout;
        if gap.lost.timeout > 0 {
            assert_eq!(records.first(), Some(&7), "the hole is 4..7");
        }
        seen.extend(records);
    }
    assert_eq!(
        timeouts, 3,
        "each drop reported once, before the records after it"
    );
    assert_eq!(seen, [0, 1, 2, 3, 7, 8]);
    let snapshot = lane.snapshot();
    assert!(snapshot.is_conserved(), "{snapshot:?}");
    assert_eq!(snapshot.events_written, 9, "9 was never written (Blocked)");
}

#[test]
fn block__write_does_not_wait__then_acts_as_a_zero_timeout() {
    let lane = blocking(2, 2);
    let mut producer = producer(&lane);
    assert_eq!(producer.write_slice(&[0, 1, 2]), Submission::Submitted);
    assert_eq!(producer.write(3), Submission::NothingSubmitted);
    assert_eq!(
        producer.write(4),
        Submission::Submitted,
        "the full ring went to the drain, the record was dropped"
    );
    assert_eq!(producer.write_slice(&[5, 6]), Submission::NothingSubmitted);
    let snapshot = lane.snapshot();
    assert_eq!((snapshot.dropped.timeout, snapshot.events_written), (3, 7));
    // A ring that came back before the write is used.
    deliver_one(&lane).unwrap();
    assert_eq!(producer.write(7), Submission::NothingSubmitted);
    assert_eq!(producer.active_len(), 1);
}

#[test]
fn block__try_write_slice_runs_out__then_reports_the_written_prefix() {
    let lane = blocking(2, 3);
    let mut producer = producer(&lane);
    let records: Vec<u64> = (0..9).collect();
    let blocked = producer.try_write_slice(&records).unwrap_err();
    assert_eq!(
        blocked,
        Blocked {
            written: 6,
            submission: Submission::Submitted
        }
    );
    deliver_one(&lane).unwrap();
    assert_eq!(
        producer.try_write_slice(&records[6..]),
        Ok(Submission::NothingSubmitted),
        "6, 7, 8 fit the recycled ring"
    );
    producer.close();
    let seen: Vec<u64> = deliver_all(&lane)
        .into_iter()
        .flat_map(|(records, _)| records)
        .collect();
    assert_eq!(seen, (3..9).collect::<Vec<_>>());
    assert!(lane.snapshot().is_conserved());
}

#[test]
fn block__flush_and_close_while_vacant__then_the_submitted_ring_counted_once() {
    let lane = blocking(2, 2);
    let mut producer = blocked_lane(&lane);
    assert_eq!(
        producer.flush(),
        FlushOutcome::Empty,
        "the full ring is submitted"
    );
    producer.close();
    assert!(!lane.is_drained(), "two rings queued");
    let delivered = deliver_all(&lane);
    assert_eq!(delivered.len(), 2);
    assert!(lane.is_drained());
    let snapshot = lane.snapshot();
    assert_eq!((snapshot.events_written, snapshot.events_delivered), (4, 4));
    assert!(snapshot.is_conserved(), "{snapshot:?}");
    // SAFETY: closed and drained, no handle alive.
    unsafe { lane.reset_unchecked() };
    let mut again = producer_after_reset(&lane);
    assert_eq!(again.try_write(9), Ok(Submission::NothingSubmitted));
}

fn producer_after_reset(lane: &Lane<u64>) -> LaneProducer<'_, u64> {
    producer(lane)
}

#[test]
fn block__new_handle_of_a_vacant_lane__then_none_until_a_ring_comes_back() {
    let lane = blocking(2, 2);
    let _ = blocked_lane(&lane); // the handle is gone, the lane vacant
    // SAFETY: the only producer handle was dropped on this thread.
    let again = unsafe { lane.producer() };
    assert!(again.is_none(), "no ring to write into");
    deliver_one(&lane).unwrap();
    let mut producer = producer(&lane);
    assert_eq!(producer.active_len(), 0);
    assert_eq!(producer.try_write(4), Ok(Submission::NothingSubmitted));
    producer.close();
    let seen: Vec<u64> = deliver_all(&lane)
        .into_iter()
        .flat_map(|(records, _)| records)
        .collect();
    assert_eq!(seen, [2, 3, 4]);
    assert!(lane.snapshot().is_conserved());
}

#[test]
fn block__record_wait__then_blocked_counters_in_the_snapshot() {
    let lane = blocking(2, 2);
    let mut producer = blocked_lane(&lane);
    producer.record_wait(Duration::from_micros(5));
    producer.record_wait(Duration::from_nanos(7));
    let snapshot = lane.snapshot();
    assert_eq!((snapshot.blocked_waits, snapshot.blocked_ns), (2, 5_007));
}

#[test]
fn block__other_policies__then_try_write_never_blocks() {
    for policy in [ExhaustionPolicy::DropOldest, ExhaustionPolicy::DropNewest] {
        let lane = Lane::<u64>::new(LaneConfig {
            rings: 2,
            ring_records: 2,
            policy,
            mode: LaneMode::SubmitAll,
        })
        .unwrap();
        let mut producer = producer(&lane);
        for event in 0..20 {
            assert!(producer.try_write(event).is_ok(), "{policy:?}");
        }
        assert!(producer.try_write_slice(&[1, 2, 3, 4, 5]).is_ok());
        assert_eq!(lane.snapshot().dropped.timeout, 0);
    }
}

#[test]
fn lane_config__block_on_flight_recorder__then_typed_error() {
    let config = LaneConfig {
        policy: ExhaustionPolicy::Block {
            timeout: Some(Duration::from_millis(1)),
        },
        ..LaneConfig::detail_lane()
    };
    let error = Lane::<u64>::new(config).unwrap_err();
    assert_eq!(error, LaneConfigError::BlockOnFlightRecorder);
    assert!(error.to_string().contains("flight recorder"), "{error}");
    // The same policy on a `SubmitAll` lane is fine.
    assert!(
        Lane::<u64>::new(LaneConfig {
            mode: LaneMode::SubmitAll,
            ..config
        })
        .is_ok()
    );
}
