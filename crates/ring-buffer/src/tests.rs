//! Unit tests of the ring buffer: borrowed and owned writers and readers, batches,
//! reset, the header and the cache-line layout.

#![allow(non_snake_case)]

use super::*;
use rstest::rstest;
use std::vec::Vec;

/// A 32-byte record, the size of an index-lane event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Event {
    thread: u32,
    kind: u32,
    sequence: u64,
    timestamp: u64,
    payload: u64,
}

fn event(sequence: u64) -> Event {
    Event {
        thread: 1,
        kind: (sequence % 2) as u32,
        sequence,
        timestamp: sequence.wrapping_mul(10),
        payload: !sequence,
    }
}

#[rstest]
#[case(1)]
#[case(2)]
#[case(3)]
#[case(7)]
#[case(1023)]
#[case(1024)]
#[case(if cfg!(miri) { 5000 } else { 100_000 })]
fn ring__fill_to_capacity__then_every_slot_usable(#[case] capacity: usize) {
    let mut ring = RingBuffer::with_capacity(capacity).unwrap();
    let (mut writer, reader) = ring.split();
    for i in 0..capacity as u64 {
        writer.push(event(i)).unwrap();
    }
    assert!(writer.is_full());
    assert_eq!(writer.push(event(u64::MAX)), Err(event(u64::MAX)));
    let committed = reader.peek();
    assert_eq!(committed.len(), capacity);
    assert!(
        committed
            .iter()
            .enumerate()
            .all(|(i, e)| *e == event(i as u64))
    );
    assert_eq!(ring.len(), capacity);
    assert!(ring.is_full());
}

#[rstest]
#[case(1, 3)]
#[case(3, 2)]
#[case(7, 7)]
#[case(1024, 1000)]
fn ring__batch_larger_than_free_space__then_partial_append(
    #[case] capacity: usize,
    #[case] batch: usize,
) {
    let mut ring = RingBuffer::with_capacity(capacity).unwrap();
    let (mut writer, mut reader) = ring.split();
    let records: Vec<Event> = (0..batch as u64).map(event).collect();
    let mut written = 0;
    loop {
        let n = writer.push_slice(&records);
        if n == 0 {
            break;
        }
        assert!(n <= batch);
        written += n;
    }
    assert_eq!(written, capacity);
    assert_eq!(writer.push_slice(&[]), 0);
    let mut out = std::vec![event(0); capacity + 5];
    assert_eq!(reader.read_into(&mut out), capacity);
    for (i, got) in out[..capacity].iter().enumerate() {
        assert_eq!(*got, records[i % batch]);
    }
    assert_eq!(reader.unread(), 0);
    assert_eq!(reader.pop(), None);
}

#[test]
fn ring__reader_sees_only_committed__then_advances_in_order() {
    let mut ring = RingBuffer::with_capacity(8).unwrap();
    let (mut writer, mut reader) = ring.split();
    assert!(reader.peek().is_empty());
    writer.push(1_u32).unwrap();
    writer.push(2).unwrap();
    assert_eq!(reader.peek(), &[1, 2]);
    assert_eq!(reader.advance(1), 1);
    writer.push(3).unwrap();
    assert_eq!(reader.peek(), &[2, 3]);
    assert_eq!(
        reader.advance(10),
        2,
        "advance is clamped to what is committed"
    );
    assert_eq!(reader.consumed(), 3);
    assert_eq!(ring.unread(), 0);
}

#[test]
fn ring__reset_after_many_laps__then_empty_and_reusable() {
    let mut ring = RingBuffer::with_capacity(5).unwrap();
    for lap in 0..1000_u64 {
        {
            let (mut writer, mut reader) = ring.split();
            while writer.push(lap).is_ok() {}
            assert_eq!(reader.pop(), Some(lap));
            assert_eq!(reader.unread(), 4);
        }
        ring.set_header(RingHeader {
            sequence: lap,
            flags: RingFlags::MARKED,
            first_event: lap * 5,
            dropped_newest_before: lap / 2,
            discarded_before: lap / 3,
            submitted_ticks: lap * 7,
        });
        assert_eq!(ring.header().sequence, lap);
        assert_eq!(
            (
                ring.header().first_event,
                ring.header().dropped_newest_before
            ),
            (lap * 5, lap / 2)
        );
        assert_eq!(ring.header().discarded_before, lap / 3);
        ring.reset();
        assert!(ring.is_empty());
        assert_eq!(ring.unread(), 0);
    }
}

#[test]
fn ring__handles_recreated__then_positions_persist() {
    let ring = RingBuffer::with_capacity(4).unwrap();
    // SAFETY: one thread, one writer and one reader at a time.
    unsafe {
        ring.writer().push(10_u8).unwrap();
        ring.writer().push(11).unwrap();
        assert_eq!(ring.reader().pop(), Some(10));
        assert_eq!(ring.reader().pop(), Some(11));
        assert_eq!(ring.writer().len(), 2);
        ring.reset_unchecked();
        assert_eq!(ring.writer().remaining(), 4);
    }
}

#[test]
fn ring__caller_memory__then_no_allocation_and_typed_errors() {
    let mut memory = [core::mem::MaybeUninit::<u64>::uninit(); 3];
    let mut ring = RingBuffer::from_uninit(&mut memory).unwrap();
    let (mut writer, reader) = ring.split();
    assert_eq!(writer.push_slice(&[1, 2, 3, 4]), 3);
    assert_eq!(reader.peek(), &[1, 2, 3]);
    let mut bytes = [core::mem::MaybeUninit::<u8>::uninit(); 4];
    assert_eq!(
        RingBuffer::<u64>::from_bytes(&mut bytes, 0).unwrap_err(),
        SlotsError::ZeroLength
    );
    assert!(RingBuffer::<u64>::with_capacity(usize::MAX / 4).is_err());
}

#[test]
fn ring__writer_and_reader_positions__then_separate_cache_lines() {
    let ring = RingBuffer::<u64>::with_capacity(1).unwrap();
    let committed = core::ptr::addr_of!(ring.committed) as usize;
    let consumed = core::ptr::addr_of!(ring.consumed) as usize;
    assert!(committed.abs_diff(consumed) >= 64);
    assert_eq!(
        committed % core::mem::align_of::<CachePadded<AtomicUsize>>(),
        0
    );
}

#[test]
fn ring__concurrent_reader__then_every_record_once_in_order() {
    const RECORDS: u64 = if cfg!(miri) { 200 } else { 200_000 };
    let mut ring = RingBuffer::with_capacity(RECORDS as usize).unwrap();
    std::thread::scope(|s| {
        let (mut writer, mut reader) = ring.split();
        s.spawn(move || {
            let mut next = 0;
            while next < RECORDS {
                let batch: Vec<Event> = (next..(next + 7).min(RECORDS)).map(event).collect();
                next += writer.push_slice(&batch) as u64;
            }
        });
        let mut expected = 0;
        while expected < RECORDS {
            let committed = reader.peek();
            for e in committed {
                assert_eq!(*e, event(expected));
                expected += 1;
            }
            let n = committed.len();
            reader.advance(n);
            if n == 0 {
                std::thread::yield_now();
            }
        }
    });
}

#[test]
fn reader_queries__shared_reference__then_len_full_and_capacity_follow_the_writer() {
    let mut ring = RingBuffer::with_capacity(2).unwrap();
    let (mut writer, reader) = ring.split();
    let r = &reader;
    assert!(r.is_empty() && !r.is_full());
    assert_eq!((r.len(), r.capacity(), writer.capacity()), (0, 2, 2));
    writer.push(1_u8).unwrap();
    assert_eq!((reader.len(), reader.unread()), (1, 1));
    assert!(!reader.is_empty() && !reader.is_full());
    writer.push(2).unwrap();
    assert!(reader.is_full(), "a full buffer commits nothing more");
}

#[test]
fn owned_writer__moved_into_spawned_thread__then_reader_sees_every_record_in_order() {
    const RECORDS: u64 = if cfg!(miri) { 200 } else { 100_000 };
    let (mut writer, mut reader) = RingBuffer::owned(RECORDS as usize).unwrap();
    let worker = std::thread::spawn(move || {
        let mut next = 0;
        while next < RECORDS {
            if next % 5 == 0 {
                writer.push(event(next)).unwrap();
                next += 1;
            } else {
                let batch: Vec<Event> = (next..(next + 7).min(RECORDS)).map(event).collect();
                next += writer.push_slice(&batch) as u64;
            }
        }
        assert!(writer.is_full());
    });
    let mut expected = 0;
    loop {
        let finished = reader.is_abandoned();
        let committed = reader.peek();
        for e in committed {
            assert_eq!(*e, event(expected), "every record once, in order");
            expected += 1;
        }
        let n = committed.len();
        reader.advance(n);
        if finished {
            break;
        }
        std::thread::yield_now();
    }
    worker.join().unwrap();
    assert_eq!(
        expected, RECORDS,
        "the last look after abandonment saw everything"
    );
    assert_eq!((reader.unread(), reader.consumed()), (0, RECORDS as usize));
}

#[test]
fn owned_handles__queries_on_both_sides__then_follow_the_writer_and_the_reader() {
    let (mut writer, mut reader) = RingBuffer::<u16>::owned(3).unwrap();
    assert_eq!((writer.capacity(), reader.capacity()), (3, 3));
    assert!(writer.is_empty() && reader.is_empty());
    assert_eq!(writer.remaining(), 3);
    writer.push(1).unwrap();
    assert!(!writer.is_empty() && !reader.is_empty());
    assert_eq!((writer.len(), reader.len(), reader.unread()), (1, 1, 1));
    assert_eq!(writer.push_slice(&[2, 3, 4]), 2, "as many as fit");
    assert!(writer.is_full() && reader.is_full());
    assert_eq!(reader.peek(), &[1, 2, 3]);
    assert_eq!(reader.advance(2), 2);
    assert_eq!(
        (reader.consumed(), reader.unread(), reader.len()),
        (2, 1, 3)
    );
    assert_eq!(reader.advance(5), 1, "only what is committed");
    assert_eq!(reader.peek(), &[] as &[u16]);
}

#[test]
fn owned_reader__writer_dropped__then_abandoned_and_every_record_readable() {
    let (mut writer, mut reader) = RingBuffer::owned(4).unwrap();
    assert!(!reader.is_abandoned() && !writer.is_abandoned());
    assert_eq!(writer.push_slice(&[1_u32, 2, 3]), 3);
    assert_eq!((writer.len(), writer.remaining()), (3, 1));
    drop(writer);
    assert!(reader.is_abandoned());
    assert_eq!(reader.pop(), Some(1));
    let mut out = [0; 4];
    assert_eq!(reader.read_into(&mut out), 2);
    assert_eq!(out[..2], [2, 3]);
    assert_eq!((reader.unread(), reader.len()), (0, 3));
    assert!(!reader.is_full() && reader.is_abandoned());
}

#[test]
fn owned_writer__reader_dropped__then_abandoned_and_appends_accepted_until_full() {
    let (mut writer, reader) = RingBuffer::owned(2).unwrap();
    drop(reader);
    assert!(writer.is_abandoned());
    assert_eq!(writer.push(1_u8), Ok(()));
    assert_eq!(writer.push_slice(&[2, 3]), 1);
    assert!(writer.is_full());
    assert_eq!(writer.push(4), Err(4));
}

#[test]
fn into_split__records_and_progress_before__then_kept() {
    let mut ring = RingBuffer::with_capacity(3).unwrap();
    {
        let (mut writer, mut reader) = ring.split();
        writer.push_slice(&[1_u8, 2]);
        assert_eq!(reader.pop(), Some(1));
    }
    let (mut writer, reader) = ring.into_split();
    assert_eq!((writer.len(), reader.consumed()), (2, 1));
    writer.push(3).unwrap();
    assert_eq!(reader.peek(), &[2, 3]);
    let debug = std::format!("{writer:?} {reader:?}");
    assert!(
        debug.contains("OwnedRingWriter") && debug.contains("committed: 3"),
        "{debug}"
    );
}
