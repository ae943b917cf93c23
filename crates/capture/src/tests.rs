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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ada");
    let lane = ada_ring_pool::LaneConfig {
        rings: 4,
        ring_records: 8,
        policy: ada_ring_pool::ExhaustionPolicy::DropOldest,
        mode: ada_ring_pool::LaneMode::SubmitAll,
    };
    let registry = Registry::<u64, u32>::new(RegistryConfig {
        capacity: threads as usize,
        index: lane,
        detail: lane,
    })
    .unwrap();
    let sink = FileSink::<u64, u32>::create(&path).unwrap();
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
    let boundaries: Vec<u64> = whole.iter().map(|b| b.offset).collect();
    for len in 0..bytes.len() {
        match read_all(&bytes[..len]) {
            Ok(blocks) => {
                // Only a cut exactly at a block boundary reads cleanly.
                assert!(
                    boundaries.contains(&(len as u64)),
                    "cut at {len} read as whole"
                );
                assert_eq!(blocks[..], whole[..blocks.len()]);
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
    let header_len = usize::from(u16::from_le_bytes([bytes[10], bytes[11]]));
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
        lost_events: 9,
    };
    let (bytes, blocks, length) = written(|sink| {
        use ada_drain::Sink;
        sink.index(&delivery(Some("worker"), Some(header), &[1_u64, 2, 3]))
            .unwrap();
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
    let bytes = header.encode();
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
    let name = start + 40; // the block's fixed part
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

    // A whole header, then the input fails where the first block should be.
    let header = FileHeader::of::<u64, u32>().encode();
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
    let block_fixed = header.len() + 40;
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
    let header_len = FileHeader::of::<u64, u32>().encode().len();
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
            "format version 9 is not supported (this reader reads 1)",
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
    assert_eq!(error.kind(), std::io::ErrorKind::StorageFull, "{error}");
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
