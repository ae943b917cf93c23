//! The capture's name table (format version 3) through a real drain: every name once,
//! before the first block that can use it, so that a reader (even of a file cut short)
//! names every record of its whole blocks. An integration test: its own process, so the
//! unit tests' files stay free of names blocks.

#![allow(non_snake_case)]

use ada_capture::{CaptureErrorKind, CaptureReader, FileSink, Label, Timebase};
use ada_drain::{Drain, DrainConfig};
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
use ada_thread_registry::{Registry, RegistryConfig};
use std::path::Path;
use std::sync::Arc;

/// Writes `early` names' ids, then interns `late` new names and writes theirs, through a
/// drain with 16-record rings and a file sink at `path`. The records are name ids.
fn capture(path: &Path, tag: &str, early: u32, late: u32) -> Vec<u64> {
    let lane = LaneConfig {
        rings: 64,
        ring_records: 16,
        policy: ExhaustionPolicy::DropOldest,
        mode: LaneMode::SubmitAll,
    };
    let registry = Registry::<u64, u64>::new(RegistryConfig {
        capacity: 2,
        index: lane,
        detail: lane,
    })
    .unwrap();
    let sink = FileSink::<u64, u64>::create(path).unwrap();
    let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
    drain.start().unwrap();
    let intern = |i: u32| u64::from(ada_names::intern(&format!("{tag} {i}")).unwrap().get());
    let early_ids: Vec<u64> = (0..early).map(intern).collect();
    let mut written = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut handle = registry.register().unwrap();
            for &id in &early_ids {
                handle.index(id);
                written.push(id);
            }
            handle.flush();
            // New names after blocks were written: they need a later names block.
            std::thread::sleep(std::time::Duration::from_millis(20));
            for i in early..early + late {
                let id = intern(i);
                handle.index(id);
                written.push(id);
            }
        });
    });
    let report = drain.stop().unwrap();
    assert_eq!(
        report.totals.events_delivered,
        written.len() as u64,
        "nothing lost"
    );
    written
}

#[test]
fn file_sink__names_interned_before_and_during_the_run__then_every_record_named_by_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.ada");
    let written = capture(&path, "round trip", 100, 100);

    let mut reader = CaptureReader::open(&path).unwrap();
    assert_eq!(
        reader.timebase(),
        Timebase::Ticks(*ada_clock::Calibration::get())
    );
    let mut read = Vec::new();
    let mut names_seen = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        names_seen.push(reader.names().len());
        for id in block.records::<u64>().unwrap() {
            let id = u32::try_from(id).unwrap();
            // Named by the time its block is read: the names came first.
            assert_eq!(
                reader.names().label(id),
                Label::Name(ada_names::lookup(ada_names::NameId::from_raw(id)).unwrap()),
            );
            read.push(u64::from(id));
        }
    }
    assert_eq!(read, written);
    assert!(
        names_seen.first() < names_seen.last(),
        "the late names came in a later names block: {names_seen:?}"
    );
    // Each name once, ids from 1: the file's table is a prefix of the process's.
    for (id, name) in reader.names().iter() {
        assert_eq!(
            ada_names::lookup(ada_names::NameId::from_raw(id)),
            Some(name)
        );
    }
    assert!(reader.reconcile().unwrap().reconciles());
}

#[test]
fn reader__capture_cut_inside_a_later_block__then_every_record_of_whole_blocks_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.ada");
    capture(&path, "cut", 64, 64);
    let bytes = std::fs::read(&path).unwrap();
    let mut reader = CaptureReader::new(&bytes[..]).unwrap();
    // Each ring block's offset and length (42 fixed bytes, cause entries, thread name,
    // records, checksum).
    let mut blocks = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        let causes = block.losses.as_ref().map_or(0, ada_capture::Losses::len);
        let len = 42
            + 10 * causes
            + block.thread_name.len()
            + 8 * block.records::<u64>().unwrap().len()
            + 4;
        blocks.push((block.offset as usize, len));
    }
    // Cut in the middle of each block after the first: the blocks before it are whole.
    for (at, &(start, len)) in blocks.iter().enumerate().skip(1) {
        let cut = start + len / 2;
        let mut reader = CaptureReader::new(&bytes[..cut]).unwrap();
        let mut blocks = 0;
        let error = loop {
            match reader.next_block() {
                Ok(Some(block)) => {
                    blocks += 1;
                    for id in block.records::<u64>().unwrap() {
                        let label = reader.names().label(u32::try_from(id).unwrap());
                        assert!(matches!(label, Label::Name(name) if name.starts_with("cut ")));
                    }
                }
                Ok(None) => panic!("a file cut at {cut} read to its end"),
                Err(error) => break error,
            }
        };
        assert_eq!(blocks, at, "every whole block before the cut");
        assert!(
            matches!(error.kind, CaptureErrorKind::Truncated { .. }),
            "{error}"
        );
    }
}
