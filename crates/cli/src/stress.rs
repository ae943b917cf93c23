//! `ada stress` and `ada record`, the flood test: producer threads write enter/leave
//! pairs as fast as they can through the whole pipeline for a while, then the report
//! says what moved, what was lost and why (each lossy lane's loss explained), what the
//! lanes cost per thread, and whether every event is accounted for.

use crate::error::{BadValue, Failure, ProducerError};
use crate::lanes::{Explained, MemoryPerThread, print_explanations};
use crate::out::outln;
use ada::drain::ThreadReport;
use ada::metrics::LaneSnapshot;
use ada::registry::ReserveUsage;
use ada::ring_pool::MAX_RINGS;
use ada::{
    Detail, DrainReport, DrainSnapshot, Event, EventKind, ExhaustionPolicy, FileSink, LaneConfig,
    LaneMode, NullSink, Tracer, TracerBuilder,
};
use clap::builder::RangedU64ValueParser;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The most producer threads `--threads` asks for.
const MAX_THREADS: u64 = 4096;

/// The most records `--ring-records` asks for: a whole ring of events in one block of a
/// capture file (`ada record`; the null sink takes the same bound).
const MAX_RING_RECORDS: u64 = ada::capture::MAX_BLOCK_BYTES / size_of::<Event>() as u64;

/// How the workload runs.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StressArgs {
    /// Producer threads, 1 to 4096 (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub(crate) threads: Option<u64>,
    /// How long the producers write, in seconds: above 0, at most 86400 (a day).
    #[arg(long, default_value_t = 3.0, value_parser = positive_seconds)]
    pub(crate) seconds: f64,
    /// Stop each producer after this many index events, at least 2 (default: write until
    /// `--seconds` have passed).
    #[arg(long, value_parser = clap::value_parser!(u64).range(2..))]
    pub(crate) events: Option<u64>,
    /// What a thread does when all its index rings are full (the detail lane, a flight
    /// recorder, keeps its own policy).
    #[arg(long, value_enum, default_value_t = Policy::DropOldest)]
    pub(crate) policy: Policy,
    /// With `--policy block`: wait at most this many milliseconds for a free ring, then
    /// drop new events (cause `timeout`) until the drain returns one; 1 to 86400000
    /// (default: wait as long as it takes).
    #[arg(
        long,
        value_name = "MS",
        value_parser = clap::value_parser!(u64).range(1..=86_400_000)
    )]
    pub(crate) block_timeout_ms: Option<u64>,
    /// Index records per ring, 1 to 262144 (a ring of 32-byte events fits one block of
    /// a capture file, 8 MiB).
    #[arg(
        long,
        default_value_t = 2048,
        value_parser = RangedU64ValueParser::<usize>::new().range(1..=MAX_RING_RECORDS)
    )]
    pub(crate) ring_records: usize,
    /// Rings per index lane, 2 to 64 (one written, one to swap in, at least).
    #[arg(
        long,
        default_value_t = 4,
        value_parser = RangedU64ValueParser::<usize>::new().range(2..=MAX_RINGS as u64)
    )]
    pub(crate) rings: usize,
    /// Bytes of spare index rings shared by all threads: a lane whose own rings are all
    /// out borrows one before its policy applies, and the drain gives it back once
    /// delivered (default 0: none). Rounded down to whole rings.
    #[arg(long, value_name = "BYTES", default_value_t = 0)]
    pub(crate) reserve_bytes: usize,
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
    #[arg(short, long, value_name = "FILE")]
    pub(crate) out: PathBuf,
}

/// `--policy`: the index lane's [`ExhaustionPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Policy {
    /// Take back the oldest submitted ring: the newest events survive.
    DropOldest,
    /// Discard new events until a ring is free: the oldest events survive.
    DropNewest,
    /// Wait for the drain to return a ring: nothing is lost, the producer waits
    /// (`--block-timeout-ms` bounds the wait).
    Block,
}

impl Policy {
    /// The lane policy, or a usage error when `--block-timeout-ms` comes without
    /// `--policy block`.
    pub(crate) fn exhaustion(
        self,
        block_timeout_ms: Option<u64>,
    ) -> Result<ExhaustionPolicy, Failure> {
        match (self, block_timeout_ms) {
            (Self::DropOldest | Self::DropNewest, Some(_)) => {
                Err(Failure::Arguments(clap::Error::raw(
                    clap::error::ErrorKind::ArgumentConflict,
                    "--block-timeout-ms needs --policy block\n",
                )))
            }
            (Self::DropOldest, None) => Ok(ExhaustionPolicy::DropOldest),
            (Self::DropNewest, None) => Ok(ExhaustionPolicy::DropNewest),
            (Self::Block, timeout) => Ok(ExhaustionPolicy::Block {
                timeout: timeout.map(Duration::from_millis),
            }),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SinkChoice {
    Null,
    File(PathBuf),
}

fn parse_sink(text: &str) -> Result<SinkChoice, BadValue> {
    match text.split_once(':') {
        None if text == "null" => Ok(SinkChoice::Null),
        Some(("file", path)) if !path.is_empty() => Ok(SinkChoice::File(PathBuf::from(path))),
        _ => Err(BadValue {
            text: text.to_owned(),
            expected: "`null` or `file:PATH`",
        }),
    }
}

/// Seconds above 0 and at most a day (a clap value parser): `stress`, `record` and
/// `idle` run that long, so an endless or negative time is a usage error, not a hang.
pub(crate) fn positive_seconds(text: &str) -> Result<f64, BadValue> {
    seconds_up_to(text, 86_400.0, "seconds above 0 and at most 86400 (a day)")
}

/// Seconds above 0 and at most `max`; NaN and the infinities are refused.
pub(crate) fn seconds_up_to(text: &str, max: f64, expected: &'static str) -> Result<f64, BadValue> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= max => Ok(seconds),
        _ => Err(BadValue {
            text: text.to_owned(),
            expected,
        }),
    }
}

/// The `--json` object: the run's settings, the totals over every lane (the report's
/// [`LaneSnapshot`], flattened), what follows from them, the drain loop's counters and
/// every thread's report. Every counter is serialised from the report's own types.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    threads: u64,
    seconds: f64,
    policy: Policy,
    /// `--block-timeout-ms` (`null`: none, or not `block`).
    block_timeout_ms: Option<u64>,
    sink: String,
    #[serde(flatten)]
    totals: &'a LaneSnapshot,
    events_dropped: u64,
    events_in_flight: u64,
    conserved: bool,
    events_per_sec: f64,
    ns_per_event_per_thread: f64,
    /// Both lanes of one thread, allocated at registration.
    memory_per_thread_bytes: u64,
    /// The same, lane by lane.
    memory_per_thread: MemoryPerThread,
    /// `memory_per_thread_bytes` under its first name.
    bytes_per_thread: u64,
    bytes_delivered: u64,
    /// The shared reserves: size, rings lent at the stop, the most lent at once (who
    /// borrowed: `per_thread[].index.rings_borrowed`).
    reserve: &'a ReserveUsage,
    drain: DrainSummary<'a>,
    /// For every lane that lost events: why, and what would have avoided it.
    loss_explanations: Vec<Explained<'a>>,
    per_thread: &'a [ThreadReport],
}

/// The drain loop's counters ([`DrainSnapshot`], flattened) with the report's
/// fairness index and sink outcome.
#[derive(Debug, Serialize)]
struct DrainSummary<'a> {
    #[serde(flatten)]
    counters: &'a DrainSnapshot,
    fairness_index: f64,
    /// The drain thread's CPU time.
    drain_cpu_ns: u64,
    /// The same over the run's wall time, in % of one core.
    drain_cpu_percent: f64,
    sink_flush_error: Option<&'a str>,
    /// The sink's error at its last call (a capture's trailer not written).
    sink_finish_error: Option<&'a str>,
}

/// Runs the workload and prints the report. `Ok(())` when every event is accounted for.
pub(crate) fn run(args: &StressArgs, sink: &SinkChoice) -> Result<(), Failure> {
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u64));
    let index = LaneConfig {
        rings: args.rings,
        ring_records: args.ring_records,
        policy: args.policy.exhaustion(args.block_timeout_ms)?,
        mode: LaneMode::SubmitAll,
    };
    let builder = Tracer::builder()
        .threads(usize::try_from(threads).unwrap_or(usize::MAX))
        .index_lane(index)
        .reserve_bytes(args.reserve_bytes);
    let builder: TracerBuilder<Event, Detail> = match sink {
        SinkChoice::Null => builder.sink(NullSink::default()),
        SinkChoice::File(path) => {
            builder.sink(FileSink::create(path).map_err(|source| Failure::Create {
                path: path.clone(),
                source: source.into(),
            })?)
        }
    };
    let tracer = builder.build().map_err(Failure::Config)?;
    // The lanes' records, ring headers, queues and bookkeeping, as allocated.
    let memory = MemoryPerThread::of(tracer.registry().config());

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
                Ok(handle) => handle.join().unwrap_or(Err(ProducerError::Panicked)),
                Err(error) => Err(ProducerError::Spawn(error)),
            })
            .find_map(Result::err)
    });
    progress.finish_and_clear();
    let elapsed = start.elapsed();
    let report = tracer.shutdown().map_err(Failure::Drain)?;
    if let Some(error) = producer_failure {
        return Err(Failure::Producer(error));
    }
    let explanations = report.loss_explanations();
    let mut summary = summarise(&report, threads, elapsed, args, sink, memory);
    summary.loss_explanations = Explained::all(None, &explanations);
    print_summary(&summary, args.json, summary.conserved, print_human)
}

/// Prints a command's summary, as JSON or with `human`, and fails when it did not
/// conserve (the main job and `ada stress` end alike).
pub(crate) fn print_summary<T: serde::Serialize>(
    summary: &T,
    json: bool,
    conserved: bool,
    human: impl FnOnce(&T),
) -> Result<(), Failure> {
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(summary).unwrap_or_default()
        );
    } else {
        human(summary);
    }
    if conserved {
        Ok(())
    } else {
        Err(Failure::NotConserved)
    }
}

/// One producer: enter/leave pairs on the index lane, and every 4096 events a marked
/// detail record (a kept flight-recorder window), until `stop`.
fn produce(
    tracer: &Tracer,
    thread: u64,
    events: u64,
    stop: &AtomicBool,
) -> Result<(), ProducerError> {
    let mark = |source| ProducerError::Mark { thread, source };
    let mut handle = tracer
        .handle()
        .map_err(|source| ProducerError::Register { thread, source })?;
    let function = 0x1000 * (thread + 1);
    // Records carry name ids: the function's, interned once (readers show `fn 0x…`).
    let name = ada::names::intern(&format!("fn {function:#x}")).map_or(0, |id| id.get());
    let mut sequence = 0_u64;
    let mut timestamp = ada::clock::now();
    // Two events per step: enter and leave.
    let steps = events / 2;
    while !stop.load(Ordering::Relaxed) && sequence < steps {
        for _ in 0..512.min(steps - sequence) {
            handle.index(Event::at(timestamp, EventKind::Enter, name, sequence));
            handle.index(Event::at(timestamp + 1, EventKind::Leave, name, sequence));
            sequence += 1;
        }
        timestamp = ada::clock::now();
        if sequence.is_multiple_of(4096) {
            handle.mark_push().map_err(mark)?;
            handle.detail(Detail::now(function, [thread, sequence, 0, 0, 0, 0]));
            handle.mark_pop().map_err(mark)?;
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

fn summarise<'a>(
    report: &'a DrainReport,
    threads: u64,
    elapsed: Duration,
    args: &StressArgs,
    sink: &SinkChoice,
    memory: MemoryPerThread,
) -> Summary<'a> {
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
        policy: args.policy,
        block_timeout_ms: args.block_timeout_ms,
        sink: match sink {
            SinkChoice::Null => "null".to_owned(),
            SinkChoice::File(path) => format!("file:{}", path.display()),
        },
        totals,
        events_dropped: totals.events_lost(),
        events_in_flight: totals.events_in_flight(),
        conserved,
        events_per_sec: totals.events_written as f64 / seconds,
        ns_per_event_per_thread: seconds * 1e9 * threads as f64
            / totals.events_written.max(1) as f64,
        memory_per_thread_bytes: memory.total_bytes,
        memory_per_thread: memory,
        bytes_per_thread: memory.total_bytes,
        bytes_delivered: report.bytes_delivered,
        reserve: &report.reserve,
        drain: DrainSummary {
            counters: &report.drain,
            fairness_index: report.fairness_index,
            drain_cpu_ns: report.drain_cpu_ns,
            drain_cpu_percent: 100.0 * report.drain_cpu_ns as f64 / (seconds * 1e9),
            sink_flush_error: report.sink_flush_error.as_deref(),
            sink_finish_error: report.sink_finish_error.as_deref(),
        },
        loss_explanations: Vec::new(),
        per_thread: &report.threads,
    }
}

/// The reserve's line of a human-readable report: its size, the most rings lent at once
/// and the threads that borrowed most; `None` without a reserve.
pub(crate) fn reserve_line(reserve: &ReserveUsage, threads: &[ThreadReport]) -> Option<String> {
    let index = &reserve.index;
    if index.rings == 0 {
        return None;
    }
    let mut borrowers: Vec<(u64, &ThreadReport)> = threads
        .iter()
        .map(|thread| (thread.index.rings_borrowed, thread))
        .filter(|(borrowed, _)| *borrowed > 0)
        .collect();
    borrowers.sort_by_key(|(borrowed, _)| std::cmp::Reverse(*borrowed));
    let total: u64 = borrowers.iter().map(|(borrowed, _)| borrowed).sum();
    let top: Vec<String> = borrowers
        .iter()
        .take(3)
        .map(|(borrowed, thread)| {
            let name = thread.thread_name.as_deref().unwrap_or("?");
            format!("slot {} ({name}) {borrowed}", thread.slot)
        })
        .collect();
    Some(format!(
        "{} rings ({:.1} MB), at most {} lent at once; {total} borrowings by {} threads{}",
        index.rings,
        index.bytes as f64 / 1e6,
        index.high_water,
        borrowers.len(),
        if top.is_empty() {
            String::new()
        } else {
            format!(" (most: {})", top.join(", "))
        }
    ))
}

/// `name value` pairs joined for one line of the human-readable report.
pub(crate) fn listed(pairs: &[(&str, u64)]) -> String {
    let items: Vec<String> = pairs
        .iter()
        .map(|(name, value)| format!("{name} {value}"))
        .collect();
    items.join(", ")
}

fn print_human(summary: &Summary<'_>) {
    let millions = |n: u64| n as f64 / 1e6;
    let totals = summary.totals;
    outln!(
        "ada stress: {} producer threads for {:.2} s, {:?}{}, sink {}",
        summary.threads,
        summary.seconds,
        summary.policy,
        summary
            .block_timeout_ms
            .map(|ms| format!(" (timeout {ms} ms)"))
            .unwrap_or_default(),
        summary.sink
    );
    outln!(
        "  events written    {:>12.3} M  ({:.1} M/s, {:.2} ns per event per thread)",
        millions(totals.events_written),
        summary.events_per_sec / 1e6,
        summary.ns_per_event_per_thread
    );
    outln!(
        "  delivered         {:>12.3} M  in {} rings ({:.1} MB), {} swaps",
        millions(totals.events_delivered),
        totals.rings_delivered,
        summary.bytes_delivered as f64 / 1e6,
        totals.swaps
    );
    outln!(
        "  dropped           {:>12.3} M  ({})",
        millions(summary.events_dropped),
        listed(&totals.dropped.by_cause())
    );
    if summary.policy == Policy::Block {
        outln!(
            "  blocked           {:>12}    waits for a free ring, {:.3} ms in all",
            totals.blocked_waits,
            totals.blocked_ns as f64 / 1e6
        );
    }
    outln!(
        "  discarded         {:>12}    (unmarked flight-recorder windows, by design)",
        totals.events_discarded
    );
    outln!(
        "  conserved         {:>12}    (written = delivered + dropped + discarded, every lane)",
        if summary.conserved { "yes" } else { "NO" }
    );
    print_explanations(&summary.loss_explanations);
    outln!("  memory            {}", summary.memory_per_thread.line());
    if let Some(line) = reserve_line(summary.reserve, summary.per_thread) {
        outln!("  reserve           {line}");
    }
    outln!(
        "  drain             {:.2} % of one core ({:.1} ms CPU), fairness {:.3}{}",
        summary.drain.drain_cpu_percent,
        summary.drain.drain_cpu_ns as f64 / 1e6,
        summary.drain.fairness_index,
        summary
            .drain
            .sink_flush_error
            .map(|error| format!(", sink flush failed: {error}"))
            .unwrap_or_default()
            + &summary
                .drain
                .sink_finish_error
                .map(|error| format!(", sink finish failed: {error}"))
                .unwrap_or_default()
    );
    for line in summary.drain.counters.counters().chunks(4) {
        outln!("                    {}", listed(line));
    }
    outln!("  per thread:");
    for thread in summary.per_thread {
        let mut lanes = thread.index;
        lanes += &thread.detail;
        outln!(
            "    slot {:>3} gen {:>3} {:<14} written {:>11} delivered {:>11} dropped {:>10}",
            thread.slot,
            thread.generation,
            thread.thread_name.as_deref().unwrap_or("-"),
            lanes.events_written,
            lanes.events_delivered,
            lanes.events_lost(),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn policy__each_choice_and_timeout__then_the_index_lane_policy() {
        assert_eq!(
            Policy::Block.exhaustion(None).unwrap(),
            ExhaustionPolicy::Block { timeout: None }
        );
        assert_eq!(
            Policy::Block.exhaustion(Some(5)).unwrap(),
            ExhaustionPolicy::Block {
                timeout: Some(Duration::from_millis(5))
            }
        );
        assert_eq!(
            Policy::DropNewest.exhaustion(None).unwrap(),
            ExhaustionPolicy::DropNewest
        );
        let error = Policy::DropOldest.exhaustion(Some(5)).unwrap_err();
        assert_eq!(error.exit_status(), crate::error::EXIT_USAGE);
        assert!(error.to_string().contains("--policy block"), "{error}");
    }
}
