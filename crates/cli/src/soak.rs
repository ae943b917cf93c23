//! `ada soak`: the pipeline under churn, bursts, marks, both exhaustion policies and a
//! sink that sometimes stalls and sometimes fails, with every record checked.
//!
//! Every record carries its producer's key, its sequence number in its lane, and a
//! checksum of both, so the checking sink verifies integrity (no torn or foreign
//! record), per-lane order (sequences strictly increase; gaps are losses) and, at the end
//! of each phase, exact conservation: what the sink accepted equals what the report
//! counts as delivered, and written = delivered + dropped + discarded for every lane.
//!
//! The checking sink also writes every record it accepts to a capture file (one per
//! phase, in the temporary directory, removed after its check), which is read back at
//! the end of the phase: every record intact, and for every lane of the report, records
//! in the file = delivered and, per cause, the losses the blocks announce + the
//! trailer's losses after the last block = dropped (the same for discarded windows).

use crate::error::{BadValue, Failure};
use crate::out::outln;
use crate::stress::{listed, seconds_up_to};
use ada::capture::{CaptureReader, LaneId, LaneKey, LossCause, Record};
use ada::metrics::LaneSnapshot;
use ada::{
    DrainConfig, DrainReport, ExhaustionPolicy, FileSink, LaneConfig, LaneMode, Sink, Tracer,
    TracerBuilder,
    drain::{Delivery, LaneLayout, SinkError},
};
use bytemuck::{Pod, Zeroable};
use clap::builder::RangedU64ValueParser;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long and how hard to soak.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SoakArgs {
    /// Total run time in seconds: above 0, at most 31536000 (a year).
    #[arg(long, default_value_t = 600.0, value_parser = soak_seconds)]
    pub(crate) seconds: f64,
    /// Length of one phase (one tracer, one policy) in seconds, as `--seconds`; a line
    /// is printed per phase.
    #[arg(long, default_value_t = 10.0, value_parser = soak_seconds)]
    pub(crate) phase_seconds: f64,
    /// Producer threads alive at once, 1 to 1024 (more than the registry's slots, on
    /// purpose).
    #[arg(long, default_value_t = 12, value_parser = RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub(crate) concurrency: usize,
    /// Registry slots, 1 to 1024.
    #[arg(long, default_value_t = 8, value_parser = RangedU64ValueParser::<usize>::new().range(1..=1024))]
    pub(crate) slots: usize,
    /// How long a stalling sink call sleeps, in milliseconds: 0 to 10000.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    pub(crate) stall_ms: u64,
}

/// Seconds above 0 and at most a year (a clap value parser).
fn soak_seconds(text: &str) -> Result<f64, BadValue> {
    seconds_up_to(
        text,
        31_536_000.0,
        "seconds above 0 and at most 31536000 (a year)",
    )
}

/// A self-checking 32-byte record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Pod, Zeroable)]
#[repr(C)]
struct Stamped {
    key: u64,
    sequence: u64,
    payload: u64,
    check: u64,
}

fn mix(mut x: u64) -> u64 {
    // splitmix64's finaliser: every input bit reaches every output bit.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

impl Record for Stamped {
    const LAYOUT: &'static str = "ada.soak.Stamped/1";
}

/// The most bytes one phase's capture file may reach: past it the checking sink refuses
/// deliveries ("capture full"), which the drain counts as lost to the sink, the file
/// announces and the trailer reconciles like any other loss. It bounds the disk a long
/// phase uses (the checking sink accepts some 200 MB of records a second).
const CAPTURE_BUDGET_BYTES: u64 = 256 << 20;

impl Stamped {
    fn new(key: u64, sequence: u64) -> Self {
        let payload = mix(key.rotate_left(32) ^ sequence);
        Self {
            key,
            sequence,
            payload,
            check: mix(key ^ sequence.rotate_left(17) ^ payload),
        }
    }

    fn is_intact(&self) -> bool {
        *self == Self::new(self.key, self.sequence)
    }
}

/// What the checking sink saw.
#[derive(Default)]
struct Checks {
    accepted: [AtomicU64; 2],
    corrupt: AtomicU64,
    out_of_order: AtomicU64,
    stalls: AtomicU64,
    failures: AtomicU64,
    /// Deliveries refused because the capture reached its budget.
    full: AtomicU64,
    calls: AtomicU64,
    /// Per (producer key, lane): the last accepted sequence.
    last: Mutex<HashMap<(u64, usize), u64>>,
}

/// Verifies every record; stalls on every 1499th call and fails every 997th; writes
/// what it accepts to its capture file, when it has one.
struct CheckingSink {
    checks: Arc<Checks>,
    stall: Duration,
    capture: Option<FileSink<Stamped, Stamped>>,
}

impl CheckingSink {
    /// Checks a delivery's records, then (unless it fails it on purpose) writes it to
    /// the capture with `write` and counts it accepted.
    fn check(
        &mut self,
        lane: usize,
        records: &[Stamped],
        write: impl FnOnce(&mut FileSink<Stamped, Stamped>) -> Result<(), SinkError>,
    ) -> Result<(), SinkError> {
        let checks = &self.checks;
        let call = checks.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if call.is_multiple_of(1499) {
            checks.stalls.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(self.stall);
        }
        let mut last = checks
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut previous: Option<(u64, u64)> = None;
        for record in records {
            if !record.is_intact() {
                checks.corrupt.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            // Within one delivery all records are one producer's, in order.
            if let Some((key, sequence)) = previous
                && (key != record.key || sequence >= record.sequence)
            {
                checks.out_of_order.fetch_add(1, Ordering::Relaxed);
            }
            previous = Some((record.key, record.sequence));
        }
        if call.is_multiple_of(997) {
            checks.failures.fetch_add(1, Ordering::Relaxed);
            return Err(SinkError("injected sink failure".to_owned()));
        }
        if let Some(capture) = &mut self.capture {
            let bytes = size_of_val(records) as u64;
            if capture.bytes() + bytes > CAPTURE_BUDGET_BYTES {
                checks.full.fetch_add(1, Ordering::Relaxed);
                return Err(SinkError("the capture reached its budget".to_owned()));
            }
            write(capture)?;
        }
        if let (Some(first), Some(&(key, sequence))) = (records.first(), previous.as_ref()) {
            let entry = last.entry((key, lane)).or_insert(0);
            // Sequences start at 1: any accepted record must be newer than the last.
            if first.sequence <= *entry {
                checks.out_of_order.fetch_add(1, Ordering::Relaxed);
            }
            *entry = sequence;
        }
        checks.accepted[lane].fetch_add(records.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

impl Sink<Stamped, Stamped> for CheckingSink {
    fn start(&mut self, lanes: &LaneLayout) -> Result<(), SinkError> {
        self.capture.as_mut().map_or(Ok(()), |c| c.start(lanes))
    }

    fn index(&mut self, delivery: &Delivery<'_, Stamped>) -> Result<(), SinkError> {
        self.check(0, delivery.records, |capture| capture.index(delivery))
    }

    fn detail(&mut self, delivery: &Delivery<'_, Stamped>) -> Result<(), SinkError> {
        self.check(1, delivery.records, |capture| capture.detail(delivery))
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.capture.as_mut().map_or(Ok(()), Sink::flush)
    }

    fn finish(&mut self, report: &DrainReport) -> Result<(), SinkError> {
        self.capture.as_mut().map_or(Ok(()), |c| c.finish(report))
    }
}

/// A small xorshift generator: reproducible bursts without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Totals of one phase or of the whole soak.
#[derive(Debug, Default)]
struct Totals {
    lanes: LaneSnapshot,
    threads: u64,
    refused: u64,
    /// Bytes of the phase's capture file.
    capture_bytes: u64,
    violations: Vec<String>,
}

/// A file removed when this is dropped (also when a phase fails or panics).
struct Removed(std::path::PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Resident memory in bytes (Linux `/proc/self/statm`; 0 elsewhere).
fn resident_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Runs the soak; `Err(Failure::Soak)` on any broken invariant.
pub(crate) fn run(args: &SoakArgs) -> Result<(), Failure> {
    let start = Instant::now();
    let total = Duration::from_secs_f64(args.seconds);
    let phase_length = Duration::from_secs_f64(args.phase_seconds.min(args.seconds));
    let next_key = AtomicU64::new(1);
    let mut totals = Totals::default();
    let rss_start = resident_bytes();
    let mut rss_after_first = 0;
    let mut phase = 0_u64;
    outln!(
        "ada soak: {:.0} s in phases of {:.1} s, {} producers alive at once over {} slots",
        args.seconds,
        args.phase_seconds,
        args.concurrency,
        args.slots
    );
    while phase == 0 || start.elapsed() < total {
        let drop_newest = phase % 2 == 1;
        let capture = Removed(
            std::env::temp_dir().join(format!("ada-soak-{}-phase-{phase}.ada", std::process::id())),
        );
        let outcome = run_phase(args, phase_length, drop_newest, &next_key, &capture.0)?;
        drop(capture);
        let rss = resident_bytes();
        if phase == 0 {
            rss_after_first = rss;
        }
        outln!(
            "phase {phase:>3} {:<11} {:>7.1} s  written {:>12} delivered {:>12} dropped ({}) discarded {} borrowed {} threads {} refused {} capture {:.1} MB rss {:.1} MB  {}",
            if drop_newest {
                "drop-newest"
            } else {
                "drop-oldest"
            },
            start.elapsed().as_secs_f64(),
            outcome.lanes.events_written,
            outcome.lanes.events_delivered,
            listed(&outcome.lanes.dropped.by_cause()),
            outcome.lanes.events_discarded,
            outcome.lanes.rings_borrowed,
            outcome.threads,
            outcome.refused,
            outcome.capture_bytes as f64 / 1e6,
            rss as f64 / 1e6,
            if outcome.violations.is_empty() {
                "ok"
            } else {
                "VIOLATED"
            },
        );
        totals.lanes += &outcome.lanes;
        totals.threads += outcome.threads;
        totals.refused += outcome.refused;
        totals.violations.extend(outcome.violations);
        phase += 1;
    }
    let rss_end = resident_bytes();
    let conserved = totals.lanes.is_conserved();
    outln!("\n{:<28} {:>16}", "soak", "total");
    let dropped = totals
        .lanes
        .dropped
        .by_cause()
        .map(|(cause, events)| (format!("dropped: {cause}"), events));
    let rows = [
        ("phases".to_owned(), phase),
        ("producer threads".to_owned(), totals.threads),
        ("registrations refused (full)".to_owned(), totals.refused),
        ("events written".to_owned(), totals.lanes.events_written),
        ("events delivered".to_owned(), totals.lanes.events_delivered),
    ]
    .into_iter()
    .chain(dropped)
    .chain([
        (
            "discarded (unmarked windows)".to_owned(),
            totals.lanes.events_discarded,
        ),
        ("resident KiB at start".to_owned(), rss_start / 1024),
        (
            "resident KiB after phase 0".to_owned(),
            rss_after_first / 1024,
        ),
        ("resident KiB at end".to_owned(), rss_end / 1024),
    ]);
    for (name, value) in rows {
        outln!("{name:<28} {value:>16}");
    }
    outln!(
        "{:<28} {:>16}",
        "conserved",
        if conserved { "yes" } else { "NO" }
    );
    outln!("{:<28} {:>16}", "violations", totals.violations.len());
    for violation in totals.violations.iter().take(20) {
        outln!("  {violation}");
    }
    if conserved && totals.violations.is_empty() {
        Ok(())
    } else {
        Err(Failure::Soak {
            violations: totals.violations.len(),
            conserved,
        })
    }
}

/// One tracer's life: producers come and go for `length`, then shutdown and checks.
fn run_phase(
    args: &SoakArgs,
    length: Duration,
    drop_newest: bool,
    next_key: &AtomicU64,
    capture: &Path,
) -> Result<Totals, Failure> {
    let (index, detail) = if drop_newest {
        (
            LaneConfig {
                rings: 3,
                ring_records: 512,
                policy: ExhaustionPolicy::DropNewest,
                mode: LaneMode::SubmitAll,
            },
            LaneConfig {
                rings: 2,
                ring_records: 64,
                policy: ExhaustionPolicy::DropNewest,
                mode: LaneMode::SubmitAll,
            },
        )
    } else {
        (
            LaneConfig {
                rings: 4,
                ring_records: 256,
                policy: ExhaustionPolicy::DropOldest,
                mode: LaneMode::SubmitAll,
            },
            LaneConfig {
                rings: 3,
                ring_records: 32,
                policy: ExhaustionPolicy::DropOldest,
                mode: LaneMode::FlightRecorder { max_mark_depth: 2 },
            },
        )
    };
    let checks = Arc::new(Checks::default());
    // A shared reserve of 4 index rings, so that borrowed rings go through the same
    // churn, stalls and checks; the drop-newest phase's lanes may keep one (resizing).
    let reserve_bytes = 4 * index.ring_records * size_of::<Stamped>();
    let tracer: Tracer<Stamped, Stamped> = TracerBuilder::new()
        .threads(args.slots)
        .index_lane(index)
        .detail_lane(detail)
        .reserve_bytes(reserve_bytes)
        .reserve_adoption(usize::from(drop_newest))
        .drain(DrainConfig {
            latency_bound: Duration::from_millis(2),
            park_interval: Duration::from_millis(2),
            ..DrainConfig::default()
        })
        .sink(CheckingSink {
            checks: Arc::clone(&checks),
            stall: Duration::from_millis(args.stall_ms),
            capture: Some(FileSink::create(capture).map_err(|source| Failure::Create {
                path: capture.to_owned(),
                source: source.into(),
            })?),
        })
        .build()
        .map_err(Failure::Config)?;
    let stop = AtomicBool::new(false);
    let refused = AtomicU64::new(0);
    let spawned = AtomicU64::new(0);
    let started = Instant::now();
    std::thread::scope(|s| {
        let mut alive: Vec<std::thread::ScopedJoinHandle<'_, ()>> = Vec::new();
        while started.elapsed() < length {
            alive.retain(|worker| !worker.is_finished());
            while alive.len() < args.concurrency {
                let key = next_key.fetch_add(1, Ordering::Relaxed);
                spawned.fetch_add(1, Ordering::Relaxed);
                let (tracer, stop, refused) = (&tracer, &stop, &refused);
                alive.push(s.spawn(move || produce(tracer, key, stop, refused)));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        // Shutdown begins while producers are mid-burst: they stop at their next check.
        stop.store(true, Ordering::Relaxed);
    });
    let report = tracer.shutdown().map_err(Failure::Drain)?;
    let mut outcome = Totals {
        lanes: report.totals,
        threads: spawned.load(Ordering::Relaxed),
        refused: refused.load(Ordering::Relaxed),
        capture_bytes: std::fs::metadata(capture).map_or(0, |m| m.len()),
        violations: check_capture(capture, &report),
    };
    let mut violation = |text: String| outcome.violations.push(text);
    if !report.totals.is_conserved() {
        violation(format!("totals not conserved: {:?}", report.totals));
    }
    // The reserve: never more lent than it has; once every thread's slot is released,
    // every borrowed ring is back.
    let reserve = report.reserve.index;
    if reserve.high_water > reserve.rings {
        violation(format!("reserve over its budget: {reserve:?}"));
    }
    if report.threads.iter().all(|thread| thread.retired) && reserve.lent != 0 {
        violation(format!("borrowed rings not given back: {reserve:?}"));
    }
    for thread in &report.threads {
        if !(thread.index.is_conserved() && thread.detail.is_conserved()) {
            violation(format!(
                "slot {} gen {} not conserved",
                thread.slot, thread.generation
            ));
        }
    }
    let delivered_index: u64 = report
        .threads
        .iter()
        .map(|t| t.index.events_delivered)
        .sum();
    let delivered_detail: u64 = report
        .threads
        .iter()
        .map(|t| t.detail.events_delivered)
        .sum();
    for (lane, reported) in [delivered_index, delivered_detail].into_iter().enumerate() {
        let accepted = checks.accepted[lane].load(Ordering::Relaxed);
        if accepted != reported {
            violation(format!(
                "lane {lane}: sink accepted {accepted}, report says {reported}"
            ));
        }
    }
    for (name, count) in [
        ("corrupt records", checks.corrupt.load(Ordering::Relaxed)),
        (
            "records out of order",
            checks.out_of_order.load(Ordering::Relaxed),
        ),
    ] {
        if count > 0 {
            violation(format!("{count} {name}"));
        }
    }
    let failures = checks.failures.load(Ordering::Relaxed) + checks.full.load(Ordering::Relaxed);
    if report.drain.sink_errors != failures {
        violation(format!(
            "{failures} injected sink failures and refusals, report says {}",
            report.drain.sink_errors
        ));
    }
    for (what, error) in [
        ("flush", &report.sink_flush_error),
        ("finish", &report.sink_finish_error),
    ] {
        if let Some(error) = error {
            violation(format!("the capture's {what} failed: {error}"));
        }
    }
    Ok(outcome)
}

/// Reads the phase's capture back: every record intact, a trailer, and for every lane
/// of the report, records in the file = delivered and, per cause, the losses the blocks
/// announce + the trailer's losses after the last block = dropped (the same for the
/// discarded windows). Returns the violations.
fn check_capture(path: &Path, report: &DrainReport) -> Vec<String> {
    let mut violations = Vec::new();
    let mut reader = match CaptureReader::open(path) {
        Ok(reader) => reader,
        Err(error) => return vec![format!("capture {}: {error}", path.display())],
    };
    let mut corrupt = 0_u64;
    loop {
        match reader.next_block() {
            Ok(Some(block)) => match block.records::<Stamped>() {
                Ok(records) => {
                    corrupt += records.iter().filter(|r| !r.is_intact()).count() as u64;
                }
                Err(error) => violations.push(format!("capture: {error}")),
            },
            Ok(None) => break,
            Err(error) => {
                violations.push(format!("capture: {error}"));
                return violations;
            }
        }
    }
    if corrupt > 0 {
        violations.push(format!("{corrupt} corrupt records in the capture"));
    }
    let Some(trailer) = reader.trailer() else {
        violations.push("the capture has no trailer".to_owned());
        return violations;
    };
    let finals: HashMap<LaneKey, _> = trailer.lanes.iter().map(|l| (l.key, l)).collect();
    for thread in &report.threads {
        for (lane, counters) in [
            (LaneId::Index, &thread.index),
            (LaneId::Detail, &thread.detail),
        ] {
            let key = LaneKey {
                slot: u32::try_from(thread.slot).unwrap_or(u32::MAX),
                generation: thread.generation,
                lane,
            };
            let tally = reader.lanes().get(&key).cloned().unwrap_or_default();
            let last = finals
                .get(&key)
                .map(|l| l.counters.clone())
                .unwrap_or_default();
            let mut problems = Vec::new();
            if tally.records != counters.events_delivered {
                problems.push(format!(
                    "{} records in the file, {} delivered",
                    tally.records, counters.events_delivered
                ));
            }
            for (cause, dropped) in [
                (LossCause::DropOldest, counters.dropped.oldest),
                (LossCause::DropNewest, counters.dropped.newest),
                (LossCause::Sink, counters.dropped.sink),
            ] {
                let (announced, after) = (tally.causes.get(cause), last.lost_after.get(cause));
                if announced + after != dropped {
                    problems.push(format!(
                        "{cause}: {announced} in the blocks + {after} after them, {dropped} dropped"
                    ));
                }
            }
            let announced = tally.causes.get(LossCause::Discarded);
            if announced + last.discarded_after != counters.events_discarded {
                problems.push(format!(
                    "discarded: {announced} in the blocks + {} after them, {} discarded",
                    last.discarded_after, counters.events_discarded
                ));
            }
            if !problems.is_empty() {
                violations.push(format!("capture, {key}: {}", problems.join("; ")));
            }
        }
    }
    if reader.reconcile().is_none_or(|r| !r.reconciles()) {
        violations.push("the capture does not reconcile with its trailer".to_owned());
    }
    violations
}

/// One producer: registers (retrying while the registry is full), writes bursts with
/// marks and pauses, and exits after a random number of bursts.
fn produce(tracer: &Tracer<Stamped, Stamped>, key: u64, stop: &AtomicBool, refused: &AtomicU64) {
    let mut rng = Rng(mix(key) | 1);
    let mut handle = loop {
        match tracer.handle() {
            Ok(handle) => break handle,
            Err(_) if !stop.load(Ordering::Relaxed) => {
                refused.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(200 + rng.below(800)));
            }
            Err(_) => return,
        }
    };
    let flight_recorder = matches!(
        tracer.registry().config().detail.mode,
        LaneMode::FlightRecorder { .. }
    );
    let (mut index_sequence, mut detail_sequence) = (0_u64, 0_u64);
    let bursts = 1 + rng.below(40);
    for _ in 0..bursts {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        for _ in 0..1 + rng.below(4000) {
            index_sequence += 1;
            handle.index(Stamped::new(key, index_sequence));
        }
        let marked = flight_recorder && rng.below(4) == 0;
        if marked && handle.mark_push().is_err() {
            return;
        }
        for _ in 0..rng.below(100) {
            detail_sequence += 1;
            handle.detail(Stamped::new(key, detail_sequence));
        }
        if marked {
            let _ = handle.mark_pop();
        }
        if rng.below(3) == 0 {
            std::thread::sleep(Duration::from_micros(rng.below(2000)));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    fn sink() -> CheckingSink {
        CheckingSink {
            checks: Arc::new(Checks::default()),
            stall: Duration::ZERO,
            capture: None,
        }
    }

    /// No capture to write.
    fn none(_: &mut FileSink<Stamped, Stamped>) -> Result<(), SinkError> {
        Ok(())
    }

    #[test]
    fn checking_sink__intact_records_in_order__then_accepted() {
        let mut sink = sink();
        let records: Vec<Stamped> = (1..=10).map(|n| Stamped::new(7, n)).collect();
        sink.check(0, &records[..5], none).unwrap();
        sink.check(0, &records[5..], none).unwrap();
        assert_eq!(sink.checks.accepted[0].load(Ordering::Relaxed), 10);
        assert_eq!(sink.checks.corrupt.load(Ordering::Relaxed), 0);
        assert_eq!(sink.checks.out_of_order.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn checking_sink__torn_record__then_corrupt_counted() {
        let mut sink = sink();
        let mut record = Stamped::new(7, 1);
        record.payload ^= 1;
        sink.check(0, &[record], none).unwrap();
        assert_eq!(sink.checks.corrupt.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn checking_sink__replayed_or_reordered_records__then_out_of_order_counted() {
        let mut sink = sink();
        sink.check(1, &[Stamped::new(3, 5), Stamped::new(3, 6)], none)
            .unwrap();
        sink.check(1, &[Stamped::new(3, 6)], none).unwrap(); // replayed across deliveries
        sink.check(1, &[Stamped::new(3, 9), Stamped::new(3, 8)], none)
            .unwrap(); // reordered
        assert_eq!(sink.checks.out_of_order.load(Ordering::Relaxed), 2);
    }
}
