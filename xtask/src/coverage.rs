//! `cargo xtask coverage`: line coverage per crate with cargo-llvm-cov, which it installs
//! (with the toolchain's `llvm-tools` component) when missing.
//!
//! cargo-llvm-cov runs `cargo test` over the workspace (the benches and the xtask left
//! out) and writes its JSON summary, per source file; the files are summed into the crate
//! whose folder holds them, and a table of lines covered per crate is printed. The command
//! fails when a library crate covers less than [`LIBRARY_FLOOR`] % of its lines or the
//! CLI less than [`CLI_FLOOR`] %.

use crate::command::{cargo, exec, output, root};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Packages left out: the benches are not what coverage is about; the xtask is tooling.
const EXCLUDED: &[&str] = &["ada-benches", "xtask"];

/// The command-line crate (`crates/cli`), held to [`CLI_FLOOR`].
const CLI: &str = "ada-cli";

/// Least line coverage of a library crate, in percent.
const LIBRARY_FLOOR: u64 = 95;

/// Least line coverage of the CLI, in percent: much of it is printing and argument
/// handling that its end-to-end tests reach only in part.
const CLI_FLOOR: u64 = 85;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
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
    let (crates, target) = workspace_crates()?;
    let summary = target.join("llvm-cov-summary.json");
    let mut command = cargo();
    command.args(["llvm-cov", "--workspace", "--locked"]);
    for package in EXCLUDED {
        command.args(["--exclude", package]);
    }
    command
        .args(["--json", "--summary-only", "--output-path"])
        .arg(&summary);
    exec(&mut command)?;
    let json = std::fs::read_to_string(&summary)
        .map_err(|error| format!("reading {}: {error}", summary.display()))?;
    let coverage = per_crate(&json, &crates)?;
    println!();
    print!("{}", table(&coverage));
    println!("(per file: {})", summary.display());
    let below: Vec<String> = coverage
        .iter()
        .filter(|krate| !krate.meets_floor())
        .map(|krate| format!("{} {} % < {} %", krate.name, krate.percent(), krate.floor))
        .collect();
    if below.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "line coverage below the floor: {}",
            below.join(", ")
        ))
    }
}

/// One crate's line counts, summed over its files, and the floor it is held to.
#[derive(Debug, PartialEq, Eq)]
struct CrateCoverage {
    name: String,
    covered: u64,
    total: u64,
    /// Least coverage, in percent.
    floor: u64,
}

impl CrateCoverage {
    /// A crate without a measured line fails: its tests did not run instrumented.
    fn meets_floor(&self) -> bool {
        self.total > 0 && self.covered * 100 >= self.floor * self.total
    }

    /// Rounded down to a tenth, so that a crate below its floor never shows it.
    fn percent(&self) -> String {
        if self.total == 0 {
            return "-".to_owned();
        }
        let permille = self.covered * 1000 / self.total;
        format!("{}.{}", permille / 10, permille % 10)
    }
}

/// The workspace's packages that are measured, each with its folder, in the workspace's
/// order, and the target folder.
fn workspace_crates() -> Result<(Vec<(String, PathBuf)>, PathBuf), String> {
    let workspace = crate::command::workspace()?;
    let crates = workspace
        .packages
        .into_iter()
        .filter(|(name, _)| !EXCLUDED.contains(&name.as_str()))
        .collect();
    Ok((crates, workspace.target_directory))
}

/// Sums the per-file line counts of cargo-llvm-cov's JSON summary into `crates` (name and
/// folder), keeping their order. A file belongs to the crate with the deepest folder
/// holding it; files of no crate (a dependency, the xtask) are left out.
fn per_crate(json: &str, crates: &[(String, PathBuf)]) -> Result<Vec<CrateCoverage>, String> {
    let summary: serde_json::Value = serde_json::from_str(json)
        .map_err(|error| format!("reading the coverage summary: {error}"))?;
    let mut coverage: Vec<CrateCoverage> = crates
        .iter()
        .map(|(name, _)| CrateCoverage {
            name: name.clone(),
            covered: 0,
            total: 0,
            floor: if name == CLI {
                CLI_FLOOR
            } else {
                LIBRARY_FLOOR
            },
        })
        .collect();
    let exports = summary["data"]
        .as_array()
        .ok_or("the coverage summary has no `data` list")?;
    for file in exports.iter().flat_map(|export| {
        export["files"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
    }) {
        let name = file["filename"]
            .as_str()
            .ok_or("a file of the coverage summary has no name")?;
        let lines = &file["summary"]["lines"];
        let (Some(count), Some(covered)) = (lines["count"].as_u64(), lines["covered"].as_u64())
        else {
            return Err(format!("{name}: no line counts in the coverage summary"));
        };
        let owner = crates
            .iter()
            .enumerate()
            .filter(|(_, (_, folder))| Path::new(name).starts_with(folder))
            .max_by_key(|(_, (_, folder))| folder.components().count());
        if let Some((index, _)) = owner {
            coverage[index].covered += covered;
            coverage[index].total += count;
        }
    }
    Ok(coverage)
}

/// The table `cargo xtask coverage` prints, with the sum over all crates last.
fn table(coverage: &[CrateCoverage]) -> String {
    let width = coverage
        .iter()
        .map(|krate| krate.name.len())
        .chain(["crate".len()])
        .max()
        .unwrap_or_default();
    let mut text = format!(
        "{:width$}  {:>8}  {:>8}  {:>6}  {:>5}\n",
        "crate", "covered", "lines", "%", "floor"
    );
    for krate in coverage {
        let verdict = if krate.meets_floor() { "" } else { "  BELOW" };
        text.push_str(&format!(
            "{:width$}  {:>8}  {:>8}  {:>6}  {:>5}{verdict}\n",
            krate.name,
            krate.covered,
            krate.total,
            krate.percent(),
            krate.floor
        ));
    }
    let all = CrateCoverage {
        name: "all".to_owned(),
        covered: coverage.iter().map(|krate| krate.covered).sum(),
        total: coverage.iter().map(|krate| krate.total).sum(),
        floor: 0,
    };
    text.push_str(&format!(
        "{:width$}  {:>8}  {:>8}  {:>6}\n",
        all.name,
        all.covered,
        all.total,
        all.percent()
    ));
    text
}

#[cfg(test)]
#[allow(non_snake_case)]
mod tests {
    use super::*;

    fn crates() -> Vec<(String, PathBuf)> {
        [
            ("ada-slots", "/w/crates/slots"),
            ("ada-trace", "/w/crates/ada"),
            ("ada-nested", "/w/crates/ada/nested"),
            ("ada-cli", "/w/crates/cli"),
        ]
        .iter()
        .map(|(name, folder)| ((*name).to_owned(), PathBuf::from(folder)))
        .collect()
    }

    fn file(name: &str, covered: u64, count: u64) -> String {
        format!(
            r#"{{"filename":"{name}","summary":{{"functions":{{"count":1,"covered":1,"percent":100.0}},"lines":{{"count":{count},"covered":{covered},"percent":0.0}}}}}}"#
        )
    }

    fn summary(files: &[String]) -> String {
        format!(
            r#"{{"data":[{{"files":[{}],"totals":{{}}}}],"type":"llvm.coverage.json.export","version":"3.1.0"}}"#,
            files.join(",")
        )
    }

    fn counts(coverage: &[CrateCoverage]) -> Vec<(&str, u64, u64)> {
        coverage
            .iter()
            .map(|krate| (krate.name.as_str(), krate.covered, krate.total))
            .collect()
    }

    #[test]
    fn per_crate__files_of_several_crates__then_summed_into_their_crate_in_order() {
        let json = summary(&[
            file("/w/crates/cli/src/main.rs", 40, 50),
            file("/w/crates/slots/src/lib.rs", 90, 100),
            file("/w/crates/slots/src/cell.rs", 10, 10),
            file("/w/crates/cli/src/stress.rs", 45, 50),
            file("/w/crates/ada/src/tracer.rs", 19, 20),
        ]);
        let coverage = per_crate(&json, &crates()).unwrap();
        assert_eq!(
            counts(&coverage),
            [
                ("ada-slots", 100, 110),
                ("ada-trace", 19, 20),
                ("ada-nested", 0, 0),
                ("ada-cli", 85, 100),
            ]
        );
    }

    #[test]
    fn per_crate__nested_folder_or_name_prefix__then_deepest_whole_folder_wins() {
        let json = summary(&[
            file("/w/crates/ada/nested/src/lib.rs", 3, 4),
            file("/w/crates/ada/src/lib.rs", 5, 6),
            file("/w/crates/adapter/src/lib.rs", 7, 8),
            file("/w/xtask/src/main.rs", 1, 100),
            file("/home/u/.cargo/registry/src/x/lib.rs", 1, 100),
        ]);
        let coverage = per_crate(&json, &crates()).unwrap();
        assert_eq!(
            counts(&coverage),
            [
                ("ada-slots", 0, 0),
                ("ada-trace", 5, 6),
                ("ada-nested", 3, 4),
                ("ada-cli", 0, 0),
            ]
        );
    }

    #[test]
    fn per_crate__file_without_line_counts__then_refused() {
        let json =
            summary(&[r#"{"filename":"/w/crates/slots/src/lib.rs","summary":{}}"#.to_owned()]);
        let error = per_crate(&json, &crates()).unwrap_err();
        assert!(error.contains("/w/crates/slots/src/lib.rs"), "{error}");
        assert!(per_crate("{}", &crates()).is_err());
    }

    #[test]
    fn floors__library_95_cli_85__then_judged_on_exact_counts() {
        let json = summary(&[
            file("/w/crates/slots/src/lib.rs", 1899, 2000),
            file("/w/crates/ada/src/lib.rs", 19, 20),
            file("/w/crates/cli/src/main.rs", 85, 100),
        ]);
        let coverage = per_crate(&json, &crates()).unwrap();
        let verdicts: Vec<(&str, bool, String)> = coverage
            .iter()
            .map(|krate| (krate.name.as_str(), krate.meets_floor(), krate.percent()))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("ada-slots", false, "94.9".to_owned()),
                ("ada-trace", true, "95.0".to_owned()),
                ("ada-nested", false, "-".to_owned()),
                ("ada-cli", true, "85.0".to_owned()),
            ]
        );
        let table = table(&coverage);
        assert!(
            table
                .lines()
                .any(|line| line.starts_with("ada-slots") && line.ends_with("BELOW")),
            "{table}"
        );
        assert!(table.lines().last().unwrap().starts_with("all"), "{table}");
        assert!(table.contains("  2003      2120    94.4"), "{table}");
    }
}
