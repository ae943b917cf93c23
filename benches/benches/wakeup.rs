//! The drain's wake-up experiment (issue 15): one producer writes a burst of events
//! stamped with `Event::now` at full speed into a tracer with the default configuration
//! and a null sink, once with the drain idle (parked) before the burst and once with the
//! drain busy (another thread flushes a ring every 100 µs, so the drain never parks).
//! Prints the producer's losses per run and the drain's submit → take latency, and exits
//! 1 when any run lost an event.
//!
//! Not a criterion bench: `cargo xtask wakeup`, or
//! `cargo bench -p ada-benches --bench wakeup -- [OPTIONS]` with
//!
//! - `--runs N` (20 per mode), `--events N` (250,000 per burst), `--only idle|busy`;
//! - `--quiet`: before each run, wait (up to a minute) until the machine was 95 % idle
//!   over 300 ms, so that other processes do not decide the outcome (Linux);
//! - `--rings N`, `--ring-records N`, `--spin-us N`: try another index lane or `spin_for`;
//! - `--drop-oldest`: the index lane drops instead of waiting (the lower crates' default;
//!   the facade's is `Block` with a 50 ms timeout);
//! - `--trickle-us N`: instead, the drain's CPU use while one thread flushes a ring
//!   every N µs for two seconds (what the spin and nap steps cost).

use ada::{DrainConfig, DrainReport, Event, EventKind, LaneConfig, Tracer};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How the drain is found when the burst starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Before {
    /// Parked: nothing written for 60 ms, longer than the drain's `park_after`.
    Idle,
    /// Polling: another thread hands it a ring every 100 µs.
    Busy,
}

impl Before {
    fn name(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Busy => "busy",
        }
    }
}

/// The experiment's settings.
struct Options {
    runs: u32,
    events: u64,
    quiet: bool,
    only: Option<String>,
    index: LaneConfig,
    drain: DrainConfig,
    trickle: Option<Duration>,
}

/// One run's outcome.
struct Run {
    written: u64,
    lost: u64,
    /// Times the producer waited for a ring (`Block`).
    waits: u64,
    burst: Duration,
    report: DrainReport,
}

fn run(before: Before, options: &Options) -> Run {
    let tracer = Tracer::builder()
        .index_lane(options.index)
        .drain(options.drain)
        .build()
        .expect("the tracer builds");
    let stop_ticker = AtomicBool::new(false);
    let burst = std::thread::scope(|s| {
        let tracer = &tracer;
        let ticker = (before == Before::Busy).then(|| {
            let stop_ticker = &stop_ticker;
            std::thread::Builder::new()
                .name("ticker".to_owned())
                .spawn_scoped(s, move || {
                    let mut handle = tracer.handle().expect("a free slot");
                    let mut n = 0;
                    while !stop_ticker.load(Ordering::Relaxed) {
                        handle.index(Event::now(EventKind::Instant, 1, n));
                        handle.flush();
                        n += 1;
                        std::thread::sleep(Duration::from_micros(100));
                    }
                })
                .expect("spawn the ticker")
        });
        let events = options.events;
        let producer = std::thread::Builder::new()
            .name("producer".to_owned())
            .spawn_scoped(s, move || {
                let mut handle = tracer.handle().expect("a free slot");
                // Let the drain settle: parked when idle, polling when busy.
                std::thread::sleep(Duration::from_millis(60));
                let start = Instant::now();
                for n in 0..events {
                    handle.index(Event::now(EventKind::Enter, 2, n));
                }
                start.elapsed()
            })
            .expect("spawn the producer");
        let burst = producer.join().expect("the producer ran");
        std::thread::sleep(Duration::from_millis(5));
        stop_ticker.store(true, Ordering::Relaxed);
        if let Some(ticker) = ticker {
            ticker.join().expect("the ticker ran");
        }
        burst
    });
    let report = tracer.shutdown().expect("the drain stops");
    let producer = report
        .threads
        .iter()
        .find(|t| t.thread_name.as_deref() == Some("producer"))
        .expect("the producer is in the report");
    assert!(report.totals.is_conserved(), "{:?}", report.totals);
    Run {
        written: producer.index.events_written,
        lost: producer.index.events_lost(),
        waits: producer.index.blocked_waits,
        burst,
        report,
    }
}

/// One thread flushes a one-event ring every `every` for two seconds: prints the drain
/// thread's CPU time over the wall time.
fn trickle(options: &Options, every: Duration) {
    if options.quiet && !wait_quiet() {
        println!("the machine never went quiet; running anyway");
    }
    let tracer = Tracer::builder()
        .index_lane(options.index)
        .drain(options.drain)
        .build()
        .expect("the tracer builds");
    let start = Instant::now();
    let mut handle = tracer.handle().expect("a free slot");
    let mut n = 0;
    while start.elapsed() < Duration::from_secs(2) {
        handle.index(Event::now(EventKind::Instant, 1, n));
        handle.flush();
        n += 1;
        std::thread::sleep(every);
    }
    drop(handle);
    let wall = start.elapsed();
    let report = tracer.shutdown().expect("the drain stops");
    let drain = &report.drain;
    println!(
        "a ring every {every:?}: drain CPU {:.2} ms in {:.2} s = {:.1} % of a core; {} rings, {} naps, {} parks, {} producer wakes",
        report.drain_cpu_ns as f64 / 1e6,
        wall.as_secs_f64(),
        report.drain_cpu_ns as f64 / wall.as_nanos() as f64 * 100.0,
        drain.rings_delivered,
        drain.naps,
        drain.parks,
        drain.producer_wakes,
    );
}

/// Busy and total jiffies of every CPU together (`/proc/stat`'s first line).
fn cpu_jiffies() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|field| field.parse().ok())
        .collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3)? + fields.get(4)?;
    Some((total - idle, total))
}

/// Waits (up to a minute) until the machine was at least 95 % idle over 300 ms. `false`
/// when it never was, or `/proc/stat` is missing.
fn wait_quiet() -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        let Some((busy_a, total_a)) = cpu_jiffies() else {
            return false;
        };
        std::thread::sleep(Duration::from_millis(300));
        let Some((busy_b, total_b)) = cpu_jiffies() else {
            return false;
        };
        let (busy, total) = (busy_b - busy_a, total_b - total_a);
        if total > 0 && busy * 20 <= total {
            return true;
        }
    }
    false
}

fn parse() -> Result<Options, String> {
    let mut options = Options {
        runs: 20,
        events: 250_000,
        quiet: false,
        only: None,
        // The facade's default: `Block` with a timeout (`--drop-oldest` to compare).
        index: LaneConfig {
            policy: ada::DEFAULT_INDEX_POLICY,
            ..LaneConfig::index_lane()
        },
        drain: DrainConfig::default(),
        trickle: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or(format!("{name} takes a number"))
        };
        match arg.as_str() {
            "--runs" => options.runs = u32::try_from(value("--runs")?).unwrap_or(u32::MAX),
            "--events" => options.events = value("--events")?,
            "--rings" => options.index.rings = usize::try_from(value("--rings")?).unwrap_or(0),
            "--ring-records" => {
                options.index.ring_records = usize::try_from(value("--ring-records")?).unwrap_or(0);
            }
            "--spin-us" => options.drain.spin_for = Duration::from_micros(value("--spin-us")?),
            "--trickle-us" => {
                options.trickle = Some(Duration::from_micros(value("--trickle-us")?));
            }
            "--quiet" => options.quiet = true,
            "--drop-oldest" => options.index.policy = ada::ExhaustionPolicy::DropOldest,
            "--only" => options.only = args.next(),
            "--bench" => {} // cargo bench's own flag
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("wakeup: {message}");
            return ExitCode::from(2);
        }
    };
    let memory = ada::ring_pool::Lane::<Event>::memory_bytes_for(&options.index)
        + ada::ring_pool::Lane::<ada::Detail>::memory_bytes_for(&LaneConfig::detail_lane());
    println!(
        "index lane {} × {} records ({memory} B per thread with the detail lane), spin_for {:?}, nap {:?}, park_after {:?}; {} events per burst",
        options.index.rings,
        options.index.ring_records,
        options.drain.spin_for,
        options.drain.nap,
        options.drain.park_after,
        options.events,
    );
    if let Some(every) = options.trickle {
        trickle(&options, every);
        return ExitCode::SUCCESS;
    }
    let mut failed = false;
    for before in [Before::Idle, Before::Busy] {
        let name = before.name();
        if options.only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let (mut lossless, mut worst_p99, mut worst_max) = (0, 0, 0);
        let mut p50s = Vec::new();
        for n in 0..options.runs {
            if options.quiet && !wait_quiet() {
                println!("{name} run {n:2}: the machine never went quiet; running anyway");
            }
            let run = run(before, &options);
            let drain = &run.report.drain;
            println!(
                "{name} run {n:2}: lost {:6} of {} ({:4.1} %), {} waits, burst {:.2} ms; drain {} parks, {} naps, {} producer wakes, {} rings; submit → take p50 {} ns, p99 {} ns, max {} ns",
                run.lost,
                run.written,
                100.0 * run.lost as f64 / run.written.max(1) as f64,
                run.waits,
                run.burst.as_secs_f64() * 1e3,
                drain.parks,
                drain.naps,
                drain.producer_wakes,
                drain.rings_delivered,
                drain.take_latency_p50_ns,
                drain.take_latency_p99_ns,
                drain.take_latency_max_ns,
            );
            lossless += u32::from(run.lost == 0);
            p50s.push(drain.take_latency_p50_ns);
            worst_p99 = worst_p99.max(drain.take_latency_p99_ns);
            worst_max = worst_max.max(drain.take_latency_max_ns);
        }
        p50s.sort_unstable();
        println!(
            "{name}: {lossless}/{} runs lost nothing; submit → take: median p50 {} ns, worst p99 {} ns, worst max {} ns",
            options.runs,
            p50s.get(p50s.len() / 2).copied().unwrap_or(0),
            worst_p99,
            worst_max,
        );
        failed |= lossless != options.runs;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
