//! Unit tests of the capture file: the sink's blocks and the reader's validation of
//! every byte.

#![allow(non_snake_case)]

use super::*;
use ada_drain::{Drain, DrainConfig};
use ada_thread_registry::{Registry, RegistryConfig};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A capture of `threads` threads writing `events` index records each (tagged
/// `thread << 32 | n`) and a detail record every 100, through rings of 8 records with
/// drop-oldest: small enough that losses happen. Returns the file's bytes and the report.
fn capture(threads: u64, events: u64) -> (Vec<u8>, ada_drain::DrainReport) {
    capture_with(
        threads,
        events,
        ada_ring_pool::ExhaustionPolicy::DropOldest,
        0,
    )
}

/// [`capture`] with `policy` on both lanes and, when `fail_every` is above 0, a sink
/// that fails every `fail_every`th delivery before the file sees it.
fn capture_with(
    threads: u64,
    events: u64,
    policy: ada_ring_pool::ExhaustionPolicy,
    fail_every: u64,
) -> (Vec<u8>, ada_drain::DrainReport) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ada");
    let lane = ada_ring_pool::LaneConfig {
        rings: 4,
        ring_records: 8,
        policy,
        mode: ada_ring_pool::LaneMode::SubmitAll,
    };
    let registry = Registry::<u64, u32>::new(RegistryConfig {
        capacity: threads as usize,
        index: lane,
        detail: lane,
    })
    .unwrap();
    let sink = Flaky {
        inner: FileSink::<u64, u32>::create(&path).unwrap(),
        every: fail_every,
        calls: 0,
    };
    let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
    drain.start().unwrap();
    std::thread::scope(|s| {
        for thread in 0..threads {
            let registry = &registry;
            s.spawn(move || {
                let mut handle = registry.register().unwrap();
                for n in 0..events {
                    handle.index(thread << 32 | n);
                    if n % 100 == 0 {
                        handle.detail(u32::try_from(n).unwrap());
                    }
                }
            });
        }
    });
    let report = drain.stop().unwrap();
    (std::fs::read(&path).unwrap(), report)
}

/// A sink that fails every `every`th delivery (none when 0) and hands the others, and
/// every other call, to `inner`.
struct Flaky<S> {
    inner: S,
    every: u64,
    calls: u64,
}

impl<S: ada_drain::Sink<u64, u32>> ada_drain::Sink<u64, u32> for Flaky<S> {
    fn start(&mut self, lanes: &ada_drain::LaneLayout) -> Result<(), ada_drain::SinkError> {
        self.inner.start(lanes)
    }

    fn index(
        &mut self,
        delivery: &ada_drain::Delivery<'_, u64>,
    ) -> Result<(), ada_drain::SinkError> {
        self.calls += 1;
        if self.every > 0 && self.calls.is_multiple_of(self.every) {
            return Err(ada_drain::SinkError("injected".to_owned()));
        }
        self.inner.index(delivery)
    }

    fn detail(
        &mut self,
        delivery: &ada_drain::Delivery<'_, u32>,
    ) -> Result<(), ada_drain::SinkError> {
        self.calls += 1;
        if self.every > 0 && self.calls.is_multiple_of(self.every) {
            return Err(ada_drain::SinkError("injected".to_owned()));
        }
        self.inner.detail(delivery)
    }

    fn flush(&mut self) -> Result<(), ada_drain::SinkError> {
        self.inner.flush()
    }

    fn finish(&mut self, report: &ada_drain::DrainReport) -> Result<(), ada_drain::SinkError> {
        self.inner.finish(report)
    }
}

/// A version 3 file's first bytes: `header`, then this process's clock record.
fn with_clock(mut header: Vec<u8>) -> Vec<u8> {
    header.extend_from_slice(&clock::encode(ada_clock::Calibration::get()));
    header
}

fn read_all(bytes: &[u8]) -> Result<Vec<Block>, CaptureError> {
    let mut reader = CaptureReader::new(bytes)?;
    let mut blocks = Vec::new();
    while let Some(block) = reader.next_block()? {
        blocks.push(block);
    }
    Ok(blocks)
}

#[test]
fn file_sink__several_threads_with_losses__then_every_delivered_record_in_order_and_gaps_counted() {
    let (bytes, report) = capture(3, 20_000);
    assert!(report.totals.is_conserved());
    let blocks = read_all(&bytes).unwrap();
    let mut index_records = 0_u64;
    let mut detail_records = 0_u64;
    let mut last_record: BTreeMap<u32, u64> = BTreeMap::new();
    let mut last_sequence: BTreeMap<(u32, u32, LaneId), u64> = BTreeMap::new();
    let mut lost_in_headers = 0_u64;
    for block in &blocks {
        match block.lane {
            LaneId::Index => {
                let records = block.records::<u64>().unwrap();
                index_records += records.len() as u64;
                for record in records {
                    // Per thread, records arrive in write order (gaps are losses).
                    let thread = u32::try_from(record >> 32).unwrap();
                    if let Some(&previous) = last_record.get(&thread) {
                        assert!(record > previous, "{record:#x} after {previous:#x}");
                    }
                    last_record.insert(thread, record);
                }
            }
            LaneId::Detail => detail_records += block.records::<u32>().unwrap().len() as u64,
        }
        if block.kind == BlockKind::Ring {
            let key = (block.slot, block.generation, block.lane);
            if let Some(&previous) = last_sequence.get(&key) {
                assert!(
                    block.sequence > previous,
                    "ring sequences strictly increase: {previous} then {block:?}"
                );
            }
            last_sequence.insert(key, block.sequence);
            lost_in_headers += block.lost_events;
        }
    }
    let delivered: u64 = report
        .threads
        .iter()
        .map(|t| t.index.events_delivered)
        .sum();
    assert_eq!(
        index_records, delivered,
        "every delivered record is in the file"
    );
    let detail: u64 = report
        .threads
        .iter()
        .map(|t| t.detail.events_delivered)
        .sum();
    assert_eq!(detail_records, detail);
    let detail_written: u64 = report.threads.iter().map(|t| t.detail.events_written).sum();
    assert_eq!(detail_written, 3 * 200);
    // Losses the headers announce never exceed what the counters say was dropped.
    assert!(lost_in_headers <= report.totals.events_lost());
}

#[test]
fn reader__every_truncation__then_typed_error_or_fewer_whole_blocks() {
    let (bytes, _) = capture(1, 300);
    let whole = read_all(&bytes).unwrap();
    let (_, trailer) = layout_of(&bytes);
    let mut boundaries: Vec<u64> = whole.iter().map(|b| b.offset).collect();
    boundaries.push(trailer as u64);
    for len in 0..bytes.len() {
        match read_all(&bytes[..len]) {
            Ok(blocks) => {
                // Only a cut exactly at a block boundary (the trailer's start among
                // them) reads cleanly, and without a trailer.
                assert!(
                    boundaries.contains(&(len as u64)),
                    "cut at {len} read as whole"
                );
                assert_eq!(blocks[..], whole[..blocks.len()]);
                let mut reader = CaptureReader::new(&bytes[..len]).unwrap();
                while reader.next_block().unwrap().is_some() {}
                assert!(reader.trailer().is_none(), "cut at {len}");
                assert_eq!(reader.position(), len as u64);
            }
            Err(error) => {
                assert!(error.offset <= len as u64, "{error} (cut at {len})");
                // An empty file is not a capture at all; any other cut is a truncation.
                let expected = if len == 0 {
                    matches!(error.kind, CaptureErrorKind::NotACapture)
                } else {
                    matches!(error.kind, CaptureErrorKind::Truncated { .. })
                };
                assert!(expected, "cut at {len}: {error}");
            }
        }
    }
}

#[test]
fn reader__every_byte_changed__then_typed_error_never_panic() {
    let (bytes, _) = capture(1, 200);
    for at in 0..bytes.len() {
        for change in [0x01_u8, 0x80, 0xff] {
            let mut corrupted = bytes.clone();
            corrupted[at] ^= change;
            let error = read_all(&corrupted).expect_err("a changed byte is detected");
            assert!(
                error.offset <= at as u64,
                "error at {} for byte {at}",
                error.offset
            );
            assert!(!error.to_string().is_empty());
        }
    }
}

#[test]
fn reader__foreign_input__then_not_a_capture_at_offset_zero() {
    for input in [
        &b""[..],
        b"not",
        b"#!/bin/sh\necho not a capture file at all\n",
    ] {
        let error = CaptureReader::new(input).unwrap_err();
        assert_eq!(error.offset, 0);
        assert_eq!(error.kind, CaptureErrorKind::NotACapture, "{input:?}");
    }
    // A prefix of a real header is a truncated capture, not a foreign file.
    let error = CaptureReader::new(&b"ADACAPT"[..]).unwrap_err();
    assert!(matches!(error.kind, CaptureErrorKind::Truncated { .. }));
}

#[test]
fn reader__huge_record_count__then_block_too_large_without_allocating_it() {
    let (mut bytes, _) = capture(1, 10);
    let header_len = read_all(&bytes).unwrap()[0].offset as usize;
    // The first block's record count.
    bytes[header_len + 20..header_len + 24].copy_from_slice(&u32::MAX.to_le_bytes());
    let error = read_all(&bytes).unwrap_err();
    assert_eq!(error.offset, header_len as u64);
    assert!(matches!(error.kind, CaptureErrorKind::BlockTooLarge { .. }));
}

#[test]
fn block__records_as_wrong_type__then_layout_mismatch() {
    let (bytes, _) = capture(1, 10);
    let blocks = read_all(&bytes).unwrap();
    let block = blocks.iter().find(|b| b.lane == LaneId::Index).unwrap();
    let error = block.records::<u32>().unwrap_err();
    assert!(
        matches!(error.kind, CaptureErrorKind::LayoutMismatch { .. }),
        "{error}"
    );
    let error = block.records::<i64>().unwrap_err();
    assert!(error.to_string().contains("u64"), "{error}");
}

#[test]
fn reader__header__then_layouts_and_sizes_of_both_lanes() {
    let (bytes, _) = capture(1, 1);
    let reader = CaptureReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.header(), &FileHeader::of::<u64, u32>());
    assert_eq!(reader.header().record_size(LaneId::Detail), 4);
}

#[test]
fn file_sink__unwritable_file__then_io_error_not_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("read-only.ada");
    std::fs::write(&path, b"").unwrap();
    let read_only = std::fs::File::open(&path).unwrap();
    assert!(FileSink::<u64, u64>::new(read_only).is_err());
    assert!(FileSink::<u64, u64>::create(dir.path().join("missing/dir/t.ada")).is_err());
}

/// A delivery of `records` from slot 3, generation 7, named `name`: a whole ring when
/// `header` is given, an in-place collection otherwise.
fn delivery<'a, T>(
    name: Option<&'a str>,
    header: Option<ada_ring_buffer::RingHeader>,
    records: &'a [T],
) -> ada_drain::Delivery<'a, T> {
    ada_drain::Delivery {
        origin: ada_drain::Origin {
            slot: 3,
            generation: 7,
            thread_name: name,
            thread_id: None,
        },
        lane: ada_drain::LaneKind::Index,
        header,
        lost_before: ada_metrics::DropCounts::default(),
        discarded_before: 0,
        records,
    }
}

/// The bytes of a capture written by calling `write` on a fresh `FileSink`, and the
/// sink's own count of blocks and bytes.
fn written(write: impl FnOnce(&mut FileSink<u64, u32>)) -> (Vec<u8>, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ada");
    let mut sink = FileSink::<u64, u32>::create(&path).unwrap();
    write(&mut sink);
    ada_drain::Sink::flush(&mut sink).unwrap();
    let (blocks, bytes) = (sink.blocks(), sink.bytes());
    drop(sink);
    (std::fs::read(&path).unwrap(), blocks, bytes)
}

/// Recomputes the CRC-32 in the last four bytes of `bytes[start..end]` after a test
/// changed what it covers.
fn reseal(bytes: &mut [u8], start: usize, end: usize) {
    let checksum = crc32fast::hash(&bytes[start..end - 4]);
    bytes[end - 4..end].copy_from_slice(&checksum.to_le_bytes());
}

/// A `Read` that fails every call.
struct Failing;

impl std::io::Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("the disk is on fire"))
    }
}

#[test]
fn file_sink__ring_and_collected_deliveries__then_blocks_read_back_field_for_field() {
    let header = ada_ring_buffer::RingHeader {
        sequence: 42,
        flags: ada_ring_buffer::RingFlags::MARKED | ada_ring_buffer::RingFlags::LOSS_BEFORE,
        ..ada_ring_buffer::RingHeader::default()
    };
    let (bytes, blocks, length) = written(|sink| {
        use ada_drain::Sink;
        let mut ring = delivery(Some("worker"), Some(header), &[1_u64, 2, 3]);
        ring.lost_before.oldest = 9;
        sink.index(&ring).unwrap();
        let detail = ada_drain::Delivery {
            lane: ada_drain::LaneKind::Detail,
            ..delivery(None, None, &[10_u32, 20])
        };
        sink.detail(&detail).unwrap();
        assert_eq!(sink.blocks(), 2);
    });
    assert_eq!(blocks, 2);
    assert_eq!(
        length,
        bytes.len() as u64,
        "bytes() counts header and blocks"
    );
    let read = read_all(&bytes).unwrap();
    assert_eq!(read.len(), 2);
    let (ring, collected) = (&read[0], &read[1]);
    assert_eq!(ring.lane, LaneId::Index);
    assert_eq!(ring.kind, BlockKind::Ring);
    assert_eq!(ring.thread_name, "worker");
    assert_eq!((ring.slot, ring.generation), (3, 7));
    assert_eq!((ring.sequence, ring.lost_events), (42, 9));
    assert_eq!(
        ring.losses,
        Some(Losses::from_iter([(LossCause::DropOldest, 9)]))
    );
    assert_eq!(ring.flags, header.flags);
    assert_eq!(ring.record_count, 3);
    assert_eq!(ring.layout(), "u64");
    assert_eq!(ring.record_size(), 8);
    assert_eq!(ring.bytes(), bytemuck::cast_slice::<u64, u8>(&[1, 2, 3]));
    assert_eq!(ring.records::<u64>().unwrap(), [1, 2, 3]);
    assert_eq!(collected.lane, LaneId::Detail);
    assert_eq!(collected.kind, BlockKind::Collected);
    assert_eq!(collected.thread_name, "", "no name is stored as empty");
    assert_eq!(collected.flags, ada_ring_buffer::RingFlags::empty());
    assert_eq!((collected.sequence, collected.lost_events), (0, 0));
    assert_eq!(collected.losses, Some(Losses::default()));
    assert_eq!(collected.layout(), "u32");
    assert_eq!(collected.record_size(), 4);
    assert!(collected.holds::<u32>() && !collected.holds::<u64>());
    assert_eq!(collected.records::<u32>().unwrap(), [10, 20]);
}

#[test]
fn file_sink__thread_name_over_the_limit__then_cut_at_a_character_boundary() {
    // 1023 ASCII bytes and a two-byte character across the 1024-byte limit.
    let name = format!("{}é", "a".repeat(1023));
    let (bytes, _, _) = written(|sink| {
        ada_drain::Sink::<u64, u32>::index(sink, &delivery(Some(&name), None, &[5_u64])).unwrap();
    });
    let blocks = read_all(&bytes).unwrap();
    assert_eq!(blocks[0].thread_name, "a".repeat(1023));
    assert_eq!(blocks[0].records::<u64>().unwrap(), [5]);
}

#[test]
fn file_header__layout_names_over_the_limit__then_cut_and_read_back_per_lane() {
    let header = FileHeader {
        index_layout: "i".repeat(3000),
        detail_layout: "d".repeat(10),
        ..FileHeader::of::<u64, u32>()
    };
    let bytes = with_clock(header.encode());
    let reader = CaptureReader::new(&bytes[..]).unwrap();
    let read = reader.header();
    assert_eq!(read.layout(LaneId::Index), "i".repeat(1024));
    assert_eq!(read.layout(LaneId::Detail), "d".repeat(10));
    assert_eq!(read.record_size(LaneId::Index), 8);
    assert_eq!(read.record_size(LaneId::Detail), 4);
}

#[test]
fn reader__header_with_zero_record_size__then_zero_record_size_error() {
    for (index, detail) in [(0, 4), (8, 0)] {
        let header = FileHeader {
            index_record_size: index,
            detail_record_size: detail,
            ..FileHeader::of::<u64, u32>()
        };
        let error = CaptureReader::new(&header.encode()[..]).unwrap_err();
        assert_eq!(
            error,
            CaptureError {
                offset: 0,
                kind: CaptureErrorKind::ZeroRecordSize
            }
        );
        assert_eq!(error.to_string(), "at byte 0: a lane's record size is zero");
    }
}

#[test]
fn reader__header_layout_not_utf8_with_valid_checksum__then_bad_name() {
    // The index layout's bytes follow the header's fixed 24, the detail layout's follow
    // those two.
    for at in [24, 26] {
        let mut bytes = FileHeader {
            index_layout: "ab".to_owned(),
            detail_layout: "cd".to_owned(),
            ..FileHeader::of::<u64, u32>()
        }
        .encode();
        bytes[at..at + 2].copy_from_slice(&[0xff, 0xfe]);
        let end = bytes.len();
        reseal(&mut bytes, 0, end);
        let error = CaptureReader::new(&bytes[..]).unwrap_err();
        assert_eq!(error.kind, CaptureErrorKind::BadName, "layout at {at}");
        assert_eq!(error.offset, 0);
    }
}

#[test]
fn reader__thread_name_not_utf8_with_valid_checksum__then_bad_name_at_the_block() {
    let (mut bytes, _, _) = written(|sink| {
        ada_drain::Sink::<u64, u32>::index(sink, &delivery(Some("ab"), None, &[1_u64])).unwrap();
    });
    let start = read_all(&bytes).unwrap()[0].offset as usize;
    let name = start + 42; // the block's fixed part (no loss causes)
    bytes[name..name + 2].copy_from_slice(&[0xc3, 0x28]); // a broken two-byte sequence
    let end = bytes.len();
    reseal(&mut bytes, start, end);
    let error = read_all(&bytes).unwrap_err();
    assert_eq!(error.kind, CaptureErrorKind::BadName);
    assert_eq!(error.offset, start as u64);
}

#[test]
fn reader__block_fields_out_of_range__then_typed_error_naming_the_value() {
    let (bytes, _, _) = written(|sink| {
        ada_drain::Sink::<u64, u32>::index(sink, &delivery(None, None, &[1_u64])).unwrap();
    });
    let start = read_all(&bytes).unwrap()[0].offset as usize;
    let cases: [(usize, &[u8], CaptureErrorKind); 4] = [
        (0, b"GNIR", CaptureErrorKind::BadBlockMagic),
        (4, &[2], CaptureErrorKind::BadLane(2)),
        (5, &[9], CaptureErrorKind::BadKind(9)),
        (8, &[0, 0, 0, 0x80], CaptureErrorKind::BadFlags(0x8000_0000)),
    ];
    for (at, value, expected) in cases {
        let mut corrupted = bytes.clone();
        corrupted[start + at..start + at + value.len()].copy_from_slice(value);
        let error = read_all(&corrupted).unwrap_err();
        assert_eq!(error.kind, expected);
        assert_eq!(error.offset, start as u64);
    }
}

#[test]
fn reader__input_fails__then_io_error_at_the_offset_being_read() {
    let error = CaptureReader::new(Failing).unwrap_err();
    assert_eq!(
        error.kind,
        CaptureErrorKind::Io("the disk is on fire".to_owned())
    );
    assert_eq!(error.offset, 0);
    assert_eq!(
        error.to_string(),
        "at byte 0: read error: the disk is on fire"
    );

    // A whole header and clock record, then the input fails where the first block
    // should be.
    let header = with_clock(FileHeader::of::<u64, u32>().encode());
    let mut reader = CaptureReader::new(std::io::Read::chain(&header[..], Failing)).unwrap();
    let error = reader.next_block().unwrap_err();
    assert_eq!(error.offset, header.len() as u64);
    assert!(matches!(error.kind, CaptureErrorKind::Io(_)), "{error}");

    // The input fails after the header's fixed part, then after a block's fixed part.
    let error = CaptureReader::new(std::io::Read::chain(&header[..24], Failing)).unwrap_err();
    assert_eq!(error.offset, 0);
    assert!(matches!(error.kind, CaptureErrorKind::Io(_)), "{error}");
    let (bytes, _, _) = written(|sink| {
        ada_drain::Sink::<u64, u32>::index(sink, &delivery(None, None, &[1_u64])).unwrap();
    });
    let block_fixed = header.len() + 42;
    let mut reader =
        CaptureReader::new(std::io::Read::chain(&bytes[..block_fixed], Failing)).unwrap();
    let error = reader.next_block().unwrap_err();
    assert_eq!(error.offset, header.len() as u64);
    assert!(matches!(error.kind, CaptureErrorKind::Io(_)), "{error}");
}

#[test]
fn reader__open_missing_file__then_io_error_at_offset_zero() {
    let dir = tempfile::tempdir().unwrap();
    let error = CaptureReader::open(dir.path().join("absent.ada")).unwrap_err();
    assert_eq!(error.offset, 0);
    assert!(matches!(error.kind, CaptureErrorKind::Io(_)), "{error}");
    assert!(
        error.to_string().starts_with("at byte 0: read error: "),
        "{error}"
    );
}

#[test]
fn reader__open_written_file__then_header_blocks_and_debug_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ada");
    let mut sink = FileSink::<u64, u32>::create(&path).unwrap();
    ada_drain::Sink::<u64, u32>::index(&mut sink, &delivery(None, None, &[1_u64, 2])).unwrap();
    let sink_debug = format!("{sink:?}");
    assert!(sink_debug.starts_with("FileSink"), "{sink_debug}");
    assert!(sink_debug.contains("blocks: 1"), "{sink_debug}");
    assert!(
        sink_debug.contains(&format!("bytes: {}", sink.bytes())),
        "{sink_debug}"
    );
    drop(sink);
    let mut reader = CaptureReader::open(&path).unwrap();
    assert_eq!(reader.header(), &FileHeader::of::<u64, u32>());
    let header_len = FileHeader::of::<u64, u32>().encode().len() + clock::CLOCK_LEN;
    let debug = format!("{reader:?}");
    assert!(debug.starts_with("CaptureReader"), "{debug}");
    assert!(
        debug.contains(&format!("position: {header_len}")),
        "{debug}"
    );
    assert!(debug.contains("index_layout: \"u64\""), "{debug}");
    let block = reader.next_block().unwrap().unwrap();
    assert_eq!(block.records::<u64>().unwrap(), [1, 2]);
    assert_eq!(reader.next_block().unwrap(), None);
}

#[test]
fn capture_error__display__then_offset_and_what_is_wrong() {
    let cases = [
        (CaptureErrorKind::Io("gone".to_owned()), "read error: gone"),
        (
            CaptureErrorKind::NotACapture,
            "not an ada capture file (bad magic)",
        ),
        (
            CaptureErrorKind::UnsupportedVersion(9),
            "format version 9 is not supported (this reader reads 1 to 3)",
        ),
        (
            CaptureErrorKind::BadHeaderLength(3),
            "header length 3 is inconsistent",
        ),
        (
            CaptureErrorKind::Truncated {
                needed: 40,
                found: 12,
            },
            "file truncated: 40 bytes needed, 12 present",
        ),
        (
            CaptureErrorKind::BadChecksum {
                stored: 0xdead_beef,
                computed: 0x12,
            },
            "checksum mismatch (stored 0xdeadbeef, computed 0x00000012): corrupted",
        ),
        (
            CaptureErrorKind::BadBlockMagic,
            "not a block (bad block magic)",
        ),
        (CaptureErrorKind::BadLane(7), "unknown lane 7"),
        (CaptureErrorKind::BadKind(8), "unknown block kind 8"),
        (CaptureErrorKind::BadFlags(0x30), "unknown ring flags 0x30"),
        (CaptureErrorKind::BadName, "a name is not UTF-8"),
        (
            CaptureErrorKind::ZeroRecordSize,
            "a lane's record size is zero",
        ),
        (
            CaptureErrorKind::BlockTooLarge { bytes: 1 << 31 },
            "block of 2147483648 bytes exceeds the reader's limit",
        ),
        (
            CaptureErrorKind::BadLossCauses("a loss cause of code 0"),
            "bad loss causes: a loss cause of code 0",
        ),
        (
            CaptureErrorKind::LossSumMismatch {
                stored: 5,
                causes: 4,
            },
            "lost events 5 disagree with the sum of the loss causes 4",
        ),
        (
            CaptureErrorKind::OutOfOrder {
                lane: LaneKey {
                    slot: 3,
                    generation: 7,
                    lane: LaneId::Detail,
                },
                previous: 5,
                sequence: 5,
            },
            "ring 5 of slot 3 gen 7 detail lane after ring 5: a duplicated or reordered block",
        ),
        (
            CaptureErrorKind::BadTrailer("a lane listed twice"),
            "bad trailer: a lane listed twice",
        ),
        (CaptureErrorKind::DataAfterTrailer, "data after the trailer"),
        (
            CaptureErrorKind::BadClock("a span of zero"),
            "bad clock record: a span of zero",
        ),
        (
            CaptureErrorKind::BadNames("no names"),
            "bad names block: no names",
        ),
        (
            CaptureErrorKind::LayoutMismatch {
                file: "u64 (8 bytes)".to_owned(),
                requested: "u32 (4 bytes)".to_owned(),
            },
            "records are u64 (8 bytes), not u32 (4 bytes)",
        ),
    ];
    for (kind, text) in cases {
        let error = CaptureError { offset: 77, kind };
        assert_eq!(error.to_string(), format!("at byte 77: {text}"));
        assert!(std::error::Error::source(&error).is_none());
    }
}

#[test]
#[cfg(target_os = "linux")]
fn file_sink__device_full__then_header_write_error_not_panic() {
    let error = FileSink::<u64, u32>::create("/dev/full").unwrap_err();
    assert!(
        matches!(&error, FileSinkError::Io(io) if io.kind() == std::io::ErrorKind::StorageFull),
        "{error}"
    );
    assert!(std::error::Error::source(&error).is_some());
    assert_eq!(
        std::io::Error::from(error).kind(),
        std::io::ErrorKind::StorageFull
    );
}

#[test]
#[cfg(target_os = "linux")]
#[cfg_attr(miri, ignore = "Miri supports fdatasync on files only, not on a pipe")]
fn file_sink__write_and_sync_fail__then_sink_errors_and_counts_unchanged() {
    use ada_drain::Sink;
    use std::os::fd::OwnedFd;
    let (reader, writer) = std::io::pipe().unwrap();
    // The header fits the pipe's buffer; blocks written after the reader is gone fail.
    let mut sink = FileSink::<u64, u32>::new(std::fs::File::from(OwnedFd::from(writer))).unwrap();
    let header_bytes = sink.bytes();
    drop(reader);
    let error = sink.index(&delivery(None, None, &[1_u64])).unwrap_err();
    assert!(error.0.starts_with("writing the capture file: "), "{error}");
    let error = sink.detail(&delivery(None, None, &[1_u32])).unwrap_err();
    assert!(error.0.starts_with("writing the capture file: "), "{error}");
    assert_eq!(sink.blocks(), 0, "a failed block is not counted");
    assert_eq!(sink.bytes(), header_bytes);
    // A pipe cannot be synced.
    let error = sink.flush().unwrap_err();
    assert!(error.0.starts_with("syncing the capture file: "), "{error}");
}

#[test]
#[cfg(target_pointer_width = "64")]
fn file_sink__slot_index_beyond_the_format__then_sink_error_and_nothing_written() {
    let (bytes, blocks, _) = written(|sink| {
        let mut beyond = delivery(None, None, &[1_u64]);
        beyond.origin.slot = 1 << 32;
        let error = ada_drain::Sink::<u64, u32>::index(sink, &beyond).unwrap_err();
        assert_eq!(error.0, "a slot index above 2^32");
    });
    assert_eq!(blocks, 0);
    assert!(
        read_all(&bytes).unwrap().is_empty(),
        "the file holds only its header"
    );
}

/// A version 1 block: lane, kind, flags, sequence, lost events, records.
type Version1Block<'a> = (LaneId, BlockKind, u32, u64, u64, &'a [u64]);

/// A change to a file's bytes, given an offset, for a table of cases.
type Change = Box<dyn Fn(&mut Vec<u8>, usize)>;

/// The bytes of a version 1 file, as version 1's writer laid them out: the header, then
/// one 40-byte-fixed block per `(lane, kind, flags, sequence, lost, records)`.
fn version_1_file(blocks: &[Version1Block<'_>]) -> Vec<u8> {
    let mut bytes = FileHeader {
        version: 1,
        ..FileHeader::of::<u64, u64>()
    }
    .encode();
    for &(lane, kind, flags, sequence, lost, records) in blocks {
        let start = bytes.len();
        bytes.extend_from_slice(b"RING");
        bytes.push(lane.to_byte());
        bytes.push(kind.to_byte());
        bytes.extend_from_slice(&2_u16.to_le_bytes());
        bytes.extend_from_slice(&flags.to_le_bytes());
        bytes.extend_from_slice(&3_u32.to_le_bytes());
        bytes.extend_from_slice(&7_u32.to_le_bytes());
        bytes.extend_from_slice(&u32::try_from(records.len()).unwrap().to_le_bytes());
        bytes.extend_from_slice(&sequence.to_le_bytes());
        bytes.extend_from_slice(&lost.to_le_bytes());
        bytes.extend_from_slice(b"v1");
        bytes.extend_from_slice(bytemuck::cast_slice(records));
        let checksum = crc32fast::hash(&bytes[start..]);
        bytes.extend_from_slice(&checksum.to_le_bytes());
    }
    bytes
}

#[test]
fn reader__version_1_file__then_blocks_without_causes_and_no_trailer() {
    let loss = ada_ring_buffer::RingFlags::LOSS_BEFORE.bits();
    let bytes = version_1_file(&[
        (LaneId::Index, BlockKind::Ring, 0, 0, 0, &[1, 2]),
        (LaneId::Index, BlockKind::Ring, loss, 2, 16, &[3]),
        (LaneId::Detail, BlockKind::Collected, 0, 0, 0, &[4]),
    ]);
    let mut reader = CaptureReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.header().version, 1);
    let mut blocks = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        blocks.push(block);
    }
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[1].lost_events, 16);
    assert!(
        blocks.iter().all(|b| b.losses.is_none()),
        "no causes in version 1"
    );
    assert_eq!(blocks[1].records::<u64>().unwrap(), [3]);
    assert_eq!(blocks[2].thread_name, "v1");
    assert!(reader.trailer().is_none());
    assert!(reader.reconcile().is_none());
    assert_eq!(reader.position(), bytes.len() as u64);
    let key = LaneKey {
        slot: 3,
        generation: 7,
        lane: LaneId::Index,
    };
    let tally = &reader.lanes()[&key];
    assert_eq!((tally.rings, tally.records, tally.lost_events), (2, 3, 16));
    assert_eq!(tally.rings_missing, 1);
    assert!(tally.causes.is_empty());
    // A trailer's magic is not a version 1 block.
    let mut tailed = bytes;
    tailed.extend_from_slice(b"TAIL");
    let error = read_all(&tailed).unwrap_err();
    assert_eq!(error.kind, CaptureErrorKind::BadBlockMagic);
}

#[test]
fn reader__version_1_file_cut_anywhere__then_whole_blocks_or_truncated() {
    let bytes = version_1_file(&[
        (LaneId::Index, BlockKind::Ring, 0, 0, 0, &[1, 2]),
        (LaneId::Index, BlockKind::Ring, 0, 1, 0, &[3]),
    ]);
    let whole = read_all(&bytes).unwrap();
    for len in FileHeader::of::<u64, u64>().encode().len()..bytes.len() {
        match read_all(&bytes[..len]) {
            Ok(blocks) => assert_eq!(blocks[..], whole[..blocks.len()]),
            Err(error) => assert!(
                matches!(error.kind, CaptureErrorKind::Truncated { .. }),
                "{error}"
            ),
        }
    }
}

#[test]
fn reader__unknown_version__then_unsupported_version() {
    for version in [0, 4, u16::MAX] {
        let header = FileHeader {
            version,
            ..FileHeader::of::<u64, u32>()
        };
        let error = CaptureReader::new(&header.encode()[..]).unwrap_err();
        assert_eq!(error.kind, CaptureErrorKind::UnsupportedVersion(version));
    }
}

#[test]
fn file_sink__losses_of_every_cause_before_blocks__then_read_back_by_cause() {
    let ring = |sequence| ada_ring_buffer::RingHeader {
        sequence,
        ..ada_ring_buffer::RingHeader::default()
    };
    let (bytes, _, _) = written(|sink| {
        use ada_drain::Sink;
        let mut first = delivery(None, Some(ring(0)), &[1_u64]);
        first.lost_before = ada_metrics::DropCounts {
            oldest: 3,
            newest: 4,
            sink: 5,
            ..Default::default()
        };
        first.discarded_before = 6;
        sink.index(&first).unwrap();
        // Only discarded windows: nothing lost, no LOSS_BEFORE.
        let mut second = delivery(None, Some(ring(1)), &[2_u64]);
        second.discarded_before = 64;
        sink.index(&second).unwrap();
        // Losses before records collected in place.
        let mut collected = delivery(None, None, &[3_u64]);
        collected.lost_before.sink = 8;
        sink.index(&collected).unwrap();
    });
    let blocks = read_all(&bytes).unwrap();
    assert_eq!(blocks[0].lost_events, 12);
    assert_eq!(
        blocks[0].losses.as_ref().unwrap().to_string(),
        "drop-oldest 3, drop-newest 4, sink 5, discarded 6"
    );
    assert!(
        blocks[0]
            .flags
            .contains(ada_ring_buffer::RingFlags::LOSS_BEFORE)
    );
    assert_eq!(blocks[1].lost_events, 0);
    assert_eq!(
        blocks[1].losses,
        Some(Losses::from_iter([(LossCause::Discarded, 64)]))
    );
    assert!(
        !blocks[1]
            .flags
            .contains(ada_ring_buffer::RingFlags::LOSS_BEFORE)
    );
    assert_eq!(blocks[2].kind, BlockKind::Collected);
    assert_eq!(blocks[2].lost_events, 8);
    assert_eq!(blocks[2].losses.as_ref().unwrap().get(LossCause::Sink), 8);
    assert!(
        blocks[2]
            .flags
            .contains(ada_ring_buffer::RingFlags::LOSS_BEFORE)
    );
}

/// Every lane of `report` against the capture `bytes`: records = delivered, and per
/// cause the blocks' losses + the trailer's losses after them = dropped.
fn assert_reconciles(bytes: &[u8], report: &ada_drain::DrainReport) -> Trailer {
    let mut reader = CaptureReader::new(bytes).unwrap();
    while reader.next_block().unwrap().is_some() {}
    let trailer = reader.trailer().expect("a trailer").clone();
    let reconciliation = reader.reconcile().unwrap();
    assert!(reconciliation.reconciles(), "{reconciliation:#?}");
    let finals: BTreeMap<LaneKey, &LaneFinal> = trailer.lanes.iter().map(|l| (l.key, l)).collect();
    for thread in &report.threads {
        for (lane, counters) in [
            (LaneId::Index, &thread.index),
            (LaneId::Detail, &thread.detail),
        ] {
            let key = LaneKey {
                slot: u32::try_from(thread.slot).unwrap(),
                generation: thread.generation,
                lane,
            };
            let tally = reader.lanes().get(&key).cloned().unwrap_or_default();
            assert_eq!(tally.records, counters.events_delivered, "{key}");
            let Some(last) = finals.get(&key) else {
                assert_eq!(
                    counters.events_written, 0,
                    "{key}: written, not in the trailer"
                );
                continue;
            };
            assert_eq!(
                last.thread_name,
                thread.thread_name.clone().unwrap_or_default()
            );
            assert_eq!(last.retired, thread.retired);
            let c = &last.counters;
            assert_eq!(c.written, counters.events_written, "{key}");
            assert_eq!(c.delivered, counters.events_delivered, "{key}");
            assert_eq!(c.discarded, counters.events_discarded, "{key}");
            assert_eq!(c.in_flight, counters.events_in_flight(), "{key}");
            for (cause, dropped) in [
                (LossCause::DropOldest, counters.dropped.oldest),
                (LossCause::DropNewest, counters.dropped.newest),
                (LossCause::Sink, counters.dropped.sink),
            ] {
                assert_eq!(c.dropped.get(cause), dropped, "{key} {cause}");
                assert_eq!(
                    tally.causes.get(cause) + c.lost_after.get(cause),
                    dropped,
                    "{key} {cause}"
                );
            }
        }
    }
    let totals = &trailer.totals;
    assert_eq!(totals.written, report.totals.events_written);
    assert_eq!(totals.delivered, report.totals.events_delivered);
    assert_eq!(totals.dropped.lost(), report.totals.events_lost());
    trailer
}

#[test]
fn drain_with_file_sink__losses_of_every_cause__then_trailer_reconciles_every_lane() {
    for (policy, cause) in [
        (
            ada_ring_pool::ExhaustionPolicy::DropOldest,
            LossCause::DropOldest,
        ),
        (
            ada_ring_pool::ExhaustionPolicy::DropNewest,
            LossCause::DropNewest,
        ),
    ] {
        let (bytes, report) = capture_with(3, 20_000, policy, 7);
        assert!(report.totals.is_conserved());
        assert!(
            report.totals.dropped.sink > 0,
            "the flaky sink failed some rings"
        );
        let trailer = assert_reconciles(&bytes, &report);
        assert!(
            trailer.totals.dropped.get(cause) > 0,
            "{policy:?}: {trailer:?}"
        );
        assert_eq!(trailer.lanes.len(), 6, "three threads, two lanes each");
        // Every gap the file shows is labelled: the blocks' causes add up.
        let blocks = read_all(&bytes).unwrap();
        assert!(
            blocks
                .iter()
                .all(|b| b.losses.as_ref().unwrap().lost() == b.lost_events)
        );
        assert!(
            blocks
                .iter()
                .any(|b| b.losses.as_ref().unwrap().get(LossCause::Sink) > 0),
            "sink losses announced before a later block"
        );
    }
}

#[test]
fn file_sink__finish__then_trailer_after_the_last_block_and_counted() {
    let (bytes, report) = capture(2, 5_000);
    let trailer = assert_reconciles(&bytes, &report);
    let blocks = read_all(&bytes).unwrap();
    assert!(trailer.offset > blocks.last().unwrap().offset);
    assert_eq!(&bytes[trailer.offset as usize..][..4], b"TAIL");
    assert!(report.sink_finish_error.is_none());
    assert!(report.sink_flush_error.is_none());
}

#[test]
fn file_sink__finish_twice_or_deliver_after__then_refused_and_file_unchanged() {
    use ada_drain::Sink;
    let (bytes, _, _) = written(|sink| {
        sink.index(&delivery(None, None, &[1_u64])).unwrap();
        let report = ada_drain::DrainReport::default();
        sink.finish(&report).unwrap();
        let length = sink.bytes();
        let error = sink.finish(&report).unwrap_err();
        assert!(error.0.contains("already written"), "{error}");
        let error = sink.index(&delivery(None, None, &[2_u64])).unwrap_err();
        assert!(error.0.contains("after the capture's trailer"), "{error}");
        assert_eq!(sink.bytes(), length);
    });
    let mut reader = CaptureReader::new(&bytes[..]).unwrap();
    assert_eq!(
        reader
            .next_block()
            .unwrap()
            .unwrap()
            .records::<u64>()
            .unwrap(),
        [1]
    );
    assert!(reader.next_block().unwrap().is_none());
    let trailer = reader.trailer().unwrap();
    assert!(trailer.lanes.is_empty());
    assert_eq!(trailer.totals, LaneCounters::default());
    // The report lists nothing while the file holds a block: not reconciled.
    let reconciliation = reader.reconcile().unwrap();
    assert!(!reconciliation.reconciles());
    assert_eq!(reconciliation.lanes[0].mismatches, [Mismatch::NotInTrailer]);
}

/// The offsets of every block of `bytes` and of its trailer.
fn layout_of(bytes: &[u8]) -> (Vec<usize>, usize) {
    let mut reader = CaptureReader::new(bytes).unwrap();
    let mut offsets = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        offsets.push(block.offset as usize);
    }
    (offsets, reader.trailer().unwrap().offset as usize)
}

#[test]
fn reader__duplicated_ring_block__then_out_of_order_naming_both_sequences() {
    let (bytes, _) = capture(1, 2_000);
    let (offsets, trailer) = layout_of(&bytes);
    let blocks = read_all(&bytes).unwrap();
    let at = blocks
        .iter()
        .position(|b| b.kind == BlockKind::Ring && b.lane == LaneId::Index)
        .unwrap();
    let end = offsets.get(at + 1).copied().unwrap_or(trailer);
    let mut duplicated = bytes[..end].to_vec();
    duplicated.extend_from_slice(&bytes[offsets[at]..]);
    let error = read_all(&duplicated).unwrap_err();
    assert_eq!(error.offset, end as u64);
    let sequence = blocks[at].sequence;
    assert!(
        matches!(
            error.kind,
            CaptureErrorKind::OutOfOrder { previous, sequence: again, .. }
                if previous == sequence && again == sequence
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("duplicated or reordered"),
        "{error}"
    );
}

#[test]
fn reader__reordered_ring_blocks__then_out_of_order() {
    let ring = |sequence| {
        Some(ada_ring_buffer::RingHeader {
            sequence,
            ..ada_ring_buffer::RingHeader::default()
        })
    };
    let (bytes, _, _) = written(|sink| {
        use ada_drain::Sink;
        sink.index(&delivery(None, ring(0), &[1_u64])).unwrap();
        sink.index(&delivery(None, ring(2), &[2_u64])).unwrap();
        // Collections carry no sequence: never out of order.
        sink.index(&delivery(None, None, &[3_u64])).unwrap();
        sink.index(&delivery(None, ring(1), &[4_u64])).unwrap();
    });
    let error = read_all(&bytes).unwrap_err();
    assert_eq!(
        error.kind,
        CaptureErrorKind::OutOfOrder {
            lane: LaneKey {
                slot: 3,
                generation: 7,
                lane: LaneId::Index
            },
            previous: 2,
            sequence: 1
        }
    );
}

#[test]
fn reader__bytes_after_the_trailer__then_data_after_trailer_at_its_end() {
    let (mut bytes, _) = capture(1, 100);
    let end = bytes.len();
    bytes.push(0);
    let error = read_all(&bytes).unwrap_err();
    assert_eq!(error.kind, CaptureErrorKind::DataAfterTrailer);
    assert_eq!(error.offset, end as u64);
}

#[test]
fn reconcile__a_block_removed__then_records_and_losses_do_not_reconcile() {
    let (bytes, _) = capture(1, 2_000);
    let (offsets, _) = layout_of(&bytes);
    let blocks = read_all(&bytes).unwrap();
    // A ring block of the index lane in the middle, with records.
    let at = (1..blocks.len() - 1)
        .find(|&i| blocks[i].lane == LaneId::Index && blocks[i].kind == BlockKind::Ring)
        .unwrap();
    let mut removed = bytes[..offsets[at]].to_vec();
    removed.extend_from_slice(&bytes[offsets[at + 1]..]);
    let mut reader = CaptureReader::new(&removed[..]).unwrap();
    while reader.next_block().unwrap().is_some() {}
    let reconciliation = reader.reconcile().unwrap();
    assert!(!reconciliation.reconciles());
    let failed: Vec<&LaneCheck> = reconciliation.failures().collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].key.lane, LaneId::Index);
    assert!(
        failed[0]
            .mismatches
            .iter()
            .any(|m| matches!(m, Mismatch::Records { in_file, delivered } if in_file < delivered)),
        "{:?}",
        failed[0].mismatches
    );
    assert!(
        reconciliation.totals.is_empty(),
        "the trailer itself is intact"
    );
    assert!(
        failed[0].mismatches[0]
            .to_string()
            .contains("records in the file")
    );
}

/// One index block written by a fresh sink with `losses`, its bytes changed by `change`
/// (given the block's offset) and resealed.
fn changed_block(
    losses: ada_metrics::DropCounts,
    change: impl FnOnce(&mut Vec<u8>, usize),
) -> Vec<u8> {
    let (mut bytes, _, _) = written(|sink| {
        let mut block = delivery(None, None, &[1_u64]);
        block.lost_before = losses;
        ada_drain::Sink::<u64, u32>::index(sink, &block).unwrap();
    });
    let start = read_all(&bytes).unwrap()[0].offset as usize;
    change(&mut bytes, start);
    let end = bytes.len();
    reseal(&mut bytes, start, end);
    bytes
}

#[test]
fn reader__malformed_loss_causes_with_valid_checksum__then_bad_loss_causes() {
    let two = ada_metrics::DropCounts {
        oldest: 3,
        newest: 4,
        sink: 0,
        ..Default::default()
    };
    // Causes start at byte 42 of the block: code (2 bytes), events (8 bytes) each.
    let cases: [(&str, Change); 5] = [
        (
            "code 0",
            Box::new(|b, s| b[s + 42..s + 44].copy_from_slice(&0_u16.to_le_bytes())),
        ),
        (
            "repeated",
            Box::new(|b, s| b[s + 52..s + 54].copy_from_slice(&1_u16.to_le_bytes())),
        ),
        (
            "zero events",
            Box::new(|b, s| {
                b[s + 44..s + 52].copy_from_slice(&0_u64.to_le_bytes());
                b[s + 32..s + 40].copy_from_slice(&4_u64.to_le_bytes());
            }),
        ),
        (
            "too many",
            Box::new(|b, s| b[s + 40..s + 42].copy_from_slice(&17_u16.to_le_bytes())),
        ),
        ("flag", Box::new(|b, s| b[s + 8] &= !4)),
    ];
    for (what, change) in cases {
        let bytes = changed_block(two, change);
        let error = read_all(&bytes).unwrap_err();
        assert!(
            matches!(error.kind, CaptureErrorKind::BadLossCauses(_)),
            "{what}: {error}"
        );
    }
    let bytes = changed_block(two, |b, s| {
        b[s + 32..s + 40].copy_from_slice(&8_u64.to_le_bytes());
    });
    assert_eq!(
        read_all(&bytes).unwrap_err().kind,
        CaptureErrorKind::LossSumMismatch {
            stored: 8,
            causes: 7
        }
    );
    // A code this reader does not know is a loss of an unknown cause, not an error.
    let bytes = changed_block(two, |b, s| {
        b[s + 52..s + 54].copy_from_slice(&9_u16.to_le_bytes());
    });
    let block = &read_all(&bytes).unwrap()[0];
    let losses = block.losses.as_ref().unwrap();
    assert_eq!(losses.get(LossCause::Unknown(9)), 4);
    assert_eq!(losses.to_string(), "drop-oldest 3, cause 9 4");
    assert_eq!(losses.lost(), 7);
}

#[test]
fn reader__malformed_trailer_with_valid_checksum__then_bad_trailer() {
    let (bytes, _) = capture(1, 50);
    let (_, trailer) = layout_of(&bytes);
    // The trailer's first lane entry starts 16 bytes in: slot, generation, lane,
    // retired, name length.
    let first = trailer + 16;
    let cases: [(&str, Change); 4] = [
        ("lane", Box::new(move |b, _| b[first + 8] = 9)),
        ("retired", Box::new(move |b, _| b[first + 9] = 2)),
        ("lanes", Box::new(move |b, _| b[trailer + 4] += 1)),
        (
            "twice",
            Box::new(move |b, _| {
                // The second entry names the first's lane (slot, generation, lane).
                let name = usize::from(u16::from_le_bytes([b[first + 10], b[first + 11]]));
                let second = first + 12 + name + 44;
                let (head, tail) = b.split_at_mut(second);
                tail[..9].copy_from_slice(&head[first..first + 9]);
            }),
        ),
    ];
    for (what, change) in cases {
        let mut changed = bytes.clone();
        change(&mut changed, trailer);
        let end = changed.len();
        reseal(&mut changed, trailer, end);
        let error = read_all(&changed).unwrap_err();
        assert_eq!(error.offset, trailer as u64, "{what}");
        assert!(
            matches!(error.kind, CaptureErrorKind::BadTrailer(_)),
            "{what}: {error}"
        );
    }
    let mut short = bytes.clone();
    short[trailer + 8..trailer + 16].copy_from_slice(&20_u64.to_le_bytes());
    let error = read_all(&short).unwrap_err();
    assert_eq!(
        error.kind,
        CaptureErrorKind::BadTrailer("a length shorter than the smallest trailer")
    );
}

/// A registry of `u64` index and detail lanes whose index rings hold `ring_records`.
fn registry_with_rings(ring_records: usize) -> Arc<Registry<u64, u64>> {
    Registry::new(RegistryConfig {
        capacity: 1,
        index: ada_ring_pool::LaneConfig {
            rings: 2,
            ring_records,
            ..ada_ring_pool::LaneConfig::index_lane()
        },
        detail: ada_ring_pool::LaneConfig::detail_lane(),
    })
    .unwrap()
}

#[test]
fn file_sink__rings_over_the_block_bound__then_drain_start_fails_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ada");
    // 8-byte records: 2^20 of them fill exactly 8 MiB.
    let registry = registry_with_rings((1 << 20) + 1);
    let sink = FileSink::<u64, u64>::create(&path).unwrap();
    let mut drain = Drain::new(registry, sink, DrainConfig::default()).unwrap();
    let error = drain.start().unwrap_err();
    let ada_drain::DrainError::SinkStart(refusal) = &error else {
        panic!("{error:?}");
    };
    assert!(refusal.0.contains("8388616 B"), "{refusal}");
    assert!(
        refusal.0.contains(&MAX_BLOCK_BYTES.to_string()),
        "{refusal}"
    );
    assert!(error.to_string().contains("MAX_BLOCK_BYTES"), "{error}");
    assert_eq!(drain.state(), ada_drain::DrainState::Initialized);
    assert_eq!(
        drain.start().unwrap_err(),
        error,
        "refused again, never started"
    );
    drop(drain);
    // Nothing but the header was written.
    assert!(read_all(&std::fs::read(&path).unwrap()).unwrap().is_empty());

    let at_bound = registry_with_rings(1 << 20);
    let sink = FileSink::<u64, u64>::create(&path).unwrap();
    let mut drain = Drain::new(at_bound, sink, DrainConfig::default()).unwrap();
    drain.start().unwrap();
    drain.stop().unwrap();
}

#[test]
fn file_sink__delivery_over_the_block_bound__then_sink_error_and_nothing_written() {
    let records = vec![0_u64; (1 << 20) + 1];
    let (bytes, blocks, _) = written(|sink| {
        let error =
            ada_drain::Sink::<u64, u32>::index(sink, &delivery(None, None, &records)).unwrap_err();
        assert!(
            error.0.contains("exceeds a capture block's limit"),
            "{error}"
        );
        ada_drain::Sink::<u64, u32>::index(sink, &delivery(None, None, &records[1..])).unwrap();
    });
    assert_eq!(blocks, 1);
    assert_eq!(read_all(&bytes).unwrap()[0].record_count, 1 << 20);
}

#[test]
fn file_sink__zero_sized_records__then_typed_error_before_any_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ada");
    let error = FileSink::<u64, ()>::create(&path).unwrap_err();
    assert!(
        matches!(
            error,
            FileSinkError::ZeroSizedRecord {
                lane: LaneId::Detail,
                layout: "()"
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("zero-sized"), "{error}");
    assert!(std::error::Error::source(&error).is_none());
    assert!(!path.exists(), "refused before the file is created");
    let io = std::io::Error::from(error);
    assert_eq!(io.kind(), std::io::ErrorKind::InvalidInput);
    let file = tempfile::tempfile().unwrap();
    assert!(matches!(
        FileSink::<(), u64>::new(file),
        Err(FileSinkError::ZeroSizedRecord {
            lane: LaneId::Index,
            ..
        })
    ));
}

#[test]
fn file_sink__start_with_zero_sized_records_in_the_layout__then_refused() {
    let mut sink = FileSink::<u64, u64>::new(tempfile::tempfile().unwrap()).unwrap();
    let shape = ada_drain::LaneShape {
        config: ada_ring_pool::LaneConfig::index_lane(),
        record_size: 0,
    };
    let layout = ada_drain::LaneLayout {
        index: shape,
        detail: shape,
    };
    let error = ada_drain::Sink::<u64, u64>::start(&mut sink, &layout).unwrap_err();
    assert!(error.0.contains("zero-sized"), "{error}");
}

impl Record for () {
    const LAYOUT: &'static str = "()";
}

#[test]
fn losses__add_in_any_order__then_code_order_merged_and_named() {
    let mut losses = Losses::default();
    assert!(losses.is_empty());
    assert_eq!(losses.to_string(), "none");
    losses.add(LossCause::Unknown(7), 1);
    losses.add(LossCause::Sink, 2);
    losses.add(LossCause::Sink, 3);
    losses.add(LossCause::DropNewest, 0);
    losses.add(LossCause::Discarded, u64::MAX);
    losses.add(LossCause::Discarded, 1);
    assert_eq!(losses.len(), 3);
    assert_eq!(losses.get(LossCause::Sink), 5);
    assert_eq!(losses.get(LossCause::Discarded), u64::MAX, "saturates");
    assert_eq!(losses.lost(), 6);
    assert_eq!(
        losses.to_string(),
        format!("sink 5, discarded {}, cause 7 1", u64::MAX)
    );
    for cause in LossCause::KNOWN {
        assert_eq!(LossCause::from_code(cause.code()), Some(cause));
    }
    assert_eq!(LossCause::from_code(0), None);
    assert_eq!(LossCause::from_code(6), Some(LossCause::Unknown(6)));
    assert!(!LossCause::Discarded.is_loss() && LossCause::Unknown(6).is_loss());
}

/// A file of one ring block (records 1, 2) with `names` spliced in as names blocks
/// before it (ids from `first`), and the names blocks' offset. (These unit tests never
/// intern names, so the sink writes none itself: see `tests/names.rs` for those.)
fn with_names_blocks(first: u32, names: &[&str]) -> (Vec<u8>, usize) {
    let (bytes, _, _) = written(|sink| {
        ada_drain::Sink::<u64, u32>::index(sink, &delivery(None, None, &[1_u64, 2])).unwrap();
    });
    let start = read_all(&bytes).unwrap()[0].offset as usize;
    let mut spliced = bytes[..start].to_vec();
    names::encode_blocks(first, names, &mut spliced);
    spliced.extend_from_slice(&bytes[start..]);
    (spliced, start)
}

#[test]
fn file_sink__header__then_clock_record_of_this_process() {
    let (bytes, _, _) = written(|_| {});
    let reader = CaptureReader::new(&bytes[..]).unwrap();
    assert_eq!(reader.header().version, 3);
    assert_eq!(
        reader.timebase(),
        Timebase::Ticks(*ada_clock::Calibration::get())
    );
    let header_len = FileHeader::of::<u64, u32>().encode().len();
    assert_eq!(reader.position(), (header_len + clock::CLOCK_LEN) as u64);
    assert_eq!(&bytes[header_len..header_len + 4], b"CLOK");
    assert!(
        reader.names().is_empty(),
        "no names interned in this process"
    );
}

#[test]
fn reader__clock_record_wrong__then_typed_error_at_its_offset() {
    let (bytes, _, _) = written(|_| {});
    let at = FileHeader::of::<u64, u32>().encode().len();
    let end = at + clock::CLOCK_LEN;
    let cases: [(&str, Edit, CaptureErrorKind); 4] = [
        (
            "magic",
            |b, at| b[at] = b'X',
            CaptureErrorKind::BadClock("no clock record after the header"),
        ),
        (
            "source",
            |b, at| b[at + 4] = 9,
            CaptureErrorKind::BadClock("an unknown clock source"),
        ),
        (
            "reserved",
            |b, at| b[at + 6] = 1,
            CaptureErrorKind::BadClock("reserved bytes are not zero"),
        ),
        (
            "ns span",
            |b, at| b[at + 16..at + 24].fill(0),
            CaptureErrorKind::BadClock("a span of zero"),
        ),
    ];
    for (what, change, kind) in cases {
        let mut changed = bytes.clone();
        change(&mut changed, at);
        reseal(&mut changed, at, end);
        let error = CaptureReader::new(&changed[..]).unwrap_err();
        assert_eq!(
            error,
            CaptureError {
                offset: at as u64,
                kind
            },
            "{what}"
        );
    }
    // Unsealed: the checksum says so.
    let mut changed = bytes.clone();
    changed[at + 30] ^= 1;
    let error = CaptureReader::new(&changed[..]).unwrap_err();
    assert!(
        matches!(error.kind, CaptureErrorKind::BadChecksum { .. }),
        "{error}"
    );
    // Cut inside it: truncated, at its offset.
    let error = CaptureReader::new(&bytes[..end - 1]).unwrap_err();
    assert_eq!(error.offset, at as u64);
    assert_eq!(
        error.kind,
        CaptureErrorKind::Truncated {
            needed: clock::CLOCK_LEN as u64,
            found: clock::CLOCK_LEN as u64 - 1
        }
    );
}

#[test]
fn clock_record__round_trip__then_same_calibration_for_every_source() {
    for source in [
        ada_clock::ClockSource::Tsc,
        ada_clock::ClockSource::Monotonic,
        ada_clock::ClockSource::None,
    ] {
        let calibration = ada_clock::Calibration {
            source,
            ticks_span: 2_400_000_123,
            ns_span: 1_000_000_007,
            anchor_ticks: u64::MAX - 5,
            anchor_unix_ns: 1_764_000_000_000_000_000,
        };
        assert_eq!(clock::decode(&clock::encode(&calibration)), Ok(calibration));
    }
}

#[test]
fn reader__names_blocks_before_a_ring__then_names_read_with_their_ids() {
    let names: Vec<String> = (0..3_000)
        .map(|i| format!("name {i} {}", "x".repeat(i % 1000)))
        .collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (bytes, start) = with_names_blocks(1, &refs);
    let mut reader = CaptureReader::new(&bytes[..]).unwrap();
    let block = reader.next_block().unwrap().unwrap();
    assert_eq!(block.records::<u64>().unwrap(), [1, 2]);
    assert!(
        block.offset as usize - start > names::MAX_NAMES_BLOCK,
        "more names than one block holds: split"
    );
    assert_eq!(reader.names().len(), 3_000);
    for (id, name) in reader.names().iter() {
        assert_eq!(name, names[id as usize - 1]);
    }
    assert_eq!(reader.names().label(3_000), Label::Name(refs[2_999]));
    assert_eq!(reader.names().label(3_001), Label::Unknown(3_001));
    assert_eq!(reader.names().label(3_001).to_string(), "#3001");
    assert_eq!(reader.next_block().unwrap(), None);
}

#[test]
fn reader__names_block_malformed_with_valid_checksum__then_bad_names_at_its_offset() {
    // Fields after the magic: first id (4), count (8), length (12); entries from 16.
    let cases: [(&str, u32, &[&str], Edit, CaptureErrorKind); 6] = [
        (
            "a gap in the ids",
            2,
            &["a"],
            |_, _| {},
            CaptureErrorKind::BadNames("the first id does not follow the names before it"),
        ),
        (
            "no names",
            1,
            &["a"],
            |b, at| b[at + 8..at + 12].fill(0),
            CaptureErrorKind::BadNames("no names"),
        ),
        (
            "count above the entries",
            1,
            &["a"],
            |b, at| b[at + 8] = 2,
            CaptureErrorKind::BadNames("entries shorter than the count"),
        ),
        (
            "count below the entries",
            1,
            &["a", "b"],
            |b, at| b[at + 8] = 1,
            CaptureErrorKind::BadNames("bytes after the last name"),
        ),
        (
            "a name over the limit",
            1,
            &["a"],
            |b, at| b[at + 16..at + 18].copy_from_slice(&1025_u16.to_le_bytes()),
            CaptureErrorKind::BadNames("a name over 1024 bytes"),
        ),
        (
            "not UTF-8",
            1,
            &["ab"],
            |b, at| b[at + 18] = 0xff,
            CaptureErrorKind::BadName,
        ),
    ];
    for (what, first, names, change, kind) in cases {
        let (mut bytes, at) = with_names_blocks(first, names);
        let end = read_all(&bytes).map_or(0, |blocks| blocks[0].offset as usize);
        let end = if end == 0 {
            at + u32_at(&bytes, at + 12) as usize
        } else {
            end
        };
        change(&mut bytes, at);
        reseal(&mut bytes, at, end);
        let error = read_all(&bytes).unwrap_err();
        assert_eq!(
            error,
            CaptureError {
                offset: at as u64,
                kind
            },
            "{what}"
        );
    }
    // A length out of bounds is refused before anything is read (or allocated).
    for length in [0, 19, names::MAX_NAMES_BLOCK as u32 + 1, u32::MAX] {
        let (mut bytes, at) = with_names_blocks(1, &["a"]);
        bytes[at + 12..at + 16].copy_from_slice(&length.to_le_bytes());
        let error = read_all(&bytes).unwrap_err();
        assert!(
            matches!(error.kind, CaptureErrorKind::BadNames(_)),
            "{length}: {error}"
        );
        assert_eq!(error.offset, at as u64);
    }
}

#[test]
fn reader__names_block_cut_or_changed__then_truncated_or_bad_checksum_at_its_offset() {
    let (bytes, at) = with_names_blocks(1, &["alpha", "beta"]);
    let end = at + u32_at(&bytes, at + 12) as usize;
    for cut in at + 1..end {
        let error = read_all(&bytes[..cut]).unwrap_err();
        assert_eq!(error.offset, at as u64, "cut at {cut}");
        assert!(
            matches!(error.kind, CaptureErrorKind::Truncated { .. }),
            "{error}"
        );
    }
    for changed_at in at + 4..end {
        let mut changed = bytes.clone();
        changed[changed_at] ^= 0x40;
        let error = read_all(&changed).unwrap_err();
        assert_eq!(error.offset, at as u64, "changed at {changed_at}");
    }
}

#[test]
fn reader__version_2_file__then_nanoseconds_and_no_names() {
    // A version 2 file: the same header and ring blocks, without the clock record.
    let (bytes, _, _) = written(|sink| {
        ada_drain::Sink::<u64, u32>::index(sink, &delivery(None, None, &[7_u64])).unwrap();
    });
    let header = FileHeader {
        version: 2,
        ..FileHeader::of::<u64, u32>()
    }
    .encode();
    let mut v2 = header.clone();
    v2.extend_from_slice(&bytes[header.len() + clock::CLOCK_LEN..]);
    let mut reader = CaptureReader::new(&v2[..]).unwrap();
    assert_eq!(reader.timebase(), Timebase::Nanoseconds);
    assert_eq!(reader.timebase().to_ns(123), 123);
    let block = reader.next_block().unwrap().unwrap();
    assert_eq!(block.records::<u64>().unwrap(), [7]);
    assert!(reader.names().is_empty());
    // A names block means nothing to version 2: not a block.
    let (named, at) = with_names_blocks(1, &["a"]);
    let mut v2 = header;
    v2.extend_from_slice(&named[at..]);
    let error = read_all(&v2).unwrap_err();
    assert_eq!(error.kind, CaptureErrorKind::BadBlockMagic);
}

/// A change to a file's bytes at an offset (a plain function: no captures).
type Edit = fn(&mut Vec<u8>, usize);

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}
