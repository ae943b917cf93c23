//! Unit tests of the facade: the builder's validation, thread-local and explicit
//! emitting, marks, flush, snapshot and the shutdown report.

#![allow(non_snake_case)]

use super::*;
use ada_capture::CaptureReader;
use std::collections::BTreeMap;

#[test]
fn builder__invalid_settings__then_typed_errors_naming_them() {
    let error = Tracer::builder().threads(0).build().unwrap_err();
    assert!(matches!(error, BuildError::Registry(_)), "{error}");
    let error = Tracer::builder()
        .detail_lane(LaneConfig {
            ring_records: 0,
            ..LaneConfig::detail_lane()
        })
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("detail lane"), "{error}");
    let error = Tracer::builder()
        .drain(DrainConfig {
            quantum: 0,
            ..DrainConfig::default()
        })
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("quantum"), "{error}");
}

#[test]
fn tracer__thread_local_writes_from_many_threads__then_all_delivered_and_conserved() {
    let tracer = std::sync::Arc::new(Tracer::builder().threads(8).build().unwrap());
    // `spawn` + `join`, not `thread::scope`: a scope can return before its threads' TLS
    // destructors (which retire thread-local handles) have run; `join` waits for them.
    let workers: Vec<_> = (0..6_u64)
        .map(|worker| {
            let tracer = std::sync::Arc::clone(&tracer);
            std::thread::spawn(move || {
                for n in 0..10_000 {
                    tracer
                        .index(Event::now(EventKind::Instant, worker as u32, n))
                        .unwrap();
                }
                tracer.detail(Detail::now(worker, [worker; 6])).unwrap();
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    let tracer = std::sync::Arc::into_inner(tracer).unwrap();
    let report = tracer.shutdown().unwrap();
    assert!(report.totals.is_conserved(), "{:?}", report.totals);
    assert_eq!(report.totals.events_written, 6 * 10_001);
    // The detail records sat in unmarked flight-recorder windows: discarded by design.
    assert_eq!(report.totals.events_discarded, 6);
    assert_eq!(
        report.totals.events_delivered + report.totals.events_lost(),
        6 * 10_000
    );
    assert_eq!(report.threads.len(), 6);
}

#[test]
fn tracer__registry_full__then_write_refused_with_error_not_dropped() {
    let tracer = Tracer::builder().threads(1).build().unwrap();
    let _first = tracer.handle().unwrap();
    let refused =
        std::thread::scope(|s| s.spawn(|| tracer.index(Event::default())).join().unwrap());
    assert!(
        matches!(refused, Err(RegisterError::Full { .. })),
        "{refused:?}"
    );
}

#[test]
fn tracer__dropped_without_shutdown__then_committed_records_reach_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ada");
    {
        let tracer = Tracer::builder()
            .sink(FileSink::create(&path).unwrap())
            .build()
            .unwrap();
        for n in 0..100 {
            tracer.index(Event::now(EventKind::Enter, 1, n)).unwrap();
        }
    }
    let mut reader = CaptureReader::open(&path).unwrap();
    let mut arguments = Vec::new();
    while let Some(block) = reader.next_block().unwrap() {
        arguments.extend(block.records::<Event>().unwrap().iter().map(|e| e.argument));
    }
    assert_eq!(arguments, (0..100).collect::<Vec<u64>>());
}

#[test]
fn tracer__flight_recorder_marks__then_marked_windows_delivered_and_others_discarded() {
    let tracer = Tracer::builder()
        .detail_lane(LaneConfig {
            rings: 4,
            ring_records: 4,
            mode: LaneMode::FlightRecorder { max_mark_depth: 4 },
            ..LaneConfig::detail_lane()
        })
        .build()
        .unwrap();
    // Unmarked windows are recycled (discarded by design); a marked one is kept.
    for n in 0..64 {
        tracer.detail(Detail::now(0, [n; 6])).unwrap();
    }
    tracer.mark_push().unwrap();
    tracer.detail(Detail::now(1, [1000; 6])).unwrap();
    tracer.mark_pop().unwrap();
    assert!(matches!(
        tracer.mark_pop(),
        Err(MarkFailure::Mark(ring_pool::MarkError::NotMarked))
    ));
    let report = tracer.shutdown().unwrap();
    let detail = report.threads[0].detail;
    assert!(detail.is_conserved(), "{detail:?}");
    assert!(detail.events_discarded > 0, "{detail:?}");
    assert!(detail.events_delivered >= 1, "{detail:?}");
}

#[test]
fn tracer__explicit_handles_and_file__then_file_matches_report_per_thread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.ada");
    let tracer = Tracer::builder()
        .index_lane(LaneConfig {
            rings: 4,
            ring_records: 64,
            policy: ExhaustionPolicy::DropNewest,
            mode: LaneMode::SubmitAll,
        })
        .sink(FileSink::create(&path).unwrap())
        .build()
        .unwrap();
    std::thread::scope(|s| {
        for worker in 0..3_u32 {
            let tracer = &tracer;
            s.spawn(move || {
                let mut handle = tracer.handle().unwrap();
                for n in 0..50_000 {
                    handle.index(Event {
                        name: worker,
                        argument: n,
                        ..Event::default()
                    });
                }
            });
        }
    });
    let report = tracer.shutdown().unwrap();
    assert!(report.totals.is_conserved());
    let mut reader = CaptureReader::open(&path).unwrap();
    let mut per_worker: BTreeMap<u32, Vec<u64>> = BTreeMap::new();
    while let Some(block) = reader.next_block().unwrap() {
        for event in block.records::<Event>().unwrap() {
            per_worker
                .entry(event.name)
                .or_default()
                .push(event.argument);
        }
    }
    let in_file: u64 = per_worker.values().map(|v| v.len() as u64).sum();
    assert_eq!(in_file, report.totals.events_delivered);
    for arguments in per_worker.values() {
        assert!(
            arguments.windows(2).all(|w| w[0] < w[1]),
            "per-thread order"
        );
    }
}

#[test]
fn tracer__flush_mark_snapshot_and_debug__then_flushed_records_delivered_before_shutdown() {
    let tracer = Tracer::builder().build().unwrap();
    let handle = std::thread::spawn({
        let registry = std::sync::Arc::clone(tracer.registry());
        move || registry.occupied()
    });
    assert_eq!(handle.join().unwrap(), 0);
    tracer.index(Event::default()).unwrap();
    tracer.detail(Detail::default()).unwrap();
    tracer.mark().unwrap(); // keeps the detail window
    tracer.flush().unwrap(); // hands both partly filled rings to the drain now
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while tracer.snapshot().rings_delivered < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "{:?}",
            tracer.snapshot()
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(format!("{tracer:?}").contains("Tracer"));
    assert!(format!("{:?}", Tracer::builder()).contains("TracerBuilder"));
    let report = tracer.shutdown().unwrap();
    assert_eq!(report.totals.events_delivered, 2);
    assert!(report.totals.is_conserved());
}

#[test]
fn errors__then_display_and_source_name_the_cause() {
    use std::error::Error as _;
    let error = Tracer::builder().threads(0).build().unwrap_err();
    assert!(error.source().is_some());
    let tracer = Tracer::builder()
        .detail_lane(LaneConfig {
            mode: LaneMode::SubmitAll,
            ..LaneConfig::detail_lane()
        })
        .build()
        .unwrap();
    let refused = tracer.mark_push().unwrap_err();
    assert!(refused.to_string().contains("flight-recorder"), "{refused}");
    tracer.shutdown().unwrap();
}

#[test]
fn event_kind__each_stored_value__then_the_matching_kind_or_none() {
    for kind in [
        EventKind::Instant,
        EventKind::Enter,
        EventKind::Leave,
        EventKind::Counter,
        EventKind::Arg,
    ] {
        assert_eq!(Event::now(kind, 1, 2).kind(), Some(kind));
    }
    let unknown = Event {
        kind: 7,
        ..Event::default()
    };
    assert_eq!(unknown.kind(), None);
}

#[test]
fn build_error__drain_refuses_its_config__then_drain_error_named_with_source() {
    use std::error::Error as _;
    let error = Tracer::builder()
        .drain(DrainConfig {
            quantum: 0,
            ..DrainConfig::default()
        })
        .build()
        .unwrap_err();
    assert!(matches!(error, BuildError::Drain(_)), "{error:?}");
    assert!(error.to_string().starts_with("tracer drain: "), "{error}");
    assert!(error.source().is_some());
}

#[test]
fn mark_failure__thread_cannot_register__then_register_error_shown() {
    let tracer: Tracer = TracerBuilder::default().threads(1).build().unwrap();
    let _first = tracer.handle().unwrap();
    let refused =
        std::thread::scope(|s| s.spawn(|| tracer.mark_push()).join().unwrap()).unwrap_err();
    assert!(
        matches!(refused, MarkFailure::Register(RegisterError::Full { .. })),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        RegisterError::Full { capacity: 1 }.to_string()
    );
}

/// Small lanes, a collecting sink: cheap enough for Miri.
fn small_global() -> (
    TracerBuilder<Event, Detail>,
    ada_drain::CollectingSink<Event, Detail>,
) {
    let sink = ada_drain::CollectingSink::default();
    let lane = LaneConfig {
        rings: 2,
        ring_records: 8,
        policy: ExhaustionPolicy::DropOldest,
        mode: LaneMode::SubmitAll,
    };
    let builder = Tracer::builder()
        .threads(2)
        .index_lane(lane)
        .detail_lane(LaneConfig {
            ring_records: 2,
            ..LaneConfig::detail_lane()
        })
        .sink(sink.clone());
    (builder, sink)
}

/// The global handle's cache across a tracer's replacement on a live thread, and its
/// retirement at thread exit (the thread-local path Miri checks: `miri test -p
/// ada-trace --lib global_handle`).
#[test]
fn global_handle__tracer_replaced_while_thread_lives_then_thread_exits__then_each_record_once() {
    let (builder, first_sink) = small_global();
    let first = install(builder).unwrap();
    let (to_worker, from_main) = std::sync::mpsc::channel::<()>();
    let (to_main, from_worker) = std::sync::mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        for n in 0..3_u64 {
            let _span = span!("global_handle.first", n = n);
        }
        to_main.send(()).unwrap();
        from_main.recv().unwrap(); // the first tracer is replaced meanwhile
        for n in 0..2_u64 {
            instant!("global_handle.second", n = n); // a miss, then hits
        }
    });
    from_worker.recv().unwrap();
    let report = first.finish().unwrap();
    // The worker is alive: its committed records were collected by the final drain.
    assert_eq!(report.totals.events_written, 9);
    assert_eq!(
        report.totals.events_delivered + report.totals.dropped.total(),
        9
    );
    let (builder, second_sink) = small_global();
    let second = install(builder).unwrap();
    to_worker.send(()).unwrap();
    worker.join().unwrap(); // its thread-local destructor retired the handle
    let report = second.finish().unwrap();
    assert_eq!(report.totals.events_written, 4);
    assert_eq!(report.totals.events_delivered, 4);
    let names = |sink: &ada_drain::CollectingSink<Event, Detail>| -> Vec<&'static str> {
        sink.index_deliveries()
            .iter()
            .flat_map(|d| d.records.clone())
            .filter(|e| e.kind() != Some(EventKind::Arg))
            .map(|e| names::lookup(names::NameId::from_raw(e.name)).unwrap())
            .collect()
    };
    assert!(
        names(&first_sink)
            .iter()
            .all(|n| *n == "global_handle.first")
    );
    assert_eq!(names(&second_sink), ["global_handle.second"; 2]);
}
