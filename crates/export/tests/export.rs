//! A capture of known content, written by ada's own `FileSink`, exported to both formats
//! and checked event by event: the Chrome JSON parsed by serde_json, the Perfetto trace
//! decoded by the `perfetto_protos` crate (Perfetto's complete protos compiled by
//! rust-protobuf: another protobuf implementation and codegen than the writer's prost).
//!
//! The captures are format version 3: records store ticks, which the exporter turns
//! into nanoseconds with the capture's calibration (this process's: [`tick`] makes the
//! ticks of a nanosecond, [`ns`] what the exporter shows for it), and name ids of the
//! process's name table, which the capture carries (the known capture's functions are
//! named `fn 0x…`).
#![allow(non_snake_case)]

use ada::capture::{CaptureErrorKind, CaptureReader, LaneId, Timebase};
use ada::drain::{Delivery, LaneKind, Origin, Sink};
use ada::metrics::DropCounts;
use ada::ring_buffer::{RingFlags, RingHeader};
use ada::{Detail, Event, EventKind, FileSink};
use ada_export::{ExportError, ExportSummary, Format, export};
use perfetto_protos::debug_annotation::DebugAnnotation;
use perfetto_protos::trace::Trace;
use perfetto_protos::track_event::track_event::Type;
use protobuf::Message;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// One event of the output, as both formats are reduced to for comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    /// 0 for the process's own track.
    tid: u32,
    phase: char,
    ts: u64,
    /// `None` for a span's end.
    name: Option<String>,
    args: BTreeMap<String, String>,
}

/// The ticks of `ns` nanoseconds after this process's calibration anchor.
fn tick(ns: u64) -> u64 {
    let calibration = ada::clock::Calibration::get();
    let ticks =
        u128::from(ns) * u128::from(calibration.ticks_span) / u128::from(calibration.ns_span);
    calibration.anchor_ticks + u64::try_from(ticks).unwrap()
}

/// What the exporter shows for `ns` (its ticks, converted back: within a nanosecond).
fn ns(ns: u64) -> u64 {
    Timebase::Ticks(*ada::clock::Calibration::get()).to_ns(tick(ns))
}

/// The name id of `fn {function:#x}` (interned).
fn function_name(function: u64) -> u32 {
    ada_names::intern(&format!("fn {function:#x}"))
        .unwrap()
        .get()
}

fn seen(tid: u32, phase: char, ts: u64, name: Option<&str>, args: &[(&str, &str)]) -> Seen {
    Seen {
        tid,
        phase,
        ts: ns(ts),
        name: name.map(str::to_owned),
        args: args
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

fn begin(tid: u32, ts: u64, name: &str, argument: &str) -> Seen {
    seen(tid, 'B', ts, Some(name), &[("argument", argument)])
}

fn end(tid: u32, ts: u64, args: &[(&str, &str)]) -> Seen {
    seen(tid, 'E', ts, None, args)
}

fn instant(tid: u32, ts: u64, name: &str, args: &[(&str, &str)]) -> Seen {
    seen(tid, 'i', ts, Some(name), args)
}

/// A record of `kind` at `timestamp_ns`, named `fn {function:#x}`.
fn event(kind: u32, timestamp_ns: u64, function: u64, argument: u64) -> Event {
    raw_event(kind, timestamp_ns, function_name(function), argument)
}

/// A record of `kind` at `timestamp_ns` with name id `name` as it is.
fn raw_event(kind: u32, timestamp_ns: u64, name: u32, argument: u64) -> Event {
    Event {
        ticks: tick(timestamp_ns),
        name,
        category: 0,
        argument,
        kind,
        depth: 0,
    }
}

const ENTER: u32 = EventKind::Enter as u32;
const LEAVE: u32 = EventKind::Leave as u32;
const INSTANT: u32 = EventKind::Instant as u32;
const COUNTER: u32 = EventKind::Counter as u32;
const ARG: u32 = EventKind::Arg as u32;

fn origin(slot: usize, generation: u32, name: &str) -> Origin<'_> {
    Origin {
        slot,
        generation,
        thread_name: (!name.is_empty()).then_some(name),
        thread_id: None,
    }
}

/// A ring's header, and the events lost just before it (cause: drop-oldest).
fn ring(sequence: u64, flags: RingFlags, lost_events: u64) -> (Option<RingHeader>, u64) {
    let header = RingHeader {
        sequence,
        flags,
        ..RingHeader::default()
    };
    (Some(header), lost_events)
}

fn lost(events: u64) -> DropCounts {
    DropCounts {
        oldest: events,
        ..DropCounts::default()
    }
}

fn index(
    sink: &mut FileSink<Event, Detail>,
    origin: Origin<'_>,
    (header, lost_events): (Option<RingHeader>, u64),
    records: &[Event],
) {
    sink.index(&Delivery {
        origin,
        lane: LaneKind::Index,
        header,
        lost_before: lost(lost_events),
        discarded_before: 0,
        records,
    })
    .unwrap();
}

const GAMMA: &str = "gamma \"quoted\"\n\\ é";

/// The known capture: three registrations (two of them one slot's two generations), a
/// loss with a missing ring, a marked detail ring, a collected block, a mismatched and
/// unmatched leaves, an unknown kind, a timestamp going backwards, a span open at the
/// end. Returns the path and the offset of its last block.
fn known_capture(dir: &Path) -> (PathBuf, u64) {
    let path = dir.join("known.ada");
    let mut sink = FileSink::<Event, Detail>::create(&path).unwrap();
    index(
        &mut sink,
        origin(0, 1, "alpha"),
        ring(0, RingFlags::empty(), 0),
        &[
            event(ENTER, 100, 0x1, 1),
            event(ENTER, 110, 0x2, 2),
            event(LEAVE, 120, 0x2, 2),
            event(INSTANT, 125, 0x3, 3),
            event(LEAVE, 130, 0x1, 1),
            event(ENTER, 140, 0x4, 4),
        ],
    );
    sink.detail(&Delivery {
        origin: origin(0, 1, "alpha"),
        lane: LaneKind::Detail,
        header: ring(0, RingFlags::MARKED, 0).0,
        lost_before: lost(0),
        discarded_before: 0,
        records: &[Detail {
            ticks: tick(150),
            function: 0x6,
            payload: [1, 2, 3, 4, 5, 6],
        }],
    })
    .unwrap();
    // Ring 1 was taken back: 7 events lost before ring 2.
    index(
        &mut sink,
        origin(0, 1, "alpha"),
        ring(2, RingFlags::LOSS_BEFORE, 7),
        &[event(LEAVE, 200, 0x4, 44), event(ENTER, 210, 0x5, 5)],
    );
    // The slot's next registration: no name, records collected in place, then its ring.
    index(
        &mut sink,
        origin(0, 2, ""),
        (None, 0),
        &[event(ENTER, 300, 0x7, 7), event(LEAVE, 310, 0x7, 7)],
    );
    index(
        &mut sink,
        origin(0, 2, ""),
        ring(0, RingFlags::PARTIAL, 0),
        &[
            event(ENTER, 320, 0x8, 8),
            event(LEAVE, 330, 0x9, 9),
            event(LEAVE, 340, 0x8, 8),
            event(9, 350, 0xa, 10),
        ],
    );
    let last_block = sink.bytes();
    index(
        &mut sink,
        origin(5, 1, GAMMA),
        ring(0, RingFlags::empty(), 0),
        &[event(ENTER, 500, 0x1, 1), event(LEAVE, 490, 0x1, 1)],
    );
    sink.flush().unwrap();
    (path, last_block)
}

const LOST_OPEN: &str = "events were lost while it was open";
const OPEN_AT_END: &str = "still open when the capture ends";

/// What the known capture's timeline holds, up to (not including) the last block, and
/// but for the enter held at its end (an enter or instant is written when the lane's
/// next record shows that its arguments, if any, are complete): `begin(2, 210, …)`.
fn expected_before_last_block() -> Vec<Seen> {
    vec![
        begin(2, 100, "fn 0x1", "1"),
        begin(2, 110, "fn 0x2", "2"),
        end(2, 120, &[]),
        instant(2, 125, "fn 0x3", &[("argument", "3")]),
        end(2, 130, &[]),
        instant(
            2,
            150,
            "flight-recorder mark",
            &[("lane", "detail"), ("records", "1")],
        ),
        instant(
            2,
            150,
            "detail fn 0x6",
            &[
                ("p0", "1"),
                ("p1", "2"),
                ("p2", "3"),
                ("p3", "4"),
                ("p4", "5"),
                ("p5", "6"),
            ],
        ),
        // Held until the next index block, whose gap ends its arguments.
        begin(2, 140, "fn 0x4", "4"),
        end(2, 140, &[("closed", LOST_OPEN)]),
        instant(
            2,
            200,
            "7 events lost: drop-oldest",
            &[
                ("cause", "drop-oldest"),
                ("lane", "index"),
                ("lost_events", "7"),
                ("rings_missing", "1"),
            ],
        ),
        instant(
            2,
            200,
            "leave without enter: fn 0x4",
            &[("name", "fn 0x4"), ("argument", "44")],
        ),
        begin(3, 300, "fn 0x7", "7"),
        end(3, 310, &[]),
        begin(3, 320, "fn 0x8", "8"),
        end(3, 330, &[("leave_name", "fn 0x9")]),
        instant(
            3,
            340,
            "leave without enter: fn 0x8",
            &[("name", "fn 0x8"), ("argument", "8")],
        ),
        instant(
            3,
            350,
            "event of unknown kind 9: fn 0xa",
            &[("name", "fn 0xa"), ("argument", "10"), ("kind", "9")],
        ),
    ]
}

fn run(path: &Path, format: Format) -> (ExportSummary, Vec<u8>) {
    let mut out = Vec::new();
    let summary = export(CaptureReader::open(path).unwrap(), format, &mut out).unwrap();
    (summary, out)
}

/// The Chrome JSON's events (metadata left out) and its thread names by tid.
fn chrome_events(bytes: &[u8]) -> (Vec<Seen>, BTreeMap<u32, String>) {
    let trace: serde_json::Value = serde_json::from_slice(bytes).expect("valid JSON");
    assert_eq!(trace["displayTimeUnit"], "ns");
    let mut events = Vec::new();
    let mut names = BTreeMap::new();
    for event in trace["traceEvents"].as_array().expect("traceEvents") {
        assert_eq!(event["pid"], 1, "{event}");
        let tid = u32::try_from(event["tid"].as_u64().expect("tid")).unwrap();
        let phase = event["ph"].as_str().unwrap().chars().next().unwrap();
        if phase == 'M' {
            if event["name"] == "thread_name" {
                names.insert(tid, event["args"]["name"].as_str().unwrap().to_owned());
            }
            continue;
        }
        if phase == 'i' {
            let scope = if tid == 0 { "g" } else { "t" };
            assert_eq!(event["s"], scope, "{event}");
        }
        let micros = event["ts"].as_f64().expect("ts");
        let args = event["args"]
            .as_object()
            .map(|args| {
                args.iter()
                    .map(|(key, value)| {
                        let value = match value {
                            serde_json::Value::String(text) => text.clone(),
                            other => other.to_string(),
                        };
                        (key.clone(), value)
                    })
                    .collect()
            })
            .unwrap_or_default();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        events.push(Seen {
            tid,
            phase,
            ts: (micros * 1000.0).round() as u64,
            name: event["name"].as_str().map(str::to_owned),
            args,
        });
    }
    (events, names)
}

/// The Perfetto trace's events, decoded by `perfetto_protos`, and its thread names by
/// tid; checks the sequence's incremental-state flags and the track descriptors.
fn perfetto_events(bytes: &[u8]) -> (Vec<Seen>, BTreeMap<u32, String>) {
    let trace = Trace::parse_from_bytes(bytes).expect("a valid Perfetto trace");
    let packets = &trace.packet;
    let first = packets.first().expect("packets");
    assert_eq!(first.sequence_flags(), 1, "SEQ_INCREMENTAL_STATE_CLEARED");
    assert!(first.has_track_descriptor());
    let process = first.track_descriptor();
    assert_eq!(process.process.pid(), 1);
    assert_eq!(process.process.process_name(), "ada capture");
    let sequence = first.trusted_packet_sequence_id();
    assert_ne!(sequence, 0);
    let mut tracks: HashMap<u64, u32> = HashMap::from([(process.uuid(), 0)]);
    let mut names = BTreeMap::new();
    let mut event_names: HashMap<u64, String> = HashMap::new();
    let mut arg_names: HashMap<u64, String> = HashMap::new();
    let mut categories: HashMap<u64, String> = HashMap::new();
    let mut events = Vec::new();
    for packet in packets {
        assert_eq!(packet.trusted_packet_sequence_id(), sequence);
        if let Some(interned) = packet.interned_data.as_ref() {
            for name in &interned.event_names {
                assert!(
                    event_names
                        .insert(name.iid(), name.name().to_owned())
                        .is_none()
                );
            }
            for name in &interned.debug_annotation_names {
                arg_names.insert(name.iid(), name.name().to_owned());
            }
            for category in &interned.event_categories {
                categories.insert(category.iid(), category.name().to_owned());
            }
        }
        if packet.has_track_descriptor() && packet.track_descriptor().thread.is_some() {
            let track = packet.track_descriptor();
            assert_eq!(track.parent_uuid(), process.uuid());
            let thread = &track.thread;
            assert_eq!(thread.pid(), 1);
            let tid = u32::try_from(thread.tid()).expect("a positive tid");
            assert!(
                tracks.insert(track.uuid(), tid).is_none(),
                "one track a uuid"
            );
            names.insert(tid, thread.thread_name().to_owned());
        }
        if !packet.has_track_event() {
            continue;
        }
        assert_eq!(packet.sequence_flags(), 2, "SEQ_NEEDS_INCREMENTAL_STATE");
        let event = packet.track_event();
        let tid = *tracks
            .get(&event.track_uuid())
            .expect("an event on a described track");
        let phase = match event.type_() {
            Type::TYPE_SLICE_BEGIN => 'B',
            Type::TYPE_SLICE_END => 'E',
            Type::TYPE_INSTANT => 'i',
            other => panic!("unexpected type {other:?}"),
        };
        let name = if event.has_name_iid() {
            Some(event_names[&event.name_iid()].clone())
        } else if event.has_name() {
            Some(event.name().to_owned())
        } else {
            None
        };
        for iid in &event.category_iids {
            assert!(categories.contains_key(iid), "category {iid} interned");
        }
        // The exporter's own keys are interned, an event's argument keys written out.
        let args: BTreeMap<String, String> = event
            .debug_annotations
            .iter()
            .map(|annotation| {
                let key = if annotation.has_name_iid() {
                    arg_names[&annotation.name_iid()].clone()
                } else {
                    annotation.name().to_owned()
                };
                (key, value(annotation))
            })
            .collect();
        // A counter sample is an instant with only a `value` (Chrome's is a `C` event).
        let phase = if phase == 'i' && args.keys().eq(["value"]) {
            'C'
        } else {
            phase
        };
        events.push(Seen {
            tid,
            phase,
            ts: packet.timestamp(),
            name,
            args,
        });
    }
    (events, names)
}

/// An annotation's value as the Chrome JSON's reads back (NaN and infinities as strings,
/// as the Chrome writer writes those).
fn value(annotation: &DebugAnnotation) -> String {
    if annotation.has_uint_value() {
        annotation.uint_value().to_string()
    } else if annotation.has_int_value() {
        annotation.int_value().to_string()
    } else if annotation.has_bool_value() {
        annotation.bool_value().to_string()
    } else if annotation.has_double_value() {
        let x = annotation.double_value();
        if x.is_finite() {
            // As the Chrome writer writes it and serde_json reads it back (its parser
            // may be a unit in the last place off: compare like with like).
            serde_json::from_str::<serde_json::Value>(&format!("{x:?}"))
                .unwrap()
                .to_string()
        } else {
            x.to_string()
        }
    } else if annotation.has_pointer_value() {
        format!("{:#x}", annotation.pointer_value())
    } else if annotation.has_string_value() {
        annotation.string_value().to_owned()
    } else {
        panic!("unexpected annotation {annotation:?}")
    }
}

/// Per track, begins and ends nest and every span is closed.
fn assert_balanced(events: &[Seen]) {
    let mut depth: BTreeMap<u32, i64> = BTreeMap::new();
    for event in events {
        let depth = depth.entry(event.tid).or_default();
        match event.phase {
            'B' => *depth += 1,
            'E' => *depth -= 1,
            _ => {}
        }
        assert!(*depth >= 0, "an end without a begin: {event:?}");
    }
    assert!(depth.values().all(|&d| d == 0), "open spans: {depth:?}");
}

fn expected_names() -> BTreeMap<u32, String> {
    BTreeMap::from([
        (2, "alpha".to_owned()),
        (3, "slot 0 gen 2".to_owned()),
        (4, GAMMA.to_owned()),
    ])
}

#[test]
fn export__known_capture__then_both_formats_hold_exactly_the_expected_events() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = known_capture(dir.path());
    let mut expected = expected_before_last_block();
    expected.extend([
        begin(4, 500, "fn 0x1", "1"),
        end(4, 500, &[]),
        begin(2, 210, "fn 0x5", "5"),
        end(2, 210, &[("closed", OPEN_AT_END)]),
    ]);
    let (chrome_summary, chrome) = run(&path, Format::Chrome);
    let (perfetto_summary, perfetto) = run(&path, Format::Perfetto);
    assert_eq!(chrome_summary, perfetto_summary);
    for (events, names) in [chrome_events(&chrome), perfetto_events(&perfetto)] {
        assert_eq!(names, expected_names());
        assert_eq!(events.len(), expected.len());
        for (at, (got, want)) in events.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "event {at}");
        }
        assert_balanced(&events);
    }
    let summary = chrome_summary;
    assert_eq!(summary.events, 16);
    assert_eq!(summary.details, 1);
    assert_eq!(summary.threads, 3);
    assert_eq!((summary.losses, summary.events_lost), (1, 7));
    assert_eq!(summary.marks, 1);
    assert_eq!(summary.spans_closed_at_loss, 1);
    assert_eq!(summary.spans_closed_at_end, 1);
    assert_eq!(summary.unmatched_leaves, 2);
    assert_eq!(summary.mismatched_leaves, 1);
    assert_eq!(summary.timestamps_raised, 1);
    assert_eq!(summary.cut, None);
}

#[test]
fn export__torn_last_block__then_what_precedes_and_a_capture_ends_marker() {
    let dir = tempfile::tempdir().unwrap();
    let (path, last_block) = known_capture(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    let torn = dir.path().join("torn.ada");
    std::fs::write(&torn, &bytes[..bytes.len() - 3]).unwrap();
    let mut expected = expected_before_last_block();
    let ends = format!("capture ends: torn block at byte {last_block}");
    expected.extend([
        begin(2, 210, "fn 0x5", "5"),
        instant(
            0,
            350,
            &ends,
            &[
                ("offset", &last_block.to_string()),
                ("reason", &format!("torn block at byte {last_block}")),
            ],
        ),
        end(2, 210, &[("closed", OPEN_AT_END)]),
    ]);
    for format in [Format::Chrome, Format::Perfetto] {
        let (summary, out) = run(&torn, format);
        assert!(summary.is_torn(), "{summary:?}");
        let cut = summary.cut.as_ref().unwrap();
        assert_eq!(cut.offset, last_block);
        assert!(matches!(cut.kind, CaptureErrorKind::Truncated { .. }));
        let (events, names) = match format {
            Format::Chrome => chrome_events(&out),
            Format::Perfetto => perfetto_events(&out),
        };
        assert_eq!(events, expected, "{format:?}");
        assert_eq!(names.len(), 2, "the torn block's thread is not there");
        assert_balanced(&events);
    }
}

#[test]
fn export__corrupted_block__then_exported_up_to_it_and_cut_names_the_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let (path, last_block) = known_capture(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let at = usize::try_from(last_block).unwrap() + 50;
    bytes[at] ^= 0xff;
    let corrupt = dir.path().join("corrupt.ada");
    std::fs::write(&corrupt, &bytes).unwrap();
    for format in [Format::Chrome, Format::Perfetto] {
        let (summary, out) = run(&corrupt, format);
        assert!(!summary.is_torn());
        let cut = summary.cut.unwrap();
        assert_eq!(cut.offset, last_block);
        assert!(matches!(cut.kind, CaptureErrorKind::BadChecksum { .. }));
        let (events, _) = match format {
            Format::Chrome => chrome_events(&out),
            Format::Perfetto => perfetto_events(&out),
        };
        let marker = &events[events.len() - 2];
        assert_eq!(marker.tid, 0);
        assert!(
            marker
                .name
                .as_deref()
                .is_some_and(|name| name.starts_with("capture ends: unreadable block at byte")),
            "{marker:?}"
        );
        assert_balanced(&events);
    }
}

#[test]
fn export__records_other_than_ada_events__then_layout_error_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u64.ada");
    drop(FileSink::<u64, u64>::create(&path).unwrap());
    for format in [Format::Chrome, Format::Perfetto] {
        let mut out = Vec::new();
        let error = export(CaptureReader::open(&path).unwrap(), format, &mut out).unwrap_err();
        assert!(
            matches!(
                error,
                ExportError::Layout {
                    lane: LaneId::Index,
                    ..
                }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("ada.Event/2"), "{error}");
        assert!(out.is_empty());
    }
}

#[test]
fn export__more_distinct_names_than_interned__then_every_name_still_resolves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.ada");
    let mut sink = FileSink::<Event, Detail>::create(&path).unwrap();
    // More names than the process's table holds: ids far beyond it, which the capture
    // cannot name (`#<id>`, each a distinct event name).
    let functions = 70_000_u64;
    let id = |f: u64| u32::try_from(f).unwrap() + 1_000_000;
    let events: Vec<Event> = (0..functions)
        .flat_map(|f| {
            [
                raw_event(ENTER, f * 10, id(f), f),
                raw_event(LEAVE, f * 10 + 5, id(f), f),
            ]
        })
        .collect();
    for (sequence, chunk) in (0..).zip(events.chunks(4096)) {
        index(
            &mut sink,
            origin(1, 1, "names"),
            ring(sequence, RingFlags::empty(), 0),
            chunk,
        );
    }
    drop(sink);
    let (summary, out) = run(&path, Format::Perfetto);
    assert_eq!(summary.events, 2 * functions);
    assert_eq!(
        summary.unknown_names, functions,
        "one warning per unnamed enter"
    );
    let (events, _) = perfetto_events(&out);
    let begins: Vec<&Seen> = events.iter().filter(|e| e.phase == 'B').collect();
    assert_eq!(begins.len() as u64, functions);
    for (function, begin) in (0..).zip(&begins) {
        assert_eq!(
            begin.name.as_deref(),
            Some(format!("#{}", id(function)).as_str())
        );
    }
    assert_balanced(&events);
}

#[test]
fn export__a_traced_run__then_every_delivered_event_and_distinct_small_tids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.ada");
    let tracer = ada::Tracer::builder()
        .sink(FileSink::create(&path).unwrap())
        .build()
        .unwrap();
    std::thread::scope(|s| {
        for worker in 0..4_u32 {
            let tracer = &tracer;
            std::thread::Builder::new()
                .name(format!("worker-{worker}"))
                .spawn_scoped(s, move || {
                    for n in 0..5_000 {
                        tracer
                            .index(Event::now(EventKind::Enter, worker, n))
                            .unwrap();
                        tracer
                            .index(Event::now(EventKind::Leave, worker, n))
                            .unwrap();
                    }
                })
                .unwrap();
        }
    });
    let report = tracer.shutdown().unwrap();
    for format in [Format::Chrome, Format::Perfetto] {
        let (summary, out) = run(&path, format);
        assert_eq!(summary.events, report.totals.events_delivered);
        assert_eq!(summary.version, 3);
        assert!(
            summary.trailer.is_some(),
            "the tracer's shutdown wrote the trailer"
        );
        assert_eq!(summary.reconciles, Some(true));
        assert_eq!(summary.end, std::fs::metadata(&path).unwrap().len());
        let (events, names) = match format {
            Format::Chrome => chrome_events(&out),
            Format::Perfetto => perfetto_events(&out),
        };
        let tids: HashSet<u32> = names.keys().copied().collect();
        assert_eq!(tids.len(), 4, "{names:?}");
        assert!(tids.iter().all(|&tid| tid > 1 && tid < 1 << 31));
        let mut thread_names: Vec<&String> = names.values().collect();
        thread_names.sort();
        assert_eq!(
            thread_names,
            ["worker-0", "worker-1", "worker-2", "worker-3"]
        );
        assert_balanced(&events);
    }
}

/// A small deterministic generator (xorshift64*), so a failure replays.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn export__random_blocks_flags_kinds_and_times__then_valid_balanced_output_and_every_record() {
    for seed in 1..=20_u64 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("random.ada");
        let mut sink = FileSink::<Event, Detail>::create(&path).unwrap();
        let mut random = Random(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let (mut events, mut details) = (0_u64, 0_u64);
        let mut registrations = HashSet::new();
        // Per registration and lane, the next ring's least sequence number: rings go
        // forward, with gaps (a reader refuses a duplicated or reordered ring).
        let mut next_sequence: HashMap<(u64, u32, bool), u64> = HashMap::new();
        let mut lost_total = 0_u64;
        for _ in 0..random.below(40) + 1 {
            let (slot, generation) = (random.below(4), 1 + random.below(3) as u32);
            registrations.insert((slot, generation));
            let name = format!("t{slot}");
            let origin = origin(usize::try_from(slot).unwrap(), generation, &name);
            let flags = RingFlags::from_bits_truncate(random.below(16) as u32);
            let detail = random.below(4) == 0;
            let header = (random.below(5) > 0).then(|| {
                let next = next_sequence.entry((slot, generation, detail)).or_default();
                let sequence = *next + random.below(3);
                *next = sequence + 1;
                ring(sequence, flags, 0).0.unwrap()
            });
            // Losses of each cause (or none), and discarded windows.
            let lost_before = DropCounts {
                oldest: random.below(2) * random.below(100),
                newest: random.below(3) / 2 * random.below(100),
                sink: random.below(3) / 2 * random.below(100),
                ..DropCounts::default()
            };
            let discarded_before = random.below(2) * random.below(100);
            lost_total += lost_before.total();
            if detail {
                let records: Vec<Detail> = (0..random.below(5))
                    .map(|_| Detail {
                        ticks: tick(random.below(10_000)),
                        function: random.below(4),
                        payload: [random.next(); 6],
                    })
                    .collect();
                details += records.len() as u64;
                sink.detail(&Delivery {
                    origin,
                    lane: LaneKind::Detail,
                    header,
                    lost_before,
                    discarded_before,
                    records: &records,
                })
                .unwrap();
            } else {
                let records: Vec<Event> = (0..random.below(50))
                    .map(|_| {
                        let kind = [ENTER, ENTER, LEAVE, LEAVE, INSTANT, 7, COUNTER, ARG, ARG]
                            [random.below(9) as usize];
                        let mut event =
                            event(kind, random.below(10_000), random.below(4), random.next());
                        if kind == ARG {
                            // Every argument type, and one no reader knows; some values
                            // name ids the capture lacks.
                            event.ticks = 0;
                            event.depth = random.below(6) as u32;
                            if event.depth == 4 {
                                event.argument = random.below(4) * 1_000_000;
                            }
                        }
                        event
                    })
                    .collect();
                events += records.len() as u64;
                sink.index(&Delivery {
                    origin,
                    lane: LaneKind::Index,
                    header,
                    lost_before,
                    discarded_before,
                    records: &records,
                })
                .unwrap();
            }
        }
        drop(sink);
        let (chrome_summary, chrome) = run(&path, Format::Chrome);
        let (perfetto_summary, perfetto) = run(&path, Format::Perfetto);
        assert_eq!(chrome_summary, perfetto_summary, "seed {seed}");
        assert_eq!(
            (chrome_summary.events, chrome_summary.details),
            (events, details),
            "seed {seed}"
        );
        assert_eq!(chrome_summary.cut, None, "seed {seed}");
        assert_eq!(chrome_summary.events_lost, lost_total, "seed {seed}");
        let (chrome_events, chrome_names) = chrome_events(&chrome);
        let (perfetto_events, perfetto_names) = perfetto_events(&perfetto);
        for (at, (chrome, perfetto)) in chrome_events.iter().zip(&perfetto_events).enumerate() {
            assert_eq!(chrome, perfetto, "seed {seed}, event {at}");
        }
        assert_eq!(chrome_events.len(), perfetto_events.len(), "seed {seed}");
        assert_eq!(chrome_names, perfetto_names, "seed {seed}");
        assert_eq!(chrome_names.len(), registrations.len(), "seed {seed}");
        assert_balanced(&chrome_events);
        // Every loss of events is labelled with its causes.
        for event in &chrome_events {
            let name = event.name.as_deref().unwrap_or("");
            if name.contains("events lost") {
                assert!(name.contains(": "), "seed {seed}: {name}");
                assert!(event.args.contains_key("cause"), "seed {seed}: {event:?}");
            }
        }
        // Per track, the index lane's events never go back in time.
        let mut last: HashMap<u32, u64> = HashMap::new();
        for event in chrome_events.iter().filter(|e| e.phase == 'B') {
            let previous = last.insert(event.tid, event.ts).unwrap_or(0);
            assert!(event.ts >= previous, "seed {seed}: {event:?}");
        }
    }
}

#[test]
fn export__every_byte_flipped_or_the_file_cut_anywhere__then_never_a_panic_and_valid_output() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = known_capture(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    let mut variants: Vec<Vec<u8>> = (0..bytes.len()).map(|n| bytes[..n].to_vec()).collect();
    variants.extend((0..bytes.len()).map(|at| {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x41;
        flipped
    }));
    for variant in &variants {
        let Ok(reader) = CaptureReader::new(variant.as_slice()) else {
            continue; // a bad header: refused before anything is written
        };
        let mut json = Vec::new();
        let summary = export(reader, Format::Chrome, &mut json).unwrap();
        assert_balanced(&chrome_events(&json).0);
        let mut pftrace = Vec::new();
        let reader = CaptureReader::new(variant.as_slice()).unwrap();
        assert_eq!(
            export(reader, Format::Perfetto, &mut pftrace).unwrap(),
            summary
        );
        assert_balanced(&perfetto_events(&pftrace).0);
    }
}

#[test]
fn export__losses_of_several_causes__then_markers_say_count_and_causes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("causes.ada");
    let mut sink = FileSink::<Event, Detail>::create(&path).unwrap();
    let mut deliver = |header: Option<RingHeader>, lost_before, discarded_before, ts| {
        sink.index(&Delivery {
            origin: origin(0, 1, "alpha"),
            lane: LaneKind::Index,
            header,
            lost_before,
            discarded_before,
            records: &[event(INSTANT, ts, 0x1, 1)],
        })
        .unwrap();
    };
    let ring = |sequence| ring(sequence, RingFlags::empty(), 0).0;
    deliver(ring(0), DropCounts::default(), 0, 100);
    deliver(
        ring(1),
        DropCounts {
            oldest: 2,
            newest: 0,
            sink: 3,
            ..DropCounts::default()
        },
        0,
        200,
    );
    deliver(
        ring(2),
        DropCounts {
            sink: 4,
            ..DropCounts::default()
        },
        0,
        300,
    );
    // Discarded flight-recorder windows are no loss: no marker.
    deliver(ring(3), DropCounts::default(), 64, 400);
    // Records collected in place carry the losses before them too.
    deliver(
        None,
        DropCounts {
            newest: 6,
            ..DropCounts::default()
        },
        0,
        500,
    );
    drop(sink);
    for format in [Format::Chrome, Format::Perfetto] {
        let (summary, out) = run(&path, format);
        assert_eq!((summary.losses, summary.events_lost), (3, 15), "{format:?}");
        assert_eq!((summary.version, summary.trailer), (3, None));
        let (events, _) = match format {
            Format::Chrome => chrome_events(&out),
            Format::Perfetto => perfetto_events(&out),
        };
        let losses: Vec<(&str, &str)> = events
            .iter()
            .filter_map(|e| {
                let name = e.name.as_deref()?;
                name.contains("lost")
                    .then(|| (name, e.args["cause"].as_str()))
            })
            .collect();
        assert_eq!(
            losses,
            [
                (
                    "5 events lost: drop-oldest 2, sink 3",
                    "drop-oldest 2, sink 3"
                ),
                ("4 events lost: sink", "sink"),
                ("6 events lost: drop-newest", "drop-newest"),
            ],
            "{format:?}"
        );
    }
}
