//! `ada dump`, `ada inspect` and `ada export` on a capture written through the facade
//! with named events (format version 3): names, categories and arguments shown as
//! strings, unknown ids as `#<id>` with a warning, times in calibrated nanoseconds.
#![allow(non_snake_case)]

use ada::{ArgType, Event, EventKind, FileSink, Tracer};
use serde_json::Value;
use std::process::{Command, Output};
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

fn id(name: &str) -> u32 {
    ada::names::intern(name).unwrap().get()
}

#[test]
fn dump_inspect_export__named_capture_through_the_facade__then_names_args_and_ns_shown() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("named.ada");
    let file = path.to_str().unwrap();
    let tracer = Tracer::builder()
        .sink(FileSink::create(&path).unwrap())
        .build()
        .unwrap();
    let (span, category) = (id("cli.request"), id("cli.http"));
    let wall = Instant::now();
    tracer
        .index(Event::now(EventKind::Enter, span, 1).with_category(category))
        .unwrap();
    tracer
        .index(Event::arg(
            id("cli.method"),
            ArgType::Name,
            u64::from(id("GET")),
        ))
        .unwrap();
    tracer
        .index(Event::arg(
            id("cli.delta"),
            ArgType::I64,
            (-3_i64).cast_unsigned(),
        ))
        .unwrap();
    std::thread::sleep(Duration::from_millis(10));
    tracer
        .index(Event::now(EventKind::Leave, span, 1).with_category(category))
        .unwrap();
    let wall = wall.elapsed();
    // An id no name was ever interned under.
    tracer
        .index(Event::now(EventKind::Instant, 4_000_000, 0))
        .unwrap();
    tracer.shutdown().unwrap();

    let output = ada(&["dump", file]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 name ids are not in the capture's name table: shown as #<id>"),
        "{}",
        stderr(&output)
    );
    let events: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["event"].clone())
        .collect();
    assert_eq!(events.len(), 5);
    assert_eq!(events[0]["kind"], "Enter");
    assert_eq!(events[0]["name"], "cli.request");
    assert_eq!(events[0]["category"], "cli.http");
    assert_eq!(
        (&events[1]["key"], &events[1]["type"], &events[1]["value"]),
        (&"cli.method".into(), &"name".into(), &"GET".into())
    );
    assert_eq!(events[2]["value"], -3);
    assert_eq!(events[3]["kind"], "Leave");
    assert_eq!(events[4]["name"], "#4000000");
    assert_eq!(events[4]["category"], Value::Null, "no category");
    // Calibrated nanoseconds: monotone, and the sleep's span as the wall clock saw it.
    let stamps: Vec<u64> = [0, 3, 4]
        .iter()
        .map(|&at| events[at]["ts_ns"].as_u64().unwrap())
        .collect();
    assert!(stamps.is_sorted(), "{stamps:?}");
    let span_ns = (stamps[1] - stamps[0]) as f64;
    let wall_ns = wall.as_nanos() as f64;
    assert!(span_ns >= 10e6, "{span_ns}");
    assert!(
        (span_ns / wall_ns - 1.0).abs() < 0.05,
        "{span_ns} ns vs {wall_ns} ns"
    );

    let output = ada(&["inspect", "--json", file]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 name ids"),
        "{}",
        stderr(&output)
    );
    let inspected: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(inspected["version"], 3);
    assert_eq!(inspected["unknown_name_ids"], 1);
    assert!(inspected["names"].as_u64().unwrap() >= 5);
    assert!(inspected["clock"]["ticks_per_second"].as_f64().unwrap() > 0.0);
    let lane = &inspected["lanes"][0];
    let lane_span = lane["last_ns"].as_u64().unwrap() - lane["first_ns"].as_u64().unwrap();
    assert!(lane_span >= 10_000_000, "{lane}");

    let output = ada(&["export", "--chrome", file, "-o", "-"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("1 name ids"),
        "{}",
        stderr(&output)
    );
    let trace: Value = serde_json::from_slice(&output.stdout).unwrap();
    let begin = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["ph"] == "B")
        .unwrap();
    assert_eq!(begin["name"], "cli.request");
    assert_eq!(begin["cat"], "cli.http");
    assert_eq!(begin["args"]["cli.method"], "GET");
    assert_eq!(begin["args"]["cli.delta"], -3);
}
