//! The main job (`ada` with no command): what tracing costs a program that does real
//! work.
//!
//! Worker threads (one per core, at least 2) process batches of generated data the way
//! an instrumented service would: each batch generates text lines, parses them into
//! numbers, sorts the numbers in chunks and hashes the text, with an enter/leave span
//! around the batch, each phase and each group of work inside it (three deep, 19 spans a
//! batch, most of a few hundred nanoseconds to a few microseconds of work). Now and then
//! a batch keeps a flight-recorder snapshot (a detail record and a mark). The same batches
//! (a fixed seed) run untraced and traced, alternately, `--repeats` times each; the
//! report compares the medians (tracing overhead), and says what moved, what was lost
//! and why, what the drain thread cost, and what the lanes cost per thread.

use crate::error::{Failure, ProducerError};
use crate::lanes::{Explained, MemoryPerThread, print_explanations};
use crate::out::outln;
use crate::stress::{listed, print_summary, reserve_line, seconds_up_to};
use ada::metrics::LaneSnapshot;
use ada::registry::ReserveUsage;
use ada::{Detail, DrainReport, Event, EventKind, FileSink, NullSink, ThreadHandle, Tracer};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, mpsc};
use std::time::{Duration, Instant};

/// The main job's settings (`ada [OPTIONS]`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct JobArgs {
    /// Worker threads, 1 to 1024 (default: one per core, at least 2).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub(crate) threads: Option<u64>,
    /// About how long the whole job runs, every run together, in seconds: above 0, at
    /// most 3600.
    #[arg(long, default_value_t = 4.0, value_parser = job_seconds)]
    pub(crate) seconds: f64,
    /// Runs of each kind (untraced, traced), 1 to 15: the medians are compared.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=15))]
    pub(crate) repeats: u64,
    /// Capture the traced runs to FILE (each traced run rewrites it: the last one stays).
    #[arg(short, long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
    /// Bytes of spare index rings shared by the workers (a lane whose own rings are all
    /// out borrows one before it waits); 0: none. Rounded down to whole rings.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_RESERVE_BYTES)]
    pub(crate) reserve_bytes: usize,
    /// Print one JSON object instead of the human-readable report.
    #[arg(long)]
    pub(crate) json: bool,
}

/// The main job's shared reserve: 1 MiB, 32 index rings (about one thread's own lanes'
/// worth, for all of them to borrow from).
const DEFAULT_RESERVE_BYTES: usize = 1 << 20;

/// `--seconds` of the main job: above 0, at most an hour.
fn job_seconds(text: &str) -> Result<f64, crate::error::BadValue> {
    seconds_up_to(text, 3600.0, "seconds above 0 and at most 3600")
}

/// The fixed seed every run's inputs derive from.
const SEED: u64 = 0x00ad_a15e_ed00_0015;

/// Lines of text a batch generates and parses.
const LINES: usize = 64;
/// Lines per generate/parse span.
const GROUP: usize = 16;
/// Numbers per line.
const FIELDS: usize = 4;
/// Numbers per sort span.
const SORT_CHUNK: usize = 64;
/// Bytes per hash span.
const HASH_BLOCK: usize = 1024;
/// A batch keeps a flight-recorder snapshot when its hash is 0 modulo this.
const SNAPSHOT_EVERY: u64 = 1024;

/// The spans' names: callsite statics, interned in the process-wide name table on first
/// use (a capture carries the table, so `ada export` shows the names), then one relaxed
/// load each, as an instrumentation macro's callsite costs.
mod span {
    use ada::names::Callsite;

    pub(super) static BATCH: Callsite = Callsite::new("batch");
    pub(super) static GENERATE: Callsite = Callsite::new("generate");
    pub(super) static GENERATE_LINES: Callsite = Callsite::new("generate_lines");
    pub(super) static PARSE: Callsite = Callsite::new("parse");
    pub(super) static PARSE_LINES: Callsite = Callsite::new("parse_lines");
    pub(super) static SORT: Callsite = Callsite::new("sort");
    pub(super) static SORT_CHUNK: Callsite = Callsite::new("sort_chunk");
    pub(super) static HASH: Callsite = Callsite::new("hash");
    pub(super) static HASH_BLOCK: Callsite = Callsite::new("hash_block");
}

/// A span's name.
type Name = &'static ada::names::Callsite;

/// What the workload calls at each span's edges: nothing (untraced) or the tracer.
trait Probe {
    /// A span begins.
    fn enter(&mut self, name: Name, argument: u64);
    /// A span ends.
    fn leave(&mut self, name: Name, argument: u64);
    /// Something worth keeping: a detail record in a marked flight-recorder window.
    fn snapshot(&mut self, name: Name, payload: [u64; 6]);
}

/// The untraced run: the calls compile to nothing.
struct Untraced;

impl Probe for Untraced {
    #[inline(always)]
    fn enter(&mut self, _: Name, _: u64) {}
    #[inline(always)]
    fn leave(&mut self, _: Name, _: u64) {}
    #[inline(always)]
    fn snapshot(&mut self, _: Name, _: [u64; 6]) {}
}

/// The traced run: each edge is one stamped index record through the thread's own
/// handle (the facade's fast path).
struct Traced(ThreadHandle<Event, Detail>);

impl Probe for Traced {
    #[inline]
    fn enter(&mut self, name: Name, argument: u64) {
        let name = name.id().get();
        self.0.index(Event::now(EventKind::Enter, name, argument));
    }
    #[inline]
    fn leave(&mut self, name: Name, argument: u64) {
        let name = name.id().get();
        self.0.index(Event::now(EventKind::Leave, name, argument));
    }
    fn snapshot(&mut self, name: Name, payload: [u64; 6]) {
        self.0
            .detail(Detail::now(u64::from(name.id().get()), payload));
        self.0.mark();
    }
}

/// A worker's buffers, reused from batch to batch as a real worker would.
#[derive(Debug, Default)]
struct Scratch {
    text: String,
    /// Where each group of lines ends in `text`.
    group_ends: [usize; LINES / GROUP],
    numbers: Vec<u64>,
}

/// splitmix64: the inputs' generator (fixed seed, same numbers every run).
fn mix(mut state: u64) -> u64 {
    state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of batch `n` of worker `thread`.
fn batch_seed(thread: u64, n: u64) -> u64 {
    mix(SEED ^ (thread << 40) ^ n)
}

/// FNV-1a over `bytes`, continuing from `hash`.
fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// One batch: generate, parse, sort, hash; returns a digest of the result.
fn batch(probe: &mut impl Probe, scratch: &mut Scratch, seed: u64) -> u64 {
    probe.enter(&span::BATCH, seed);

    probe.enter(&span::GENERATE, seed);
    scratch.text.clear();
    let mut state = seed;
    for (group, end) in scratch.group_ends.iter_mut().enumerate() {
        probe.enter(&span::GENERATE_LINES, group as u64);
        for _ in 0..GROUP {
            state = mix(state);
            let (id, amount) = (state >> 40, state & 0xf_ffff);
            state = mix(state);
            let (quantity, price) = (state >> 54, (state >> 8) % 100_000);
            // Writing to a `String` cannot fail.
            let _ = writeln!(scratch.text, "{id};{amount};{quantity};{price}");
        }
        *end = scratch.text.len();
        probe.leave(&span::GENERATE_LINES, group as u64);
    }
    probe.leave(&span::GENERATE, seed);

    probe.enter(&span::PARSE, seed);
    scratch.numbers.clear();
    let mut start = 0;
    for (group, &end) in scratch.group_ends.iter().enumerate() {
        probe.enter(&span::PARSE_LINES, group as u64);
        for line in scratch.text[start..end].lines() {
            scratch.numbers.extend(
                line.split(';')
                    .map(|field| field.parse::<u64>().unwrap_or(0)),
            );
        }
        start = end;
        probe.leave(&span::PARSE_LINES, group as u64);
    }
    probe.leave(&span::PARSE, seed);

    probe.enter(&span::SORT, seed);
    for (chunk, numbers) in scratch.numbers.chunks_mut(SORT_CHUNK).enumerate() {
        probe.enter(&span::SORT_CHUNK, chunk as u64);
        numbers.sort_unstable();
        probe.leave(&span::SORT_CHUNK, chunk as u64);
    }
    probe.leave(&span::SORT, seed);

    probe.enter(&span::HASH, seed);
    let mut hash = 0xcbf2_9ce4_8422_2325;
    for (block, bytes) in scratch.text.as_bytes().chunks(HASH_BLOCK).enumerate() {
        probe.enter(&span::HASH_BLOCK, block as u64);
        hash = fnv1a(hash, bytes);
        probe.leave(&span::HASH_BLOCK, block as u64);
    }
    probe.leave(&span::HASH, seed);

    let (first, last) = (
        scratch.numbers.first().copied().unwrap_or(0),
        scratch.numbers.last().copied().unwrap_or(0),
    );
    if hash.is_multiple_of(SNAPSHOT_EVERY) {
        let len = scratch.text.len() as u64;
        probe.snapshot(&span::BATCH, [seed, hash, first, last, len, 0]);
    }
    probe.leave(&span::BATCH, seed);
    hash ^ first.rotate_left(17) ^ last.rotate_left(41)
}

/// Every batch of one worker: the digest of all of them (the same in every run).
fn work(probe: &mut impl Probe, thread: u64, batches: u64) -> u64 {
    let mut scratch = Scratch {
        numbers: Vec::with_capacity(LINES * FIELDS),
        ..Scratch::default()
    };
    (0..batches).fold(0, |digest: u64, n| {
        digest.rotate_left(1)
            ^ std::hint::black_box(batch(probe, &mut scratch, batch_seed(thread, n)))
    })
}

/// How many batches each worker runs so that one run takes about `seconds`: times
/// untraced batches on this thread, a warm-up and then four slices of 10 ms, and trusts
/// the fastest slice (one the scheduler interrupted says nothing about the work).
fn batches_for(seconds: f64) -> u64 {
    let mut scratch = Scratch::default();
    let mut batches = 0_u64;
    let mut fastest = f64::INFINITY;
    for slice in 0..5 {
        let (start, first) = (Instant::now(), batches);
        while batches - first < 8 || start.elapsed() < Duration::from_millis(10) {
            std::hint::black_box(batch(
                &mut Untraced,
                &mut scratch,
                batch_seed(u64::MAX, batches),
            ));
            batches += 1;
        }
        if slice > 0 {
            // The first slice warms the caches, the buffers and the clock up.
            fastest = fastest.min(start.elapsed().as_secs_f64() / (batches - first) as f64);
        }
    }
    ((seconds / fastest) as u64).max(16)
}

/// CPU time the calling thread has used (zero where the clock cannot be read).
fn thread_cpu() -> Duration {
    ada::clock::thread_cpu_time().unwrap_or_default()
}

/// What one run of the workers measured.
#[derive(Debug, Clone, Copy)]
struct Run {
    /// From the start to the last worker's exit.
    elapsed: Duration,
    /// The workers' CPU time, all together (the drain thread's is not in it).
    cpu: Duration,
    /// Every worker's results combined.
    digest: u64,
}

/// One run: `threads` workers, each registered (`probe`) before the clock starts, run
/// `batches` batches.
fn run_workers<P: Probe>(
    threads: u64,
    batches: u64,
    probe: impl Fn(u64) -> Result<P, ProducerError> + Sync,
) -> Result<Run, ProducerError> {
    let gate = RwLock::new(());
    let closed = gate.write().unwrap_or_else(PoisonError::into_inner);
    let (ready, registered) = mpsc::channel();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let (gate, probe, ready) = (&gate, &probe, ready.clone());
                std::thread::Builder::new()
                    .name(format!("worker-{thread}"))
                    .spawn_scoped(s, move || {
                        let probe = probe(thread);
                        let _ = ready.send(());
                        // Every worker starts when the clock does.
                        drop(gate.read().unwrap_or_else(PoisonError::into_inner));
                        let mut probe = probe?;
                        let cpu = thread_cpu();
                        let digest = work(&mut probe, thread, batches);
                        drop(probe); // a traced worker's retirement is part of its run
                        Ok((digest, thread_cpu().saturating_sub(cpu)))
                    })
            })
            .collect();
        let spawned = workers.iter().filter(|worker| worker.is_ok()).count();
        drop(ready);
        registered.iter().take(spawned).for_each(drop);
        let start = Instant::now();
        drop(closed);
        let (mut digest, mut cpu) = (0, Duration::ZERO);
        let mut failure = None;
        for worker in workers {
            match worker {
                Ok(handle) => match handle.join().unwrap_or(Err(ProducerError::Panicked)) {
                    Ok((result, used)) => (digest, cpu) = (digest ^ result, cpu + used),
                    Err(error) => failure = failure.or(Some(error)),
                },
                Err(error) => failure = failure.or(Some(ProducerError::Spawn(error))),
            }
        }
        let run = Run {
            elapsed: start.elapsed(),
            cpu,
            digest,
        };
        failure.map_or(Ok(run), Err)
    })
}

/// What one traced run measured.
#[derive(Debug)]
struct TracedRun {
    run: Run,
    report: DrainReport,
    /// The tracer's lanes, per thread.
    memory: MemoryPerThread,
}

/// One traced run: a tracer with the default lanes and drain, its sink a capture file
/// (`out`) or a null sink.
fn run_traced(
    threads: u64,
    batches: u64,
    out: Option<&Path>,
    reserve_bytes: usize,
) -> Result<TracedRun, Failure> {
    let builder = Tracer::builder()
        .threads(usize::try_from(threads).unwrap_or(usize::MAX))
        .reserve_bytes(reserve_bytes);
    let builder = match out {
        None => builder.sink(NullSink::default()),
        Some(path) => builder.sink(FileSink::create(path).map_err(|source| Failure::Create {
            path: path.to_owned(),
            source: source.into(),
        })?),
    };
    let tracer = builder.build().map_err(Failure::Config)?;
    let memory = MemoryPerThread::of(tracer.registry().config());
    let run = run_workers(threads, batches, |thread| {
        tracer
            .handle()
            .map(Traced)
            .map_err(|source| ProducerError::Register { thread, source })
    });
    let report = tracer.shutdown().map_err(Failure::Drain)?;
    Ok(TracedRun {
        run: run.map_err(Failure::Producer)?,
        report,
        memory,
    })
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    }
}

/// The capture file the last traced run wrote.
#[derive(Debug, Serialize)]
struct Capture {
    path: String,
    bytes: u64,
    /// Records in it (the last traced run's delivered events, both lanes).
    events: u64,
    bytes_per_event: f64,
}

/// The `--json` object. `events_written`, `events_delivered`, `events_dropped`,
/// `conserved` and `events_per_sec` mean what they mean for `ada stress`; the counters
/// are the sum over every traced run.
#[derive(Debug, Serialize)]
struct JobSummary<'a> {
    threads: u64,
    repeats: u64,
    batches_per_thread: u64,
    untraced_seconds: Vec<f64>,
    traced_seconds: Vec<f64>,
    untraced_median_seconds: f64,
    traced_median_seconds: f64,
    overhead_percent: f64,
    /// The extra wall time per event, per thread: the cost of an event as the workload
    /// felt it (its timestamp included).
    overhead_ns_per_event: f64,
    /// The workers' CPU time in each run (all workers together; the drain's is apart).
    untraced_cpu_seconds: Vec<f64>,
    traced_cpu_seconds: Vec<f64>,
    /// The workers' median CPU time traced / untraced − 1, in %: the cost of emitting,
    /// without the time other threads and processes took from the workers.
    cpu_overhead_percent: f64,
    /// The extra worker CPU time per event.
    cpu_overhead_ns_per_event: f64,
    #[serde(flatten)]
    totals: &'a LaneSnapshot,
    events_dropped: u64,
    events_in_flight: u64,
    conserved: bool,
    /// Events written per second of traced wall time.
    events_per_sec: f64,
    drain_cpu_ns: u64,
    /// The drain thread's CPU time over the traced runs' wall time, in % of one core.
    drain_cpu_percent: f64,
    memory_per_thread_bytes: u64,
    memory_per_thread: MemoryPerThread,
    /// For every lane of every traced run that lost events: why, and what would have
    /// avoided it.
    loss_explanations: Vec<Explained<'a>>,
    /// The shared reserve of the last traced run: size, the most rings lent at once;
    /// who borrowed is in that run's threads' `rings_borrowed` (the totals sum them).
    reserve: ReserveUsage,
    /// The last traced run's reserve line of the human-readable report.
    #[serde(skip)]
    reserve_line: Option<String>,
    capture: Option<Capture>,
    /// Every worker's results combined: the same untraced and traced.
    work_digest: String,
}

/// Runs the main job and prints its report. `Ok(())` when every event is accounted for
/// and the traced runs computed what the untraced ones did.
pub(crate) fn run(args: &JobArgs) -> Result<(), Failure> {
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, |n| (n.get() as u64).max(2))
    });
    // A quarter of a run's time warms every worker up (untraced) and times the batches
    // as the runs will see them (all cores busy); then the runs share the rest.
    let per_run = args.seconds / (2 * args.repeats) as f64 / 1.125;
    let probe = batches_for(per_run / 4.0);
    let warm_up = run_workers(threads, probe, |_| Ok(Untraced)).map_err(Failure::Producer)?;
    let batches = ((probe as f64 * per_run / warm_up.elapsed.as_secs_f64().max(1e-6)) as u64)
        .clamp(16, probe.saturating_mul(100));
    let (mut untraced, mut untraced_cpu) = (Vec::new(), Vec::new());
    let (mut traced, mut traced_cpu) = (Vec::new(), Vec::new());
    let mut reports = Vec::new();
    let mut memory = None;
    let mut digests = Vec::new();
    for _ in 0..args.repeats {
        let run = run_workers(threads, batches, |_| Ok(Untraced)).map_err(Failure::Producer)?;
        untraced.push(run.elapsed.as_secs_f64());
        untraced_cpu.push(run.cpu.as_secs_f64());
        digests.push(run.digest);
        let TracedRun {
            run,
            report,
            memory: lanes,
        } = run_traced(threads, batches, args.out.as_deref(), args.reserve_bytes)?;
        traced.push(run.elapsed.as_secs_f64());
        traced_cpu.push(run.cpu.as_secs_f64());
        digests.push(run.digest);
        memory = Some(lanes);
        reports.push(report);
    }
    // `repeats` ≥ 1: there was a traced run.
    let memory = memory.unwrap_or_else(|| MemoryPerThread::of(&Default::default()));
    if let Some(&other) = digests.iter().find(|&&digest| digest != digests[0]) {
        return Err(Failure::Diverged {
            expected: digests[0],
            found: other,
        });
    }

    let mut totals = LaneSnapshot::default();
    for report in &reports {
        totals += &report.totals;
    }
    let conserved = reports.iter().all(|report| {
        report.totals.is_conserved()
            && report
                .threads
                .iter()
                .all(|t| t.index.is_conserved() && t.detail.is_conserved())
    });
    let traced_wall: f64 = traced.iter().sum();
    let drain_cpu_ns: u64 = reports.iter().map(|report| report.drain_cpu_ns).sum();
    let explanations: Vec<_> = reports.iter().map(DrainReport::loss_explanations).collect();
    let (untraced_median, traced_median) = (median(&untraced), median(&traced));
    let (untraced_cpu_median, traced_cpu_median) = (median(&untraced_cpu), median(&traced_cpu));
    let events_per_run = totals.events_written as f64 / args.repeats as f64;
    let capture = match (&args.out, reports.last()) {
        (Some(path), Some(last)) => {
            let bytes = std::fs::metadata(path)
                .map_err(|source| Failure::Create {
                    path: path.clone(),
                    source,
                })?
                .len();
            Some(Capture {
                path: path.display().to_string(),
                bytes,
                events: last.totals.events_delivered,
                bytes_per_event: bytes as f64 / last.totals.events_delivered.max(1) as f64,
            })
        }
        _ => None,
    };
    let summary = JobSummary {
        threads,
        repeats: args.repeats,
        batches_per_thread: batches,
        overhead_percent: 100.0 * (traced_median / untraced_median - 1.0),
        overhead_ns_per_event: (traced_median - untraced_median) * 1e9 * threads as f64
            / events_per_run.max(1.0),
        untraced_seconds: untraced,
        traced_seconds: traced,
        cpu_overhead_percent: 100.0 * (traced_cpu_median / untraced_cpu_median - 1.0),
        cpu_overhead_ns_per_event: (traced_cpu_median - untraced_cpu_median) * 1e9
            / events_per_run.max(1.0),
        untraced_cpu_seconds: untraced_cpu,
        traced_cpu_seconds: traced_cpu,
        untraced_median_seconds: untraced_median,
        traced_median_seconds: traced_median,
        totals: &totals,
        events_dropped: totals.events_lost(),
        events_in_flight: totals.events_in_flight(),
        conserved,
        events_per_sec: totals.events_written as f64 / traced_wall,
        drain_cpu_ns,
        drain_cpu_percent: 100.0 * drain_cpu_ns as f64 / (traced_wall * 1e9),
        memory_per_thread_bytes: memory.total_bytes,
        memory_per_thread: memory,
        loss_explanations: explanations
            .iter()
            .enumerate()
            .flat_map(|(run, explanations)| Explained::all(Some(run + 1), explanations))
            .collect(),
        reserve: reports.last().map(|last| last.reserve).unwrap_or_default(),
        reserve_line: reports
            .last()
            .and_then(|last| reserve_line(&last.reserve, &last.threads)),
        capture,
        work_digest: format!("{:#018x}", digests[0]),
    };
    print_summary(&summary, args.json, summary.conserved, print_human)
}

fn print_human(summary: &JobSummary<'_>) {
    let seconds = |values: &[f64]| {
        let values: Vec<String> = values.iter().map(|s| format!("{s:.3}")).collect();
        values.join(", ")
    };
    let totals = summary.totals;
    outln!(
        "ada: {} worker threads × {} batches (generate, parse, sort, hash; 3-deep spans), {} runs untraced and {} traced",
        summary.threads,
        summary.batches_per_thread,
        summary.repeats,
        summary.repeats
    );
    outln!(
        "  untraced          {:>10.3} s   median of {}",
        summary.untraced_median_seconds,
        seconds(&summary.untraced_seconds)
    );
    outln!(
        "  traced            {:>10.3} s   median of {}",
        summary.traced_median_seconds,
        seconds(&summary.traced_seconds)
    );
    outln!(
        "  overhead          {:>10.1} %   ({:.1} ns per event per thread, its timestamp included)",
        summary.overhead_percent,
        summary.overhead_ns_per_event
    );
    outln!(
        "  worker CPU        {:>10.1} %   more traced ({:.1} ns per event; the workers' CPU time, what other threads took excluded)",
        summary.cpu_overhead_percent,
        summary.cpu_overhead_ns_per_event
    );
    outln!(
        "  events written    {:>10}     ({:.1} M/s over the traced runs)",
        totals.events_written,
        summary.events_per_sec / 1e6
    );
    outln!(
        "  delivered         {:>10}     in {} rings",
        totals.events_delivered,
        totals.rings_delivered
    );
    outln!(
        "  dropped           {:>10}     ({})",
        summary.events_dropped,
        listed(&totals.dropped.by_cause())
    );
    outln!(
        "  discarded         {:>10}     (unmarked flight-recorder windows, by design)",
        totals.events_discarded
    );
    outln!(
        "  conserved         {:>10}     (written = delivered + dropped + discarded, every lane)",
        if summary.conserved { "yes" } else { "NO" }
    );
    print_explanations(&summary.loss_explanations);
    outln!(
        "  drain CPU         {:>10.2} %   of one core over the traced runs ({:.1} ms)",
        summary.drain_cpu_percent,
        summary.drain_cpu_ns as f64 / 1e6
    );
    outln!("  memory            {}", summary.memory_per_thread.line());
    if let Some(line) = &summary.reserve_line {
        outln!("  reserve           {line}");
    }
    if let Some(capture) = &summary.capture {
        outln!(
            "  capture           {:>10} B   {:.1} bytes per event ({} events, the last traced run) in {}",
            capture.bytes,
            capture.bytes_per_event,
            capture.events,
            capture.path
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    /// Counts spans and checks they nest.
    #[derive(Default)]
    struct Recorder {
        open: Vec<&'static str>,
        spans: u64,
        deepest: usize,
        snapshots: u64,
    }

    impl Probe for Recorder {
        fn enter(&mut self, name: Name, _: u64) {
            self.open.push(name.name());
            self.deepest = self.deepest.max(self.open.len());
            self.spans += 1;
        }
        fn leave(&mut self, name: Name, _: u64) {
            assert_eq!(self.open.pop(), Some(name.name()), "spans nest");
        }
        fn snapshot(&mut self, _: Name, _: [u64; 6]) {
            self.snapshots += 1;
        }
    }

    #[test]
    fn batch__recorded__then_three_deep_nested_spans_and_the_same_digest_untraced() {
        let mut recorder = Recorder::default();
        let traced = work(&mut recorder, 3, 64);
        assert_eq!(
            traced,
            work(&mut Untraced, 3, 64),
            "probes do not change the work"
        );
        assert_ne!(
            traced,
            work(&mut Untraced, 4, 64),
            "each worker has its own inputs"
        );
        assert!(recorder.open.is_empty());
        assert_eq!(recorder.deepest, 3);
        // batch + 4 phases + 4 generate + 4 parse + 4 sort groups + 1 or more hash blocks
        let per_batch = recorder.spans as f64 / 64.0;
        assert!((18.0..=22.0).contains(&per_batch), "{per_batch}");
    }

    #[test]
    fn batch__parsed_numbers__then_every_field_of_every_line() {
        let mut scratch = Scratch::default();
        batch(&mut Untraced, &mut scratch, batch_seed(0, 0));
        assert_eq!(scratch.text.lines().count(), LINES);
        assert_eq!(scratch.numbers.len(), LINES * FIELDS);
        let chunk = &scratch.numbers[..SORT_CHUNK];
        assert!(chunk.is_sorted(), "each chunk sorted");
        assert!(
            scratch.numbers.iter().any(|&n| n > 1000),
            "numbers were parsed"
        );
    }

    #[test]
    fn median__odd_and_even_counts__then_the_middle() {
        assert!((median(&[3.0, 1.0, 2.0]) - 2.0).abs() < f64::EPSILON);
        assert!((median(&[4.0, 1.0, 2.0, 3.0]) - 2.5).abs() < f64::EPSILON);
        assert!((median(&[5.0]) - 5.0).abs() < f64::EPSILON);
    }

    #[test]
    fn run_workers__traced__then_registered_workers_and_a_conserving_report() {
        let TracedRun {
            run,
            report,
            memory,
        } = run_traced(2, 40, None, DEFAULT_RESERVE_BYTES).unwrap();
        let untraced = run_workers(2, 40, |_| Ok(Untraced)).unwrap();
        assert_eq!(run.digest, untraced.digest);
        assert!(run.cpu > Duration::ZERO && untraced.cpu > Duration::ZERO);
        assert_eq!(memory, MemoryPerThread::of(&Default::default()));
        assert_eq!(report.threads.len(), 2);
        assert!(report.totals.is_conserved());
        assert!(report.totals.events_written >= 2 * 40 * 2 * 18);
        assert_eq!(report.totals.events_lost(), 0);
    }
}
