//! `cargo xtask coverage`: line coverage per crate with cargo-llvm-cov, which it installs
//! (with the toolchain's `llvm-tools` component) when missing.

use crate::command::{cargo, exec, output, root};
use std::process::Command;

pub fn run(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err("usage: cargo xtask coverage".to_owned());
    }
    let components = output(Command::new("rustup").current_dir(root()).args([
        "component",
        "list",
        "--installed",
    ]))?;
    if !components
        .lines()
        .any(|line| line.starts_with("llvm-tools"))
    {
        exec(
            Command::new("rustup")
                .current_dir(root())
                .args(["component", "add", "llvm-tools"]),
        )?;
    }
    if output(cargo().args(["llvm-cov", "--version"])).is_err() {
        exec(cargo().args(["install", "cargo-llvm-cov", "--locked"]))?;
    }
    // The benches are not what coverage is about; the xtask is tooling.
    exec(cargo().args([
        "llvm-cov",
        "--workspace",
        "--locked",
        "--exclude",
        "ada-benches",
        "--exclude",
        "xtask",
        "--summary-only",
    ]))
}
