//! The capture file through the facade: the tracer's build refuses lanes whose rings the
//! file could not hold as one block, and its shutdown leaves a trailer that reconciles
//! with the report.

#![allow(non_snake_case)]

use ada::capture::{CaptureReader, MAX_BLOCK_BYTES};
use ada::drain::DrainError;
use ada::{BuildError, Detail, Event, FileSink, LaneConfig, Tracer};

#[test]
fn tracer_build__file_sink_with_rings_over_the_block_bound__then_build_error_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ada");
    // 32-byte events: 2^18 of them fill one block exactly.
    let over = (MAX_BLOCK_BYTES / 32 + 1) as usize;
    let error = Tracer::builder()
        .index_lane(LaneConfig {
            ring_records: over,
            ..LaneConfig::index_lane()
        })
        .sink(FileSink::<Event, Detail>::create(&path).unwrap())
        .build()
        .unwrap_err();
    assert!(
        matches!(&error, BuildError::Drain(DrainError::SinkStart(_))),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("index lane"), "{text}");
    assert!(text.contains(&MAX_BLOCK_BYTES.to_string()), "{text}");
    // Nothing but the header: no ring was written.
    let mut reader = CaptureReader::open(&path).unwrap();
    assert!(reader.next_block().unwrap().is_none());

    let tracer = Tracer::builder()
        .index_lane(LaneConfig {
            ring_records: over - 1,
            ..LaneConfig::index_lane()
        })
        .sink(FileSink::<Event, Detail>::create(&path).unwrap())
        .build()
        .unwrap();
    tracer.shutdown().unwrap();
}

#[test]
fn tracer_shutdown__file_sink__then_trailer_reconciles_with_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ada");
    let tracer = Tracer::builder()
        .index_lane(LaneConfig {
            rings: 2,
            ring_records: 16,
            ..LaneConfig::index_lane()
        })
        .sink(FileSink::create(&path).unwrap())
        .build()
        .unwrap();
    for n in 0..10_000 {
        tracer
            .index(Event::now(ada::EventKind::Instant, 1, n))
            .unwrap();
    }
    let report = tracer.shutdown().unwrap();
    assert!(report.sink_finish_error.is_none(), "{report:?}");
    let mut reader = CaptureReader::open(&path).unwrap();
    while reader.next_block().unwrap().is_some() {}
    let trailer = reader.trailer().expect("shutdown writes the trailer");
    assert_eq!(trailer.totals.written, report.totals.events_written);
    assert_eq!(trailer.totals.delivered, report.totals.events_delivered);
    assert_eq!(trailer.totals.dropped.lost(), report.totals.events_lost());
    assert!(reader.reconcile().unwrap().reconciles());
}
