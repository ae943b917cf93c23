//! The `ada` binary as a user runs it: each command on good input, and bad arguments
//! and corrupt files giving exit status 2 with a message, never a panic.
#![allow(non_snake_case)]

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

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
            "memory_per_thread_bytes",
            "memory_per_thread",
            "loss_explanations",
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
            "drain_cpu_ns",
            "drain_cpu_percent",
        ] {
            assert!(summary["drain"].get(key).is_some(), "missing drain.{key}");
        }
        for cause in ["oldest", "newest", "sink", "timeout"] {
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
        (&["stress", "--rings", "1", "--seconds", "0.1"], "--rings"),
        (
            &["stress", "--ring-records", "0", "--seconds", "0.1"],
            "--ring-records",
        ),
        (&["stress", "--policy", "drop-everything"], "drop-oldest"),
        (
            &["stress", "--block-timeout-ms", "5", "--seconds", "0.1"],
            "--block-timeout-ms needs --policy block",
        ),
        (&["--json", "stress"], "stress"),
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
    assert_eq!(inspected["index_layout"], "ada.Event/2");
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
fn inspect__corrupt_or_foreign_file__then_exit_2_naming_the_offset() {
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
            if file == &truncated {
                // A torn last block is what a crash leaves: shown up to it, said on
                // stderr, exit 0 (`inspect_dump_export__torn_capture__…`).
                assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
                assert!(
                    stderr(&output).contains("torn block at byte"),
                    "{command}: {}",
                    stderr(&output)
                );
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

/// Every ring block of a version 3 capture as `(start, end)`, then the trailer's offset
/// (the file's length when it has none), from the byte layout of `docs/file-format.md`
/// (the clock record after the header, names blocks skipped).
fn blocks_of(bytes: &[u8]) -> (Vec<(usize, usize)>, usize) {
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([bytes[at], bytes[at + 1]]));
    let u32_at = |at: usize| {
        usize::try_from(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())).unwrap()
    };
    assert_eq!(u16_at(8), 3, "version 3");
    let sizes = [u32_at(12), u32_at(16)];
    let mut at = u16_at(10);
    assert_eq!(&bytes[at..at + 4], b"CLOK");
    at += 44;
    let mut blocks = Vec::new();
    while at < bytes.len() && &bytes[at..at + 4] == b"NAME" {
        at += u32_at(at + 12);
    }
    while at < bytes.len() && &bytes[at..at + 4] == b"RING" {
        let lane = usize::from(bytes[at + 4]);
        let end =
            at + 42 + u16_at(at + 40) * 10 + u16_at(at + 6) + u32_at(at + 20) * sizes[lane] + 4;
        blocks.push((at, end));
        at = end;
        while at < bytes.len() && &bytes[at..at + 4] == b"NAME" {
            at += u32_at(at + 12);
        }
    }
    (blocks, at)
}

/// Runs `ada inspect --json`, `ada dump` and `ada export --chrome` on `file`.
fn read_three_ways(file: &Path, out: &Path) -> [Output; 3] {
    let file = file.to_str().unwrap();
    [
        ada(&["inspect", "--json", file]),
        ada(&["dump", file]),
        ada(&["export", "--chrome", file, "-o", out.to_str().unwrap()]),
    ]
}

#[test]
fn inspect__capture_with_trailer__then_every_lane_reconciles_and_json_keeps_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    let output = ada(&["inspect", "--json", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let inspected = json(&output);
    assert_eq!(inspected["version"], 3);
    assert_eq!(inspected["ending"]["status"], "trailer");
    assert_eq!(inspected["reconciles"], true);
    let totals = &inspected["trailer"]["totals"];
    let lanes = inspected["lanes"].as_array().unwrap();
    assert!(!lanes.is_empty());
    let mut delivered = 0;
    for lane in lanes {
        for key in [
            "thread_name",
            "slot",
            "generation",
            "lane",
            "rings",
            "collections",
            "records",
            "events_lost",
            "rings_missing",
            "marked_windows",
            "first_ns",
            "last_ns",
        ] {
            assert!(lane.get(key).is_some(), "{key} kept: {lane}");
        }
        assert_eq!(lane["reconciles"], true, "{lane}");
        let last = &lane["final"];
        assert_eq!(lane["records"], last["delivered"], "{lane}");
        let announced: u64 = lane["lost_by_cause"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        let after: u64 = last["lost_after"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        let dropped: u64 = last["dropped"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(announced + after, dropped, "{lane}");
        delivered += last["delivered"].as_u64().unwrap();
    }
    assert_eq!(totals["delivered"].as_u64().unwrap(), delivered);
    let text = ada(&["inspect", file.to_str().unwrap()]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("ends: trailer at byte"), "{stdout}");
    assert!(stdout.contains("reconciles: yes"), "{stdout}");
}

#[test]
fn inspect_dump_export__torn_capture__then_what_precedes_shown_and_the_cut_on_stderr_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    let bytes = std::fs::read(&file).unwrap();
    let (blocks, _) = blocks_of(&bytes);
    let (last_start, last_end) = blocks[blocks.len() - 1];
    let torn = dir.path().join("torn.ada");
    std::fs::write(&torn, &bytes[..last_end - 10]).unwrap();
    let [inspect, dump, export] = read_three_ways(&torn, &dir.path().join("out.json"));
    for (command, output) in [("inspect", &inspect), ("dump", &dump), ("export", &export)] {
        assert_eq!(
            output.status.code(),
            Some(0),
            "{command}: {}",
            stderr(output)
        );
        let message = stderr(output);
        assert!(
            message.contains(&format!("torn block at byte {last_start}")),
            "{command}: {message}"
        );
        assert!(message.contains("no trailer"), "{command}: {message}");
    }
    let inspected = json(&inspect);
    assert_eq!(inspected["ending"]["status"], "torn");
    assert_eq!(inspected["ending"]["offset"], last_start);
    assert_eq!(inspected["reconciles"], serde_json::Value::Null);
    let records: u64 = inspected["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|lane| lane["records"].as_u64().unwrap())
        .sum();
    assert!(records > 0, "what precedes the cut is shown");
    let lines = String::from_utf8_lossy(&dump.stdout).lines().count() as u64;
    assert_eq!(
        lines, records,
        "dump prints every record of every whole block"
    );
}

#[test]
fn inspect_dump_export__capture_cut_at_a_block_boundary__then_no_trailer_said_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    let bytes = std::fs::read(&file).unwrap();
    let (_, trailer) = blocks_of(&bytes);
    let cut = dir.path().join("cut.ada");
    std::fs::write(&cut, &bytes[..trailer]).unwrap();
    let [inspect, dump, export] = read_three_ways(&cut, &dir.path().join("out.json"));
    for (command, output) in [("inspect", &inspect), ("dump", &dump), ("export", &export)] {
        assert_eq!(
            output.status.code(),
            Some(0),
            "{command}: {}",
            stderr(output)
        );
        let message = stderr(output);
        assert!(
            message.contains(&format!("no trailer: it stops at byte {trailer}")),
            "{command}: {message}"
        );
    }
    assert_eq!(json(&inspect)["ending"]["status"], "no_trailer");
}

#[test]
fn inspect__blocks_and_trailer_disagree__then_exit_1_naming_the_lane() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    let bytes = std::fs::read(&file).unwrap();
    let (blocks, _) = blocks_of(&bytes);
    // Without one of its blocks (a later ring still follows: no order broken).
    let (start, end) = blocks[1];
    let mut removed = bytes[..start].to_vec();
    removed.extend_from_slice(&bytes[end..]);
    let partial = dir.path().join("partial.ada");
    std::fs::write(&partial, &removed).unwrap();
    let output = ada(&["inspect", partial.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("reconciles: NO (1 lanes)"), "{stdout}");
    assert!(stdout.contains("records in the file"), "{stdout}");
    assert!(
        stderr(&output).contains("does not reconcile with its trailer (1 lanes)"),
        "{}",
        stderr(&output)
    );
    let output = ada(&["inspect", "--json", partial.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let inspected = json(&output);
    assert_eq!(inspected["reconciles"], false);
    let failed: Vec<&serde_json::Value> = inspected["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|lane| lane["reconciles"] == false)
        .collect();
    assert_eq!(failed.len(), 1);
    assert!(!failed[0]["mismatches"].as_array().unwrap().is_empty());
}

#[test]
fn inspect_dump_export__duplicated_block__then_exit_2_out_of_order_after_what_precedes() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    let bytes = std::fs::read(&file).unwrap();
    let (blocks, _) = blocks_of(&bytes);
    // The first index ring block, written twice.
    let (start, end) = *blocks
        .iter()
        .find(|&&(start, _)| bytes[start + 4] == 0 && bytes[start + 5] == 0)
        .unwrap();
    let mut duplicated = bytes[..end].to_vec();
    duplicated.extend_from_slice(&bytes[start..]);
    let twice = dir.path().join("twice.ada");
    std::fs::write(&twice, &duplicated).unwrap();
    let [inspect, dump, export] = read_three_ways(&twice, &dir.path().join("out.json"));
    for (command, output) in [("inspect", &inspect), ("dump", &dump), ("export", &export)] {
        assert_eq!(
            output.status.code(),
            Some(2),
            "{command}: {}",
            stderr(output)
        );
        let message = stderr(output);
        assert!(
            message.contains(&format!("at byte {end}"))
                && message.contains("duplicated or reordered"),
            "{command}: {message}"
        );
    }
    let inspected = json(&inspect);
    assert_eq!(inspected["ending"]["status"], "unreadable");
    assert!(
        !inspected["lanes"].as_array().unwrap().is_empty(),
        "what precedes is shown"
    );
    assert!(!dump.stdout.is_empty(), "what precedes is dumped");
}

/// Waits for `child` at most `limit`: a command that runs past it is killed and the test
/// fails (no input may make `ada` hang).
fn wait_at_most(child: &mut Child, limit: Duration, what: &str) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for ada") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `ada args`, its stderr collected, within `limit`.
fn ada_within(args: &[&str], limit: Duration) -> (ExitStatus, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ada"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ada binary runs");
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = wait_at_most(&mut child, limit, &format!("{args:?}"));
    (status, reader.join().unwrap())
}

/// Every numeric argument of every command, with values out of its range, non-finite,
/// malformed or absurdly large: exit 2 at once, naming the flag in clap's words
/// (`invalid value 'X' for '--flag <FLAG>'`), never a panic (101), a hang, or the
/// "invariant broke" status 1.
#[test]
fn numeric_flags__bad_values__then_exit_2_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("never.ada");
    let out = out.to_str().unwrap();
    let seconds = [
        "0", "-1", "-0", "inf", "-inf", "nan", "1e20", "1e400", "86401", "x", "",
    ];
    let mut cases: Vec<(Vec<&str>, &str, Vec<&str>)> = Vec::new();
    for command in [&["stress"][..], &["record", "-o", out]] {
        let command = command.to_vec();
        cases.extend([
            (
                command.clone(),
                "--threads",
                vec!["0", "4097", "-1", "1.5", "1e3", "many"],
            ),
            (command.clone(), "--seconds", seconds.to_vec()),
            (
                command.clone(),
                "--events",
                vec!["0", "1", "-2", "1e9", "18446744073709551616"],
            ),
            (
                command.clone(),
                "--ring-records",
                vec!["0", "262145", "-1", "99999999999999999999"],
            ),
            (
                command.clone(),
                "--rings",
                vec!["0", "1", "65", "100000000", "-4"],
            ),
            (
                command.clone(),
                "--block-timeout-ms",
                vec!["0", "-1", "86400001", "1.5", "x"],
            ),
        ]);
    }
    // The main job (no command).
    cases.extend([
        (vec![], "--threads", vec!["0", "1025", "-1", "x"]),
        (vec![], "--seconds", vec!["0", "-1", "inf", "nan", "3601"]),
        (vec![], "--repeats", vec!["0", "16", "-1", "x"]),
    ]);
    cases.extend([
        (vec!["idle"], "--threads", vec!["0", "1025", "-1", "x"]),
        (vec!["idle"], "--seconds", seconds.to_vec()),
        (
            vec!["soak"],
            "--seconds",
            vec!["0", "-1", "inf", "nan", "1e20", "31536001"],
        ),
        (
            vec!["soak"],
            "--phase-seconds",
            vec!["0", "-1", "inf", "nan", "1e20"],
        ),
        (vec!["soak"], "--concurrency", vec!["0", "1025", "-1", "x"]),
        (vec!["soak"], "--slots", vec!["0", "1025", "-1"]),
        (
            vec!["soak"],
            "--stall-ms",
            vec!["10001", "-1", "18446744073709551615", "1.5"],
        ),
    ]);
    for (command, flag, values) in cases {
        for value in values {
            let assignment = format!("{flag}={value}");
            let mut args = command.clone();
            args.push(&assignment);
            let (status, message) = ada_within(&args, Duration::from_secs(30));
            assert_eq!(status.code(), Some(2), "{args:?}: {message}");
            assert!(
                message.contains(&format!("invalid value '{value}' for '{flag} <")),
                "{args:?}: the flag is not named: {message}"
            );
            assert!(!message.contains("panicked"), "{args:?}: {message}");
        }
    }
    assert!(
        !Path::new(out).exists(),
        "a refused `record` writes no file"
    );
}

/// `ada dump FILE | head`: the reader closes the pipe after a few bytes; `ada` stops
/// writing and exits quietly with status 0 (no "Broken pipe" message, no status 2).
#[test]
fn dump__reader_closes_the_pipe_early__then_exit_0_and_nothing_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    // 40 000 records, some 200 bytes a line: far more than a pipe's buffer.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ada"))
        .args(["dump", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ada binary runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0_u8; 64];
    stdout.read_exact(&mut first).unwrap();
    assert!(
        first.starts_with(b"{"),
        "{}",
        String::from_utf8_lossy(&first)
    );
    drop(stdout);
    let mut stderr = child.stderr.take().unwrap();
    let status = wait_at_most(&mut child, Duration::from_secs(60), "ada dump");
    let mut message = String::new();
    stderr.read_to_string(&mut message).unwrap();
    assert_eq!(status.code(), Some(0), "{message}");
    assert_eq!(message, "");
}

/// Every command that writes to stdout, its reader gone before it writes: status 0 and
/// nothing on stderr, as `ada … | head` ending early expects (before, `println!`
/// panicked with status 101 and the readers exited 2 with "Broken pipe").
#[test]
fn stdout_commands__reader_gone__then_exit_0_and_nothing_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_capture(dir.path());
    let file = file.to_str().unwrap();
    let exported = dir.path().join("out.json");
    let recorded = dir.path().join("again.ada");
    let commands: [&[&str]; 12] = [
        &["dump", file],
        &["inspect", file],
        &["inspect", "--json", file],
        &["export", "--chrome", file, "-o", "-"],
        &["export", "--perfetto", file, "-o", "-"],
        &["export", "--chrome", file, "-o", exported.to_str().unwrap()],
        &["stress", "--threads", "1", "--seconds", "0.2"],
        &["stress", "--threads", "1", "--seconds", "0.2", "--json"],
        &["--threads", "2", "--seconds", "0.2", "--repeats", "1"],
        &[
            "record",
            "--threads",
            "1",
            "--seconds",
            "0.2",
            "-o",
            recorded.to_str().unwrap(),
        ],
        &["idle", "--threads", "2", "--seconds", "0.1"],
        &[
            "soak",
            "--seconds",
            "0.3",
            "--phase-seconds",
            "0.3",
            "--concurrency",
            "2",
            "--slots",
            "2",
        ],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ada"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the ada binary runs");
        drop(child.stdout.take()); // the reader is gone before `ada` writes a byte
        let mut stderr = child.stderr.take().unwrap();
        let status = wait_at_most(&mut child, Duration::from_secs(60), &format!("{args:?}"));
        let mut message = String::new();
        stderr.read_to_string(&mut message).unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {message}");
        assert_eq!(message, "", "{args:?}");
    }
}

/// A stdout that fails otherwise (a full disk) is still an output error: exit 2 naming
/// stdout, never a panic.
#[test]
fn stress__stdout_full__then_exit_2_naming_stdout() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else {
        return; // no /dev/full here
    };
    let output = Command::new(env!("CARGO_BIN_EXE_ada"))
        .args(["stress", "--threads", "1", "--seconds", "0.1", "--json"])
        .stdout(full)
        .output()
        .expect("the ada binary runs");
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("writing stdout"),
        "{}",
        stderr(&output)
    );
}

/// `ada --json` (the main job): the stress keys scripts read, the job's own, exact
/// conservation, and with `--out` a capture that holds what the report says.
#[test]
fn job__json_with_out__then_documented_keys_conservation_and_the_capture_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("job.ada");
    let file_arg = file.to_str().unwrap();
    let output = ada(&[
        "--json",
        "--threads",
        "2",
        "--seconds",
        "0.6",
        "--repeats",
        "1",
        "--out",
        file_arg,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = json(&output);
    for key in [
        "events_written",
        "events_delivered",
        "events_dropped",
        "conserved",
        "events_per_sec",
        "overhead_percent",
        "overhead_ns_per_event",
        "cpu_overhead_percent",
        "untraced_seconds",
        "traced_seconds",
        "drain_cpu_ns",
        "drain_cpu_percent",
        "memory_per_thread_bytes",
        "memory_per_thread",
        "loss_explanations",
        "capture",
        "dropped",
    ] {
        assert!(summary.get(key).is_some(), "missing {key}: {summary}");
    }
    let n = |key: &str| summary[key].as_u64().unwrap();
    assert_eq!(summary["conserved"], true);
    assert!(n("events_written") > 0);
    assert_eq!(
        n("events_written"),
        n("events_delivered") + n("events_dropped") + n("events_discarded")
    );
    assert!(summary["overhead_percent"].is_f64());
    assert!(n("drain_cpu_ns") > 0, "the drain thread ran: {summary}");
    assert!(n("memory_per_thread_bytes") >= 4 * 2048 * 32);
    // Every lost event is explained, lane by lane.
    let explained: u64 = summary["loss_explanations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|why| why["dropped"].as_object().unwrap().values())
        .map(|events| events.as_u64().unwrap())
        .sum();
    assert_eq!(explained, n("events_dropped"), "{summary}");
    // One traced run: the capture holds its delivered events.
    let capture = &summary["capture"];
    assert_eq!(
        capture["bytes"].as_u64(),
        Some(std::fs::metadata(&file).unwrap().len())
    );
    assert_eq!(capture["events"].as_u64(), Some(n("events_delivered")));
    let output = ada(&["inspect", file_arg, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let records: u64 = json(&output)["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|lane| lane["records"].as_u64().unwrap())
        .sum();
    assert_eq!(records, n("events_delivered"));
}

/// The main job's text report: one line per number, overhead first.
#[test]
fn job__text__then_overhead_losses_drain_cpu_and_memory_lines() {
    let output = ada(&["--threads", "2", "--seconds", "0.3", "--repeats", "1"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", stderr(&output));
    for line in [
        "  untraced ",
        "  traced ",
        "  overhead ",
        "  worker CPU ",
        "  events written ",
        "  delivered ",
        "  dropped ",
        "  conserved                yes",
        "  drain CPU ",
        "  memory ",
    ] {
        assert!(stdout.contains(line), "`{line}` not in {stdout}");
    }
}

/// `--policy block`: the index lanes wait for the drain instead of dropping, so nothing
/// is lost, even into a capture file (a slower sink).
#[test]
fn stress_and_record__policy_block__then_nothing_dropped_and_conserved() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("block.ada");
    for args in [
        &["stress", "--threads", "4", "--seconds", "0.5"][..],
        &[
            "record",
            "--threads",
            "2",
            "--seconds",
            "0.3",
            "-o",
            file.to_str().unwrap(),
        ],
    ] {
        let mut args = args.to_vec();
        args.extend(["--policy", "block", "--json"]);
        let output = ada(&args);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            stderr(&output)
        );
        let summary = json(&output);
        assert_eq!(summary["policy"], "block");
        assert_eq!(summary["conserved"], true);
        assert!(summary["events_written"].as_u64().unwrap() > 0);
        assert_eq!(summary["events_dropped"], 0, "{args:?}: {summary}");
        assert_eq!(summary["events_in_flight"], 0);
        assert_eq!(summary["loss_explanations"], serde_json::json!([]));
    }
}

/// Tiny rings under drop-oldest lose events: each lossy lane's loss is explained, in
/// text and in `--json`, and the explanations account for every lost event.
#[test]
fn stress__tiny_rings_drop_oldest__then_every_loss_explained() {
    let args = [
        "stress",
        "--threads",
        "2",
        "--seconds",
        "0.3",
        "--rings",
        "2",
        "--ring-records",
        "16",
    ];
    let output = ada(&args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", stderr(&output));
    assert!(stdout.contains("losses explained:"), "{stdout}");
    assert!(stdout.contains("index lane lost"), "{stdout}");
    assert!(stdout.contains("2 rings × 16 records"), "{stdout}");

    let mut args = args.to_vec();
    args.push("--json");
    let output = ada(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let summary = json(&output);
    let dropped = summary["events_dropped"].as_u64().unwrap();
    assert!(dropped > 0, "{summary}");
    let explanations = summary["loss_explanations"].as_array().unwrap();
    assert!(
        explanations
            .iter()
            .any(|why| why["lane"] == "Index" && why["ring_records"] == 16),
        "{summary}"
    );
    let explained: u64 = explanations
        .iter()
        .flat_map(|why| why["dropped"].as_object().unwrap().values())
        .map(|events| events.as_u64().unwrap())
        .sum();
    assert_eq!(explained, dropped);
    assert!(
        explanations.iter().all(|why| why["text"]
            .as_str()
            .is_some_and(|text| text.contains("lost"))),
        "{summary}"
    );
}
