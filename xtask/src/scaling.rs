//! `cargo xtask scaling [--seconds S] [--binary PATH]`: `ada stress --json` with 1, 2, 4,
//! 8, 16, 32 and 64 producer threads, summarised into `docs/scaling.md`. `--binary` runs
//! an `ada` built elsewhere (e.g. carried to a many-core machine), and `--out` writes the
//! table somewhere else.

use crate::command::{cargo, exec, output, root};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

const THREADS: [u64; 7] = [1, 2, 4, 8, 16, 32, 64];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let usage =
        || "usage: cargo xtask scaling [--seconds S] [--binary PATH] [--out FILE]".to_owned();
    let mut seconds = "2".to_owned();
    let mut binary = None;
    let mut out = root().join("docs/scaling.md");
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(usage)?;
        match flag.as_str() {
            "--seconds" => seconds.clone_from(value),
            "--binary" => binary = Some(PathBuf::from(value)),
            "--out" => out = PathBuf::from(value),
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
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut table = format!(
        "# Scaling\n\n`ada stress --json --seconds {seconds} --threads N` (drop-oldest, null \
         sink, default lanes) on a machine with {cores} CPUs, written by `cargo xtask \
         scaling`. `ns/event/thread` is wall time × threads ÷ events written: flat means \
         the producers do not slow each other down. Beyond the core count the threads \
         share CPUs (oversubscription), so per-thread cost rises by design.\n\n\
         | threads | events written/s | ns/event/thread | delivered/s | dropped | conserved | drain fairness |\n\
         |---:|---:|---:|---:|---:|---|---:|\n"
    );
    for threads in THREADS {
        let json = output(Command::new(&binary).args([
            "stress",
            "--json",
            "--threads",
            &threads.to_string(),
            "--seconds",
            &seconds,
        ]))?;
        let summary: serde_json::Value = serde_json::from_str(&json)
            .map_err(|error| format!("`ada stress --json` printed no JSON: {error}"))?;
        let field = |name: &str| {
            summary
                .get(name)
                .or_else(|| summary["drain"].get(name))
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(f64::NAN)
        };
        let written = field("events_written");
        let delivered = field("events_delivered");
        let elapsed = field("seconds");
        let _ = writeln!(
            table,
            "| {threads} | {:.1} M | {:.2} | {:.1} M | {:.1} % | {} | {:.3} |",
            written / elapsed / 1e6,
            field("ns_per_event_per_thread"),
            delivered / elapsed / 1e6,
            100.0 * field("events_dropped") / written,
            if summary["conserved"] == true {
                "yes"
            } else {
                "NO"
            },
            field("fairness_index"),
        );
        println!(
            "{threads:>3} threads: {:.1} M events/s",
            written / elapsed / 1e6
        );
    }
    std::fs::write(&out, table).map_err(|error| format!("writing {}: {error}", out.display()))?;
    println!("wrote {}", out.display());
    Ok(())
}
