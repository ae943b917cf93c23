//! The edges of shutdown ("shutdown delivers everything committed"): a live thread's
//! marked flight-recorder window delivered and its unmarked ones counted, nothing in
//! flight after a stop of quiescent threads, a sink that panics outside a delivery
//! (flush, drop), and a stop called on the drain thread itself.
#![allow(non_snake_case)]

use super::*;
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneMode};
use ada_thread_registry::RegistryConfig;
use std::sync::mpsc;
use std::sync::{Barrier, Mutex, OnceLock, Weak};

fn fast() -> DrainConfig {
    DrainConfig {
        park_interval: Duration::from_micros(200),
        ..DrainConfig::default()
    }
}

/// Index lanes of 4 × 64 records; detail lanes as given.
fn registry(detail: LaneConfig) -> Arc<Registry<u64, u64>> {
    Registry::new(RegistryConfig {
        capacity: 8,
        index: LaneConfig {
            rings: 4,
            ring_records: 64,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::SubmitAll,
        },
        detail,
    })
    .unwrap()
}

/// Four rings of 8: room for every test's marked windows, so none is taken back.
fn recorder() -> LaneConfig {
    LaneConfig {
        rings: 4,
        ring_records: 8,
        policy: ExhaustionPolicy::DropOldest,
        mode: LaneMode::FlightRecorder { max_mark_depth: 2 },
    }
}

fn sorted(deliveries: Vec<Collected<u64>>) -> Vec<u64> {
    let mut all: Vec<u64> = deliveries.into_iter().flat_map(|d| d.records).collect();
    all.sort_unstable();
    all
}

/// What one live thread does with its handle before the stop.
type Work = dyn Fn(&mut ada_thread_registry::ThreadHandle<u64, u64>) + Sync;

/// Runs each `work` on its own thread, which stays registered (alive, quiet) until
/// after the drain has stopped; returns the report.
fn stop_with_live_threads(
    registry: &Arc<Registry<u64, u64>>,
    drain: &Drain<u64, u64>,
    work: &[&Work],
) -> DrainReport {
    let written = Barrier::new(work.len() + 1);
    let stopped = Barrier::new(work.len() + 1);
    std::thread::scope(|s| {
        for work in work {
            let (registry, written, stopped) = (registry, &written, &stopped);
            s.spawn(move || {
                let mut handle = registry.register().unwrap();
                work(&mut handle);
                written.wait();
                stopped.wait(); // alive and quiet across the stop
            });
        }
        written.wait();
        let report = drain.stop().unwrap();
        stopped.wait();
        report
    })
}

#[test]
fn shutdown__live_thread_marked_flight_recorder_window__then_window_delivered() {
    let registry = registry(recorder());
    let sink = CollectingSink::default();
    let mut drain = Drain::new(Arc::clone(&registry), sink.clone(), fast()).unwrap();
    drain.start().unwrap();
    let report = stop_with_live_threads(
        &registry,
        &drain,
        &[&|handle| {
            (100..103).for_each(|n| handle.detail(n));
            handle.mark(); // a partly filled, marked window: nothing submitted yet
        }],
    );
    assert_eq!(sorted(sink.detail_deliveries()), [100, 101, 102]);
    assert_eq!(report.totals.events_delivered, 3);
    assert_eq!(report.totals.events_in_flight(), 0, "{:?}", report.totals);
}

#[test]
fn shutdown__quiescent_live_threads__then_nothing_in_flight() {
    // Flight-recorder detail lanes in every state a live thread can leave them in, and
    // (second registry) `SubmitAll` detail lanes with partly filled rings.
    for detail in [
        recorder(),
        LaneConfig {
            mode: LaneMode::SubmitAll,
            ..recorder()
        },
    ] {
        let registry = registry(detail);
        let sink = CollectingSink::default();
        let mut drain = Drain::new(Arc::clone(&registry), sink.clone(), fast()).unwrap();
        drain.start().unwrap();
        let report = stop_with_live_threads(
            &registry,
            &drain,
            &[
                // Index records in a partly filled ring, an unmarked partial window.
                &|handle| {
                    (0..10).for_each(|n| handle.index(n));
                    (0..5).for_each(|n| handle.detail(n));
                },
                // A discarded window, a held one and an unmarked active one.
                &|handle| (0..20).for_each(|n| handle.detail(1000 + n)),
                // A full unmarked window, not replaced yet.
                &|handle| (0..8).for_each(|n| handle.detail(1500 + n)),
                // A held window sent as context by a mark, the marked window partial.
                &|handle| {
                    (0..12).for_each(|n| handle.detail(2000 + n));
                    handle.mark();
                    (12..14).for_each(|n| handle.detail(2000 + n));
                },
                // An open marked scope over several windows.
                &|handle| {
                    handle.mark_push().unwrap_or_default();
                    (0..21).for_each(|n| handle.detail(3000 + n));
                },
            ],
        );
        assert_eq!(
            report.totals.events_in_flight(),
            0,
            "{detail:?}: {:?}",
            report.totals
        );
        for thread in &report.threads {
            assert!(thread.index.is_conserved() && thread.detail.is_conserved());
            assert_eq!(thread.detail.events_in_flight(), 0, "{thread:?}");
        }
        let delivered = sorted(sink.detail_deliveries()).len() as u64;
        let counted: u64 = report
            .threads
            .iter()
            .map(|t| t.detail.events_delivered)
            .sum();
        assert_eq!(delivered, counted, "the sink got what the report counts");
        if detail.mode == recorder().mode {
            let detail: Vec<_> = sorted(sink.detail_deliveries());
            assert!(
                (2000..2014).all(|n| detail.contains(&n))
                    && (3000..3021).all(|n| detail.contains(&n)),
                "every marked record, context included: {detail:?}"
            );
            assert!(
                detail.iter().all(|n| *n >= 2000),
                "nothing unmarked: {detail:?}"
            );
        }
    }
}

/// A sink that panics in `flush` (and, when `in_drop`, when dropped).
struct PanickingSink {
    records: Arc<Mutex<Vec<u64>>>,
    in_drop: bool,
}

impl Sink<u64, u64> for PanickingSink {
    fn index(&mut self, delivery: &Delivery<'_, u64>) -> Result<(), SinkError> {
        self.records
            .lock()
            .unwrap()
            .extend_from_slice(delivery.records);
        Ok(())
    }

    fn detail(&mut self, _: &Delivery<'_, u64>) -> Result<(), SinkError> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        panic!("flush failure injected by the test");
    }
}

impl Drop for PanickingSink {
    fn drop(&mut self) {
        if self.in_drop {
            panic!("drop failure injected by the test");
        }
    }
}

#[test]
fn sink__panics_in_flush_and_drop__then_report_returned_with_the_panics_counted() {
    for in_drop in [false, true] {
        let registry = registry(recorder());
        let records = Arc::new(Mutex::new(Vec::new()));
        let sink = PanickingSink {
            records: Arc::clone(&records),
            in_drop,
        };
        let mut drain = Drain::new(Arc::clone(&registry), sink, fast()).unwrap();
        drain.start().unwrap();
        {
            let mut handle = registry.register().unwrap();
            (0..100).for_each(|n| handle.index(n));
        }
        let report = drain.stop().expect("the report, despite the panics");
        assert_eq!(report.drain.sink_panics, 1 + u64::from(in_drop));
        assert_eq!(
            report.sink_flush_error.as_deref(),
            Some("the sink panicked in flush: flush failure injected by the test")
        );
        assert_eq!(report.totals.events_delivered, 100);
        assert_eq!(records.lock().unwrap().len(), 100);
        assert_eq!(drain.snapshot().sink_panics, report.drain.sink_panics);
        assert_eq!(drain.state(), DrainState::Stopped);
    }
}

/// A sink that stops its own drain from inside its first delivery.
struct StoppingSink {
    drain: Arc<OnceLock<Weak<Drain<u64, u64>>>>,
    stopped: mpsc::Sender<Result<DrainReport, DrainError>>,
    flushed: mpsc::Sender<Vec<u64>>,
    records: Vec<u64>,
    /// Signalled once the producer has written everything and retired: the first
    /// delivery waits for it, so that no record is written after the stop (what a
    /// producer writes after the final passes is in flight, not lost, but not here).
    producer_done: Option<mpsc::Receiver<()>>,
}

impl Sink<u64, u64> for StoppingSink {
    fn index(&mut self, delivery: &Delivery<'_, u64>) -> Result<(), SinkError> {
        if let Some(done) = self.producer_done.take() {
            let _ = done.recv_timeout(Duration::from_secs(10));
        }
        if let Some(drain) = self.drain.get().and_then(Weak::upgrade) {
            let _ = self.stopped.send(drain.stop());
        }
        self.records.extend_from_slice(delivery.records);
        Ok(())
    }

    fn detail(&mut self, _: &Delivery<'_, u64>) -> Result<(), SinkError> {
        Ok(())
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        let _ = self.flushed.send(std::mem::take(&mut self.records));
        Ok(())
    }
}

#[test]
fn drain__stop_called_on_the_drain_thread__then_typed_error_and_final_passes_still_run() {
    let registry = registry(recorder());
    let handle = Arc::new(OnceLock::new());
    let (stopped, stop_result) = mpsc::channel();
    let (flushed, flushed_records) = mpsc::channel();
    let (done, producer_done) = mpsc::channel();
    let sink = StoppingSink {
        drain: Arc::clone(&handle),
        stopped,
        flushed,
        records: Vec::new(),
        producer_done: Some(producer_done),
    };
    let mut drain = Drain::new(Arc::clone(&registry), sink, fast()).unwrap();
    drain.start().unwrap();
    let drain = Arc::new(drain);
    handle.set(Arc::downgrade(&drain)).unwrap();
    {
        let mut handle = registry.register().unwrap();
        // Three full rings and a partial one: all fit in the lane, nothing is lost.
        (0..200).for_each(|n| handle.index(n));
    }
    done.send(()).unwrap();
    let result = stop_result
        .recv_timeout(Duration::from_secs(10))
        .expect("the sink's first delivery called stop");
    assert_eq!(result.err(), Some(DrainError::StopOnDrainThread));
    let mut records = flushed_records
        .recv_timeout(Duration::from_secs(10))
        .expect("the drain thread made its final passes and flushed");
    records.sort_unstable();
    assert_eq!(records, (0..200).collect::<Vec<_>>(), "nothing lost");
    for _ in 0..1000 {
        if drain.state() == DrainState::Stopped {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        drain.state(),
        DrainState::Stopped,
        "the thread ended by itself"
    );
    assert_eq!(drain.stop().err(), Some(DrainError::AlreadyStopping));
    assert!(registry.register().is_err(), "the stop refused new threads");
}

#[test]
fn drain_error__stop_on_drain_thread__then_says_why_no_report() {
    let text = DrainError::StopOnDrainThread.to_string();
    assert!(text.contains("drain thread itself"), "{text}");
}
