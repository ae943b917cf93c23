//! The drain's behaviour tests: lifecycle and its typed errors, fair polling under
//! unequal producers, the quantum, shutdown with partly filled rings, failing, panicking
//! and stalling sinks, live snapshots, CPU pinning; every run checked for conservation.
#![allow(non_snake_case)]

use super::*;
use crate::control::IdleStep;
use crate::sync::AtomicU64;
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
use ada_thread_registry::RegistryConfig;
use std::sync::Barrier;
use std::time::Instant;

type Reg = Arc<Registry<u64, u64>>;

fn registry(capacity: usize, ring_records: usize) -> Reg {
    let lane = LaneConfig {
        rings: 4,
        ring_records,
        policy: ExhaustionPolicy::DropOldest,
        mode: LaneMode::SubmitAll,
    };
    Registry::new(RegistryConfig {
        capacity,
        index: lane,
        detail: LaneConfig::detail_lane(),
    })
    .unwrap()
}

fn fast() -> DrainConfig {
    DrainConfig {
        park_interval: Duration::from_micros(200),
        ..DrainConfig::default()
    }
}

/// Every record delivered to `sink`, sorted.
fn delivered(sink: &CollectingSink<u64, u64>) -> Vec<u64> {
    let mut all: Vec<u64> = sink
        .index_deliveries()
        .into_iter()
        .flat_map(|d| d.records)
        .collect();
    all.sort_unstable();
    all
}

/// `threads` threads each write `events` records tagged `thread * 1_000_000 + n`, then
/// exit (their slots retire).
fn produce(registry: &Reg, threads: u64, events: u64) {
    std::thread::scope(|s| {
        for thread in 0..threads {
            s.spawn(move || {
                let mut handle = loop {
                    match registry.register() {
                        Ok(handle) => break handle,
                        Err(ada_thread_registry::RegisterError::Full { .. }) => {
                            std::thread::yield_now()
                        }
                        Err(other) => panic!("{other}"),
                    }
                };
                for n in 0..events {
                    handle.index(thread * 1_000_000 + n);
                    if n % 256 == 0 {
                        std::thread::yield_now(); // let the drain keep up now and then
                    }
                }
            });
        }
    });
}

fn assert_conserved(report: &DrainReport) {
    assert!(report.totals.is_conserved(), "{:?}", report.totals);
    for thread in &report.threads {
        assert!(
            thread.index.is_conserved() && thread.detail.is_conserved(),
            "{thread:?}"
        );
    }
}

#[test]
fn drain_thread__create_with_valid_config__then_returns_handle() {
    let drain = Drain::new(registry(4, 64), NullSink::default(), DrainConfig::default()).unwrap();
    assert_eq!(drain.state(), DrainState::Initialized);
}

#[test]
fn drain_thread__invalid_config__then_typed_error() {
    let zero_quantum = DrainConfig {
        quantum: 0,
        ..DrainConfig::default()
    };
    assert!(matches!(
        Drain::new(registry(1, 8), NullSink::default(), zero_quantum),
        Err(DrainError::InvalidConfig(_))
    ));
    let zero_park = DrainConfig {
        park_interval: Duration::ZERO,
        ..DrainConfig::default()
    };
    assert!(Drain::new(registry(1, 8), NullSink::default(), zero_park).is_err());
}

#[test]
fn drain_thread__start_when_already_running__then_returns_error() {
    let mut drain = Drain::new(registry(4, 64), NullSink::default(), fast()).unwrap();
    drain.start().unwrap();
    assert_eq!(drain.state(), DrainState::Running);
    assert_eq!(drain.start(), Err(DrainError::AlreadyStarted));
    drain.stop().unwrap();
    assert_eq!(drain.state(), DrainState::Stopped);
    assert_eq!(drain.start(), Err(DrainError::AlreadyStarted));
    assert_eq!(drain.stop().err(), Some(DrainError::AlreadyStopping));
}

#[test]
fn drain_thread__stop_before_start__then_returns_error() {
    let drain = Drain::new(registry(4, 64), NullSink::default(), fast()).unwrap();
    assert_eq!(drain.stop().err(), Some(DrainError::NotStarted));
}

#[test]
fn drain_thread__second_drain_on_registry__then_error() {
    let registry = registry(4, 64);
    let mut first = Drain::new(Arc::clone(&registry), NullSink::default(), fast()).unwrap();
    first.start().unwrap();
    let mut second = Drain::new(registry, NullSink::default(), fast()).unwrap();
    assert_eq!(second.start(), Err(DrainError::RegistryHasDrain));
    first.stop().unwrap();
}

#[test]
fn drain_thread__concurrent_stop_calls__then_handled_safely() {
    let mut drain = Drain::new(registry(4, 64), NullSink::default(), fast()).unwrap();
    drain.start().unwrap();
    let drain = &drain;
    let outcomes: Vec<Result<DrainReport, DrainError>> = std::thread::scope(|s| {
        let stops: Vec<_> = (0..4).map(|_| s.spawn(move || drain.stop())).collect();
        stops.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "exactly one stop reports"
    );
    assert!(
        outcomes
            .iter()
            .filter(|o| o.is_err())
            .all(|o| o.as_ref().err() == Some(&DrainError::AlreadyStopping))
    );
}

#[test]
fn drain_thread__empty_registry__then_idles_and_stops() {
    let parks_at_once = DrainConfig {
        spin_for: Duration::ZERO,
        park_after: Duration::ZERO,
        ..fast()
    };
    let mut drain = Drain::new(registry(4, 64), NullSink::default(), parks_at_once).unwrap();
    drain.start().unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let report = drain.stop().unwrap();
    assert!(
        report.drain.idle_cycles > 0 && report.drain.parks > 0,
        "{report:?}"
    );
    assert_eq!(report.totals, ada_metrics::LaneSnapshot::default());
}

#[test]
fn drain_thread__stop_when_running__then_drains_and_stops() {
    let registry = registry(8, 64);
    let sink = CollectingSink::default();
    let mut drain = Drain::new(Arc::clone(&registry), sink.clone(), fast()).unwrap();
    drain.start().unwrap();
    produce(&registry, 1, 10_000);
    let report = drain.stop().unwrap();
    assert_conserved(&report);
    assert_eq!(report.totals.events_written, 10_000);
    assert_eq!(
        delivered(&sink).len() as u64,
        report.totals.events_delivered
    );
    assert_eq!(report.threads.len(), 1);
    assert!(report.threads[0].retired);
    assert_eq!(report.bytes_delivered, report.totals.events_delivered * 8);
}

#[rstest::rstest]
#[case::round_robin(PollOrder::RoundRobin)]
#[case::fullest_first(PollOrder::FullestFirst)]
fn drain_worker__multiple_producers__then_processes_fairly(#[case] poll_order: PollOrder) {
    // Unequal producers: every one is served, nothing is lost uncounted.
    let registry = registry(8, 64);
    let sink = CollectingSink::default();
    let config = DrainConfig {
        poll_order,
        ..fast()
    };
    let mut drain = Drain::new(Arc::clone(&registry), sink.clone(), config).unwrap();
    drain.start().unwrap();
    std::thread::scope(|s| {
        for (thread, events) in [(0_u64, 20_000_u64), (1, 2_000), (2, 200), (3, 20)] {
            let registry = &registry;
            s.spawn(move || {
                let mut handle = registry.register().unwrap();
                for n in 0..events {
                    handle.index(thread * 1_000_000 + n);
                    if n % 128 == 0 {
                        std::thread::yield_now();
                    }
                }
            });
        }
    });
    let report = drain.stop().unwrap();
    assert_conserved(&report);
    assert_eq!(report.threads.len(), 4);
    assert!(
        report.threads.iter().all(|t| t.rings_delivered > 0),
        "every producer served"
    );
    let records = delivered(&sink);
    for thread in 0..4 {
        assert!(records.iter().any(|r| r / 1_000_000 == thread));
    }
    assert!(report.fairness_index > 0.0 && report.fairness_index <= 1.0);
    assert_eq!(
        report.poll_order, poll_order,
        "the report says which order ran"
    );
}

#[test]
fn drain_worker__quantum_limit__then_switches_threads() {
    // Slot 0 has three rings queued, slot 1 one ring. With a quantum of one ring, slot 1's
    // ring is delivered before slot 0's second ring.
    let registry = registry(2, 4);
    let mut busy = registry.register().unwrap();
    let mut quiet = registry.register().unwrap();
    for n in 0..13 {
        busy.index(n); // 3 full rings submitted, 1 record active
    }
    for n in 0..5 {
        quiet.index(100 + n); // 1 full ring submitted
    }
    let sink = CollectingSink::default();
    let config = DrainConfig {
        quantum: 1,
        ..fast()
    };
    let mut drain = Drain::new(Arc::clone(&registry), sink.clone(), config).unwrap();
    drain.start().unwrap();
    while sink.index_deliveries().len() < 4 {
        std::thread::yield_now();
    }
    let order: Vec<usize> = sink
        .index_deliveries()
        .iter()
        .take(4)
        .map(|d| d.slot)
        .collect();
    assert_eq!(
        &order[..2],
        [0, 1],
        "one ring from each slot before the second from slot 0"
    );
    drop((busy, quiet));
    let report = drain.stop().unwrap();
    assert_conserved(&report);
    assert!(
        report.drain.fairness_switches > 0,
        "the busy lane was cut at its quantum"
    );
    assert!(report.threads.iter().all(|t| t.last_seen_us_ago.is_some()));
}

#[test]
fn drain_thread__sixty_four_producers__then_conserved() {
    let threads = if cfg!(miri) { 4 } else { 64 };
    let registry = registry(64, 256);
    let sink = CollectingSink::default();
    let mut drain = Drain::new(Arc::clone(&registry), sink.clone(), fast()).unwrap();
    drain.start().unwrap();
    produce(&registry, threads, if cfg!(miri) { 300 } else { 5_000 });
    let report = drain.stop().unwrap();
    assert_conserved(&report);
    assert_eq!(report.threads.len() as u64, threads);
    let records = delivered(&sink);
    let mut unique = records.clone();
    unique.dedup();
    assert_eq!(unique.len(), records.len(), "no record twice");
    assert_eq!(
        records.len() as u64 + report.totals.events_lost(),
        report.totals.events_written
    );
}

#[test]
fn shutdown__threads_hold_partial_rings__then_everything_committed_delivered() {
    // The threads are still registered when the drain stops: their partly filled rings
    // are collected in place by the final drain. Nothing is in flight afterwards.
    let threads = if cfg!(miri) { 4 } else { 64 };
    let registry = registry(64, 1024);
    let sink = CollectingSink::default();
    let mut drain = Drain::new(Arc::clone(&registry), sink.clone(), fast()).unwrap();
    drain.start().unwrap();
    let written = Barrier::new(threads + 1);
    let stopped = Barrier::new(threads + 1);
    let report = std::thread::scope(|s| {
        for thread in 0..threads as u64 {
            let (registry, written, stopped) = (&registry, &written, &stopped);
            s.spawn(move || {
                let mut handle = registry.register().unwrap();
                for n in 0..1500 {
                    handle.index(thread * 1_000_000 + n);
                }
                written.wait();
                stopped.wait(); // keep the handle (and the partial ring) until after stop
            });
        }
        written.wait();
        let report = drain.stop().unwrap();
        stopped.wait();
        report
    });
    assert!(report.threads.iter().all(|t| !t.retired));
    assert_eq!(report.totals.events_in_flight(), 0, "{:?}", report.totals);
    assert_conserved(&report);
    assert_eq!(
        delivered(&sink).len() as u64 + report.totals.events_lost(),
        threads as u64 * 1500
    );
    assert_eq!(
        registry.register().err(),
        Some(ada_thread_registry::RegisterError::ShuttingDown)
    );
}

#[test]
fn sink__errors__then_counted_and_rings_recycled() {
    let registry = registry(4, 16);
    let calls = Arc::new(AtomicU64::new(0));
    let sink = ClosureSink({
        let calls = Arc::clone(&calls);
        move |_: &Delivery<'_, u64>| {
            if calls.fetch_add(1, Ordering::Relaxed).is_multiple_of(3) {
                Err(SinkError("disk full".to_owned()))
            } else {
                Ok(())
            }
        }
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, fast()).unwrap();
    drain.start().unwrap();
    produce(&registry, 2, 5_000);
    let report = drain.stop().unwrap();
    assert!(report.drain.sink_errors > 0);
    assert!(report.totals.dropped.sink > 0);
    assert_conserved(&report);
}

#[test]
fn sink__panics__then_caught_counted_and_drain_survives() {
    let registry = registry(4, 16);
    let calls = Arc::new(AtomicU64::new(0));
    let sink = ClosureSink({
        let calls = Arc::clone(&calls);
        move |_: &Delivery<'_, u64>| {
            assert!(
                !calls.fetch_add(1, Ordering::Relaxed).is_multiple_of(5),
                "sink failure injected by the test"
            );
            Ok(())
        }
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, fast()).unwrap();
    drain.start().unwrap();
    produce(&registry, 2, 3_000);
    let report = drain.stop().unwrap();
    assert!(report.drain.sink_panics > 0);
    assert!(report.totals.dropped.sink > 0);
    assert!(
        report.totals.events_delivered > 0,
        "the drain kept going after the panics"
    );
    assert_conserved(&report);
}

#[test]
fn sink__stalls__then_producers_never_block_and_drops_counted() {
    let registry = registry(4, 16);
    let sink = ClosureSink(|_: &Delivery<'_, u64>| {
        std::thread::sleep(Duration::from_millis(20));
        Ok(())
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, fast()).unwrap();
    drain.start().unwrap();
    let started = Instant::now();
    produce(&registry, 1, 20_000);
    let writing = started.elapsed();
    let report = drain.stop().unwrap();
    assert!(
        writing < Duration::from_secs(2),
        "the producer did not wait for the sink: {writing:?}"
    );
    assert!(report.totals.events_lost() > 0);
    assert_conserved(&report);
}

#[test]
fn drain__dropped_without_stop__then_still_delivers() {
    // Rings large enough for every record: nothing can be lost, so all must arrive.
    let registry = registry(4, 1024);
    let sink = CollectingSink::default();
    {
        let mut drain = Drain::new(Arc::clone(&registry), sink.clone(), fast()).unwrap();
        drain.start().unwrap();
        produce(&registry, 1, 1_000);
    }
    assert_eq!(delivered(&sink), (0..1_000).collect::<Vec<_>>());
}

#[test]
fn report__serialises_to_json() {
    let mut drain = Drain::new(registry(2, 8), NullSink::default(), fast()).unwrap();
    drain.start().unwrap();
    let report = drain.stop().unwrap();
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"fairness_index\""));
}

#[test]
fn snapshot__while_running__then_shows_deliveries_before_stop() {
    let registry = registry(2, 16);
    let mut drain = Drain::new(Arc::clone(&registry), NullSink::default(), fast()).unwrap();
    assert_eq!(drain.snapshot(), DrainSnapshot::default());
    drain.start().unwrap();
    let mut handle = registry.register().unwrap();
    for n in 0..64 {
        handle.index(n); // four whole rings submitted
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while drain.snapshot().rings_delivered < 3 {
        assert!(Instant::now() < deadline, "{:?}", drain.snapshot());
        std::thread::sleep(Duration::from_millis(1));
    }
    let live = drain.snapshot();
    assert!(
        live.cycles > 0 && live.cycles >= live.idle_cycles,
        "{live:?}"
    );
    drop(handle);
    let report = drain.stop().unwrap();
    assert_eq!(
        drain.snapshot(),
        report.drain,
        "the final values stay readable"
    );
    assert!(report.drain.rings_delivered >= live.rings_delivered);
    assert_conserved(&report);
}

#[test]
fn config__pin_to_cpu_not_available__then_typed_error() {
    let config = DrainConfig {
        pin_to_cpu: Some(usize::MAX),
        ..fast()
    };
    let error = Drain::new(registry(1, 16), NullSink::default(), config).unwrap_err();
    assert!(matches!(error, DrainError::InvalidConfig(why) if why.contains("pin_to_cpu")));
}

#[test]
fn config__pin_to_cpu__then_drain_runs_there_and_report_says_so() {
    let cpu = core_affinity::get_core_ids().unwrap()[0].id;
    let config = DrainConfig {
        pin_to_cpu: Some(cpu),
        ..fast()
    };
    let registry = registry(1, 16);
    let seen_on = Arc::new(AtomicU64::new(u64::MAX));
    let sink = ClosureSink({
        let seen_on = Arc::clone(&seen_on);
        move |_: &Delivery<'_, u64>| {
            // The thread's allowed set is now exactly the pinned CPU.
            let allowed = core_affinity::get_core_ids().unwrap();
            assert_eq!(allowed.len(), 1);
            seen_on.store(allowed[0].id as u64, Ordering::Relaxed);
            Ok(())
        }
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, config).unwrap();
    drain.start().unwrap();
    produce(&registry, 1, 100);
    let report = drain.stop().unwrap();
    assert_eq!(report.pinned_cpu, Some(cpu));
    assert_eq!(report.drain.sink_panics, 0);
    assert_eq!(seen_on.load(Ordering::Relaxed), cpu as u64);
    assert_conserved(&report);
}

/// A delivery of `records` from slot 2, generation 5, a whole ring with sequence 11,
/// after 3 events taken back under drop-oldest and 4 discarded.
fn delivery<T>(lane: LaneKind, records: &[T]) -> Delivery<'_, T> {
    Delivery {
        origin: Origin {
            slot: 2,
            generation: 5,
            thread_name: Some("producer"),
            thread_id: None,
        },
        lane,
        header: Some(ada_ring_pool::RingHeader {
            sequence: 11,
            ..Default::default()
        }),
        lost_before: ada_ring_pool::DropCounts {
            oldest: 3,
            ..Default::default()
        },
        discarded_before: 4,
        records,
    }
}

#[test]
fn drain_error__display__then_each_variant_says_what_went_wrong() {
    let cases = [
        (
            DrainError::InvalidConfig("quantum must be at least 1 ring"),
            "invalid drain config: quantum must be at least 1 ring",
        ),
        (
            DrainError::RegistryHasDrain,
            "the registry already has a drain",
        ),
        (DrainError::AlreadyStarted, "the drain was already started"),
        (DrainError::NotStarted, "the drain was never started"),
        (
            DrainError::AlreadyStopping,
            "the drain is already stopping or stopped",
        ),
        (
            DrainError::Spawn("no threads left".to_owned()),
            "could not spawn the drain thread: no threads left",
        ),
        (DrainError::WorkerPanicked, "the drain thread panicked"),
        (
            DrainError::Affinity(3),
            "could not pin the drain thread to CPU 3",
        ),
    ];
    for (error, text) in cases {
        assert_eq!(error.to_string(), text);
        assert!(std::error::Error::source(&error).is_none());
    }
}

#[test]
fn drain_state__from_each_stored_value__then_the_matching_state() {
    for state in [
        DrainState::Initialized,
        DrainState::Running,
        DrainState::Stopping,
        DrainState::Stopped,
    ] {
        assert_eq!(DrainState::from_u8(state as u8), state);
    }
    assert_eq!(DrainState::from_u8(u8::MAX), DrainState::Stopped);
}

#[test]
fn drain__config_and_debug__then_show_the_settings_and_state() {
    let config = DrainConfig {
        quantum: 3,
        ..fast()
    };
    let mut drain = Drain::new(registry(1, 8), NullSink::default(), config).unwrap();
    assert_eq!(drain.config(), &config);
    let debug = format!("{drain:?}");
    assert!(debug.starts_with("Drain {"), "{debug}");
    assert!(debug.contains("state: Initialized"), "{debug}");
    assert!(debug.contains("quantum: 3"), "{debug}");
    drain.start().unwrap();
    assert!(format!("{drain:?}").contains("state: Running"));
    drain.stop().unwrap();
    assert!(format!("{drain:?}").contains("state: Stopped"));
}

#[test]
fn drain_config__invalid_settings__then_error_names_the_setting() {
    let cases = [
        (
            DrainConfig {
                quantum: 0,
                ..fast()
            },
            "quantum",
        ),
        (
            DrainConfig {
                park_interval: Duration::ZERO,
                ..fast()
            },
            "park_interval",
        ),
        (
            DrainConfig {
                nap: Duration::ZERO,
                ..fast()
            },
            "nap",
        ),
        (
            DrainConfig {
                nap: Duration::from_millis(1),
                park_interval: Duration::from_micros(500),
                ..fast()
            },
            "nap",
        ),
        (
            DrainConfig {
                spin_for: Duration::from_millis(30),
                park_after: Duration::from_millis(20),
                ..fast()
            },
            "spin_for",
        ),
    ];
    for (config, setting) in cases {
        let error = Drain::new(registry(1, 8), NullSink::default(), config).unwrap_err();
        assert!(
            matches!(error, DrainError::InvalidConfig(why) if why.starts_with(setting)),
            "{error}"
        );
    }
}

#[test]
fn sink_error__display__then_prefixed_message() {
    let error = SinkError("disk full".to_owned());
    assert_eq!(error.to_string(), "sink error: disk full");
    assert!(std::error::Error::source(&error).is_none());
}

#[test]
fn null_sink__both_lanes__then_counts_records_and_deliveries() {
    let mut sink = NullSink::default();
    Sink::<u64, u32>::index(&mut sink, &delivery(LaneKind::Index, &[1_u64, 2, 3])).unwrap();
    Sink::<u64, u32>::detail(&mut sink, &delivery(LaneKind::Detail, &[4_u32, 5])).unwrap();
    Sink::<u64, u32>::flush(&mut sink).unwrap();
    assert_eq!(
        sink,
        NullSink {
            index_records: 3,
            detail_records: 2,
            deliveries: 2,
        }
    );
}

#[test]
fn collecting_sink__both_lanes__then_clones_share_every_delivery() {
    let sink = CollectingSink::<u64, u32>::default();
    let mut writer = sink.clone();
    writer
        .index(&delivery(LaneKind::Index, &[1_u64, 2]))
        .unwrap();
    writer
        .detail(&delivery(LaneKind::Detail, &[7_u32]))
        .unwrap();
    let mut collected = delivery(LaneKind::Detail, &[8_u32, 9]);
    collected.header = None;
    writer.detail(&collected).unwrap();
    let header = Some(ada_ring_pool::RingHeader {
        sequence: 11,
        ..Default::default()
    });
    assert_eq!(
        sink.index_deliveries(),
        [Collected {
            slot: 2,
            generation: 5,
            lane: LaneKind::Index,
            header,
            lost_before: ada_ring_pool::DropCounts {
                oldest: 3,
                ..Default::default()
            },
            discarded_before: 4,
            records: vec![1, 2],
        }]
    );
    let detail = sink.detail_deliveries();
    assert_eq!(detail.len(), 2);
    assert_eq!(
        (detail[0].lane, detail[0].header),
        (LaneKind::Detail, header)
    );
    assert_eq!(detail[0].records, [7]);
    assert_eq!(
        (detail[1].header, &detail[1].records[..]),
        (None, &[8, 9][..])
    );
    assert!(format!("{sink:?}").starts_with("CollectingSink"));
}

#[test]
fn closure_sink__detail_delivery__then_accepted_without_calling_the_closure() {
    let calls = Arc::new(AtomicU64::new(0));
    let mut sink = ClosureSink({
        let calls = Arc::clone(&calls);
        move |delivery: &Delivery<'_, u64>| {
            calls.fetch_add(delivery.records.len() as u64, Ordering::Relaxed);
            Err(SinkError("index refused".to_owned()))
        }
    });
    assert_eq!(
        Sink::<u64, u32>::index(&mut sink, &delivery(LaneKind::Index, &[1_u64, 2])),
        Err(SinkError("index refused".to_owned()))
    );
    assert_eq!(
        Sink::<u64, u32>::detail(&mut sink, &delivery(LaneKind::Detail, &[3_u32])),
        Ok(())
    );
    assert_eq!(Sink::<u64, u32>::flush(&mut sink), Ok(()));
    assert_eq!(calls.load(Ordering::Relaxed), 2, "only the index delivery");
    assert_eq!(format!("{sink:?}"), "ClosureSink");
}

/// A sink that records what it was called with, and fails its flush.
struct FlushFails {
    calls: Arc<std::sync::Mutex<Vec<&'static str>>>,
}

impl Sink<u64, u32> for FlushFails {
    fn index(&mut self, _: &Delivery<'_, u64>) -> Result<(), SinkError> {
        self.calls.lock().unwrap().push("index");
        Ok(())
    }

    fn detail(&mut self, _: &Delivery<'_, u32>) -> Result<(), SinkError> {
        self.calls.lock().unwrap().push("detail");
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.calls.lock().unwrap().push("flush");
        Err(SinkError("fsync refused".to_owned()))
    }
}

#[test]
fn boxed_sink__each_call__then_forwarded_to_the_sink_inside() {
    let calls = Arc::default();
    let mut sink: Box<dyn Sink<u64, u32>> = Box::new(FlushFails {
        calls: Arc::clone(&calls),
    });
    sink.index(&delivery(LaneKind::Index, &[1_u64])).unwrap();
    sink.detail(&delivery(LaneKind::Detail, &[2_u32])).unwrap();
    assert_eq!(sink.flush(), Err(SinkError("fsync refused".to_owned())));
    assert_eq!(*calls.lock().unwrap(), ["index", "detail", "flush"]);
}

#[test]
fn sink__flush_fails__then_error_in_report_and_records_still_delivered() {
    let registry = Registry::<u64, u32>::new(RegistryConfig {
        capacity: 1,
        ..RegistryConfig::default()
    })
    .unwrap();
    let calls = Arc::default();
    // Boxed: the drain takes any sink, a run-time chosen one too.
    let sink: Box<dyn Sink<u64, u32>> = Box::new(FlushFails {
        calls: Arc::clone(&calls),
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, fast()).unwrap();
    drain.start().unwrap();
    let mut handle = registry.register().unwrap();
    handle.index(1);
    let report = drain.stop().unwrap();
    drop(handle);
    assert_eq!(report.sink_flush_error.as_deref(), Some("fsync refused"));
    assert_eq!(report.totals.events_delivered, 1);
    assert_eq!(calls.lock().unwrap().last(), Some(&"flush"), "flushed last");
    assert_conserved(&report);
}

#[test]
fn collecting_sink__detail_lane_through_the_drain__then_every_detail_record_delivered() {
    let lane = LaneConfig {
        rings: 4,
        ring_records: 16,
        policy: ExhaustionPolicy::DropNewest,
        mode: LaneMode::SubmitAll,
    };
    let registry = Registry::<u64, u64>::new(RegistryConfig {
        capacity: 1,
        index: lane,
        detail: lane,
    })
    .unwrap();
    let sink = CollectingSink::default();
    let mut drain = Drain::new(Arc::clone(&registry), sink.clone(), fast()).unwrap();
    drain.start().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut handle = registry.register().unwrap();
            // Two and a half rings of 16 out of four: a free ring is always there, nothing is lost.
            for n in 0..40 {
                handle.detail(n);
            }
        });
    });
    let report = drain.stop().unwrap();
    assert_conserved(&report);
    let detail: Vec<u64> = sink
        .detail_deliveries()
        .into_iter()
        .inspect(|d| assert_eq!(d.lane, LaneKind::Detail))
        .flat_map(|d| d.records)
        .collect();
    assert_eq!(
        detail,
        (0..40).collect::<Vec<_>>(),
        "all of them, in write order"
    );
    assert_eq!(report.totals.events_delivered, 40);
    assert!(sink.index_deliveries().is_empty());
}

#[test]
fn sink__fails_an_in_place_collection__then_records_lost_to_the_sink_and_counted() {
    // Three records in a ring of 16 of a thread still registered: never submitted, so
    // they reach the sink only by in-place collection (a quiet-lane sweep or the final
    // drain), which the sink refuses.
    let registry = registry(1, 16);
    let sink = ClosureSink(|_: &Delivery<'_, u64>| Err(SinkError("refused".to_owned())));
    let mut drain = Drain::new(Arc::clone(&registry), sink, fast()).unwrap();
    drain.start().unwrap();
    let mut handle = registry.register().unwrap();
    for n in 0..3 {
        handle.index(n);
    }
    let report = drain.stop().unwrap();
    drop(handle);
    assert_eq!(report.drain.rings_delivered, 0, "no ring was submitted");
    assert!(report.drain.collections >= 1, "{:?}", report.drain);
    assert_eq!(report.drain.sink_errors, report.drain.collections);
    assert_eq!(report.totals.events_delivered, 0);
    assert_eq!(report.totals.dropped.sink, 3);
    assert_conserved(&report);
}

#[test]
fn ladder__ring_within_spin_for__then_spins() {
    // The logic, not the default: a ladder that spins for 200 µs.
    let config = DrainConfig {
        spin_for: Duration::from_micros(200),
        ..DrainConfig::default()
    };
    let start = Instant::now();
    let mut ladder = crate::control::Ladder::new(start, &config);
    ladder.worked(start + Duration::from_micros(10), 1);
    let step = ladder.step(start + Duration::from_micros(100), &config);
    assert_eq!(step, IdleStep::Spun, "90 µs after a ring, under spin_for");
}

#[test]
fn ladder__burst_then_pause__then_naps_no_longer_than_nap_until_park_after() {
    // The logic, not the default: a ladder that spins for 200 µs.
    let config = DrainConfig {
        spin_for: Duration::from_micros(200),
        ..DrainConfig::default()
    };
    let start = Instant::now();
    let mut ladder = crate::control::Ladder::new(start, &config);
    for n in 1..=8 {
        ladder.worked(start + Duration::from_micros(20 * n), 1); // a ring every 20 µs
    }
    let last = start + Duration::from_micros(160);
    assert_eq!(
        ladder.step(last + Duration::from_micros(210), &config),
        IdleStep::Napped(config.nap),
        "spinning is over; naps are capped at `nap`"
    );
    let long_naps = DrainConfig {
        nap: Duration::from_millis(1),
        ..config
    };
    assert_eq!(
        ladder.step(last + Duration::from_micros(700), &long_naps),
        IdleStep::Napped(Duration::from_micros(350)),
        "half the time since the last ring"
    );
    assert_eq!(
        ladder.step(last + config.park_after, &config),
        IdleStep::Parked
    );
}

#[test]
fn ladder__rings_come_slowly__then_parks_at_once() {
    // The logic, not the default: a ladder that spins for 200 µs.
    let config = DrainConfig {
        spin_for: Duration::from_micros(200),
        ..DrainConfig::default()
    };
    let start = Instant::now();
    let mut ladder = crate::control::Ladder::new(start, &config);
    for n in 1..=crate::control::GAPS as u32 {
        ladder.worked(start + Duration::from_millis(2) * n, 1); // a ring every 2 ms
    }
    let last = start + Duration::from_millis(2) * crate::control::GAPS as u32;
    assert_eq!(
        ladder.step(last + Duration::from_micros(5), &config),
        IdleStep::Parked,
        "woken by the next ring's producer instead of polling for it"
    );
    // Three rings found together after 900 µs: one every 300 µs, quick enough to poll.
    ladder.worked(last + Duration::from_micros(900), 3);
    assert_eq!(
        ladder.step(last + Duration::from_micros(910), &config),
        IdleStep::Spun
    );
}

#[test]
fn ladder__nothing_for_park_after__then_parks() {
    let config = DrainConfig::default();
    let start = Instant::now();
    let ladder = crate::control::Ladder::new(start, &config);
    assert!(matches!(
        ladder.step(
            start + config.park_after - Duration::from_micros(1),
            &config
        ),
        IdleStep::Napped(_)
    ));
    assert_eq!(
        ladder.step(start + config.park_after, &config),
        IdleStep::Parked
    );
    let at_once = DrainConfig {
        spin_for: Duration::ZERO,
        park_after: Duration::ZERO,
        ..config
    };
    let ladder = crate::control::Ladder::new(start, &at_once);
    assert_eq!(ladder.step(start, &at_once), IdleStep::Parked);
}

#[test]
fn loss_explanation__sink_losses_only__then_says_rings_do_not_help() {
    let mut report = DrainReport::default();
    report.lanes.index = LaneGeometry {
        rings: 4,
        ring_records: 64,
        record_size: 8,
    };
    report.threads.push(ThreadReport {
        slot: 2,
        generation: 3,
        thread_name: None,
        retired: true,
        rings_delivered: 9,
        last_seen_us_ago: None,
        longest_unvisited_us: 50,
        active_us: 1_000,
        index: ada_metrics::LaneSnapshot {
            events_written: 640,
            events_delivered: 576,
            dropped: ada_metrics::DropCounts {
                sink: 64,
                ..Default::default()
            },
            ..Default::default()
        },
        detail: ada_metrics::LaneSnapshot::default(),
    });
    let [why] = report.loss_explanations().try_into().unwrap();
    assert_eq!((why.slot, why.generation, why.exhausted), (2, 3, 0));
    let text = why.to_string();
    assert!(text.contains("lost 64 of 640 events (sink 64)"), "{text}");
    assert!(text.contains("more rings do not help"), "{text}");
    assert!(!text.contains("To cover"), "{text}");
    let json = serde_json::to_value(&why).unwrap();
    assert_eq!(json["lane"], "Index");
    assert_eq!(json["dropped"]["sink"], 64);
}

#[test]
fn loss_explanation__registered_too_briefly__then_no_rate_and_general_advice() {
    let mut report = DrainReport::default();
    report.lanes.index = LaneGeometry {
        rings: 2,
        ring_records: 8,
        record_size: 8,
    };
    report.threads.push(ThreadReport {
        slot: 0,
        generation: 1,
        thread_name: Some("brief".to_owned()),
        retired: true,
        rings_delivered: 1,
        last_seen_us_ago: None,
        longest_unvisited_us: 0,
        active_us: 0,
        index: ada_metrics::LaneSnapshot {
            events_written: 100,
            events_delivered: 8,
            dropped: ada_metrics::DropCounts {
                newest: 92,
                ..Default::default()
            },
            ..Default::default()
        },
        detail: ada_metrics::LaneSnapshot::default(),
    });
    let [why] = report.loss_explanations().try_into().unwrap();
    assert_eq!(
        (why.events_per_sec, why.buffer_covers_us, why.rings_needed),
        (None, None, None)
    );
    let text = why.to_string();
    assert!(text.contains("\"brief\""), "{text}");
    assert!(text.contains("too briefly to measure its rate"), "{text}");
    assert!(text.contains("more or larger rings"), "{text}");
}
