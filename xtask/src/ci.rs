//! `cargo xtask ci`: the gate. Each stage prints its name, time and verdict; a summary
//! table ends the run; any failure makes the exit status non-zero. Nothing is skipped
//! silently: a stage that cannot run (a toolchain that will not install, say) fails.

use crate::command::{cargo, exec, output, toolchain_cargo};
use crate::toolchain::{NIGHTLY, NO_STD_TARGET, ensure_nightly, ensure_no_std_target, host_triple};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `no_std` crates, built for a bare-metal target; `true` where the crate has an
/// `alloc` feature to build as well.
const NO_STD: &[(&str, bool)] = &[
    ("ada-slots", true),
    ("ada-ring-buffer", true),
    ("ada-spsc", true),
    ("ada-metrics", true),
    ("ada-clock", false),
    ("ada-ring-pool", false),
];

/// Crates with loom models (`src/loom_tests.rs`).
const LOOM: &[&str] = &[
    "ada-slots",
    "ada-ring-buffer",
    "ada-spsc",
    "ada-ring-pool",
    "ada-thread-registry",
    "ada-drain",
    "ada-names",
    "ada-trace",
    "ada-tracing",
];

/// Crates whose tests run under Miri and the sanitizers (the thread registry too: it is
/// not `no_std`, but its protocol is as much the heart of the project).
const CHECKED: &[&str] = &[
    "ada-slots",
    "ada-ring-buffer",
    "ada-spsc",
    "ada-metrics",
    "ada-clock",
    "ada-ring-pool",
    "ada-thread-registry",
    "ada-names",
];

/// Crates whose tests run under the sanitizers besides [`CHECKED`]: the drain, the
/// capture file, the facade, the CLI (whose tests include a short soak of the whole
/// pipeline) and the `tracing` layer (its span table), too many threads, sleeps and
/// file operations to be worth Miri's time.
const SANITIZED_TOO: &[&str] = &[
    "ada-drain",
    "ada-capture",
    "ada-trace",
    "ada-cli",
    "ada-tracing",
];

type Stage = (&'static str, &'static str, fn() -> Result<(), String>);

const STAGES: &[Stage] = &[
    ("fmt", "formatting (cargo fmt --check)", fmt),
    (
        "tidy",
        "file headers, issue-numbered TODOs, paths the docs name",
        tidy,
    ),
    (
        "clippy",
        "clippy, all targets, -D warnings (also under --cfg loom)",
        clippy,
    ),
    (
        "test",
        "tests on stable, whole workspace, doc tests included",
        test,
    ),
    ("doc", "rustdoc with -D warnings", doc),
    (
        "package",
        "cargo package: each published crate built from its .crate alone",
        package,
    ),
    (
        "no-std",
        "no_std crates built for thumbv7em-none-eabihf",
        no_std,
    ),
    (
        "loom",
        "loom models (--cfg loom, release), then weakened orderings must fail them",
        loom,
    ),
    (
        "soak",
        "a five-second soak: churn, bursts, faults, every record checked",
        soak,
    ),
    ("miri", "Miri on the protocol crates", miri),
    (
        "tsan",
        "ThreadSanitizer on the protocol crates (-Zbuild-std)",
        tsan,
    ),
    ("asan", "AddressSanitizer on the protocol crates", asan),
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let stages: Vec<&Stage> = match args {
        [] => STAGES.iter().collect(),
        [flag, name] if flag == "--only" => {
            let stage = STAGES
                .iter()
                .find(|(stage, _, _)| stage == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = STAGES.iter().map(|(stage, _, _)| *stage).collect();
                    format!("no stage `{name}`; stages: {}", names.join(", "))
                })?;
            vec![stage]
        }
        _ => return Err("usage: cargo xtask ci [--only STAGE]".to_owned()),
    };

    let mut results: Vec<(&str, Duration, Result<(), String>)> = Vec::new();
    for (name, what, stage) in stages {
        println!("\n==> [{name}] {what}");
        let started = Instant::now();
        let result = stage();
        let elapsed = started.elapsed();
        match &result {
            Ok(()) => println!("<== [{name}] passed in {:.1}s", elapsed.as_secs_f64()),
            Err(error) => println!(
                "<== [{name}] FAILED in {:.1}s: {error}",
                elapsed.as_secs_f64()
            ),
        }
        results.push((name, elapsed, result));
    }

    println!("\n{:<8} {:>9}  verdict", "stage", "time");
    for (name, elapsed, result) in &results {
        let verdict = if result.is_ok() { "passed" } else { "FAILED" };
        println!("{name:<8} {:>8.1}s  {verdict}", elapsed.as_secs_f64());
    }
    let failed: Vec<&str> = results
        .iter()
        .filter(|(_, _, result)| result.is_err())
        .map(|(name, _, _)| *name)
        .collect();
    if failed.is_empty() {
        println!("all {} stages passed", results.len());
        Ok(())
    } else {
        Err(format!(
            "{} of {} stages failed: {}",
            failed.len(),
            results.len(),
            failed.join(", ")
        ))
    }
}

/// `-p NAME` for each crate.
fn packages(command: &mut Command, crates: &[&str]) {
    for name in crates {
        command.args(["-p", name]);
    }
}

fn fmt() -> Result<(), String> {
    exec(cargo().args(["fmt", "--all", "--", "--check"]))
}

fn tidy() -> Result<(), String> {
    crate::tidy::run()
}

fn clippy() -> Result<(), String> {
    exec(
        cargo()
            .args(["clippy", "--workspace", "--all-targets", "--locked"])
            .env("RUSTFLAGS", "-D warnings"),
    )?;
    let mut loom = cargo();
    loom.args(["clippy", "--all-targets", "--locked", "--release"])
        .env("RUSTFLAGS", "--cfg loom -D warnings")
        .env(
            "CARGO_TARGET_DIR",
            crate::command::root().join("target/loom"),
        );
    packages(&mut loom, LOOM);
    exec(&mut loom)
}

fn test() -> Result<(), String> {
    exec(
        cargo()
            .args(["test", "--workspace", "--locked"])
            .env("RUSTFLAGS", "-D warnings")
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
}

fn doc() -> Result<(), String> {
    exec(
        cargo()
            .args(["doc", "--workspace", "--no-deps", "--locked"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
}

/// Packages every crate that is published (not `xtask`, not the benches) as crates.io
/// would receive it, then builds each one from its `.crate` alone: a file outside the
/// package or a dependency without a version fails here. Cargo packages the workspace's
/// members together, in dependency order, resolving their path dependencies through a
/// local overlay registry, so no `--no-verify` is needed. `--allow-dirty` because the
/// gate runs before a change is committed (a fresh clone is clean anyway).
fn package() -> Result<(), String> {
    forget_unpacked_overlay()?;
    exec(
        cargo()
            .args([
                "package",
                "--workspace",
                "--locked",
                "--allow-dirty",
                "--exclude",
                "xtask",
                "--exclude",
                "ada-benches",
            ])
            .env("RUSTFLAGS", "-D warnings"),
    )
}

/// Removes our packages' sources that an earlier `cargo package` unpacked from its
/// overlay registry into `$CARGO_HOME/registry/src/`. Cargo (1.95) unpacks a registry
/// crate once per name and version and never again, so without this a dependent crate
/// would be verified against the sources of the previous run, not this one's. Only
/// registries other than crates.io are touched, and only our packages' folders.
fn forget_unpacked_overlay() -> Result<(), String> {
    let Some(cargo_home) = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
    else {
        return Ok(());
    };
    let Ok(registries) = std::fs::read_dir(cargo_home.join("registry/src")) else {
        return Ok(()); // nothing unpacked yet
    };
    let metadata = output(cargo().args(["metadata", "--no-deps", "--format-version", "1"]))?;
    let metadata: serde_json::Value = serde_json::from_str(&metadata)
        .map_err(|error| format!("reading cargo metadata: {error}"))?;
    let packages: Vec<String> = metadata["packages"]
        .as_array()
        .ok_or("cargo metadata has no package list")?
        .iter()
        .filter_map(|package| {
            Some(format!(
                "{}-{}",
                package["name"].as_str()?,
                package["version"].as_str()?
            ))
        })
        .collect();
    for registry in registries.flatten() {
        let registry = registry.path();
        let crates_io = registry
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with("index.crates.io-"));
        if crates_io {
            continue;
        }
        for package in &packages {
            let unpacked = registry.join(package);
            if unpacked.is_dir() {
                std::fs::remove_dir_all(&unpacked)
                    .map_err(|error| format!("removing {}: {error}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

fn no_std() -> Result<(), String> {
    ensure_no_std_target()?;
    let all: Vec<&str> = NO_STD.iter().map(|(name, _)| *name).collect();
    let with_alloc: Vec<String> = NO_STD
        .iter()
        .filter(|(_, alloc)| *alloc)
        .map(|(name, _)| format!("{name}/alloc"))
        .collect();
    for features in [None, Some(with_alloc.join(","))] {
        let mut command = cargo();
        command
            .args([
                "build",
                "--locked",
                "--target",
                NO_STD_TARGET,
                "--no-default-features",
            ])
            .env("RUSTFLAGS", "-D warnings");
        packages(&mut command, &all);
        if let Some(features) = &features {
            command.args(["--features", features]);
        }
        exec(&mut command)?;
    }
    Ok(())
}

fn loom() -> Result<(), String> {
    let mut command = cargo();
    command
        .args(["test", "--release", "--locked", "--lib"])
        .env("RUSTFLAGS", "--cfg loom -D warnings")
        .env(
            "CARGO_TARGET_DIR",
            crate::command::root().join("target/loom"),
        );
    packages(&mut command, LOOM);
    exec(&mut command)?;
    crate::mutants::run()
}

fn soak() -> Result<(), String> {
    crate::soak::soak(5.0, 1.0)
}

fn miri() -> Result<(), String> {
    ensure_nightly()?;
    exec(toolchain_cargo(NIGHTLY).args(["miri", "setup"]))?;
    let miri_test = || {
        let mut command = toolchain_cargo(NIGHTLY);
        command
            .args(["miri", "test", "--locked"])
            .env(
                "MIRIFLAGS",
                "-Zmiri-strict-provenance -Zmiri-disable-isolation",
            )
            .env(
                "CARGO_TARGET_DIR",
                crate::command::root().join("target/miri"),
            );
        command
    };
    let mut command = miri_test();
    packages(&mut command, CHECKED);
    exec(&mut command)?;
    // The `tracing` layer's own unsafe code (its span table) has unit tests; its
    // integration tests (threads, files, `tracing-subscriber`) run under the sanitizers.
    exec(miri_test().args(["--lib", "-p", "ada-tracing"]))
}

fn sanitizer(name: &str, build_std: bool) -> Result<(), String> {
    ensure_nightly()?;
    let host = host_triple()?;
    let flags = format!("-Zsanitizer={name} -D warnings");
    let mut command = toolchain_cargo(NIGHTLY);
    command.args(["test", "--locked", "--target", &host]);
    if build_std {
        command.arg("-Zbuild-std");
    }
    command
        .env("RUSTFLAGS", &flags)
        .env("RUSTDOCFLAGS", format!("-Zsanitizer={name}"))
        .env(
            "CARGO_TARGET_DIR",
            crate::command::root().join(format!("target/{name}")),
        );
    packages(&mut command, CHECKED);
    packages(&mut command, SANITIZED_TOO);
    exec(&mut command)
}

fn tsan() -> Result<(), String> {
    // TSan needs an instrumented std, or it reports races inside std's own primitives.
    sanitizer("thread", true)
}

fn asan() -> Result<(), String> {
    sanitizer("address", false)
}
