//! `cargo xtask export-bench [--millions 3,30] [--binary PATH] [--no-write]`: how fast
//! `ada export` turns a capture into each format, and in how much memory. For each size
//! it records a capture of that many index events with the release `ada record` (lanes
//! big enough that nothing is dropped), then times `ada export --perfetto` and
//! `ada export --chrome` as child processes and reads each one's peak RSS from the
//! kernel (`wait4`'s `ru_maxrss`). The table, with the targets (≥ 5 M events/s to
//! Perfetto, ≥ 2 M events/s to JSON, peak RSS ≤ 64 MB whatever the size), replaces the
//! export section of `docs/benchmarks.md` (which `cargo xtask bench` keeps).

use crate::command::{cargo, exec, output, root};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The first line of the export section of `docs/benchmarks.md`: everything from it on
/// is this command's, and `cargo xtask bench` carries it over when it rewrites the file.
pub(crate) const SECTION_MARKER: &str =
    "<!-- export-bench: written by `cargo xtask export-bench`; `cargo xtask bench` keeps it -->";

/// Records per index ring of the recording.
const RING_RECORDS: u64 = 65_536;
/// Rings per index lane (the most a lane takes).
const RINGS: u64 = 64;
/// Targets from the issue.
const PERFETTO_TARGET: f64 = 5e6;
const CHROME_TARGET: f64 = 2e6;
const RSS_TARGET_BYTES: u64 = 64 << 20;

/// One export measured.
struct Row {
    millions: u64,
    format: &'static str,
    events: u64,
    capture_bytes: u64,
    seconds: f64,
    max_rss_bytes: u64,
    output_bytes: u64,
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let usage = || {
        "usage: cargo xtask export-bench [--millions 3,30] [--binary PATH] [--no-write]".to_owned()
    };
    let mut millions = vec![3, 30];
    let mut binary = None;
    let mut write = true;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--millions" => {
                let list = rest.next().ok_or_else(usage)?;
                millions = list
                    .split(',')
                    .map(|n| n.trim().parse::<u64>().ok().filter(|&n| n > 0))
                    .collect::<Option<Vec<u64>>>()
                    .ok_or_else(usage)?;
            }
            "--binary" => binary = Some(PathBuf::from(rest.next().ok_or_else(usage)?)),
            "--no-write" => write = false,
            _ => return Err(usage()),
        }
    }
    let binary = match binary {
        Some(binary) => binary,
        None => {
            exec(cargo().args(["build", "--release", "--locked", "-p", "ada-cli"]))?;
            root().join("target/release/ada")
        }
    };
    let dir = root().join("target/export-bench");
    std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let mut rows = Vec::new();
    for &millions in &millions {
        let capture = record(&binary, &dir, millions)?;
        let capture_bytes = size(&capture)?;
        for (format, extension) in [("perfetto", "pftrace"), ("chrome", "json")] {
            let out = dir.join(format!("{millions}M.{extension}"));
            let (seconds, max_rss_bytes, stdout) = measure(
                Command::new(&binary)
                    .arg("export")
                    .arg(format!("--{format}"))
                    .arg(&capture)
                    .arg("-o")
                    .arg(&out),
            )?;
            let events = stdout
                .split_whitespace()
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or_else(|| format!("`ada export` said {stdout:?}, not an event count"))?;
            let row = Row {
                millions,
                format,
                events,
                capture_bytes,
                seconds,
                max_rss_bytes,
                output_bytes: size(&out)?,
            };
            println!("    {}", line(&row));
            rows.push(row);
            let _ = std::fs::remove_file(&out);
        }
        let _ = std::fs::remove_file(&capture);
    }
    let section = render(&rows);
    print!("\n{section}");
    if write {
        let path = root().join("docs/benchmarks.md");
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let kept = old
            .find(SECTION_MARKER)
            .map_or(old.as_str(), |at| &old[..at]);
        let text = format!("{}\n\n{section}", kept.trim_end());
        std::fs::write(&path, text).map_err(|error| format!("{}: {error}", path.display()))?;
        println!("wrote {}", path.display());
    }
    let missed: Vec<String> = rows.iter().filter_map(missed_target).collect();
    if missed.is_empty() {
        Ok(())
    } else {
        Err(format!("targets missed: {}", missed.join("; ")))
    }
}

/// Records a capture of `millions` million index events, none dropped: each producer's
/// index lane holds every event it writes (at most 63 full rings of [`RING_RECORDS`]).
/// (The default detail lane may still drop a few of its marked records.)
fn record(binary: &Path, dir: &Path, millions: u64) -> Result<PathBuf, String> {
    let events = millions * 1_000_000;
    let per_lane = (RINGS - 1) * RING_RECORDS;
    let threads = events.div_ceil(per_lane).max(2);
    // Enter/leave pairs: an even count per producer.
    let per_thread = (events / threads).next_multiple_of(2);
    let capture = dir.join(format!("{millions}M.ada"));
    let json = output(
        Command::new(binary)
            .args(["record", "--json", "--seconds", "3600", "--threads"])
            .arg(threads.to_string())
            .arg("--events")
            .arg(per_thread.to_string())
            .args(["--rings", &RINGS.to_string()])
            .args(["--ring-records", &RING_RECORDS.to_string()])
            .arg("-o")
            .arg(&capture),
    )?;
    let summary: serde_json::Value = serde_json::from_str(&json)
        .map_err(|error| format!("`ada record --json` printed no JSON: {error}"))?;
    println!(
        "    recorded {}: {threads} threads × {per_thread} events, {} delivered, {} dropped",
        capture.display(),
        summary["events_delivered"],
        summary["events_dropped"]
    );
    Ok(capture)
}

fn size(path: &Path) -> Result<u64, String> {
    std::fs::metadata(path)
        .map(|metadata| metadata.len())
        .map_err(|error| format!("{}: {error}", path.display()))
}

/// Runs `command` to its end: wall seconds, the child's peak RSS in bytes, its stdout.
#[cfg(unix)]
fn measure(command: &mut Command) -> Result<(f64, u64, String), String> {
    use std::io::Read;
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|error| format!("could not start {command:?}: {error}"))?;
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut stdout)
            .map_err(|error| format!("reading {command:?}: {error}"))?;
    }
    let pid = libc::pid_t::try_from(child.id()).map_err(|_| "a pid out of range".to_owned())?;
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `pid` is our child and not yet reaped (`child` is never waited on);
    // `status` and `usage` are valid for writes of their types.
    let reaped = unsafe { libc::wait4(pid, &raw mut status, 0, usage.as_mut_ptr()) };
    let seconds = started.elapsed().as_secs_f64();
    if reaped != pid {
        return Err(format!(
            "waiting for {command:?}: {}",
            std::io::Error::last_os_error()
        ));
    }
    if !libc::WIFEXITED(status) || libc::WEXITSTATUS(status) != 0 {
        return Err(format!("{command:?} failed (wait status {status:#x})"));
    }
    // SAFETY: `wait4` returned the child, so it filled `usage` (all-zero is valid too).
    let usage = unsafe { usage.assume_init() };
    // Linux reports kilobytes.
    let max_rss_bytes = u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024;
    Ok((seconds, max_rss_bytes, stdout))
}

/// Peak RSS needs `wait4`: Unix only.
#[cfg(not(unix))]
fn measure(_: &mut Command) -> Result<(f64, u64, String), String> {
    Err("cargo xtask export-bench reads peak RSS with wait4: Unix only".to_owned())
}

fn rate(row: &Row) -> f64 {
    row.events as f64 / row.seconds
}

fn target(row: &Row) -> f64 {
    if row.format == "perfetto" {
        PERFETTO_TARGET
    } else {
        CHROME_TARGET
    }
}

fn missed_target(row: &Row) -> Option<String> {
    let slow = rate(row) < target(row);
    let big = row.max_rss_bytes > RSS_TARGET_BYTES;
    (slow || big).then(|| line(row))
}

fn line(row: &Row) -> String {
    format!(
        "{}M {}: {} events in {:.2} s = {:.2} M events/s, peak RSS {:.1} MB, {:.1} B/event",
        row.millions,
        row.format,
        row.events,
        row.seconds,
        rate(row) / 1e6,
        row.max_rss_bytes as f64 / 1e6,
        row.output_bytes as f64 / row.events.max(1) as f64,
    )
}

/// `N-vCPU VM` or `N CPUs`, and the CPU's model when `/proc/cpuinfo` names it.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.split(':').nth(1))
            .map(str::trim)
    };
    let virtual_machine = field("flags")
        .is_some_and(|flags| flags.split_whitespace().any(|flag| flag == "hypervisor"));
    let kind = if virtual_machine {
        format!("{cores}-vCPU VM")
    } else {
        format!("{cores} CPUs")
    };
    match field("model name") {
        Some(model) => format!("{kind}, {model}"),
        None => kind,
    }
}

fn render(rows: &[Row]) -> String {
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let mut out = format!(
        "{SECTION_MARKER}\n## export (`ada export`)\n\nWritten by `cargo xtask export-bench` on \
         {} ({}). Each capture is recorded by the release `ada record` (enter/leave pairs, no \
         index event dropped); each export runs as its own process, timed from start to \
         exit, its peak RSS read from the kernel (`wait4`). Targets: ≥ 5 M events/s to \
         Perfetto, ≥ 2 M events/s to Chrome JSON, peak RSS ≤ 64 MB at every size. The largest \
         outputs (2.2 GB of JSON for 30 M events) go at the pace the disk takes them. For \
         scale: the exporter before `ada-export` held the whole trace as JSON values and took \
         89 s and 9.3 GB for 2.98 M events.\n\n\
         | capture | events | format | seconds | events/s | peak RSS | output B/event | target |\n\
         |---|---:|---|---:|---:|---:|---:|---|\n",
        date.trim(),
        machine()
    );
    for row in rows {
        let _ = writeln!(
            out,
            "| {}M ({:.0} MB) | {} | {} | {:.2} | {:.2} M | {:.1} MB | {:.1} | {} |",
            row.millions,
            row.capture_bytes as f64 / 1e6,
            row.events,
            row.format,
            row.seconds,
            rate(row) / 1e6,
            row.max_rss_bytes as f64 / 1e6,
            row.output_bytes as f64 / row.events.max(1) as f64,
            if missed_target(row).is_none() {
                "met"
            } else {
                "MISSED"
            },
        );
    }
    out
}
