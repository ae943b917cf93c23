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
