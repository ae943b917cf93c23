//! Unit tests of the lane: swaps, exhaustion policies, marks, in-place collection,
//! conservation under stress.
#![allow(non_snake_case)]

use super::*;
use rstest::rstest;
use std::vec::Vec;

fn lane(rings: usize, ring_records: usize, policy: ExhaustionPolicy) -> Lane<u64> {
    Lane::new(LaneConfig {
        rings,
        ring_records,
        policy,
        mode: LaneMode::SubmitAll,
    })
    .unwrap()
}

fn recorder(rings: usize, ring_records: usize) -> Lane<u64> {
    Lane::new(LaneConfig {
        rings,
        ring_records,
        policy: ExhaustionPolicy::DropOldest,
        mode: LaneMode::FlightRecorder { max_mark_depth: 2 },
    })
    .unwrap()
}

/// Takes every submitted ring: (header, records) in order.
fn take_all(lane: &Lane<u64>) -> Vec<(RingHeader, Vec<u64>)> {
    take_all_with_gaps(lane)
        .into_iter()
        .map(|(header, records, _)| (header, records))
        .collect()
}

/// Takes every submitted ring: (header, records, gap before it) in order.
fn take_all_with_gaps(lane: &Lane<u64>) -> Vec<(RingHeader, Vec<u64>, Gap)> {
    // SAFETY: tests use one drain at a time.
    let mut drain = unsafe { lane.drain() };
    let mut out = Vec::new();
    while let Some(ring) = drain.take() {
        out.push((ring.header(), ring.records().to_vec(), ring.gap()));
        ring.deliver();
    }
    out
}

fn producer(lane: &Lane<u64>) -> LaneProducer<'_, u64> {
    // SAFETY: tests use one producer at a time.
    unsafe { lane.producer() }.unwrap()
}

#[rstest]
#[case(2, 1)]
#[case(4, 2048)]
#[case(7, 3)]
#[case(64, 5)]
fn pool__initialization__then_capacity_correct(#[case] rings: usize, #[case] records: usize) {
    let lane = lane(rings, records, ExhaustionPolicy::DropOldest);
    assert_eq!(lane.config().rings, rings);
    assert!(lane.memory_bytes() >= rings * records * 8);
    assert_eq!(lane.snapshot(), LaneSnapshot::default());
    assert_eq!(lane.submitted_len(), 0);
}

#[rstest]
#[case(0, 4, LaneConfigError::TooFewRings { rings: 0 })]
#[case(1, 4, LaneConfigError::TooFewRings { rings: 1 })]
#[case(65, 4, LaneConfigError::TooManyRings { rings: 65, max: 64 })]
#[case(2, 0, LaneConfigError::EmptyRings)]
fn pool__bad_config__then_typed_error(
    #[case] rings: usize,
    #[case] ring_records: usize,
    #[case] error: LaneConfigError,
) {
    let config = LaneConfig {
        rings,
        ring_records,
        ..LaneConfig::index_lane()
    };
    assert_eq!(Lane::<u64>::new(config).err(), Some(error));
    assert!(!std::format!("{error}").is_empty());
}

#[test]
fn pool__exhausted__then_returns_error() {
    // DropNewest never takes a ring back: with every ring full or queued, a flush finds
    // no ring and says so, and writes are counted as dropped.
    let lane = lane(2, 2, ExhaustionPolicy::DropNewest);
    let mut producer = producer(&lane);
    for event in 0..4 {
        producer.write(event);
    }
    assert_eq!(lane.submitted_len(), 1);
    producer.write(4);
    assert_eq!(producer.flush(), FlushOutcome::NoFreeRing);
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.dropped.newest, 1);
    assert_eq!(snapshot.exhaustions, 1);
}

#[test]
fn swap__ring_full__then_new_ring_active() {
    let lane = lane(4, 3, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    producer.write_slice(&[1, 2, 3]);
    assert_eq!(producer.active_len(), 3);
    producer.write(4);
    assert_eq!(
        producer.active_len(),
        1,
        "the fourth record starts a new ring"
    );
    assert_eq!(lane.snapshot().swaps, 1);
}

#[test]
fn swap__submits_full__then_appears_in_queue() {
    let lane = lane(4, 2, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    producer.write_slice(&[10, 11, 12]);
    assert_eq!(lane.submitted_len(), 1);
    let rings = take_all(&lane);
    assert_eq!(rings.len(), 1);
    assert_eq!(rings[0].1, [10, 11]);
    assert_eq!(rings[0].0.sequence, 0);
    assert_eq!(rings[0].0.flags, RingFlags::empty());
}

#[test]
fn swap__with_free_ring__then_uses_free_queue() {
    // Two rings: after the first swap the producer's only spare is gone, so the second
    // swap must use the ring the drain returned through the free queue.
    let lane = lane(2, 1, ExhaustionPolicy::DropNewest);
    let mut producer = producer(&lane);
    producer.write(1);
    producer.write(2); // ring 0 submitted, ring 1 active
    assert_eq!(take_all(&lane).len(), 1); // ring 0 back in the free queue
    producer.write(3); // ring 1 submitted, ring 0 from the free queue active
    let snapshot = lane.snapshot();
    assert_eq!((snapshot.exhaustions, snapshot.dropped.total()), (0, 0));
    let rings = take_all(&lane);
    assert_eq!(rings[0].1, [2]);
    assert_eq!(rings[0].0.sequence, 1);
}

#[rstest]
#[case(2)]
#[case(4)]
fn exhaustion__no_rings__then_drops_oldest(#[case] rings: usize) {
    let lane = lane(rings, 2, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    // Fill every ring and one more: the oldest submitted ring (records 0, 1) is taken
    // back; the newest records survive.
    let total = (rings as u64 + 1) * 2;
    for event in 0..total {
        producer.write(event);
    }
    producer.close();
    let rings_seen = take_all_with_gaps(&lane);
    let delivered: Vec<u64> = rings_seen.iter().flat_map(|(_, r, _)| r.clone()).collect();
    assert_eq!(delivered, (2..total).collect::<Vec<_>>());
    assert_eq!(rings_seen[0].0.sequence, 1, "sequence 0 is the visible gap");
    let loss = rings_seen
        .iter()
        .find(|(h, _, _)| h.flags.contains(RingFlags::LOSS_BEFORE))
        .unwrap();
    assert_eq!((loss.2.lost.oldest, loss.2.lost.total()), (2, 2));
    assert_eq!(
        loss.1[0], 2,
        "the loss is reported just after the lost events"
    );
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.dropped.oldest, 2);
    assert_eq!(snapshot.rings_dropped, 1);
    assert!(snapshot.is_conserved(), "{snapshot:?}");
}

#[test]
fn exhaustion__statistics__then_counters_increment() {
    let lane = lane(2, 1, ExhaustionPolicy::DropNewest);
    let mut producer = producer(&lane);
    for event in 0..10 {
        producer.write(event);
    }
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.events_written, 10);
    assert_eq!(snapshot.dropped.newest, 8);
    assert_eq!(snapshot.exhaustions, 8);
    assert_eq!(snapshot.rings_submitted, 1);
    assert_eq!(snapshot.submit_high_water, 1);
}

#[rstest]
#[case(ExhaustionPolicy::DropOldest)]
#[case(ExhaustionPolicy::DropNewest)]
fn exhaustion__repeated__then_recovers(#[case] policy: ExhaustionPolicy) {
    let lane = lane(3, 4, policy);
    let mut producer = producer(&lane);
    let mut next = 0_u64;
    for _round in 0..50 {
        for _ in 0..40 {
            producer.write(next);
            next += 1;
        }
        // The drain catches up; the lane must work normally again.
        let _ = take_all(&lane);
        for _ in 0..4 {
            producer.write(next);
            next += 1;
        }
        assert_eq!(producer.flush(), FlushOutcome::Submitted);
        let rings = take_all(&lane);
        let last = rings.last().unwrap();
        assert_eq!(last.1, [next - 4, next - 3, next - 2, next - 1]);
        assert!(last.0.flags.contains(RingFlags::PARTIAL));
    }
    producer.close();
    let _ = take_all(&lane);
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.events_written, next);
    assert!(snapshot.is_conserved(), "{snapshot:?}");
    assert!(snapshot.dropped.total() > 0);
}

#[test]
fn mark__unmarked_windows__then_discarded_not_lost() {
    let lane = recorder(2, 4);
    let mut producer = producer(&lane);
    for event in 0..40 {
        producer.write(event);
    }
    assert_eq!(
        lane.submitted_len(),
        0,
        "a flight recorder submits nothing unmarked"
    );
    producer.close();
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.events_discarded, 40);
    assert_eq!(snapshot.windows_discarded, 10);
    assert_eq!(snapshot.dropped.total(), 0);
    assert!(snapshot.is_conserved());
}

#[test]
fn mark__mark__then_window_and_context_submitted() {
    let lane = recorder(3, 2);
    let mut producer = producer(&lane);
    producer.write_slice(&[0, 1, 2, 3, 4, 5]); // windows [0,1] discarded, [2,3] held, [4,5] active
    producer.mark();
    producer.write(6); // [4,5] full and marked: submitted; 6 starts an unmarked window
    let rings = take_all(&lane);
    assert_eq!(rings.len(), 2);
    assert_eq!(rings[0].1, [2, 3]);
    assert_eq!(rings[0].0.flags, RingFlags::CONTEXT);
    assert_eq!(rings[1].1, [4, 5]);
    assert_eq!(rings[1].0.flags, RingFlags::MARKED);
    assert_eq!((rings[0].0.sequence, rings[1].0.sequence), (0, 1));
}

#[test]
fn mark__push__then_window_kept_until_pop() {
    let lane = recorder(4, 2);
    let mut producer = producer(&lane);
    producer.mark_push().unwrap();
    assert_eq!(producer.mark_depth(), 1);
    producer.write_slice(&[1, 2, 3, 4, 5]);
    let rings = take_all(&lane);
    assert_eq!(
        rings.iter().map(|r| r.1.clone()).collect::<Vec<_>>(),
        [[1, 2], [3, 4]]
    );
    assert!(rings.iter().all(|r| r.0.flags.contains(RingFlags::MARKED)));
}

#[test]
fn mark__pop__then_restores_ring() {
    let lane = recorder(4, 4);
    let mut producer = producer(&lane);
    producer.mark_push().unwrap();
    producer.write_slice(&[1, 2]);
    assert_eq!(producer.mark_pop(), Ok(FlushOutcome::Submitted));
    assert_eq!(producer.mark_depth(), 0);
    assert_eq!(
        producer.active_len(),
        0,
        "a fresh window is active after the pop"
    );
    let rings = take_all(&lane);
    assert_eq!(rings[0].1, [1, 2]);
    assert_eq!(rings[0].0.flags, RingFlags::MARKED | RingFlags::PARTIAL);
    producer.write_slice(&[3, 4, 5, 6, 7]);
    assert_eq!(
        lane.submitted_len(),
        0,
        "outside the scope windows are unmarked again"
    );
    assert_eq!(producer.mark_pop(), Err(MarkError::NotMarked));
}

#[test]
fn mark__max_depth__then_push_fails() {
    let lane = recorder(2, 4);
    let mut producer = producer(&lane);
    producer.mark_push().unwrap();
    producer.mark_push().unwrap();
    assert_eq!(
        producer.mark_push(),
        Err(MarkError::DepthExceeded { max: 2 })
    );
    let index = self::lane(2, 4, ExhaustionPolicy::DropOldest);
    assert_eq!(
        self::producer(&index).mark_push(),
        Err(MarkError::NotAFlightRecorder)
    );
}

#[test]
fn close__partial_ring__then_submitted_and_lane_closed() {
    let lane = lane(4, 8, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    producer.write_slice(&[1, 2, 3]);
    producer.close();
    // SAFETY: the previous producer is gone.
    assert!(unsafe { lane.producer() }.is_none());
    let rings = take_all(&lane);
    assert_eq!(rings[0].1, [1, 2, 3]);
    assert!(lane.snapshot().is_conserved());
}

#[test]
fn collect_active__quiet_producer__then_records_delivered_once() {
    let lane = lane(4, 8, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    producer.write_slice(&[1, 2, 3]);
    // SAFETY: one drain.
    let mut drain = unsafe { lane.drain() };
    assert_eq!(
        drain.collect_active(|r, _| Ok::<_, ()>(r.to_vec())),
        Some(Ok(std::vec![1, 2, 3]))
    );
    assert_eq!(
        drain.collect_active(|r, _| Ok::<_, ()>(r.len())),
        None,
        "nothing new to collect"
    );
    producer.write_slice(&[4, 5, 6, 7, 8, 9]); // fills the ring (8) and starts another
    let ring = drain.take().unwrap();
    assert_eq!(ring.records(), [4, 5, 6, 7, 8]);
    ring.deliver();
    producer.close();
    let rest = take_all(&lane);
    assert_eq!(rest[0].1, [9]);
    let snapshot = lane.snapshot();
    assert_eq!((snapshot.events_written, snapshot.events_delivered), (9, 9));
}

#[test]
fn taken_ring__dropped_or_failed__then_counted_as_sink_loss() {
    let lane = lane(4, 2, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    producer.write_slice(&[1, 2, 3, 4, 5]);
    // SAFETY: one drain.
    let mut drain = unsafe { lane.drain() };
    drain.take().unwrap().fail();
    drop(drain.take().unwrap());
    producer.close();
    let _ = take_all(&lane);
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.dropped.sink, 4);
    assert_eq!(snapshot.events_delivered, 1);
    assert!(snapshot.is_conserved());
}

#[test]
fn continuous_swaps__high_rate__then_stable() {
    let lane = lane(4, 16, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    let rounds = if cfg!(miri) { 50 } else { 20_000 };
    let mut next = 0_u64;
    let mut expected = 0_u64;
    for _ in 0..rounds {
        for _ in 0..16 {
            producer.write(next);
            next += 1;
        }
        for (_, records) in take_all(&lane) {
            for record in records {
                assert_eq!(record, expected);
                expected += 1;
            }
        }
    }
    let snapshot = lane.snapshot();
    assert_eq!(
        snapshot.swaps,
        rounds - 1,
        "the last full ring waits for the next write"
    );
    assert_eq!(snapshot.dropped.total(), 0);
}

/// A producer thread and a drain thread that stalls now and then: every record carries
/// its own number (its position in the lane), so the drain checks order, and that each
/// delivery's gap is exactly the hole before its first record; the totals check
/// conservation, and that the gaps and what is missing after the last delivery add up
/// to the lane's dropped counters.
fn stress(policy: ExhaustionPolicy, events: u64, collect: bool) {
    let lane = lane(4, 64, policy);
    let closed = std::sync::atomic::AtomicBool::new(false);
    let (gaps, after, sequence_gaps) = std::thread::scope(|s| {
        let (lane, closed) = (&lane, &closed);
        s.spawn(move || {
            let mut producer = producer(lane);
            let mut next = 0_u64;
            while next < events {
                // Bursts with pauses: the drain keeps up in the pauses, falls behind in
                // the bursts.
                if next.is_multiple_of(2048) && (next / 2048).is_multiple_of(2) {
                    std::thread::sleep(std::time::Duration::from_micros(300));
                }
                if next.is_multiple_of(7) {
                    let batch: Vec<u64> = (next..(next + 5).min(events)).collect();
                    producer.write_slice(&batch);
                    next += batch.len() as u64;
                } else {
                    producer.write(next);
                    next += 1;
                }
            }
            producer.close();
            closed.store(true, std::sync::atomic::Ordering::Release);
        });
        // SAFETY: this thread is the only drain.
        let mut drain = unsafe { lane.drain() };
        let (mut expected, mut gaps, mut sequence_gaps) = (0_u64, DropCounts::default(), 0);
        let mut next_sequence = 0;
        let check = |records: &[u64], gap: Gap, expected: &mut u64, gaps: &mut DropCounts| {
            let hole = records.first().map_or(0, |first| first - *expected);
            assert_eq!(gap.lost.total(), hole, "gap before {records:?}: {gap:?}");
            assert_eq!((gap.lost.sink, gap.discarded), (0, 0));
            gaps.oldest += gap.lost.oldest;
            gaps.newest += gap.lost.newest;
            for &record in records {
                assert!(record >= *expected, "order: {record} after {expected}");
                *expected = record + 1;
            }
            if let [first, .., last] = records {
                assert_eq!(
                    last - first + 1,
                    records.len() as u64,
                    "a delivery has no hole"
                );
            }
        };
        let mut round = 0_u64;
        loop {
            round += 1;
            if round.is_multiple_of(64) {
                std::thread::sleep(std::time::Duration::from_micros(100)); // a stalled drain
            }
            if collect && round.is_multiple_of(3) {
                drain.collect_active(|records, gap| {
                    check(records, gap, &mut expected, &mut gaps);
                    Ok::<(), ()>(())
                });
            }
            // Read before taking: a ring submitted before `close` is visible after it.
            let done = closed.load(std::sync::atomic::Ordering::Acquire);
            let Some(ring) = drain.take() else {
                if done {
                    break;
                }
                std::thread::yield_now();
                continue;
            };
            let header = ring.header();
            assert!(header.sequence >= next_sequence, "ring order");
            sequence_gaps += header.sequence - next_sequence;
            next_sequence = header.sequence + 1;
            assert_eq!(
                header.flags.contains(RingFlags::LOSS_BEFORE),
                ring.gap().lost.total() > 0
            );
            check(ring.records(), ring.gap(), &mut expected, &mut gaps);
            ring.deliver();
        }
        (gaps, events - expected, sequence_gaps)
    });
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.events_written, events);
    assert!(snapshot.is_conserved(), "{snapshot:?}");
    assert_eq!(
        gaps.total() + after,
        snapshot.dropped.total(),
        "every missing record is counted, once"
    );
    assert!(
        gaps.oldest <= snapshot.dropped.oldest && gaps.newest <= snapshot.dropped.newest,
        "{gaps:?} {snapshot:?}"
    );
    assert_eq!(
        sequence_gaps, snapshot.rings_dropped,
        "every sequence gap is a dropped ring"
    );
    assert!(snapshot.events_delivered > 0);
}

#[rstest]
#[case(ExhaustionPolicy::DropOldest, false)]
#[case(ExhaustionPolicy::DropNewest, false)]
#[case(ExhaustionPolicy::DropOldest, true)]
#[case(ExhaustionPolicy::DropNewest, true)]
fn conservation__stress_with_stalled_drain__then_exact(
    #[case] policy: ExhaustionPolicy,
    #[case] collect: bool,
) {
    stress(policy, if cfg!(miri) { 2_000 } else { 400_000 }, collect);
}

#[test]
fn collect_active__sink_error__then_counted_as_sink_loss() {
    let lane = lane(4, 8, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    producer.write_slice(&[1, 2]);
    // SAFETY: one drain.
    let mut drain = unsafe { lane.drain() };
    assert_eq!(
        drain.collect_active(|_, _| Err::<(), _>("refused")),
        Some(Err("refused"))
    );
    producer.write(3);
    producer.close();
    let rest = take_all(&lane);
    assert_eq!(rest[0].1, [3], "refused records are not delivered again");
    let snapshot = lane.snapshot();
    assert_eq!((snapshot.dropped.sink, snapshot.events_delivered), (2, 1));
    assert!(snapshot.is_conserved());
}

#[test]
fn errors__then_display_names_the_limit() {
    use std::string::ToString;
    assert_eq!(LaneConfig::default(), LaneConfig::index_lane());
    assert!(
        MarkError::DepthExceeded { max: 2 }
            .to_string()
            .contains("at most 2")
    );
    assert!(MarkError::NotMarked.to_string().contains("mark_pop"));
    assert!(
        MarkError::NotAFlightRecorder
            .to_string()
            .contains("flight-recorder")
    );
}

#[test]
fn submission__each_producer_operation__then_reported_exactly_when_a_ring_is_submitted() {
    let lane = lane(4, 2, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    assert_eq!(producer.write(1), Submission::NothingSubmitted);
    assert_eq!(producer.write(2), Submission::NothingSubmitted);
    assert_eq!(
        producer.write(3),
        Submission::Submitted,
        "the full ring made room"
    );
    assert_eq!(producer.write_slice(&[4]), Submission::NothingSubmitted);
    assert_eq!(producer.write_slice(&[5, 6]), Submission::Submitted);
    assert_eq!(producer.flush().submission(), Submission::Submitted);
    assert_eq!(lane.submitted_len(), 3);

    let recorder = recorder(2, 2);
    let mut producer = self::producer(&recorder);
    assert_eq!(
        producer.write_slice(&[1, 2, 3]),
        Submission::NothingSubmitted,
        "a full unmarked window is held, not submitted"
    );
    assert_eq!(producer.mark(), Submission::Submitted, "the held window");
    assert_eq!(
        producer.mark(),
        Submission::NothingSubmitted,
        "none held now"
    );
    assert_eq!(producer.mark_push(), Ok(Submission::NothingSubmitted));
    take_all(&recorder); // frees a ring for the flush below
    assert_eq!(producer.mark_pop(), Ok(FlushOutcome::Submitted));
}

// Loss accounting: every delivery's gap is exactly what its lane lost just before it.

/// Collects the active ring in place: (records, gap), `None` when nothing was collected.
fn collect(drain: &mut LaneDrain<'_, u64>) -> Option<(Vec<u64>, Gap)> {
    drain
        .collect_active(|records, gap| Ok::<_, ()>((records.to_vec(), gap)))
        .map(Result::unwrap)
}

fn lost(oldest: u64, newest: u64, sink: u64) -> Gap {
    Gap {
        lost: DropCounts {
            oldest,
            newest,
            sink,
            timeout: 0,
        },
        discarded: 0,
    }
}

#[test]
fn gap__drop_newest_loss__then_reported_on_the_ring_after_the_lost_events() {
    let lane = lane(2, 2, ExhaustionPolicy::DropNewest);
    let mut producer = producer(&lane);
    // [0, 1] submitted, [2, 3] active and full, 4 and 5 dropped on arrival.
    for event in 0..6 {
        producer.write(event);
    }
    assert_eq!(take_all_with_gaps(&lane)[0].1, [0, 1]);
    producer.write(6); // [2, 3] submitted, 6 starts the ring freed above
    producer.close();
    let rings = take_all_with_gaps(&lane);
    assert_eq!(rings[0].1, [2, 3]);
    assert_eq!(rings[0].2, Gap::default(), "nothing was lost before 2");
    assert!(!rings[0].0.flags.contains(RingFlags::LOSS_BEFORE));
    assert_eq!(rings[1].1, [6]);
    assert_eq!(rings[1].2, lost(0, 2, 0), "4 and 5 were lost just before 6");
    assert!(rings[1].0.flags.contains(RingFlags::LOSS_BEFORE));
    assert_eq!(lane.snapshot().dropped.newest, 2);
}

#[test]
fn gap__drop_oldest_takes_back_a_ring_that_follows_a_loss__then_the_loss_is_kept() {
    // Three one-record rings and no drain: every write from the fourth on takes back
    // the oldest queued ring, including rings that follow an earlier take-back.
    let lane = lane(3, 1, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    for event in 0..6 {
        producer.write(event);
    }
    producer.close();
    let rings = take_all_with_gaps(&lane);
    let seen: Vec<_> = rings.iter().map(|(_, r, gap)| (r.clone(), *gap)).collect();
    assert_eq!(
        seen,
        [
            (std::vec![3], lost(3, 0, 0)),
            (std::vec![4], Gap::default()),
            (std::vec![5], Gap::default()),
        ],
        "0, 1 and 2 were lost just before 3"
    );
    let snapshot = lane.snapshot();
    assert_eq!((snapshot.dropped.oldest, snapshot.rings_dropped), (3, 3));
}

#[test]
fn gap__collections_interleaved_with_take_backs__then_each_loss_once_where_it_happened() {
    let lane = lane(3, 4, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    // SAFETY: one drain.
    let mut drain = unsafe { lane.drain() };
    let mut deliveries = Vec::new();
    let take = |drain: &mut LaneDrain<'_, u64>, deliveries: &mut Vec<(Vec<u64>, Gap)>| {
        let ring = drain.take().unwrap();
        deliveries.push((ring.records().to_vec(), ring.gap()));
        ring.deliver();
    };
    producer.write_slice(&[0, 1]);
    deliveries.push(collect(&mut drain).unwrap()); // 0, 1 in place
    // Ring A = [0..4] (2 and 3 not collected), B = [4..8], C = [8..12]; 12 takes A back.
    producer.write_slice(&(2..13).collect::<Vec<_>>());
    assert_eq!(collect(&mut drain), None, "older rings are queued");
    take(&mut drain, &mut deliveries); // B: 2 and 3 lost before it
    take(&mut drain, &mut deliveries); // C
    deliveries.push(collect(&mut drain).unwrap()); // 12 in place, from A again
    producer.write(13);
    deliveries.push(collect(&mut drain).unwrap()); // 13
    // A = [12..16] (14, 15 not collected), B = [16..20], C = [20..24]; 24 takes A back,
    // 28 takes B back.
    producer.write_slice(&(14..29).collect::<Vec<_>>());
    take(&mut drain, &mut deliveries); // C: 14..20 lost before it
    take(&mut drain, &mut deliveries); // A = [24..28]
    deliveries.push(collect(&mut drain).unwrap()); // 28 in place, from B
    producer.close();
    let last = drain.take().unwrap();
    assert!(last.records().is_empty(), "28 was collected in place");
    assert_eq!(last.gap(), Gap::default());
    last.deliver();
    let expected: [(Vec<u64>, Gap); 8] = [
        ((0..2).collect(), Gap::default()),
        ((4..8).collect(), lost(2, 0, 0)),
        ((8..12).collect(), Gap::default()),
        (std::vec![12], Gap::default()),
        (std::vec![13], Gap::default()),
        ((20..24).collect(), lost(6, 0, 0)),
        ((24..28).collect(), Gap::default()),
        (std::vec![28], Gap::default()),
    ];
    assert_eq!(deliveries, expected);
    let snapshot = lane.snapshot();
    assert_eq!(snapshot.dropped.oldest, 8);
    assert!(snapshot.is_conserved(), "{snapshot:?}");
}

#[test]
fn gap__loss_before_an_in_place_collection__then_reported_by_the_collection() {
    let lane = lane(2, 2, ExhaustionPolicy::DropNewest);
    let mut producer = producer(&lane);
    // SAFETY: one drain.
    let mut drain = unsafe { lane.drain() };
    // [0, 1] submitted, [2, 3] active and full, 4 and 5 dropped on arrival.
    producer.write_slice(&(0..6).collect::<Vec<_>>());
    drain.take().unwrap().deliver();
    assert_eq!(collect(&mut drain), Some((std::vec![2, 3], Gap::default())));
    producer.write(6); // [2, 3] submitted, 6 starts the freed ring
    let empty = drain.take().unwrap();
    assert!(
        empty.records().is_empty(),
        "2 and 3 were collected in place"
    );
    assert_eq!(
        empty.gap(),
        Gap::default(),
        "nothing lost between 3 and this ring"
    );
    empty.deliver();
    assert_eq!(
        collect(&mut drain),
        Some((std::vec![6], lost(0, 2, 0))),
        "4 and 5 were lost just before 6"
    );
}

#[test]
fn gap__sink_fails_a_delivery__then_its_records_reported_with_cause_sink_on_the_next() {
    let lane = lane(4, 2, ExhaustionPolicy::DropOldest);
    let mut producer = producer(&lane);
    // SAFETY: one drain.
    let mut drain = unsafe { lane.drain() };
    producer.write_slice(&[0, 1, 2, 3, 4]); // [0, 1], [2, 3] submitted, [4] active
    drain.take().unwrap().fail();
    let second = drain.take().unwrap();
    assert_eq!(second.gap(), lost(0, 0, 2), "0 and 1 were lost to the sink");
    assert!(second.header().flags.contains(RingFlags::LOSS_BEFORE));
    drop(second); // dropping a taken ring fails it too
    assert_eq!(
        drain.collect_active(|_, gap| {
            assert_eq!(gap, lost(0, 0, 2), "2 and 3 were lost to the sink");
            Err::<(), _>("refused")
        }),
        Some(Err("refused"))
    );
    producer.write(5);
    assert_eq!(
        collect(&mut drain),
        Some((std::vec![5], lost(0, 0, 1))),
        "4 was lost to the sink"
    );
    assert_eq!(lane.snapshot().dropped.sink, 5);
}

#[test]
fn gap__flight_recorder_discards__then_counted_as_discarded_before_the_next_window() {
    let lane = recorder(3, 2);
    let mut producer = producer(&lane);
    // [0, 1] discarded, [2, 3] held, [4, 5] active and marked, then submitted.
    producer.write_slice(&[0, 1, 2, 3, 4, 5]);
    producer.mark();
    producer.write(6);
    let rings = take_all_with_gaps(&lane);
    assert_eq!((&rings[0].1[..], rings[0].2.discarded), (&[2, 3][..], 2));
    assert_eq!((&rings[1].1[..], rings[1].2), (&[4, 5][..], Gap::default()));
    // [6, 7] held, then discarded after [8, 9] became active; [8, 9] discarded after
    // [10, 11] became active; the mark sends [10, 11] as context.
    producer.write_slice(&[7, 8, 9, 10, 11, 12]);
    producer.mark();
    producer.write_slice(&[13, 14]);
    let rings = take_all_with_gaps(&lane);
    assert_eq!(rings[0].1, [10, 11]);
    assert_eq!(
        rings[0].2.discarded, 4,
        "6..10 were discarded just before 10"
    );
    assert_eq!(rings[0].2.lost.total(), 0, "discarded, not lost");
    assert_eq!(
        (&rings[1].1[..], rings[1].2),
        (&[12, 13][..], Gap::default())
    );
    assert_eq!(lane.snapshot().events_discarded, 6);
}
