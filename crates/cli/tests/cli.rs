//! The `ada` binary as a user runs it: each command on good input, and bad arguments
//! and corrupt files giving exit status 2 with a message, never a panic.
#![allow(non_snake_case)]

use std::path::Path;
use std::process::{Command, Output};

fn ada(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ada"))
        .args(args)
        .output()
        .expect("the ada binary runs")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{error}: {}", String::from_utf8_lossy(&output.stdout)))
}

#[test]
fn stress__json__then_documented_keys_and_conservation() {
    for policy in ["drop-oldest", "drop-newest"] {
        let output = ada(&[
            "stress",
            "--threads",
            "2",
            "--seconds",
            "0.3",
            "--policy",
            policy,
            "--json",
        ]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let summary = json(&output);
        for key in [
            "threads",
            "seconds",
            "policy",
            "events_written",
            "events_delivered",
            "events_dropped",
            "conserved",
            "events_per_sec",
            "rings_delivered",
            "swaps",
            "bytes_per_thread",
            "drain",
        ] {
            assert!(summary.get(key).is_some(), "missing {key}: {summary}");
        }
        for key in [
            "cycles",
            "idle_cycles",
            "parks",
            "cycle_p99_ns",
            "fairness_index",
        ] {
            assert!(summary["drain"].get(key).is_some(), "missing drain.{key}");
        }
        for cause in ["oldest", "newest", "sink"] {
            assert!(
                summary["dropped"][cause].is_u64(),
                "missing dropped.{cause}"
            );
        }
        let per_thread = summary["per_thread"].as_array().expect("per_thread");
        assert_eq!(per_thread.len(), 2, "one report per producer");
        assert!(
            per_thread
                .iter()
                .all(|t| t["index"]["events_written"].is_u64())
        );
        assert_eq!(summary["policy"], policy);
        assert_eq!(summary["conserved"], true);
        let n = |key: &str| summary[key].as_u64().unwrap();
        assert!(n("events_written") > 0);
        assert_eq!(
            n("events_written"),
            n("events_delivered") + n("events_dropped") + n("events_discarded")
        );
    }
}

#[test]
fn stress__bad_arguments__then_exit_2_with_a_message() {
    for (args, expected) in [
        (&["stress", "--threads", "0"][..], "threads"),
        (&["stress", "--seconds=-1"], "seconds"),
        (&["stress", "--events", "0"], "events"),
        (&["stress", "--sink", "tape:/dev/st0"], "file:PATH"),
        (
            &["stress", "--rings", "1", "--seconds", "0.1"],
            "index lane",
        ),
        (
            &["stress", "--ring-records", "0", "--seconds", "0.1"],
            "index lane",
        ),
        (&["stress", "--policy", "drop-everything"], "drop-oldest"),
        (&["no-such-command"], "no-such-command"),
        (&["inspect"], "FILE"),
        (&["idle", "--seconds", "0"], "seconds"),
        (&["idle", "--threads", "0"], "threads"),
        (&["soak", "--phase-seconds=-1"], "seconds"),
        (&["record", "--seconds", "0.1"], "--out"),
        (&["export", "-o", "out.json"], "--perfetto"),
        (
            &[
                "export",
                "--chrome",
                "a.ada",
                "--perfetto",
                "a.ada",
                "-o",
                "x",
            ],
            "cannot be used with",
        ),
    ] {
        let output = ada(args);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: `{expected}` not in {}",
            stderr(&output)
        );
    }
}

#[test]
fn record_inspect_dump_export__then_file_agrees_with_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("run.ada");
    let file_arg = file.to_str().unwrap();
    let output = ada(&[
        "record",
        "--threads",
        "2",
        "--seconds",
        "5",
        "--events",
        "100000",
        "--json",
        "-o",
        file_arg,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = json(&output);
    let delivered = summary["events_delivered"].as_u64().unwrap();

    let output = ada(&["inspect", file_arg, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let inspected = json(&output);
    assert_eq!(inspected["index_layout"], "ada.Event/1");
    let records: u64 = inspected["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|lane| lane["records"].as_u64().unwrap())
        .sum();
    assert_eq!(records, delivered, "every delivered record is in the file");

    let output = ada(&["dump", file_arg]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = String::from_utf8(output.stdout).unwrap();
    assert_eq!(lines.lines().count() as u64, delivered);
    let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
    assert!(first["origin"]["slot"].is_u64(), "{first}");

    let chrome = dir.path().join("run.json");
    let output = ada(&[
        "export",
        "--chrome",
        file_arg,
        "--out",
        chrome.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let trace: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&chrome).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert!(events.iter().any(|e| e["ph"] == "B") && events.iter().any(|e| e["ph"] == "E"));
    assert!(
        events
            .iter()
            .any(|e| e["ph"] == "M" && e["name"] == "thread_name")
    );
}

fn corrupt_copy(from: &Path, to: &Path, at: usize) {
    let mut bytes = std::fs::read(from).unwrap();
    bytes[at] ^= 0x5a;
    std::fs::write(to, bytes).unwrap();
}

#[test]
fn inspect__corrupt_truncated_or_foreign_file__then_exit_2_naming_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.ada");
    let output = ada(&[
        "record",
        "--threads",
        "1",
        "--events",
        "10000",
        "--json",
        "--out",
        good.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let corrupt = dir.path().join("corrupt.ada");
    corrupt_copy(&good, &corrupt, 200);
    let truncated = dir.path().join("truncated.ada");
    let bytes = std::fs::read(&good).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 3]).unwrap();
    let foreign = dir.path().join("foreign.ada");
    std::fs::write(&foreign, "not a trace\n").unwrap();
    for (file, expected) in [
        (&corrupt, "checksum"),
        (&truncated, "truncated"),
        (&foreign, "not an ada capture file"),
        (&dir.path().join("missing.ada"), "No such file"),
    ] {
        let out = dir.path().join("out.json");
        for command in ["inspect", "dump", "export"] {
            let output = if command == "export" {
                ada(&[
                    command,
                    "--chrome",
                    file.to_str().unwrap(),
                    "-o",
                    out.to_str().unwrap(),
                ])
            } else {
                ada(&[command, file.to_str().unwrap()])
            };
            if command == "export" && file == &truncated {
                // A torn last block is what a crash leaves: exported up to it, said on
                // stderr, exit 0 (`export__torn_capture__…`).
                assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
                continue;
            }
            assert_eq!(
                output.status.code(),
                Some(2),
                "{command} {}",
                file.display()
            );
            let message = stderr(&output);
            assert!(message.contains(expected), "{command}: {message}");
            assert!(message.contains("at byte"), "{command}: {message}");
            assert!(!message.contains("panicked"), "{message}");
        }
    }
}

#[test]
fn soak__short__then_every_record_checked_and_no_violation() {
    let output = ada(&[
        "soak",
        "--seconds",
        "2",
        "--phase-seconds",
        "0.5",
        "--stall-ms",
        "5",
        "--concurrency",
        "6",
        "--slots",
        "4",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", stderr(&output));
    assert!(
        stdout.contains("drop-oldest") && stdout.contains("drop-newest"),
        "{stdout}"
    );
    assert!(
        stdout.contains("violations                                  0"),
        "{stdout}"
    );
}

#[test]
fn version__flag__then_prints_ada_and_the_version() {
    let output = ada(&["--version"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("ada {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help__long__then_says_what_ada_alone_runs_and_lists_exit_codes() {
    let output = ada(&["--help"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("With no command, `ada` runs the main job"),
        "{help}"
    );
    assert!(help.contains("Exit status:"), "{help}");
    for line in [
        "0  every event accounted for",
        "1  an invariant broke",
        "2  usage, configuration or input error",
    ] {
        assert!(help.contains(line), "`{line}` not in {help}");
    }
    let commands: Vec<&str> = help
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert_eq!(
        commands,
        [
            "stress", "record", "inspect", "dump", "export", "soak", "idle", "help"
        ],
        "{help}"
    );
}

#[test]
fn record_and_export__out_flag__then_short_and_long_forms_in_help() {
    for command in ["record", "export"] {
        let output = ada(&[command, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.contains("-o, --out <FILE>"), "{command}: {help}");
    }
}

#[test]
fn record__short_out_flag__then_capture_file_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("short.ada");
    let output = ada(&[
        "record",
        "--threads",
        "1",
        "--events",
        "1000",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("captured to"), "{stdout}");
    let output = ada(&["inspect", file.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        json(&output)["lanes"]
            .as_array()
            .is_some_and(|lanes| !lanes.is_empty())
    );
}

#[test]
fn idle__short__then_reports_the_drains_cpu_through_the_facade() {
    let output = ada(&["idle", "--threads", "4", "--seconds", "0.2"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", stderr(&output));
    assert!(
        stdout.contains("idle: 4 registered idle threads"),
        "{stdout}"
    );
    assert!(
        stdout.contains("% of one core") && stdout.contains("parks"),
        "{stdout}"
    );
}

#[test]
fn retired_parts__spsc_ring_lane__then_unknown_command_exit_2() {
    for command in ["spsc", "ring", "lane"] {
        let output = ada(&[command]);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("unrecognized subcommand"),
            "{}",
            stderr(&output)
        );
    }
}

/// A short capture through the real pipeline, with a span open at its end.
fn small_capture(dir: &Path) -> std::path::PathBuf {
    let file = dir.join("run.ada");
    let output = ada(&[
        "record",
        "--threads",
        "2",
        "--events",
        "20000",
        "--json",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    file
}

#[test]
fn export__perfetto_and_chrome__then_each_file_written_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    for (flag, name) in [("--perfetto", "run.pftrace"), ("--chrome", "run.json")] {
        let out = dir.path().join(name);
        let output = ada(&[
            "export",
            flag,
            file.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(output.status.code(), Some(0), "{flag}: {}", stderr(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("events, "), "{stdout}");
        assert!(
            stdout.contains(&format!("written to {}", out.display())),
            "{stdout}"
        );
        let bytes = std::fs::read(&out).unwrap();
        assert!(bytes.len() > 1000, "{flag}: {} bytes", bytes.len());
        if flag == "--chrome" {
            let trace: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            let events = trace["traceEvents"].as_array().unwrap();
            let tids: std::collections::BTreeSet<u64> = events
                .iter()
                .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
                .map(|e| e["tid"].as_u64().unwrap())
                .collect();
            assert_eq!(tids.len(), 2, "one tid per producer");
            assert!(tids.iter().all(|&tid| tid < 1 << 31));
            let begins = events.iter().filter(|e| e["ph"] == "B").count();
            let ends = events.iter().filter(|e| e["ph"] == "E").count();
            assert_eq!(begins, ends, "balanced");
        } else {
            // A `Trace`'s first field: `packet` (1), length-delimited.
            assert_eq!(bytes[0], 0x0a);
        }
    }
}

#[test]
fn export__out_dash__then_the_trace_on_stdout_and_the_count_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    let output = ada(&["export", "--chrome", file.to_str().unwrap(), "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(json(&output)["traceEvents"].is_array());
    assert!(
        stderr(&output).contains("written to stdout"),
        "{}",
        stderr(&output)
    );
    let to_file = dir.path().join("run.pftrace");
    let output_file = ada(&[
        "export",
        "--perfetto",
        file.to_str().unwrap(),
        "-o",
        to_file.to_str().unwrap(),
    ]);
    assert_eq!(
        output_file.status.code(),
        Some(0),
        "{}",
        stderr(&output_file)
    );
    let output = ada(&["export", "--perfetto", file.to_str().unwrap(), "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        output.stdout,
        std::fs::read(&to_file).unwrap(),
        "same bytes"
    );
}

#[test]
fn export__out_is_the_input__then_exit_2_and_the_capture_intact() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    let before = std::fs::read(&file).unwrap();
    let link = dir.path().join("link.ada");
    std::fs::hard_link(&file, &link).unwrap();
    let dotted = dir.path().join(".").join("run.ada");
    for out in [&file, &link, &dotted] {
        for flag in ["--perfetto", "--chrome"] {
            let output = ada(&[
                "export",
                flag,
                file.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ]);
            assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
            assert!(
                stderr(&output).contains("refusing to write the output over the input file"),
                "{}",
                stderr(&output)
            );
        }
    }
    assert_eq!(
        std::fs::read(&file).unwrap(),
        before,
        "the capture is untouched"
    );
}

#[test]
fn export__torn_capture__then_exit_0_the_end_marked_and_said_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    let bytes = std::fs::read(&file).unwrap();
    let torn = dir.path().join("torn.ada");
    std::fs::write(&torn, &bytes[..bytes.len() - 100]).unwrap();
    let output = ada(&["export", "--chrome", torn.to_str().unwrap(), "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(
        message.contains("ends with a torn block at byte"),
        "{message}"
    );
    let trace = json(&output);
    let events = trace["traceEvents"].as_array().unwrap();
    assert!(
        events.iter().any(|e| e["name"]
            .as_str()
            .is_some_and(|name| name.starts_with("capture ends: torn block at byte"))),
        "the timeline marks the end"
    );
}
