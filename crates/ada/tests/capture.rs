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

#[cfg(not(feature = "off"))]
#[test]
fn capture__spans_instants_counters_with_names__then_names_and_arguments_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("named.ada");
    let tracer = Tracer::builder()
        .sink(FileSink::create(&path).unwrap())
        .build()
        .unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let _span = ada::span!(tracer: &tracer, category: "io", "round_trip.read", fd = 3_u32);
            ada::instant!(tracer: &tracer, "round_trip.miss", key = "user:42", hit = false);
            ada::counter!(tracer: &tracer, "round_trip.queue", -2_i64);
        });
    });
    let report = tracer.shutdown().unwrap();
    assert_eq!(report.totals.events_delivered, 7);
    let mut reader = CaptureReader::open(&path).unwrap();
    let mut events = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        if block.holds::<Event>() {
            events.extend(block.records::<Event>().unwrap());
        }
    }
    let names = reader.names();
    type Shown<'a> = (
        Option<ada::EventKind>,
        Option<&'a str>,
        Option<&'a str>,
        u64,
    );
    let shown: Vec<Shown<'_>> = events
        .iter()
        .map(|e| {
            (
                e.kind(),
                names.get(e.name),
                names.get(e.category),
                e.argument,
            )
        })
        .collect();
    use ada::EventKind::{Arg, Counter, Enter, Instant, Leave};
    assert_eq!(
        shown,
        [
            (Some(Enter), Some("round_trip.read"), Some("io"), 0),
            (Some(Arg), Some("fd"), None, 3),
            (Some(Instant), Some("round_trip.miss"), None, 0),
            (
                Some(Arg),
                Some("key"),
                None,
                u64::from(ada::names::intern("user:42").unwrap().get())
            ),
            (Some(Arg), Some("hit"), None, 0),
            (
                Some(Counter),
                Some("round_trip.queue"),
                None,
                (-2_i64).cast_unsigned()
            ),
            (Some(Leave), Some("round_trip.read"), Some("io"), 0),
        ]
    );
    // The string argument's value is a name the file carries too.
    assert_eq!(names.get(events[3].argument as u32), Some("user:42"));
    assert_eq!(events[3].arg_type(), Some(ada::ArgType::Name));
    assert_eq!(events[5].depth, ada::ArgType::I64 as u32);
}
