//! `cargo xtask wakeup [OPTIONS]`: the drain's wake-up experiment (issue 15), the
//! release build of `benches/benches/wakeup.rs`: one producer writes 250,000 events at
//! full speed into a default tracer with a null sink, 20 times with the drain parked
//! before the burst and 20 times with it busy, and prints each run's losses and the
//! submit → take latency. The options go to the experiment (`--runs N`, `--events N`,
//! `--only idle|busy`, `--rings N`, `--ring-records N`, `--spin-us N`, `--drop-oldest`);
//! `--quiet`, which waits before each run until the machine is idle, is on unless
//! `--noisy` is given.
//! Fails when a run lost an event.

use crate::command::run_experiment;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let noisy = args.iter().any(|arg| arg == "--noisy");
    let quiet = (!noisy).then(|| "--quiet".to_owned());
    let rest = args
        .iter()
        .filter(|arg| *arg != "--noisy" && *arg != "--quiet")
        .cloned();
    run_experiment("wakeup", quiet.into_iter().chain(rest))
}
