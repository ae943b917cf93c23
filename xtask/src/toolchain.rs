//! The toolchains and targets the gate needs, installed by the gate itself, so a fresh
//! machine needs nothing installed by hand.

use crate::command::{exec, output};
use std::process::Command;

/// The nightly used for Miri and the sanitizers; the newest these machines can fetch.
pub(crate) const NIGHTLY: &str = "nightly-2026-10-30";

/// Target of the no_std build check (Cortex-M4F: no 64-bit atomics, no allocator).
pub(crate) const NO_STD_TARGET: &str = "thumbv7em-none-eabihf";

/// Installs the pinned nightly with `rust-src` and `miri` when any is missing.
pub(crate) fn ensure_nightly() -> Result<(), String> {
    let toolchains = output(Command::new("rustup").args(["toolchain", "list"]))?;
    if !toolchains.lines().any(|line| line.starts_with(NIGHTLY)) {
        exec(Command::new("rustup").args([
            "toolchain",
            "install",
            NIGHTLY,
            "--profile",
            "minimal",
            "--component",
            "rust-src,miri",
        ]))?;
    }
    let installed = output(Command::new("rustup").args([
        "component",
        "list",
        "--installed",
        "--toolchain",
        NIGHTLY,
    ]))?;
    for component in ["rust-src", "miri"] {
        if !installed.lines().any(|line| line.starts_with(component)) {
            exec(Command::new("rustup").args([
                "component",
                "add",
                component,
                "--toolchain",
                NIGHTLY,
            ]))?;
        }
    }
    Ok(())
}

/// Adds the no_std target to the workspace's pinned toolchain when it is missing
/// (rustup normally installs it from `rust-toolchain.toml`; this covers older rustups).
pub(crate) fn ensure_no_std_target() -> Result<(), String> {
    let targets = output(
        Command::new("rustup")
            .current_dir(crate::command::root())
            .args(["target", "list", "--installed"]),
    )?;
    if !targets.lines().any(|line| line.trim() == NO_STD_TARGET) {
        exec(
            Command::new("rustup")
                .current_dir(crate::command::root())
                .args(["target", "add", NO_STD_TARGET]),
        )?;
    }
    Ok(())
}

/// The host's target triple, for sanitizer builds that must not instrument build
/// scripts and proc-macros.
pub(crate) fn host_triple() -> Result<String, String> {
    let version = output(Command::new("rustup").args(["run", NIGHTLY, "rustc", "-vV"]))?;
    version
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "`rustc -vV` printed no host line".to_owned())
}
