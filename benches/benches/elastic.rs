//! The elastic-buffering experiment (issue 17): 8 threads take turns writing a burst at
//! full speed while the drain is stalled (its sink sleeps 1, 5 or 20 ms on the burst's
//! first ring), under `DropOldest`, with three ways to spend index-lane memory:
//!
//! - `fixed`: 8 rings of 1024 records per lane (64 rings in all);
//! - `elastic`: 4 rings per lane and a shared reserve of 32 (64 rings in all);
//! - `whole`: 64 rings per lane, the whole budget each (8 × the memory).
//!
//! Prints, per configuration, stall and burst size, the events dropped over the 8 bursts
//! and the reserve's use; exits 1 when `elastic` dropped a burst that fit its lane plus
//! the reserve (less one ring per other thread, which may hold one while quiet: see
//! `capacity`), or `fixed` did not drop one that did not fit its lane.
//!
//! With `--polling`, instead: the drain's poll orders compared (`RoundRobin` and
//! `FullestFirst`): 8 threads each write a ring of 1,024 records every millisecond
//! (paced), into 4-ring `DropOldest` lanes, for a second, while the sink spends a fixed
//! time per ring (90 to 140 µs: 72 % to 112 % of what the drain can take); the events
//! dropped per order and load, 3 runs each; `--heavy N`: thread 0 writes N rings a
//! millisecond; `--hogs N` adds N threads that spin for the second (a busy machine: the
//! drain competes for a core).
//!
//! Not a criterion bench: `cargo xtask elastic`, or
//! `cargo bench -p ada-benches --bench elastic -- [--stalls-ms 1,5,20] [--bursts 4096,...]
//! [--polling]`.

use ada::drain::PollOrder;
use ada::drain::{Delivery, SinkError};
use ada::{DrainConfig, DrainReport, ExhaustionPolicy, LaneConfig, LaneMode, Sink, TracerBuilder};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

const THREADS: usize = 8;
const RING_RECORDS: usize = 1024;
/// Index rings in all (`fixed` and `elastic` alike).
const BUDGET_RINGS: usize = 64;

/// A way to spend the index lanes' memory.
#[derive(Clone, Copy)]
struct Layout {
    name: &'static str,
    rings_per_lane: usize,
    reserve_rings: usize,
}

const LAYOUTS: [Layout; 3] = [
    Layout {
        name: "fixed",
        rings_per_lane: BUDGET_RINGS / THREADS,
        reserve_rings: 0,
    },
    Layout {
        name: "elastic",
        rings_per_lane: BUDGET_RINGS / THREADS / 2,
        reserve_rings: BUDGET_RINGS / 2,
    },
    Layout {
        name: "whole",
        rings_per_lane: BUDGET_RINGS,
        reserve_rings: 0,
    },
];

/// A tracer for the 8 threads with `DropOldest` index lanes of `rings` rings.
fn builder(rings: usize) -> TracerBuilder<u64, u64> {
    TracerBuilder::new()
        .threads(THREADS)
        .index_lane(LaneConfig {
            rings,
            ring_records: RING_RECORDS,
            policy: ExhaustionPolicy::DropOldest,
            mode: LaneMode::SubmitAll,
        })
}

/// Counts what it is given; sleeps `stall` on the first index delivery after `armed`
/// (`armed` stays set until the sleep is over).
struct StallingSink {
    stall: Duration,
    armed: Arc<AtomicBool>,
    delivered: Arc<AtomicU64>,
}

impl Sink<u64, u64> for StallingSink {
    fn index(&mut self, delivery: &Delivery<'_, u64>) -> Result<(), SinkError> {
        if self.armed.load(Ordering::Acquire) {
            std::thread::sleep(self.stall);
            self.armed.store(false, Ordering::Release);
        }
        self.delivered
            .fetch_add(delivery.records.len() as u64, Ordering::Release);
        Ok(())
    }

    fn detail(&mut self, _: &Delivery<'_, u64>) -> Result<(), SinkError> {
        Ok(())
    }
}

/// One configuration's outcome over the 8 bursts.
struct Outcome {
    report: DrainReport,
    /// The longest a burst took to write.
    slowest_burst: Duration,
}

fn run(layout: Layout, stall: Duration, burst: u64) -> Outcome {
    let armed = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicU64::new(0));
    let tracer = builder(layout.rings_per_lane)
        .reserve_bytes(layout.reserve_rings * RING_RECORDS * size_of::<u64>())
        .sink(StallingSink {
            stall,
            armed: Arc::clone(&armed),
            delivered: Arc::clone(&delivered),
        })
        .build()
        .expect("the tracer builds");
    let turn = Barrier::new(THREADS);
    let mut slowest = Duration::ZERO;
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (tracer, turn, armed, delivered) = (&tracer, &turn, &armed, &delivered);
                s.spawn(move || {
                    let mut handle = tracer.handle().expect("a free slot");
                    let mut took = Duration::ZERO;
                    for bursting in 0..THREADS {
                        turn.wait();
                        if bursting == thread {
                            armed.store(true, Ordering::Release);
                            let started = Instant::now();
                            for event in 0..burst {
                                handle.index(event);
                            }
                            took = started.elapsed();
                            handle.flush();
                            // The drain catches up before the next thread's turn: the
                            // stall is over and nothing was delivered for a millisecond.
                            loop {
                                let before = delivered.load(Ordering::Acquire);
                                std::thread::sleep(Duration::from_millis(1));
                                if !armed.load(Ordering::Acquire)
                                    && delivered.load(Ordering::Acquire) == before
                                {
                                    break;
                                }
                            }
                        }
                    }
                    took
                })
            })
            .collect();
        for worker in workers {
            slowest = slowest.max(worker.join().expect("the worker ran"));
        }
    });
    let report = tracer.shutdown().expect("the drain stops");
    Outcome {
        report,
        slowest_burst: slowest,
    }
}

/// Records a burst is sure to find room for while the drain is stalled holding one ring:
/// its lane's other rings, and the reserve less one ring for each other thread, which
/// may keep a borrowed ring as the ring it is writing while it is quiet (a lane gives a
/// borrowed ring back only once it has filled it, or the thread exits).
fn capacity(layout: Layout) -> u64 {
    let reserve = layout.reserve_rings.saturating_sub(THREADS - 1);
    ((layout.rings_per_lane - 1 + reserve) * RING_RECORDS) as u64
}

fn list(args: &[String], flag: &str, default: &[u64]) -> Vec<u64> {
    args.iter()
        .position(|arg| arg == flag)
        .and_then(|at| args.get(at + 1))
        .map_or_else(
            || default.to_vec(),
            |values| {
                values
                    .split(',')
                    .map(|value| value.parse().expect("a number"))
                    .collect()
            },
        )
}

/// Spends `per_ring` of the drain's time on every index delivery (a slow sink).
struct BusySink {
    per_ring: Duration,
}

impl Sink<u64, u64> for BusySink {
    fn index(&mut self, _: &Delivery<'_, u64>) -> Result<(), SinkError> {
        let started = Instant::now();
        while started.elapsed() < self.per_ring {
            std::hint::spin_loop();
        }
        Ok(())
    }

    fn detail(&mut self, _: &Delivery<'_, u64>) -> Result<(), SinkError> {
        Ok(())
    }
}

/// One `--polling` run, with `hogs` threads spinning beside it (a busy machine).
fn polling_run(order: PollOrder, per_ring: Duration, hogs: u64, heavy: u64) -> DrainReport {
    let tracer = builder(4)
        .drain(DrainConfig {
            poll_order: order,
            ..DrainConfig::default()
        })
        .sink(BusySink { per_ring })
        .build()
        .expect("the tracer builds");
    let period = Duration::from_millis(1);
    let end = Instant::now() + Duration::from_secs(1);
    std::thread::scope(|s| {
        for _ in 0..hogs {
            s.spawn(move || {
                while Instant::now() < end {
                    std::hint::spin_loop();
                }
            });
        }
        for thread in 0..THREADS {
            let tracer = &tracer;
            // Thread 0 writes `heavy` rings per period, the others one.
            let rings = if thread == 0 { heavy } else { 1 };
            s.spawn(move || {
                let mut handle = tracer.handle().expect("a free slot");
                let mut next = Instant::now();
                let mut event = 0_u64;
                while next < end {
                    for _ in 0..RING_RECORDS as u64 * rings {
                        handle.index(event);
                        event += 1;
                    }
                    next += period;
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
            });
        }
    });
    tracer.shutdown().expect("the drain stops")
}

fn polling(args: &[String]) -> ExitCode {
    let delays = list(args, "--sink-us", &[90, 110, 125, 140]);
    let hogs = list(args, "--hogs", &[0])[0];
    let heavy = list(args, "--heavy", &[1])[0];
    println!(
        "polling: {THREADS} threads each write a ring of {RING_RECORDS} records every ms into 4-ring \
         DropOldest lanes for 1 s; the sink spends a fixed time per ring; {hogs} threads spin \
         beside them; events dropped (3 runs)"
    );
    println!(
        "\n{:>8} {:>6} {:>34} {:>34}",
        "sink/ring", "load", "RoundRobin dropped", "FullestFirst dropped"
    );
    for &delay in &delays {
        let load = (THREADS as u64 - 1 + heavy) as f64 * delay as f64 / 1000.0;
        let mut cells = Vec::new();
        for order in [PollOrder::RoundRobin, PollOrder::FullestFirst] {
            let runs: Vec<String> = (0..3)
                .map(|_| {
                    let report = polling_run(order, Duration::from_micros(delay), hogs, heavy);
                    assert!(report.totals.is_conserved());
                    assert_eq!(report.poll_order, order);
                    let written = report.totals.events_written.max(1);
                    let dropped = report.totals.dropped.total();
                    format!("{:.1}%", 100.0 * dropped as f64 / written as f64)
                })
                .collect();
            cells.push(runs.join(" "));
        }
        println!(
            "{:>7}µs {:>5.0}% {:>34} {:>34}",
            delay,
            load * 100.0,
            cells[0],
            cells[1]
        );
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|arg| arg == "--polling") {
        return polling(&args);
    }
    let stalls = list(&args, "--stalls-ms", &[1, 5, 20]);
    let bursts = list(&args, "--bursts", &[4096, 16_384, 24_576, 32_768, 65_536]);
    println!(
        "elastic: {THREADS} threads take turns bursting at full speed while the drain's sink sleeps; \
         DropOldest, rings of {RING_RECORDS} u64 records"
    );
    for layout in LAYOUTS {
        println!(
            "  {:<8} {} rings per lane + a reserve of {} = {} rings ({} KiB)",
            layout.name,
            layout.rings_per_lane,
            layout.reserve_rings,
            layout.rings_per_lane * THREADS + layout.reserve_rings,
            (layout.rings_per_lane * THREADS + layout.reserve_rings) * RING_RECORDS * 8 / 1024
        );
    }
    println!(
        "\n{:<8} {:>6} {:>7} {:>10} {:>10} {:>14} {:>9} {:>11}",
        "layout", "stall", "burst", "written", "dropped", "threads lost", "borrowed", "burst took"
    );
    let mut wrong = Vec::new();
    for &stall_ms in &stalls {
        for &burst in &bursts {
            for layout in LAYOUTS {
                let outcome = run(layout, Duration::from_millis(stall_ms), burst);
                let report = &outcome.report;
                let dropped = report.totals.dropped.total();
                let threads_lost = report
                    .threads
                    .iter()
                    .filter(|thread| thread.index.dropped.total() > 0)
                    .count();
                println!(
                    "{:<8} {:>4}ms {:>7} {:>10} {:>10} {:>14} {:>9} {:>9.0}µs",
                    layout.name,
                    stall_ms,
                    burst,
                    report.totals.events_written,
                    dropped,
                    threads_lost,
                    report.totals.rings_borrowed,
                    outcome.slowest_burst.as_secs_f64() * 1e6
                );
                let fits_lane = burst <= ((layout.rings_per_lane - 1) * RING_RECORDS) as u64;
                let fits = burst <= capacity(layout);
                if layout.name == "elastic" && fits && dropped > 0 {
                    wrong.push(format!("elastic dropped a {burst}-event burst that fit"));
                }
                if layout.name == "fixed" && !fits_lane && dropped == 0 {
                    wrong.push(format!(
                        "fixed kept a {burst}-event burst larger than its lane (the drain was not stalled?)"
                    ));
                }
                if !report.totals.is_conserved() {
                    wrong.push(format!("{} not conserved", layout.name));
                }
            }
        }
    }
    if wrong.is_empty() {
        ExitCode::SUCCESS
    } else {
        for line in &wrong {
            eprintln!("elastic: {line}");
        }
        ExitCode::FAILURE
    }
}
