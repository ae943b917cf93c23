//! The drain's idle ladder, wake-up cost, submit → take latency and loss explanations,
//! end to end through `Drain` and its counters: it naps (never parks) while a lane hands
//! it rings, parks once nothing came for `park_after`, is unparked at most once per park
//! however many producers submit, measures how long rings waited, and explains a loss
//! by the lane, its rate and the drain's absence.
#![allow(non_snake_case)]

use ada_drain::{
    ClosureSink, Delivery, Drain, DrainConfig, DrainReport, LaneKind, NullSink, SinkError,
};
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
use ada_thread_registry::{Registry, RegistryConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `capacity` slots whose index lanes have 4 rings of 16 `u64`s.
fn registry(capacity: usize) -> Arc<Registry<u64, u64>> {
    Registry::new(RegistryConfig {
        capacity,
        index: LaneConfig {
            rings: 4,
            ring_records: 16,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::SubmitAll,
        },
        detail: LaneConfig::detail_lane(),
    })
    .unwrap()
}

/// A running drain of `registry` into a null sink.
fn started(registry: &Arc<Registry<u64, u64>>, config: DrainConfig) -> Drain<u64, u64> {
    let mut drain = Drain::new(Arc::clone(registry), NullSink::default(), config).unwrap();
    drain.start().unwrap();
    drain
}

fn assert_conserved(report: &DrainReport) {
    assert!(report.totals.is_conserved(), "{:?}", report.totals);
    for thread in &report.threads {
        assert!(thread.index.is_conserved(), "{thread:?}");
    }
}

/// Polls `done` every millisecond for up to ten seconds.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Writes `rings` full rings of 16 records through `handle`, 50 µs apart (a busy wait,
/// as a producer at work), and sleeps `pause` after each `burst`-th ring.
fn write_rings(
    handle: &mut ada_thread_registry::ThreadHandle<u64, u64>,
    rings: u64,
    burst: u64,
    pause: Duration,
) {
    for ring in 0..rings {
        let started = Instant::now();
        for n in 0..16 {
            handle.index(ring * 16 + n);
        }
        if ring % burst == burst - 1 {
            std::thread::sleep(pause);
        } else {
            while started.elapsed() < Duration::from_micros(50) {
                std::hint::spin_loop();
            }
        }
    }
}

#[test]
fn idle_ladder__bursts_with_pauses_then_silence__then_naps_in_the_pauses_and_parks_after_park_after()
 {
    let registry = registry(2);
    // `park_after` well above the pauses, and `spin_for` (which makes gaps up to twice
    // as long count as quick) well above the gaps within a burst, so that a busy machine
    // delaying the producer or the drain does not make the drain park between bursts.
    let config = DrainConfig {
        spin_for: Duration::from_millis(1),
        park_after: Duration::from_millis(200),
        ..DrainConfig::default()
    };
    let drain = started(&registry, config);
    let mut handle = registry.register().unwrap();
    let before = drain.snapshot();
    // Bursts of 3 rings 50 µs apart, 3 ms between bursts.
    write_rings(&mut handle, 30, 3, Duration::from_millis(3));
    // A full ring is submitted by the write after it (the last stays in the producer's
    // hands): 29 rings.
    wait_until("the last full ring is taken", || {
        drain.snapshot().rings_delivered >= 29
    });
    let busy = drain.snapshot();
    assert_eq!(
        busy.parks, before.parks,
        "no park while bursts kept coming: {busy:?}"
    );
    assert!(busy.naps > before.naps, "naps in the pauses: {busy:?}");
    // Silence: still napping well before `park_after`, parked after it.
    let silence = Instant::now();
    std::thread::sleep(Duration::from_millis(20));
    let early = drain.snapshot();
    if silence.elapsed() < Duration::from_millis(150) {
        assert_eq!(
            early.parks, busy.parks,
            "parked before park_after: {early:?}"
        );
    }
    wait_until("the drain parks", || drain.snapshot().parks > busy.parks);
    assert!(
        silence.elapsed() >= Duration::from_millis(150),
        "parked {:?} after the last ring, park_after is 200 ms",
        silence.elapsed()
    );
    drop(handle);
    let report = drain.stop().unwrap();
    assert_eq!(report.totals.events_delivered, 480);
    assert_conserved(&report);
}

#[test]
fn idle_ladder__a_ring_every_2_ms__then_parks_between_rings_woken_by_the_producer() {
    let registry = registry(2);
    let drain = started(&registry, DrainConfig::default());
    let mut handle = registry.register().unwrap();
    write_rings(&mut handle, 5, 1, Duration::from_millis(2)); // the ladder learns the pace
    let before = drain.snapshot();
    write_rings(&mut handle, 20, 1, Duration::from_millis(2));
    drop(handle);
    let report = drain.stop().unwrap();
    let (parks, naps) = (
        report.drain.parks - before.parks,
        report.drain.naps - before.naps,
    );
    assert!(
        parks >= 5,
        "parked between slow rings: {parks} parks, {naps} naps"
    );
    // Napping through every 2 ms gap would take some 30 naps per ring (a busy machine
    // can still make a few rings look quick).
    assert!(
        naps < 10 * 20,
        "polled for slow rings instead of being woken: {parks} parks, {naps} naps"
    );
    assert!(
        report.drain.producer_wakes - before.producer_wakes >= 5,
        "{:?}",
        report.drain
    );
    assert_conserved(&report);
}

#[test]
fn wake__producers_submit_to_a_parked_drain__then_at_most_one_unpark_per_park() {
    let registry = registry(4);
    // Parks at every pass that moves nothing: each ring finds it parked or parking.
    let config = DrainConfig {
        spin_for: Duration::ZERO,
        park_after: Duration::ZERO,
        ..DrainConfig::default()
    };
    let drain = started(&registry, config);
    std::thread::scope(|s| {
        for thread in 0..4_u64 {
            let registry = &registry;
            s.spawn(move || {
                let mut handle = registry.register().unwrap();
                for n in 0..50 * 16 {
                    handle.index(thread << 32 | n);
                    if n % 16 == 15 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                }
            });
        }
    });
    let report = drain.stop().unwrap();
    let drain = report.drain;
    assert!(drain.producer_wakes > 0, "{drain:?}");
    assert!(
        drain.producer_wakes <= drain.parks,
        "one unpark per park at most: {drain:?}"
    );
    assert_eq!(report.totals.rings_submitted, 200);
    assert_conserved(&report);
}

#[test]
fn take_latency__rings_taken__then_percentiles_in_the_snapshot() {
    let registry = registry(2);
    let drain = started(&registry, DrainConfig::default());
    let mut handle = registry.register().unwrap();
    for n in 0..16 * 8 {
        handle.index(n);
        if n % 16 == 15 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    drop(handle);
    let report = drain.stop().unwrap();
    let drain = report.drain;
    assert!(drain.take_latency_p50_ns > 0, "{drain:?}");
    assert!(
        drain.take_latency_p50_ns <= drain.take_latency_p99_ns,
        "{drain:?}"
    );
    assert!(drain.take_latency_max_ns > 0, "{drain:?}");
    assert!(
        drain.take_latency_max_ns < 10_000_000_000,
        "ten seconds: a bad conversion, not a wait: {drain:?}"
    );
    assert!(report.drain_cpu_ns > 0, "the drain thread ran: {report:?}");
    assert_conserved(&report);
}

#[test]
fn loss_explanations__nothing_lost__then_empty() {
    let registry = registry(2);
    let drain = started(&registry, DrainConfig::default());
    let mut handle = registry.register().unwrap();
    for n in 0..40 {
        handle.index(n);
    }
    drop(handle);
    let report = drain.stop().unwrap();
    assert_eq!(report.totals.events_lost(), 0);
    assert!(report.loss_explanations().is_empty(), "{report:?}");
    assert_eq!(report.lanes.index.rings, 4);
    assert_eq!(report.lanes.index.ring_records, 16);
    assert_eq!(report.lanes.index.record_size, 8);
}

#[test]
fn loss_explanations__sink_stalls_on_one_thread__then_names_its_lane_and_numbers() {
    let registry = registry(2);
    // The first delivery stalls the drain for 30 ms: the lossy thread's 4 rings of 16
    // hold 64 events, it writes 2000.
    let stall = Duration::from_millis(30);
    let mut stalled = false;
    let sink = ClosureSink(move |_: &Delivery<'_, u64>| -> Result<(), SinkError> {
        if !stalled {
            stalled = true;
            std::thread::sleep(stall);
        }
        Ok(())
    });
    let mut drain = Drain::new(Arc::clone(&registry), sink, DrainConfig::default()).unwrap();
    drain.start().unwrap();
    let mut quiet = registry.register().unwrap();
    std::thread::Builder::new()
        .name("lossy".to_owned())
        .spawn({
            let registry = Arc::clone(&registry);
            move || {
                let mut handle = registry.register().unwrap();
                for n in 0..2000 {
                    handle.index(n);
                }
            } // retires: the drain reports it when it releases the slot
        })
        .unwrap()
        .join()
        .unwrap();
    quiet.index(7); // one event, collected at the stop: never lost
    let report = drain.stop().unwrap();
    drop(quiet);
    assert_conserved(&report);
    let thread = report
        .threads
        .iter()
        .find(|t| t.thread_name.as_deref() == Some("lossy"))
        .expect("the lossy thread is reported");
    assert!(thread.index.events_lost() > 0, "{thread:?}");
    assert!(
        thread.longest_unvisited_us >= 25_000,
        "the stall left it unvisited: {thread:?}"
    );
    assert!(
        thread.active_us >= thread.longest_unvisited_us,
        "{thread:?}"
    );
    let [why] = report
        .loss_explanations()
        .try_into()
        .unwrap_or_else(|all: Vec<_>| {
            panic!("one lossy lane: {all:?}");
        });
    assert_eq!(
        (why.slot, why.generation, why.lane),
        (thread.slot, thread.generation, LaneKind::Index)
    );
    assert_eq!(why.thread_name.as_deref(), Some("lossy"));
    assert_eq!(why.dropped, thread.index.dropped);
    assert_eq!(why.events_written, 2000);
    assert_eq!((why.rings, why.ring_records), (4, 16));
    assert_eq!(why.longest_unvisited_us, thread.longest_unvisited_us);
    assert_eq!(why.exhausted, thread.index.events_lost());
    let rate = why.events_per_sec.expect("registered for milliseconds");
    let expected = 2000.0 / thread.active_us as f64 * 1e6;
    assert!(
        (rate - expected).abs() < 1e-6 * expected,
        "{rate} vs {expected}"
    );
    let covers = why.buffer_covers_us.expect("a rate");
    assert!(
        covers < why.longest_unvisited_us,
        "the rings ran out: {why:?}"
    );
    let needed = why.rings_needed.expect("a rate and an absence");
    assert!(
        needed > 4 && (needed - 1) * 16 >= (rate * why.longest_unvisited_us as f64 / 1e6) as u64,
        "{why:?}"
    );
    let text = why.to_string();
    assert!(text.contains("\"lossy\") index lane lost"), "{text}");
    assert!(
        text.contains(&format!("{needed} rings of 16 records")),
        "{text}"
    );
    assert!(text.contains("ExhaustionPolicy::Block"), "{text}");
}
