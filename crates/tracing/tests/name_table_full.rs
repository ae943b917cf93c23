//! The process-wide name table full: string values and names the layer cannot intern
//! are recorded as no name, flagged (`ada.unnamed`), and counted. A test binary of its
//! own, since it fills the table of its process for good.
#![allow(non_snake_case)]

mod support;

use ada::EventKind::Instant;
use ada::names::NameError;
use support::{Traced, Value};
use tracing::info;

fn log(value: &str) {
    info!(key = value, "lookup");
}

#[test]
fn layer__name_table_full__then_new_strings_are_unnamed_flagged_and_counted() {
    let traced = Traced::new();
    traced.run(|| {
        log("known"); // the callsite's names, and this value, interned while there is room
        let mut filler = 0_u64;
        loop {
            match ada::names::intern(&format!("filler {filler}")) {
                Ok(_) => filler += 1,
                Err(NameError::TableFull { .. }) => break,
                Err(error) => panic!("{error}"),
            }
        }
        log("known"); // still has its name
        log("never seen before");
        log(&"z".repeat(100)); // truncated, and neither it nor its flag's key fits
        info!("a message never seen before");
    });
    let thread = std::thread::current().name().unwrap().to_owned();
    let (_, stats, capture) = traced.finish();
    let track = capture.thread(&thread);
    let shapes: Vec<_> = track
        .records
        .iter()
        .map(|r| (r.kind, r.name.as_str()))
        .collect();
    // The last event's message could not be interned, nor its callsite's name (a
    // callsite new to the table too): unnamed.
    assert_eq!(
        shapes,
        [
            (Instant, "lookup"),
            (Instant, "lookup"),
            (Instant, "lookup"),
            (Instant, "lookup"),
            (Instant, ""),
        ]
    );
    let known = Value::Str(Some("known".into()));
    assert_eq!(track.records[0].args, [("key".to_owned(), known.clone())]);
    assert_eq!(track.records[1].args, [("key".to_owned(), known)]);
    let unnamed = [
        ("key".to_owned(), Value::Str(None)),
        ("ada.unnamed".to_owned(), Value::Str(Some("key".into()))),
    ];
    assert_eq!(track.records[2].args, unnamed);
    assert_eq!(track.records[3].args[..2], unnamed);
    assert_eq!(
        track.records[3].args[2],
        ("ada.truncated".to_owned(), Value::U64(100)),
        "`key.truncated` does not fit either: the shared flag key stands in"
    );
    assert_eq!(
        track.records[4].args,
        [("ada.unnamed".to_owned(), Value::Str(Some("message".into())))]
    );
    assert_eq!(stats.strings_truncated, 1);
    // "never seen before", the long value and its flag's key; the last callsite's name
    // and its message (its target and keys were interned by the first callsite).
    assert_eq!(stats.names_unavailable, 5, "{stats}");
}
