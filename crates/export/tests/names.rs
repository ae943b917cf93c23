//! Names, categories, argument records and calibrated time in both export formats, from
//! captures written through the facade (format version 3).
#![allow(non_snake_case)]

use ada::capture::CaptureReader;
use ada::drain::{Delivery, LaneKind, Origin, Sink};
use ada::metrics::DropCounts;
use ada::ring_buffer::{RingFlags, RingHeader};
use ada::{ArgType, Detail, Event, EventKind, FileSink, Tracer};
use ada_export::{ExportSummary, Format, export};
use perfetto_protos::debug_annotation::DebugAnnotation;
use perfetto_protos::trace::Trace;
use perfetto_protos::track_event::track_event::Type;
use protobuf::Message;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

fn id(name: &str) -> u32 {
    ada_names::intern(name).unwrap().get()
}

fn run(path: &Path, format: Format) -> (ExportSummary, Vec<u8>) {
    let mut out = Vec::new();
    let summary = export(CaptureReader::open(path).unwrap(), format, &mut out).unwrap();
    (summary, out)
}

/// An event of the output: phase, ts (ns), name, category, args (as JSON values).
#[derive(Debug, Clone, PartialEq)]
struct Shown {
    phase: char,
    ts: u64,
    name: Option<String>,
    category: Option<String>,
    args: BTreeMap<String, Value>,
}

/// The Chrome JSON's events on thread tracks, metadata left out.
fn chrome(bytes: &[u8]) -> Vec<Shown> {
    let trace: Value = serde_json::from_slice(bytes).expect("valid JSON");
    trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["ph"] != "M" && event["tid"] != 0)
        .map(|event| Shown {
            phase: event["ph"].as_str().unwrap().chars().next().unwrap(),
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            ts: (event["ts"].as_f64().unwrap() * 1000.0).round() as u64,
            name: event["name"].as_str().map(str::to_owned),
            category: event["cat"].as_str().map(str::to_owned),
            args: event["args"]
                .as_object()
                .map(|args| args.clone().into_iter().collect())
                .unwrap_or_default(),
        })
        .collect()
}

fn annotation(annotation: &DebugAnnotation) -> Value {
    if annotation.has_uint_value() {
        json!(annotation.uint_value())
    } else if annotation.has_int_value() {
        json!(annotation.int_value())
    } else if annotation.has_double_value() {
        json!(annotation.double_value())
    } else if annotation.has_bool_value() {
        json!(annotation.bool_value())
    } else if annotation.has_string_value() {
        json!(annotation.string_value())
    } else {
        json!(format!("{:#x}", annotation.pointer_value()))
    }
}

/// The Perfetto trace's events on thread tracks (a counter sample: an instant with only
/// a `value`, shown as `C`).
fn perfetto(bytes: &[u8]) -> Vec<Shown> {
    let trace = Trace::parse_from_bytes(bytes).expect("a valid Perfetto trace");
    let mut names: HashMap<u64, String> = HashMap::new();
    let mut arg_names: HashMap<u64, String> = HashMap::new();
    let mut categories: HashMap<u64, String> = HashMap::new();
    let mut events = Vec::new();
    for packet in &trace.packet {
        if let Some(interned) = packet.interned_data.as_ref() {
            names.extend(
                interned
                    .event_names
                    .iter()
                    .map(|n| (n.iid(), n.name().to_owned())),
            );
            arg_names.extend(
                interned
                    .debug_annotation_names
                    .iter()
                    .map(|n| (n.iid(), n.name().to_owned())),
            );
            categories.extend(
                interned
                    .event_categories
                    .iter()
                    .map(|c| (c.iid(), c.name().to_owned())),
            );
        }
        if !packet.has_track_event() {
            continue;
        }
        let event = packet.track_event();
        if event.track_uuid() == 1 {
            continue; // the process's track
        }
        let args: BTreeMap<String, Value> = event
            .debug_annotations
            .iter()
            .map(|a| {
                let key = if a.has_name_iid() {
                    arg_names[&a.name_iid()].clone()
                } else {
                    a.name().to_owned()
                };
                (key, annotation(a))
            })
            .collect();
        let phase = match event.type_() {
            Type::TYPE_SLICE_BEGIN => 'B',
            Type::TYPE_SLICE_END => 'E',
            Type::TYPE_INSTANT if args.keys().eq(["value"]) => 'C',
            Type::TYPE_INSTANT => 'i',
            other => panic!("unexpected type {other:?}"),
        };
        let category = event
            .category_iids
            .first()
            .map(|iid| categories[iid].clone())
            .or_else(|| event.categories.first().cloned());
        let name = if event.has_name_iid() {
            Some(names[&event.name_iid()].clone())
        } else if event.has_name() {
            Some(event.name().to_owned())
        } else {
            None
        };
        events.push(Shown {
            phase,
            ts: packet.timestamp(),
            name,
            category: if phase == 'E' { None } else { category },
            args,
        });
    }
    events
}

/// Both formats' events, checked equal (Chrome's ends name no category or name).
fn both(path: &Path) -> (ExportSummary, Vec<Shown>) {
    let (summary, json) = run(path, Format::Chrome);
    let (perfetto_summary, pftrace) = run(path, Format::Perfetto);
    assert_eq!(summary, perfetto_summary);
    let chrome = chrome(&json);
    let perfetto = perfetto(&pftrace);
    assert_eq!(chrome.len(), perfetto.len(), "{chrome:#?}\n{perfetto:#?}");
    for (at, (c, p)) in chrome.iter().zip(&perfetto).enumerate() {
        assert_eq!(
            (c.phase, c.ts, &c.name, &c.args),
            (p.phase, p.ts, &p.name, &p.args),
            "event {at}"
        );
        if c.phase != 'E' {
            assert_eq!(c.category, p.category, "event {at}");
        }
    }
    (summary, chrome)
}

#[test]
fn export__named_span_with_category_and_typed_args_through_the_facade__then_both_formats_show_them()
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("named.ada");
    let tracer = Tracer::builder()
        .sink(FileSink::create(&path).unwrap())
        .build()
        .unwrap();
    let (query, db) = (id("db.query"), id("db"));
    tracer
        .index(Event::now(EventKind::Enter, query, 1).with_category(db))
        .unwrap();
    for arg in [
        Event::arg(id("rows"), ArgType::U64, 3),
        Event::arg(id("delta"), ArgType::I64, (-7_i64).cast_unsigned()),
        Event::arg(id("ratio"), ArgType::F64, 0.5_f64.to_bits()),
        Event::arg(id("cached"), ArgType::Bool, 1),
        Event::arg(id("table"), ArgType::Name, u64::from(id("users"))),
    ] {
        tracer.index(arg).unwrap();
    }
    tracer
        .index(Event::now(EventKind::Instant, id("row"), 2))
        .unwrap();
    tracer
        .index(Event::arg(id("id"), ArgType::U64, 42))
        .unwrap();
    tracer
        .index(Event::now(EventKind::Counter, id("queue depth"), 17))
        .unwrap();
    tracer
        .index(Event::now(EventKind::Leave, query, 1).with_category(db))
        .unwrap();
    // An argument with no event before it (a leave came between): counted, not shown.
    tracer
        .index(Event::arg(id("stray"), ArgType::U64, 9))
        .unwrap();
    tracer.shutdown().unwrap();

    let (summary, events) = both(&path);
    assert_eq!(summary.events, 11);
    assert_eq!((summary.args, summary.args_unattached), (6, 1));
    assert_eq!((summary.counters, summary.unknown_names), (1, 0));
    let phases: Vec<char> = events.iter().map(|e| e.phase).collect();
    assert_eq!(phases, ['B', 'i', 'C', 'E']);
    let (begin, instant, counter) = (&events[0], &events[1], &events[2]);
    assert_eq!(begin.name.as_deref(), Some("db.query"));
    assert_eq!(begin.category.as_deref(), Some("db"));
    assert_eq!(
        begin.args,
        BTreeMap::from([
            ("argument".to_owned(), json!(1)),
            ("rows".to_owned(), json!(3)),
            ("delta".to_owned(), json!(-7)),
            ("ratio".to_owned(), json!(0.5)),
            ("cached".to_owned(), json!(true)),
            ("table".to_owned(), json!("users")),
        ])
    );
    assert_eq!(instant.name.as_deref(), Some("row"));
    assert_eq!(
        instant.category.as_deref(),
        Some("ada"),
        "no category: the default"
    );
    assert_eq!(instant.args["id"], json!(42));
    assert_eq!(counter.name.as_deref(), Some("queue depth"));
    assert_eq!(
        counter.args,
        BTreeMap::from([("value".to_owned(), json!(17))])
    );
}

fn origin() -> Origin<'static> {
    Origin {
        slot: 0,
        generation: 1,
        thread_name: Some("t"),
        thread_id: None,
    }
}

fn deliver(sink: &mut FileSink<Event, Detail>, sequence: u64, lost: u64, records: &[Event]) {
    sink.index(&Delivery {
        origin: origin(),
        lane: LaneKind::Index,
        header: Some(RingHeader {
            sequence,
            flags: if lost > 0 {
                RingFlags::LOSS_BEFORE
            } else {
                RingFlags::empty()
            },
            ..RingHeader::default()
        }),
        lost_before: DropCounts {
            oldest: lost,
            ..DropCounts::default()
        },
        discarded_before: 0,
        records,
    })
    .unwrap();
}

#[test]
fn export__args_in_the_next_block_or_after_a_gap_or_unknown_ids__then_attached_cut_or_shown_as_ids()
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("split.ada");
    let mut sink = FileSink::<Event, Detail>::create(&path).unwrap();
    let now = ada_clock::now();
    let (span, key) = (id("split span"), id("split key"));
    // The enter ends ring 0, its first argument starts ring 1: still its argument.
    deliver(
        &mut sink,
        0,
        0,
        &[Event::at(now, EventKind::Enter, span, 0)],
    );
    deliver(
        &mut sink,
        1,
        0,
        &[
            Event::arg(key, ArgType::U64, 1),
            Event::at(now + 10, EventKind::Instant, span, 0),
        ],
    );
    // Ring 2 was lost: the instant's arguments may have been in it; what follows the
    // gap belongs to nothing.
    deliver(
        &mut sink,
        3,
        5,
        &[
            Event::arg(key, ArgType::U64, 2),
            // Ids the capture's table lacks: shown `#<id>`, counted.
            Event::at(now + 20, EventKind::Instant, 4_000_000, 0).with_category(4_000_001),
            Event::arg(4_000_002, ArgType::Name, 4_000_003),
        ],
    );
    drop(sink);
    let (summary, events) = both(&path);
    assert_eq!(summary.args, 2);
    assert_eq!(summary.args_unattached, 1);
    assert_eq!(summary.unknown_names, 4, "name, category, key and value");
    let begin = events.iter().find(|e| e.phase == 'B').unwrap();
    assert_eq!(begin.args.get("split key"), Some(&json!(1)));
    let instants: Vec<&Shown> = events
        .iter()
        .filter(|e| e.phase == 'i' && !e.name.as_deref().unwrap().contains("lost"))
        .collect();
    assert_eq!(instants.len(), 2);
    assert_eq!(
        instants[0].args.len(),
        1,
        "no argument survived the gap: {:?}",
        instants[0]
    );
    assert_eq!(instants[1].name.as_deref(), Some("#4000000"));
    assert_eq!(instants[1].category.as_deref(), Some("#4000001"));
    assert_eq!(instants[1].args.get("#4000002"), Some(&json!("#4000003")));
}

#[test]
fn export__span_around_a_10_ms_sleep__then_calibrated_ns_within_a_few_percent_of_the_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sleep.ada");
    let tracer = Tracer::builder()
        .sink(FileSink::create(&path).unwrap())
        .build()
        .unwrap();
    let sleep = id("sleep");
    let mut walls = Vec::new();
    for _ in 0..3 {
        let wall = Instant::now();
        tracer
            .index(Event::now(EventKind::Enter, sleep, 0))
            .unwrap();
        std::thread::sleep(Duration::from_millis(10));
        tracer
            .index(Event::now(EventKind::Leave, sleep, 0))
            .unwrap();
        walls.push(wall.elapsed());
    }
    tracer.shutdown().unwrap();
    let (_, events) = both(&path);
    let stamps: Vec<u64> = events.iter().map(|e| e.ts).collect();
    assert!(stamps.is_sorted(), "monotone on the lane: {stamps:?}");
    for (pair, wall) in stamps.chunks(2).zip(&walls) {
        let span = (pair[1] - pair[0]) as f64;
        let wall = wall.as_nanos() as f64;
        assert!(span >= 10e6, "{span} ns");
        assert!(
            (span / wall - 1.0).abs() < 0.05,
            "{span} ns by the capture, {wall} ns by the wall clock"
        );
    }
}
