//! Unit tests of the shared walk's markers and the writers' encodings.
#![allow(non_snake_case)]

use crate::chrome::ChromeWriter;
use crate::core::{Arg, Close, Emit, Item, Marker, Shown, Track, Value};
use crate::perfetto_protos::trace_packet::SequenceFlags;
use crate::perfetto_protos::track_event::Type;
use crate::{ExportError, ExportSummary};
use ada::capture::{CaptureError, CaptureErrorKind, LaneId};
use protobuf::Enum;
use std::borrow::Cow;
use std::error::Error;
use std::io;

#[test]
fn arg__all__then_in_declaration_order() {
    for (at, arg) in Arg::ALL.iter().enumerate() {
        assert_eq!(*arg as usize, at, "{}", arg.name());
    }
}

#[test]
fn loss_marker__with_and_without_cause__then_titles_say_count_and_cause() {
    let loss = |events, rings, cause: Option<&str>| Marker::Loss {
        lane: LaneId::Index,
        events,
        rings,
        cause: cause.map(str::to_owned),
    };
    assert_eq!(loss(3, 0, None).title(), "3 events lost");
    assert_eq!(
        loss(2048, 1, Some("drop-oldest")).title(),
        "2048 events lost: drop-oldest"
    );
    assert_eq!(loss(0, 2, None).title(), "2 rings lost");
    let detail = Marker::Loss {
        lane: LaneId::Detail,
        events: 5,
        rings: 0,
        cause: None,
    };
    assert_eq!(detail.title(), "5 detail events lost");
    let with_cause = loss(1, 0, Some("sink"));
    assert!(with_cause.args().iter().any(|(arg, _)| *arg == Arg::Cause));
}

#[test]
fn close__each_way__then_only_matched_carries_no_args() {
    assert_eq!(Close::Matched.args(), None);
    for close in [
        Close::CaptureEnded,
        Close::EventsLost,
        Close::Mismatched {
            leave_name: "other".to_owned(),
        },
    ] {
        assert!(close.args().is_some(), "{close:?}");
    }
}

/// The Chrome JSON of one marker on a track named `name` at `ts`, parsed back.
fn chrome_marker(name: &str, ts: u64, marker: &Marker) -> serde_json::Value {
    let mut out = Vec::new();
    let mut writer = ChromeWriter::new(&mut out).unwrap();
    let track = Track {
        tid: 2,
        name: name.to_owned(),
    };
    writer.item(Item::Thread(&track)).unwrap();
    writer
        .item(Item::Marker {
            track: Some(&track),
            ts,
            marker,
        })
        .unwrap();
    writer.finish().unwrap();
    serde_json::from_slice(&out).unwrap_or_else(|error| {
        panic!("{error}: {}", String::from_utf8_lossy(&out));
    })
}

#[test]
fn chrome__names_with_quotes_controls_and_unicode__then_valid_json_with_the_same_text() {
    let name = "a \"b\" \\ c\n\t\r\u{1}\u{1f} é 漢 🎉";
    let trace = chrome_marker(
        name,
        1,
        &Marker::CaptureEnds {
            offset: 7,
            reason: name.to_owned(),
        },
    );
    let events = trace["traceEvents"].as_array().unwrap();
    assert_eq!(events[1]["args"]["name"], name);
    assert_eq!(events[3]["args"]["reason"], name);
}

#[test]
fn chrome__timestamps__then_microseconds_with_every_nanosecond() {
    for (ns, text) in [
        (0, "0.000"),
        (1, "0.001"),
        (999, "0.999"),
        (1_000, "1.000"),
        (1_234_567, "1234.567"),
        (u64::MAX, "18446744073709551.615"),
    ] {
        let trace = chrome_marker(
            "t",
            ns,
            &Marker::Mark {
                lane: LaneId::Index,
                records: 0,
            },
        );
        let raw = serde_json::to_string(&trace["traceEvents"][3]["ts"]).unwrap();
        let expected: serde_json::Value = serde_json::from_str(text).unwrap();
        assert_eq!(raw, serde_json::to_string(&expected).unwrap(), "{ns}");
    }
}

/// The Chrome JSON of one instant `event` on a track, parsed back: the event.
fn chrome_instant(event: &Shown<'_>) -> serde_json::Value {
    let mut out = Vec::new();
    let mut writer = ChromeWriter::new(&mut out).unwrap();
    let track = Track {
        tid: 2,
        name: "t".to_owned(),
    };
    writer.item(Item::Thread(&track)).unwrap();
    writer
        .item(Item::Instant {
            track: &track,
            ts: 5,
            event,
        })
        .unwrap();
    writer.finish().unwrap();
    let trace: serde_json::Value = serde_json::from_slice(&out).unwrap_or_else(|error| {
        panic!("{error}: {}", String::from_utf8_lossy(&out));
    });
    trace["traceEvents"][3].clone()
}

fn shown(args: Vec<(&'static str, Value<'static>)>) -> Shown<'static> {
    Shown {
        name: Cow::Borrowed("span \"q\""),
        category: Some(Cow::Borrowed("db")),
        argument: 7,
        args: args
            .into_iter()
            .map(|(key, value)| (Cow::Borrowed(key), value))
            .collect(),
    }
}

#[test]
fn chrome__hex_args__then_lowercase_with_prefix() {
    for (value, text) in [
        (0, "0x0"),
        (0xabc, "0xabc"),
        (u64::MAX, "0xffffffffffffffff"),
    ] {
        let event = chrome_instant(&shown(vec![("bits", Value::Hex(value))]));
        assert_eq!(event["args"]["bits"], text);
    }
}

#[test]
fn chrome__event_with_typed_args__then_name_category_and_each_value_as_json() {
    let event = chrome_instant(&shown(vec![
        ("count", Value::U64(u64::MAX)),
        ("delta", Value::I64(i64::MIN)),
        ("ratio", Value::F64(-0.25)),
        ("big", Value::F64(1e300)),
        ("nan", Value::F64(f64::NAN)),
        ("inf", Value::F64(f64::NEG_INFINITY)),
        ("ok", Value::Bool(true)),
        ("no", Value::Bool(false)),
        ("method \"k\"", Value::Str(Cow::Borrowed("GET \n"))),
    ]));
    assert_eq!(event["ph"], "i");
    assert_eq!(event["name"], "span \"q\"");
    assert_eq!(event["cat"], "db");
    let args = &event["args"];
    assert_eq!(args["argument"], 7);
    assert_eq!(args["count"], u64::MAX);
    assert_eq!(args["delta"], i64::MIN);
    assert_eq!(args["ratio"], -0.25);
    assert_eq!(args["big"], 1e300);
    assert_eq!(args["nan"], "NaN", "JSON has no NaN: a string");
    assert_eq!(args["inf"], "-inf");
    assert_eq!((&args["ok"], &args["no"]), (&true.into(), &false.into()));
    assert_eq!(args["method \"k\""], "GET \n");
}

#[test]
fn chrome__event_without_category__then_the_default_one() {
    let mut event = shown(Vec::new());
    event.category = None;
    assert_eq!(chrome_instant(&event)["cat"], "ada");
}

#[test]
fn perfetto_protos__vendored_enums__then_the_names_and_numbers_of_perfettos_own() {
    use perfetto_protos::trace_packet::trace_packet::SequenceFlags as Upstream;
    for flag in [
        SequenceFlags::SeqUnspecified,
        SequenceFlags::SeqIncrementalStateCleared,
        SequenceFlags::SeqNeedsIncrementalState,
    ] {
        let name = flag.as_str_name();
        assert_eq!(SequenceFlags::from_str_name(name), Some(flag));
        let upstream = Upstream::from_str(name).unwrap_or_else(|| panic!("{name} upstream"));
        assert_eq!(upstream.value(), flag as i32, "{name}");
    }
    use perfetto_protos::track_event::track_event::Type as UpstreamType;
    for kind in [
        Type::Unspecified,
        Type::SliceBegin,
        Type::SliceEnd,
        Type::Instant,
        Type::Counter,
    ] {
        let name = kind.as_str_name();
        assert_eq!(Type::from_str_name(name), Some(kind));
        let upstream = UpstreamType::from_str(name).unwrap_or_else(|| panic!("{name} upstream"));
        assert_eq!(upstream.value(), kind as i32, "{name}");
    }
    assert_eq!(Type::from_str_name("TYPE_NONE"), None);
    assert_eq!(SequenceFlags::from_str_name("SEQ_NONE"), None);
}

#[test]
fn export_error__each_kind__then_says_what_and_keeps_the_source() {
    let layout = ExportError::Layout {
        lane: LaneId::Detail,
        found: "u64 (8 B)".to_owned(),
        expected: "ada.Detail/1 (64 B)".to_owned(),
    };
    assert_eq!(
        layout.to_string(),
        "the detail lane holds u64 (8 B) records; the exporter reads ada.Detail/1 (64 B)"
    );
    assert!(layout.source().is_none());
    let threads = ExportError::TooManyThreads;
    assert!(threads.to_string().contains("thread ids"));
    assert!(threads.source().is_none());
    let write = ExportError::from(io::Error::from(io::ErrorKind::BrokenPipe));
    assert!(
        write.to_string().starts_with("writing the output: "),
        "{write}"
    );
    assert_eq!(
        write
            .source()
            .and_then(|source| source.downcast_ref::<io::Error>())
            .map(io::Error::kind),
        Some(io::ErrorKind::BrokenPipe)
    );
}

#[test]
fn summary__cut_kinds__then_only_truncation_is_torn() {
    let cut = |kind| ExportSummary {
        cut: Some(CaptureError { offset: 9, kind }),
        ..ExportSummary::default()
    };
    assert!(
        cut(CaptureErrorKind::Truncated {
            needed: 40,
            found: 3
        })
        .is_torn()
    );
    assert!(!cut(CaptureErrorKind::BadBlockMagic).is_torn());
    assert!(!ExportSummary::default().is_torn());
}
