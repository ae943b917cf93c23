//! `cargo xtask elastic [--stalls-ms 1,5,20] [--bursts 4096,...] [--polling]`: the elastic-buffering
//! experiment (issue 17), the release build of `benches/benches/elastic.rs`: 8 threads
//! take turns bursting at full speed while the drain's sink sleeps, with fixed lanes,
//! smaller lanes plus a shared reserve of the same total memory, and lanes given the
//! whole budget each; prints the events dropped per layout, stall and burst. Fails when
//! the reserve did not absorb a burst that fit it, or the fixed lanes kept one that
//! did not fit them. With `--polling [--sink-us 90,110,...] [--heavy N] [--hogs N]`: the
//! drain's poll orders compared under a slow sink (thread 0 writing N times the others;
//! N threads spinning beside).

use crate::command::run_experiment;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    run_experiment("elastic", args.iter().cloned())
}
