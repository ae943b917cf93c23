//! `cargo xtask cost [--json] [--ops N]`: instructions per operation of ada's write
//! paths, counted by callgrind (repeatable, unlike time).
//!
//! Builds the probe `benches/src/bin/cost_probe.rs` in release and runs it under
//! `valgrind --tool=callgrind` twice per path, with `N` and `2N` operations; callgrind
//! counts only inside the probe's measured loop (`--toggle-collect=*cost_loop_*`), so the
//! drain thread and the set-up stay out, and the difference of the two counts divided
//! by `N` cancels whatever the loop does once (a registration, the first interning).
//! valgrind is a prerequisite of this command only. Not a stage of `ci`.

use crate::command::{cargo, exec, root};
use std::process::Command;

/// The probe's paths, in the table's order.
const PATHS: [(&str, &str); 12] = [
    (
        "floor",
        "ring-buffer push: the append and its release store",
    ),
    ("handle_write", "handle.index(event), explicit handle"),
    ("local_write", "tracer.index(event), thread-local handle"),
    ("timestamped_event", "handle.index(Event::now(..))"),
    (
        "span",
        "ada::span! entered and left (2 stamped events), global tracer",
    ),
    ("clock", "ada_clock::now()"),
    (
        "tracing_event",
        "tracing::info!(a, b, \"tick\") through ada_tracing",
    ),
    ("noop_event", "the same through a layer that does nothing"),
    (
        "tracing_span",
        "info_span!(\"work\", a, b) made, entered, exited, closed, through ada_tracing",
    ),
    ("noop_span", "the same through a layer that does nothing"),
    (
        "tracing_bare_span",
        "info_span!(\"work\") made, entered, exited, closed, through ada_tracing",
    ),
    (
        "noop_bare_span",
        "the same through a layer that does nothing",
    ),
];

const USAGE: &str = "usage: cargo xtask cost [--json] [--ops N]";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut json = false;
    let mut ops: u64 = 100_000;
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        match flag.as_str() {
            "--json" => json = true,
            "--ops" => {
                ops = rest
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|&ops| ops > 0)
                    .ok_or_else(|| USAGE.to_owned())?;
            }
            _ => return Err(USAGE.to_owned()),
        }
    }
    check_valgrind()?;
    exec(cargo().args([
        "build",
        "--release",
        "--locked",
        "-p",
        "ada-benches",
        "--bin",
        "cost_probe",
    ]))?;
    let probe = root().join("target/release/cost_probe");
    let mut costs = Vec::new();
    for (path, _) in PATHS {
        let once = instructions(&probe, path, ops)?;
        let twice = instructions(&probe, path, 2 * ops)?;
        let per_op = twice.saturating_sub(once) as f64 / ops as f64;
        costs.push((path, per_op));
    }
    if json {
        println!("{}", json_object(&costs));
    } else {
        print!("{}", table(&costs, ops));
    }
    Ok(())
}

/// `{"floor":…, "handle_write":…, …}` in the table's order.
fn json_object(costs: &[(&str, f64)]) -> String {
    let fields: Vec<String> = costs
        .iter()
        .map(|&(path, cost)| {
            format!(
                "{}:{}",
                serde_json::json!(path),
                serde_json::json!(round(cost))
            )
        })
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// One decimal: the counts are exact, the division by `N` is what is rounded.
fn round(cost: f64) -> f64 {
    (cost * 10.0).round() / 10.0
}

fn check_valgrind() -> Result<(), String> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(output) if output.status.success() => Ok(()),
        _ => Err(
            "`cargo xtask cost` needs valgrind (callgrind counts the instructions): \
                  install it, e.g. `apt-get install valgrind`, and make sure `valgrind` is \
                  on PATH"
                .to_owned(),
        ),
    }
}

/// Instructions callgrind counted inside the probe's loop for `ops` operations of `path`.
fn instructions(probe: &std::path::Path, path: &str, ops: u64) -> Result<u64, String> {
    let output = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            "--toggle-collect=*cost_loop_*",
        ])
        .arg(probe)
        .args([path, &ops.to_string()])
        .output()
        .map_err(|error| format!("could not start valgrind: {error}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(format!(
            "the probe failed under callgrind ({path} {ops}): {}",
            stderr.trim()
        ));
    }
    collected(&stderr)
        .ok_or_else(|| format!("callgrind printed no `Collected :` count ({path} {ops}): {stderr}"))
}

/// The count of callgrind's `==pid== Collected : N` line.
fn collected(stderr: &str) -> Option<u64> {
    stderr.lines().find_map(|line| {
        let (_, count) = line.split_once("Collected :")?;
        count.trim().replace(',', "").parse().ok()
    })
}

fn table(costs: &[(&str, f64)], ops: u64) -> String {
    let mut text = format!(
        "instructions per operation (callgrind, ({} − {}) ops ÷ {ops}; loop overhead \
         included)\n\n| path | instr/op | what |\n|---|---:|---|\n",
        2 * ops,
        ops
    );
    for (&(path, cost), (_, what)) in costs.iter().zip(PATHS) {
        text.push_str(&format!("| {path} | {:.1} | {what} |\n", round(cost)));
    }
    let get = |name: &str| {
        costs
            .iter()
            .find(|(path, _)| *path == name)
            .map_or(f64::NAN, |&(_, cost)| cost)
    };
    let (handle, local, stamped, span, clock) = (
        get("handle_write"),
        get("local_write"),
        get("timestamped_event"),
        get("span"),
        get("clock"),
    );
    let verdict = |ok: bool| if ok { "met" } else { "NOT met" };
    text.push_str(&format!(
        "\ntargets:\n  local_write ≤ 1.5 × handle_write: {:.2}× ({})\n  \
         timestamped_event ≤ 2 × handle_write + clock: {:.1} ≤ {:.1} ({})\n  \
         span ≤ 2 × timestamped_event: {:.2}× ({})\n",
        local / handle,
        verdict(local <= 1.5 * handle),
        stamped,
        2.0 * handle + clock,
        verdict(stamped <= 2.0 * handle + clock),
        span / stamped,
        verdict(span <= 2.0 * stamped),
    ));
    text.push_str("\nthe tracing layer over tracing's own cost (ada_tracing − no-op layer):\n");
    for (operation, ada, noop) in [
        ("event", "tracing_event", "noop_event"),
        ("span with 2 fields", "tracing_span", "noop_span"),
        ("span without fields", "tracing_bare_span", "noop_bare_span"),
    ] {
        text.push_str(&format!(
            "  {operation}: +{:.1} instructions\n",
            round(get(ada) - get(noop))
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn collected__callgrind_summary__then_the_count() {
        let stderr = "==1== Events    : Ir\n==1== Collected : 1,400,029\n==1==\n";
        assert_eq!(collected(stderr), Some(1_400_029));
        assert_eq!(collected("no summary"), None);
    }

    #[test]
    fn table__costs__then_rows_and_verdicts() {
        let costs = [
            ("floor", 7.0),
            ("handle_write", 21.0),
            ("local_write", 31.0),
            ("timestamped_event", 29.0),
            ("span", 67.0),
            ("clock", 11.0),
        ];
        let text = table(&costs, 100);
        assert!(text.contains("| local_write | 31.0 |"), "{text}");
        assert!(text.contains("1.48× (met)"), "{text}");
        assert!(text.contains("2.31× (NOT met)"), "{text}");
        assert!(
            text.contains("span with 2 fields: +NaN"),
            "paths not measured: {text}"
        );
        let with_layer = [("tracing_event", 856.0), ("noop_event", 126.0)];
        assert!(table(&with_layer, 100).contains("event: +730.0 instructions"));
        let json: serde_json::Value = serde_json::from_str(&json_object(&costs)).unwrap();
        assert_eq!(json["span"], 67.0);
        assert!(json_object(&costs).starts_with(r#"{"floor":7.0,"handle_write":21.0"#));
    }
}
