//! A capture written through the layer, exported by `ada-export` as Chrome trace JSON:
//! slices named by the spans with their fields as args, instants named by messages,
//! every thread's begins and ends balanced even with a span exited on another thread.
#![allow(non_snake_case)]

mod support;

use ada::capture::CaptureReader;
use ada_export::{Format, export};
use serde_json::Value;
use std::collections::HashMap;
use support::Traced;
use tracing::{info, info_span};

#[test]
fn export__layer_capture_with_a_migrated_span__then_chrome_json_names_args_and_balanced_threads() {
    let traced = Traced::new();
    std::thread::scope(|s| {
        let dispatch = &traced.dispatch;
        let span = std::thread::Builder::new()
            .name("enters".into())
            .spawn_scoped(s, move || {
                tracing::dispatcher::with_default(dispatch, || {
                    let _request = info_span!(target: "http", "request", id = 7_u64).entered();
                    info!(target: "cache", key = "user:42", "cache miss");
                    let span = info_span!("migrating");
                    span.with_subscriber(|(id, dispatch)| dispatch.enter(id));
                    span
                })
            })
            .unwrap()
            .join()
            .unwrap();
        std::thread::Builder::new()
            .name("exits".into())
            .spawn_scoped(s, move || {
                tracing::dispatcher::with_default(dispatch, || {
                    let _own = info_span!("own").entered();
                    span.with_subscriber(|(id, dispatch)| dispatch.exit(id));
                });
            })
            .unwrap()
            .join()
            .unwrap();
    });
    let path = traced.path.clone();
    let (_, _, _, _dir) = traced.finish_keeping_file();
    let mut out = Vec::new();
    let summary = export(
        CaptureReader::open(&path).unwrap(),
        Format::Chrome,
        &mut out,
    )
    .unwrap();
    assert_eq!(summary.unmatched_leaves, 0, "{summary:?}");
    assert_eq!(summary.mismatched_leaves, 0, "{summary:?}");
    assert_eq!(summary.args_unattached, 0, "{summary:?}");
    let trace: Value = serde_json::from_slice(&out).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let thread_of: HashMap<u64, &str> = events
        .iter()
        .filter(|e| e["ph"] == "M" && e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    let on = |thread: &str| -> Vec<&Value> {
        events
            .iter()
            .filter(|e| {
                e["ph"] != "M" && thread_of.get(&e["tid"].as_u64().unwrap_or(0)) == Some(&thread)
            })
            .collect()
    };
    let enters = on("enters");
    let shape: Vec<_> = enters
        .iter()
        .map(|e| (e["ph"].as_str().unwrap(), e["name"].as_str().unwrap_or("")))
        .collect();
    // `request` was left when its guard dropped on `enters`, with `migrating` still
    // open: `migrating` was left first, flagged; the exporter closes nothing itself.
    assert_eq!(
        shape,
        [
            ("B", "request"),
            ("i", "cache miss"),
            ("B", "migrating"),
            ("i", "migrating"),
            ("E", ""),
            ("E", ""),
        ]
    );
    assert_eq!(enters[0]["cat"], "http");
    assert_eq!(enters[0]["args"]["id"], 7);
    assert_eq!(enters[1]["cat"], "cache");
    assert_eq!(enters[1]["args"]["key"], "user:42");
    assert_eq!(
        enters[3]["args"]["ada.exit"],
        "left early: an enclosing span exited first"
    );
    let exits = on("exits");
    let shape: Vec<_> = exits
        .iter()
        .map(|e| (e["ph"].as_str().unwrap(), e["name"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(shape, [("B", "own"), ("i", "migrating"), ("E", "")]);
    assert_eq!(
        exits[1]["args"]["ada.exit"],
        "exit without an open enter on this thread"
    );
}
