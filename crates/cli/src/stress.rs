//! The main job: producer threads write through the whole pipeline for a while, then
//! the report says what moved, what was lost and why, and whether every event is
//! accounted for.

use ada::ring_pool::Lane;
use ada::{
    Detail, DrainReport, Event, EventKind, ExhaustionPolicy, FileSink, LaneConfig, LaneMode,
    NullSink, Tracer, TracerBuilder,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How the workload runs.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StressArgs {
    /// Producer threads (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub(crate) threads: Option<u64>,
    /// How long the producers write, in seconds.
    #[arg(long, default_value_t = 3.0, value_parser = positive_seconds)]
    pub(crate) seconds: f64,
    /// Stop each producer after this many index events (default: write until `--seconds`
    /// have passed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..))]
    pub(crate) events: Option<u64>,
    /// What a thread does when all its rings are full.
    #[arg(long, value_enum, default_value_t = Policy::DropOldest)]
    pub(crate) policy: Policy,
    /// Index records per ring.
    #[arg(long, default_value_t = 2048)]
    pub(crate) ring_records: usize,
    /// Rings per index lane.
    #[arg(long, default_value_t = 4)]
    pub(crate) rings: usize,
    /// Print one JSON object instead of the human-readable report.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `ada stress`: the workload with a choice of sink.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StressCommand {
    #[command(flatten)]
    pub(crate) workload: StressArgs,
    /// Where delivered rings go: `null` (count only) or `file:PATH` (a capture file).
    #[arg(long, default_value = "null", value_parser = parse_sink)]
    pub(crate) sink: SinkChoice,
}

/// `ada record`: the workload captured to a file.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct RecordCommand {
    #[command(flatten)]
    pub(crate) workload: StressArgs,
    /// The capture file to write.
    #[arg(long)]
    pub(crate) out: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Policy {
    DropOldest,
    DropNewest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SinkChoice {
    Null,
    File(PathBuf),
}

fn parse_sink(text: &str) -> Result<SinkChoice, String> {
    match text.split_once(':') {
        None if text == "null" => Ok(SinkChoice::Null),
        Some(("file", path)) if !path.is_empty() => Ok(SinkChoice::File(PathBuf::from(path))),
        _ => Err(format!("`{text}`: expected `null` or `file:PATH`")),
    }
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 86_400.0 => Ok(seconds),
        _ => Err(format!(
            "`{text}`: expected seconds above 0 and at most 86400"
        )),
    }
}

/// What went wrong, and which exit status it means.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad configuration or input: exit status 2.
    Usage(String),
    /// The run finished but an invariant broke: exit status 1.
    Violated(String),
}

/// The `--json` object.
#[derive(Debug, Serialize)]
struct Summary {
    threads: u64,
    seconds: f64,
    policy: Policy,
    sink: String,
    events_written: u64,
    events_delivered: u64,
    events_dropped: u64,
    dropped_oldest: u64,
    dropped_newest: u64,
    dropped_sink: u64,
    events_discarded: u64,
    events_in_flight: u64,
    conserved: bool,
    events_per_sec: f64,
    ns_per_event_per_thread: f64,
    rings_delivered: u64,
    swaps: u64,
    bytes_per_thread: u64,
    bytes_delivered: u64,
    drain: DrainSummary,
}

#[derive(Debug, Serialize)]
struct DrainSummary {
    cycles: u64,
    idle_cycles: u64,
    parks: u64,
    collections: u64,
    fairness_index: f64,
    fairness_switches: u64,
    cycle_p50_ns: u64,
    cycle_p99_ns: u64,
    sink_errors: u64,
    sink_panics: u64,
}

/// Runs the workload and prints the report. `Ok(())` when every event is accounted for.
pub(crate) fn run(args: &StressArgs, sink: &SinkChoice) -> Result<(), Failure> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u64));
    let index = LaneConfig {
        rings: args.rings,
        ring_records: args.ring_records,
        policy: match args.policy {
            Policy::DropOldest => ExhaustionPolicy::DropOldest,
            Policy::DropNewest => ExhaustionPolicy::DropNewest,
        },
        mode: LaneMode::SubmitAll,
    };
    let builder = Tracer::builder()
        .threads(usize::try_from(threads).unwrap_or(usize::MAX))
        .index_lane(index);
    let builder: TracerBuilder<Event, Detail> = match sink {
        SinkChoice::Null => builder.sink(NullSink::default()),
        SinkChoice::File(path) => builder.sink(FileSink::create(path).map_err(|error| {
            Failure::Usage(format!("cannot create {}: {error}", path.display()))
        })?),
    };
    let tracer = builder
        .build()
        .map_err(|error| Failure::Usage(error.to_string()))?;
    let registry = *tracer.registry().config();
    // The lanes' records, ring headers, queues and bookkeeping, as allocated.
    let bytes_per_thread = (Lane::<Event>::memory_bytes_for(&registry.index)
        + Lane::<Detail>::memory_bytes_for(&registry.detail)) as u64;

    let duration = Duration::from_secs_f64(args.seconds);
    let stop = AtomicBool::new(false);
    let events = args.events.unwrap_or(u64::MAX);
    let progress = progress_bar(args.json, duration);
    let start = Instant::now();
    let producer_failure = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let (tracer, stop) = (&tracer, &stop);
                std::thread::Builder::new()
                    .name(format!("producer-{thread}"))
                    .spawn_scoped(s, move || produce(tracer, thread, events, stop))
            })
            .collect();
        while start.elapsed() < duration && !workers_done(&workers) {
            std::thread::sleep(Duration::from_millis(100).min(duration));
            let drained = tracer.snapshot().rings_delivered;
            progress.set_position(start.elapsed().as_millis().try_into().unwrap_or(u64::MAX));
            progress.set_message(format!("{drained} rings drained"));
        }
        stop.store(true, Ordering::Relaxed);
        workers
            .into_iter()
            .map(|worker| match worker {
                Ok(handle) => handle
                    .join()
                    .unwrap_or(Err("a producer panicked".to_owned())),
                Err(error) => Err(format!("could not spawn a producer: {error}")),
            })
            .find_map(Result::err)
    });
    progress.finish_and_clear();
    let elapsed = start.elapsed();
    let report = tracer
        .shutdown()
        .map_err(|error| Failure::Violated(format!("drain: {error}")))?;
    if let Some(reason) = producer_failure {
        return Err(Failure::Violated(reason));
    }
    let summary = summarise(
        &report,
        threads,
        elapsed,
        args.policy,
        sink,
        bytes_per_thread,
    );
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).unwrap_or_default()
        );
    } else {
        print_human(&summary, &report);
    }
    if summary.conserved {
        Ok(())
    } else {
        Err(Failure::Violated(
            "written ≠ delivered + dropped + discarded for some lane".to_owned(),
        ))
    }
}

/// One producer: enter/leave pairs on the index lane, and every 4096 events a marked
/// detail record (a kept flight-recorder window), until `stop`.
fn produce(tracer: &Tracer, thread: u64, events: u64, stop: &AtomicBool) -> Result<(), String> {
    let mut handle = tracer
        .handle()
        .map_err(|error| format!("producer {thread}: {error}"))?;
    let function = 0x1000 * (thread + 1);
    let mut sequence = 0_u64;
    let mut timestamp = ada::timestamp_ns();
    // Two events per step: enter and leave.
    let steps = events / 2;
    while !stop.load(Ordering::Relaxed) && sequence < steps {
        for _ in 0..512.min(steps - sequence) {
            handle.index(Event {
                timestamp_ns: timestamp,
                function,
                argument: sequence,
                kind: EventKind::Enter as u32,
                depth: 0,
            });
            handle.index(Event {
                timestamp_ns: timestamp + 1,
                function,
                argument: sequence,
                kind: EventKind::Leave as u32,
                depth: 0,
            });
            sequence += 1;
        }
        timestamp = ada::timestamp_ns();
        if sequence.is_multiple_of(4096) {
            let lane = handle.detail_lane();
            lane.mark_push()
                .map_err(|error| format!("producer {thread}: {error}"))?;
            handle.detail(Detail::now(function, [thread, sequence, 0, 0, 0, 0]));
            let lane = handle.detail_lane();
            lane.mark_pop()
                .map_err(|error| format!("producer {thread}: {error}"))?;
            handle.wake_drain();
        }
    }
    Ok(())
}

fn workers_done<T>(workers: &[std::io::Result<std::thread::ScopedJoinHandle<'_, T>>]) -> bool {
    workers.iter().all(|worker| {
        worker
            .as_ref()
            .map_or(true, std::thread::ScopedJoinHandle::is_finished)
    })
}

fn progress_bar(hidden: bool, duration: Duration) -> ProgressBar {
    if hidden {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(duration.as_millis().try_into().unwrap_or(u64::MAX));
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {elapsed} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

fn summarise(
    report: &DrainReport,
    threads: u64,
    elapsed: Duration,
    policy: Policy,
    sink: &SinkChoice,
    bytes_per_thread: u64,
) -> Summary {
    let totals = &report.totals;
    let seconds = elapsed.as_secs_f64();
    let conserved = totals.is_conserved()
        && report
            .threads
            .iter()
            .all(|t| t.index.is_conserved() && t.detail.is_conserved());
    Summary {
        threads,
        seconds,
        policy,
        sink: match sink {
            SinkChoice::Null => "null".to_owned(),
            SinkChoice::File(path) => format!("file:{}", path.display()),
        },
        events_written: totals.events_written,
        events_delivered: totals.events_delivered,
        events_dropped: totals.events_lost(),
        dropped_oldest: totals.dropped.oldest,
        dropped_newest: totals.dropped.newest,
        dropped_sink: totals.dropped.sink,
        events_discarded: totals.events_discarded,
        events_in_flight: totals.events_in_flight(),
        conserved,
        events_per_sec: totals.events_written as f64 / seconds,
        ns_per_event_per_thread: seconds * 1e9 * threads as f64
            / totals.events_written.max(1) as f64,
        rings_delivered: report.drain.rings_delivered,
        swaps: totals.swaps,
        bytes_per_thread,
        bytes_delivered: report.bytes_delivered,
        drain: DrainSummary {
            cycles: report.drain.cycles,
            idle_cycles: report.drain.idle_cycles,
            parks: report.drain.parks,
            collections: report.drain.collections,
            fairness_index: report.fairness_index,
            fairness_switches: report.drain.fairness_switches,
            cycle_p50_ns: report.drain.cycle_p50_ns,
            cycle_p99_ns: report.drain.cycle_p99_ns,
            sink_errors: report.drain.sink_errors,
            sink_panics: report.drain.sink_panics,
        },
    }
}

fn print_human(summary: &Summary, report: &DrainReport) {
    let millions = |n: u64| n as f64 / 1e6;
    println!(
        "ada stress: {} producer threads for {:.2} s, {:?}, sink {}",
        summary.threads, summary.seconds, summary.policy, summary.sink
    );
    println!(
        "  events written    {:>12.3} M  ({:.1} M/s, {:.2} ns per event per thread)",
        millions(summary.events_written),
        summary.events_per_sec / 1e6,
        summary.ns_per_event_per_thread
    );
    println!(
        "  delivered         {:>12.3} M  in {} rings ({:.1} MB)",
        millions(summary.events_delivered),
        summary.rings_delivered,
        summary.bytes_delivered as f64 / 1e6
    );
    println!(
        "  dropped           {:>12.3} M  (oldest {}, newest {}, sink {})",
        millions(summary.events_dropped),
        summary.dropped_oldest,
        summary.dropped_newest,
        summary.dropped_sink
    );
    println!(
        "  discarded         {:>12}    (unmarked flight-recorder windows, by design)",
        summary.events_discarded
    );
    println!(
        "  conserved         {:>12}    (written = delivered + dropped + discarded, every lane)",
        if summary.conserved { "yes" } else { "NO" }
    );
    println!(
        "  drain             {} cycles ({} idle, {} parks), cycle p50 {} ns / p99 {} ns, fairness {:.3}",
        summary.drain.cycles,
        summary.drain.idle_cycles,
        summary.drain.parks,
        summary.drain.cycle_p50_ns,
        summary.drain.cycle_p99_ns,
        summary.drain.fairness_index
    );
    println!(
        "  memory            {} bytes of rings per thread, {} swaps",
        summary.bytes_per_thread, summary.swaps
    );
    println!("  per thread:");
    for thread in &report.threads {
        println!(
            "    slot {:>3} gen {:>3} {:<14} written {:>11} delivered {:>11} dropped {:>10}",
            thread.slot,
            thread.generation,
            thread.thread_name.as_deref().unwrap_or("-"),
            thread.index.events_written + thread.detail.events_written,
            thread.index.events_delivered + thread.detail.events_delivered,
            thread.index.events_lost() + thread.detail.events_lost(),
        );
    }
}
