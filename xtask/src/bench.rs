//! `cargo xtask bench`: runs the criterion benches (ada side by side with peer crates in
//! the same run) and writes their medians, with ratios to ada, to `docs/benchmarks.md`.

use crate::command::{cargo, exec, root};
use std::fmt::Write as _;
use std::path::Path;

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut quick = false;
    let mut report_only = false;
    let mut bench = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--report-only" => report_only = true,
            "--bench" => bench = Some(rest.next().ok_or("--bench needs a bench name")?.clone()),
            _ => {
                return Err(
                    "usage: cargo xtask bench [--quick] [--bench NAME] [--report-only]".to_owned(),
                );
            }
        }
    }
    let mut command = cargo();
    command.args(["bench", "--locked", "-p", "ada-benches"]);
    // Only the bench targets: the library's unit-test harness does not take criterion's
    // options.
    match &bench {
        Some(bench) => command.args(["--bench", bench]),
        None => command.arg("--benches"),
    };
    command.arg("--");
    if quick {
        command.args(["--warm-up-time", "1", "--measurement-time", "2"]);
    }
    if !report_only {
        exec(&mut command)?;
    }
    let criterion = root().join("target/criterion");
    let rows = collect(&criterion)?;
    let mut report = render(&rows);
    let path = root().join("docs/benchmarks.md");
    // The export section is `cargo xtask export-bench`'s: carried over as it is.
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    if let Some(at) = old.find(crate::export_bench::SECTION_MARKER) {
        report = format!("{}\n\n{}", report.trim_end(), &old[at..]);
    }
    std::fs::write(&path, report)
        .map_err(|error| format!("writing {}: {error}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// One benchmark: group, function (implementation), median in ns and throughput unit.
struct Row {
    group: String,
    function: String,
    median_ns: f64,
    elements: Option<f64>,
}

/// Reads every `<group>/<function>/new/{estimates,benchmark}.json` criterion wrote.
fn collect(criterion: &Path) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let groups = std::fs::read_dir(criterion)
        .map_err(|error| format!("reading {}: {error}", criterion.display()))?;
    for group in groups.flatten() {
        let Ok(functions) = std::fs::read_dir(group.path()) else {
            continue;
        };
        for function in functions.flatten() {
            let new = function.path().join("new");
            let Some(estimates) = read_json(&new.join("estimates.json")) else {
                continue;
            };
            let benchmark = read_json(&new.join("benchmark.json")).unwrap_or_default();
            let Some(median_ns) = estimates["median"]["point_estimate"].as_f64() else {
                continue;
            };
            let text = |key: &str| benchmark[key].as_str().map(str::to_owned);
            rows.push(Row {
                group: text("group_id").unwrap_or_else(|| name(&group.path())),
                function: text("function_id").unwrap_or_else(|| name(&function.path())),
                median_ns,
                elements: benchmark["throughput"]["Elements"].as_f64(),
            });
        }
    }
    rows.sort_by(|a, b| (&a.group, &a.function).cmp(&(&b.group, &b.function)));
    Ok(rows)
}

fn name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A JSON file criterion wrote, or `None` when it is missing or unreadable.
fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

fn render(rows: &[Row]) -> String {
    let mut out = String::from("# Benchmarks\n\n");
    let machine = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let date = crate::command::output(
        std::process::Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]),
    )
    .unwrap_or_default();
    let _ = writeln!(
        out,
        "Written by `cargo xtask bench` on {} ({machine}, {cores} cores). Medians of criterion \
         samples; ratio = this row's time / ada's time in the same group (above 1: ada is \
         faster). These machines are shared and noisy: compare rows of one run, not runs. Each \
         group comes from the latest run of its bench (`cargo xtask bench --bench NAME` \
         reruns one).\n\n\
         End-to-end groups time ada per *delivered* event (elapsed × written ÷ delivered): \
         ada never blocks a producer and drops (counted) when its drain falls behind, \
         where the other designs block their producers instead. Scaling with 1 to 64 \
         producer threads: [scaling.md](scaling.md) (`cargo xtask scaling`).\n",
        date.trim()
    );
    let mut group = "";
    for row in rows {
        if row.group != group {
            group = &row.group;
            let _ = writeln!(
                out,
                "\n## {group}\n\n| implementation | median | per element | ratio to ada |\n|---|---:|---:|---:|"
            );
        }
        // The reference is the group's ada row, when the group compares ada with
        // something else; a group of ada rows only has no ratio.
        let in_group = || rows.iter().filter(|r| r.group == row.group);
        let ada = in_group()
            .find(|r| r.function.starts_with("ada"))
            .filter(|_| in_group().any(|r| !r.function.starts_with("ada")))
            .map(|r| r.median_ns);
        let per_element = row.elements.map_or_else(
            || "—".to_owned(),
            |n| format!("{:.2} ns", row.median_ns / n),
        );
        let ratio = ada.map_or_else(
            || "—".to_owned(),
            |ada| format!("{:.2}", row.median_ns / ada),
        );
        let _ = writeln!(
            out,
            "| {} | {} | {per_element} | {ratio} |",
            row.function,
            human(row.median_ns)
        );
    }
    out
}

fn human(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.2} ns")
    }
}
