//! `cargo xtask soak [--minutes N | --seconds N]`: the soak (`ada soak`, release build)
//! for ten minutes by default; the `ci` gate runs a five-second version of it. Each phase
//! writes a capture file (up to 256 MiB, removed after it is read back and reconciled
//! with the report) in `target/soak`, not in a temporary directory that may be memory.

use crate::command::{cargo, exec, root};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let usage = || "usage: cargo xtask soak [--minutes N | --seconds N]".to_owned();
    let seconds = match args {
        [] => 600.0,
        [flag, value] if flag == "--minutes" || flag == "--seconds" => {
            let number: f64 = value.parse().map_err(|_| usage())?;
            if !(number.is_finite() && number > 0.0) {
                return Err(usage());
            }
            if flag == "--minutes" {
                number * 60.0
            } else {
                number
            }
        }
        _ => return Err(usage()),
    };
    soak(seconds, 10.0_f64.min(seconds))
}

/// Runs `ada soak` in release mode, its captures in `target/soak`; a violation is a
/// failed command.
pub(crate) fn soak(seconds: f64, phase_seconds: f64) -> Result<(), String> {
    let captures = root().join("target").join("soak");
    std::fs::create_dir_all(&captures)
        .map_err(|error| format!("creating {}: {error}", captures.display()))?;
    exec(cargo().env("TMPDIR", &captures).args([
        "run",
        "--release",
        "--locked",
        "-p",
        "ada-cli",
        "--",
        "soak",
        "--seconds",
        &seconds.to_string(),
        "--phase-seconds",
        &phase_seconds.to_string(),
    ]))
}
