//! ada's project commands, run as `cargo xtask <command>`.
//!
//! - `ci [--only STAGE]`: the gate every change passes (see [`ci`](mod@ci)).
//! - `bench [--quick]`: the criterion benches side by side with peer crates, summarised
//!   into `docs/benchmarks.md` (see [`bench`](mod@bench)).
//! - `soak [--minutes N]`: the soak, ten minutes by default (see [`soak`](mod@soak)).
//! - `scaling [--seconds S] [--binary PATH]`: `ada stress` from 1 to 64 threads into
//!   `docs/scaling.md` (see [`scaling`](mod@scaling)).
//! - `export-bench [--millions 3,30]`: `ada export` throughput and peak RSS per format
//!   into `docs/benchmarks.md` (see [`export_bench`](mod@export_bench)).
//! - `cost [--json] [--ops N]`: instructions per operation of the write paths, counted
//!   by callgrind (see [`cost`](mod@cost)); needs valgrind.
//! - `coverage`: line coverage per crate, failing below 95 % (the CLI 85 %) (see
//!   [`coverage`](mod@coverage)).
//! - `wakeup [OPTIONS]`: the drain's wake-up experiment, losses and submit → take
//!   latency of a burst into a parked and a busy drain (see [`wakeup`](mod@wakeup)).
//! - `elastic [OPTIONS]`: fixed lanes vs a shared reserve of the same memory under
//!   bursts and drain stalls (see [`elastic`](mod@elastic)).
//!
//! Cargo is called through `$CARGO` (the cargo that runs the xtask); the nightly stages
//! use the pinned nightly through `rustup run`, installing it first when missing.

mod bench;
mod ci;
mod command;
mod cost;
mod coverage;
mod elastic;
mod export_bench;
mod mutants;
mod scaling;
mod soak;
mod tidy;
mod toolchain;
mod wakeup;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci [--only STAGE]   run the gate: fmt, tidy, clippy, test, doc, package, no-std,
                      loom, soak, miri, tsan, asan
  bench [--quick] [--bench NAME] [--report-only]
                      run the criterion benches (or one) and write docs/benchmarks.md
                      (--report-only: rewrite it from the last results)
  soak [--minutes N | --seconds N]
                      churn, bursts, faults, every record checked (default 10 minutes)
  scaling [--seconds S] [--binary PATH] [--out FILE]
                      ada stress with 1..64 threads, table in docs/scaling.md
  cost [--json] [--ops N]
                      instructions per operation of the write paths (floor, handle,
                      thread-local, stamped event, span, clock) under callgrind;
                      needs valgrind
  coverage            line coverage per crate (installs cargo-llvm-cov); fails when
                      a library crate is below 95 % or the CLI below 85 %
  export-bench [--millions 3,30] [--binary PATH] [--no-write]
                      ada export's events/s and peak RSS per format for captures of
                      3 M and 30 M events, into docs/benchmarks.md
  wakeup [--runs N] [--events N] [--only idle|busy] [--noisy] [--rings N]
         [--ring-records N] [--spin-us N]
                      bursts into a parked and a busy drain: losses per run and
                      submit -> take latency (waits for an idle machine unless
                      --noisy); fails when a run lost an event
  elastic [--stalls-ms 1,5,20] [--bursts 4096,16384,...]
          [--polling [--sink-us 90,..] [--heavy N] [--hogs N]]
                      8 threads bursting in turn while the drain stalls: drops with
                      fixed lanes, with a shared reserve of the same memory, and with
                      the whole budget per lane; fails when the reserve did not
                      absorb a burst that fit it (--polling: RoundRobin vs
                      FullestFirst under a slow sink)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("soak") => soak::run(&args[1..]),
        Some("scaling") => scaling::run(&args[1..]),
        Some("coverage") => coverage::run(&args[1..]),
        Some("cost") => cost::run(&args[1..]),
        Some("export-bench") => export_bench::run(&args[1..]),
        Some("wakeup") => wakeup::run(&args[1..]),
        Some("elastic") => elastic::run(&args[1..]),
        Some("-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
