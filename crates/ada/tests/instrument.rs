//! The instrumentation macros, the global tracer and the thread-local fast path, end to
//! end: what reaches the sink, per thread, in order, conserved exactly.
#![allow(non_snake_case)]
#![cfg(not(feature = "off"))]

use ada::drain::{Collected, CollectingSink};
use ada::{ArgType, Detail, Event, EventKind, LaneConfig, Tracer};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex, MutexGuard};

/// The global tracer is one per process: its tests take turns.
fn global_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

type Sink = CollectingSink<Event, Detail>;

/// A tracer of ada's records into a collecting sink, with index lanes that hold more than
/// any test's thread writes (8192 records), so that nothing is lost however slow the
/// drain: what is written is delivered.
fn collecting() -> (ada::TracerBuilder<Event, Detail>, Sink) {
    let sink = Sink::default();
    let builder = Tracer::builder()
        .threads(16)
        .index_lane(LaneConfig {
            rings: 8,
            ring_records: 1024,
            ..LaneConfig::index_lane()
        })
        .sink(sink.clone());
    (builder, sink)
}

/// Index records delivered, per (slot, generation), in delivery order.
fn per_thread(deliveries: &[Collected<Event>]) -> BTreeMap<(usize, u32), Vec<Event>> {
    let mut threads: BTreeMap<(usize, u32), Vec<Event>> = BTreeMap::new();
    for delivery in deliveries {
        threads
            .entry((delivery.slot, delivery.generation))
            .or_default()
            .extend_from_slice(&delivery.records);
    }
    threads
}

fn name(event: &Event) -> Option<&'static str> {
    ada::names::lookup(ada::names::NameId::from_raw(event.name))
}

/// Checks that `events` nest: every Leave closes the innermost open Enter of the same
/// name; returns the spans closed.
fn balanced(events: &[Event]) -> usize {
    let mut open = Vec::new();
    let mut closed = 0;
    for event in events {
        match event.kind() {
            Some(EventKind::Enter) => open.push(event.name),
            Some(EventKind::Leave) => {
                assert_eq!(open.pop(), Some(event.name), "leave closes the innermost");
                closed += 1;
            }
            _ => {}
        }
    }
    assert!(open.is_empty(), "every span left: {open:?}");
    closed
}

fn early_return(tracer: &Tracer, stop: bool) -> u32 {
    let _span = ada::span!(tracer: tracer, "early_return");
    if stop {
        return 1;
    }
    2
}

fn question_mark(tracer: &Tracer, input: &str) -> Result<u32, std::num::ParseIntError> {
    let _span = ada::span!(tracer: tracer, "question_mark", bytes = input.len());
    let value: u32 = input.parse()?;
    Ok(value)
}

fn panics(tracer: &Tracer) {
    let _span = ada::span!(tracer: tracer, "panics");
    let _inner = ada::span!(tracer: tracer, "inner");
    panic!("unwinding closes both spans");
}

#[test]
fn span__early_return_question_mark_and_panic__then_every_span_left() {
    let (builder, sink) = collecting();
    let tracer = builder.build().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert_eq!(early_return(&tracer, true), 1);
            assert_eq!(early_return(&tracer, false), 2);
            assert!(question_mark(&tracer, "x").is_err());
            assert_eq!(question_mark(&tracer, "7"), Ok(7));
            let unwound =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| panics(&tracer)));
            assert!(unwound.is_err());
        });
        // The scope returns before the thread's TLS destructor retires its handle: the
        // shutdown below may race the retirement (`edges.rs` repeats that race).
    });
    let report = tracer.shutdown().unwrap();
    let threads = per_thread(&sink.index_deliveries());
    let events = threads.values().next().expect("one thread");
    assert_eq!(balanced(events), 6, "2 early returns, 2 `?`, 2 unwound");
    let names: Vec<_> = events
        .iter()
        .filter(|e| e.kind() == Some(EventKind::Leave))
        .map(|e| name(e).unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "early_return",
            "early_return",
            "question_mark",
            "question_mark",
            "inner",
            "panics"
        ]
    );
    // `?`'s spans carry their argument right after the enter.
    let args: Vec<_> = events
        .windows(2)
        .filter(|w| w[0].kind() == Some(EventKind::Enter) && name(&w[0]) == Some("question_mark"))
        .map(|w| (w[1].kind(), name(&w[1]), w[1].arg_type(), w[1].argument))
        .collect();
    assert_eq!(
        args,
        [(Some(EventKind::Arg), Some("bytes"), Some(ArgType::U64), 1); 2]
    );
    assert_eq!(report.totals.events_written, 6 * 2 + 2);
    assert_eq!(report.totals.events_delivered, report.totals.events_written);
    assert!(report.totals.is_conserved());
}

fn first_site(tracer: &Tracer, n: u64) {
    ada::instant!(tracer: tracer, "shared.name", n = n);
}

fn second_site(tracer: &Tracer, n: u64) {
    ada::instant!(tracer: tracer, category: "shared.name", "shared.name", n = n);
}

#[test]
fn macros__one_string_at_two_callsites_from_many_threads__then_one_name_id() {
    let (builder, sink) = collecting();
    let tracer = builder.build().unwrap();
    let start = Barrier::new(8);
    std::thread::scope(|s| {
        for thread in 0..8_u64 {
            let (tracer, start) = (&tracer, &start);
            s.spawn(move || {
                start.wait(); // first uses race
                for n in 0..10 {
                    if (thread + n) % 2 == 0 {
                        first_site(tracer, n);
                    } else {
                        second_site(tracer, n);
                    }
                }
            });
        }
    });
    let report = tracer.shutdown().unwrap();
    let events: Vec<Event> = sink
        .index_deliveries()
        .iter()
        .flat_map(|d| d.records.clone())
        .collect();
    let instants: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind() == Some(EventKind::Instant))
        .collect();
    assert_eq!(instants.len(), 80);
    let id = ada::names::intern("shared.name").unwrap().get();
    assert!(instants.iter().all(|e| e.name == id), "one id per string");
    assert_eq!(
        instants.iter().filter(|e| e.category == id).count(),
        40,
        "the category is the same name"
    );
    assert_eq!(report.totals.events_delivered, 160);
    assert!(report.totals.is_conserved());
}

#[test]
fn install__spans_from_many_threads_and_one_still_alive__then_every_record_delivered() {
    let _turn = global_lock();
    let (builder, sink) = collecting();
    let guard = ada::install(builder).unwrap();
    let workers: Vec<_> = (0..4_u64)
        .map(|worker| {
            std::thread::spawn(move || {
                for n in 0..500 {
                    let _outer = ada::span!("request", worker = worker, n = n);
                    let _inner = ada::span!(category: "db", "query");
                    ada::counter!("queue_len", n);
                }
            })
        })
        .collect();
    workers.into_iter().for_each(|w| w.join().unwrap());
    // One thread stays alive through the shutdown: its committed records are collected
    // by the final drain.
    let wrote = Barrier::new(2);
    let finished = Barrier::new(2);
    let alive = std::thread::scope(|s| {
        let alive = s.spawn(|| {
            for n in 0..10_u64 {
                ada::instant!("alive", n = n);
            }
            wrote.wait();
            finished.wait();
            // After the shutdown: nothing installed, nothing written.
            ada::instant!("after");
            assert!(!ada::is_installed());
        });
        wrote.wait();
        let report = guard.finish().unwrap();
        finished.wait();
        alive.join().unwrap();
        report
    });
    let report = alive;
    // Per request: enter + 2 args, enter, counter, 2 leaves.
    let expected = 4 * 500 * 7 + 10 * 2;
    assert_eq!(report.totals.events_written, expected);
    assert_eq!(report.totals.events_delivered, expected);
    assert!(report.totals.is_conserved());
    for thread in &report.threads {
        assert!(thread.index.is_conserved(), "{thread:?}");
    }
    let threads = per_thread(&sink.index_deliveries());
    let delivered: usize = threads.values().map(Vec::len).sum();
    assert_eq!(delivered as u64, expected, "records counted in the sink");
    for events in threads.values() {
        balanced(events);
    }
    assert_eq!(threads.len(), 5);
}

#[test]
fn install__while_installed__then_typed_error_and_install_after_shutdown_works() {
    let _turn = global_lock();
    let guard = ada::install(Tracer::builder()).unwrap();
    let error = ada::install(Tracer::builder()).unwrap_err();
    assert!(matches!(error, ada::InstallError::AlreadyInstalled));
    assert!(error.to_string().contains("installed already"), "{error}");
    let bad = ada::install(Tracer::builder().index_lane(LaneConfig {
        rings: 1,
        ..LaneConfig::index_lane()
    }));
    assert!(
        matches!(bad, Err(ada::InstallError::AlreadyInstalled)),
        "refused before the builder is even built"
    );
    ada::instant!("one");
    // `ada::shutdown` stops it; the guard then has nothing left.
    assert_eq!(ada::shutdown().unwrap().totals.events_delivered, 1);
    assert!(matches!(
        guard.finish(),
        Err(ada::ShutdownError::NotInstalled)
    ));
    assert!(matches!(
        ada::shutdown(),
        Err(ada::ShutdownError::NotInstalled)
    ));
    // A build error is typed too, and leaves nothing installed.
    let bad = ada::install(Tracer::builder().index_lane(LaneConfig {
        rings: 1,
        ..LaneConfig::index_lane()
    }));
    assert!(matches!(bad, Err(ada::InstallError::Build(_))));
    assert!(!ada::is_installed());
    // Installing again works, on the same thread (whose cached handle is the old one's).
    let guard = ada::install(Tracer::builder()).unwrap();
    ada::instant!("two");
    ada::instant!("three");
    assert_eq!(guard.finish().unwrap().totals.events_delivered, 2);
    // Dropping a guard shuts down as well.
    let guard = ada::install(Tracer::builder()).unwrap();
    drop(guard);
    assert!(!ada::is_installed());
}

#[test]
fn set_enabled_false__macros_global_and_explicit__then_nothing_written_or_evaluated() {
    let _turn = global_lock();
    let evaluated = AtomicU64::new(0);
    let value = || evaluated.fetch_add(1, Ordering::Relaxed);
    let guard = ada::install(Tracer::builder()).unwrap();
    let tracer = Tracer::builder().build().unwrap();
    ada::set_enabled(false);
    assert!(!ada::enabled());
    {
        let span = ada::span!("off", v = value());
        assert!(!span.is_recording());
        let _explicit = ada::span!(tracer: &tracer, "off", v = value());
        ada::instant!("off", v = value());
        ada::instant!(tracer: &tracer, "off", v = value());
        ada::counter!("off", value());
        ada::counter!(tracer: &tracer, "off", value());
    }
    // A span entered while on still leaves while off.
    ada::set_enabled(true);
    let span = ada::span!("straddles");
    assert!(span.is_recording());
    ada::set_enabled(false);
    drop(span);
    ada::set_enabled(true);
    assert_eq!(
        evaluated.load(Ordering::Relaxed),
        0,
        "arguments not evaluated"
    );
    assert_eq!(tracer.shutdown().unwrap().totals.events_written, 0);
    let report = guard.finish().unwrap();
    assert_eq!(report.totals.events_written, 2, "the straddling span only");
}

#[test]
fn nothing_installed__macros__then_nothing_written_or_evaluated() {
    let _turn = global_lock();
    assert!(!ada::is_installed());
    let evaluated = AtomicU64::new(0);
    let value = || evaluated.fetch_add(1, Ordering::Relaxed);
    let span = ada::span!("nowhere", v = value());
    assert!(!span.is_recording());
    ada::instant!("nowhere", v = value());
    ada::counter!("nowhere", value());
    assert_eq!(evaluated.load(Ordering::Relaxed), 0);
}

#[test]
fn thread_local__two_tracers_alternating_on_one_thread__then_each_record_to_its_tracer() {
    let (first_builder, first_sink) = collecting();
    let (second_builder, second_sink) = collecting();
    let (first, second) = (
        first_builder.build().unwrap(),
        second_builder.build().unwrap(),
    );
    std::thread::scope(|s| {
        s.spawn(|| {
            for n in 0..300_u64 {
                first.index(Event::now(EventKind::Instant, 1, n)).unwrap();
                second.index(Event::now(EventKind::Instant, 2, n)).unwrap();
                if n % 3 == 0 {
                    // Twice in a row: a hit on the cache after the miss.
                    second
                        .index(Event::now(EventKind::Instant, 2, 1000 + n))
                        .unwrap();
                    ada::counter!(tracer: &first, "n", n);
                }
            }
        });
    });
    let (first_report, second_report) = (first.shutdown().unwrap(), second.shutdown().unwrap());
    let arguments = |sink: &Sink, kind: EventKind| -> Vec<(u32, u64)> {
        sink.index_deliveries()
            .iter()
            .flat_map(|d| d.records.clone())
            .filter(|e| e.kind() == Some(kind))
            .map(|e| (e.name, e.argument))
            .collect()
    };
    let firsts: Vec<(u32, u64)> = (0..300).map(|n| (1, n)).collect();
    assert_eq!(arguments(&first_sink, EventKind::Instant), firsts);
    let counters = arguments(&first_sink, EventKind::Counter);
    assert_eq!(counters.len(), 100);
    let seconds: Vec<(u32, u64)> = (0..300)
        .flat_map(|n| {
            let mut records = vec![(2, n)];
            if n % 3 == 0 {
                records.push((2, 1000 + n));
            }
            records
        })
        .collect();
    assert_eq!(arguments(&second_sink, EventKind::Instant), seconds);
    assert_eq!(first_report.totals.events_delivered, 400);
    assert_eq!(second_report.totals.events_delivered, 400);
    assert!(first_report.totals.is_conserved() && second_report.totals.is_conserved());
}

#[test]
fn flush_on_panic__thread_panics_and_lives_on__then_its_ring_handed_over_at_once() {
    let _turn = global_lock();
    ada::flush_on_panic();
    ada::flush_on_panic(); // idempotent
    let (builder, sink) = collecting();
    // In-place collection (what would deliver the records without the hook) only after
    // a minute.
    let builder = builder.drain(ada::DrainConfig {
        latency_bound: std::time::Duration::from_secs(60),
        ..ada::DrainConfig::default()
    });
    let guard = ada::install(builder).unwrap();
    let done = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            let unwound = std::panic::catch_unwind(|| {
                ada::instant!("before_panic", n = 1);
                panic!("hooked");
            });
            assert!(unwound.is_err());
            done.wait(); // alive until the sink has the records
            done.wait();
        });
        done.wait();
        // The hook submitted the partly filled ring: a delivery with a header (a
        // ring), not an in-place collection.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let submitted = loop {
            let submitted: Vec<Event> = sink
                .index_deliveries()
                .iter()
                .filter(|d| d.header.is_some())
                .flat_map(|d| d.records.clone())
                .collect();
            if !submitted.is_empty() || std::time::Instant::now() > deadline {
                break submitted;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        done.wait(); // before asserting: the thread must not wait forever
        assert_eq!(
            submitted.len(),
            2,
            "handed over at once, event and argument"
        );
        assert_eq!(name(&submitted[0]), Some("before_panic"));
    });
    let report = guard.finish().unwrap();
    assert_eq!(report.totals.events_delivered, 2);
}
