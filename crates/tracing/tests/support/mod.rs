//! What the tests share: a layer writing a capture file, and the capture read back per
//! thread with names resolved and argument records attached to their event.

#![allow(dead_code)]

use ada::capture::{CaptureReader, LaneId};
use ada::{ArgType, DrainReport, Event, EventKind, FileSink, Tracer, TracerBuilder};
use ada_tracing::{AdaLayer, FlushGuard};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// An argument's value as the capture holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    /// A name id's string (`None` for id 0 or an id the capture lacks).
    Str(Option<String>),
}

/// A record of the capture with its names resolved ("" for none).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rec {
    pub(crate) kind: EventKind,
    pub(crate) name: String,
    pub(crate) category: String,
    pub(crate) args: Vec<(String, Value)>,
    pub(crate) ticks: u64,
}

impl Rec {
    /// The value of argument `key`.
    pub(crate) fn arg(&self, key: &str) -> Option<&Value> {
        self.args.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// `(kind, name)`, for comparing shapes.
    pub(crate) fn shape(&self) -> (EventKind, &str) {
        (self.kind, &self.name)
    }
}

/// One thread registration's index records.
#[derive(Debug, Default)]
pub(crate) struct Track {
    pub(crate) thread_name: String,
    pub(crate) records: Vec<Rec>,
}

impl Track {
    /// Whether every Leave closes the innermost open Enter of the same name, and none
    /// is left open.
    pub(crate) fn is_balanced(&self) -> bool {
        let mut open = Vec::new();
        for rec in &self.records {
            match rec.kind {
                EventKind::Enter => open.push(rec.name.as_str()),
                EventKind::Leave if open.pop() != Some(rec.name.as_str()) => return false,
                _ => {}
            }
        }
        open.is_empty()
    }

    pub(crate) fn shapes(&self) -> Vec<(EventKind, &str)> {
        self.records.iter().map(Rec::shape).collect()
    }
}

/// A capture read back: tracks by (slot, generation), and every index record counted.
#[derive(Debug, Default)]
pub(crate) struct Capture {
    pub(crate) tracks: BTreeMap<(u32, u32), Track>,
    /// Index records in the file, argument records included.
    pub(crate) records: u64,
    /// Argument records not right after an Enter or Instant (possible only where
    /// records were dropped).
    pub(crate) orphan_args: u64,
}

impl Capture {
    /// The track of the thread named `name` (exactly one).
    pub(crate) fn thread(&self, name: &str) -> &Track {
        let mut found = self.tracks.values().filter(|t| t.thread_name == name);
        let track = found.next().unwrap_or_else(|| {
            panic!(
                "no thread {name:?} among {:?}",
                self.tracks
                    .values()
                    .map(|t| &t.thread_name)
                    .collect::<Vec<_>>()
            )
        });
        assert!(found.next().is_none(), "two registrations named {name:?}");
        track
    }
}

/// Reads `path` back through `ada::capture::CaptureReader`.
pub(crate) fn read(path: &Path) -> Capture {
    let mut reader = CaptureReader::open(path).unwrap();
    let mut capture = Capture::default();
    while let Some(block) = reader.next_block().unwrap() {
        if block.lane != LaneId::Index {
            continue;
        }
        let events = block.records::<Event>().unwrap();
        let names = reader.names();
        let name = |id: u32| names.get(id).unwrap_or("").to_owned();
        let track = capture
            .tracks
            .entry((block.slot, block.generation))
            .or_default();
        track.thread_name.clone_from(&block.thread_name);
        for event in events {
            capture.records += 1;
            let kind = event.kind().expect("a known kind");
            if kind == EventKind::Arg {
                let value = match event.arg_type().expect("a known type") {
                    ArgType::U64 => Value::U64(event.argument),
                    ArgType::I64 => Value::I64(event.argument.cast_signed()),
                    ArgType::F64 => Value::F64(f64::from_bits(event.argument)),
                    ArgType::Bool => Value::Bool(event.argument != 0),
                    ArgType::Name => {
                        Value::Str(names.get(event.argument as u32).map(str::to_owned))
                    }
                };
                match track.records.last_mut() {
                    Some(owner) if matches!(owner.kind, EventKind::Enter | EventKind::Instant) => {
                        owner.args.push((name(event.name), value));
                    }
                    _ => capture.orphan_args += 1,
                }
            } else {
                track.records.push(Rec {
                    kind,
                    name: name(event.name),
                    category: name(event.category),
                    args: Vec::new(),
                    ticks: event.ticks,
                });
            }
        }
    }
    capture
}

/// A layer writing to a capture file in a temporary folder.
pub(crate) struct Traced {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) path: PathBuf,
    pub(crate) dispatch: Dispatch,
    pub(crate) guard: FlushGuard,
}

impl Traced {
    pub(crate) fn new() -> Self {
        Self::with(Tracer::builder())
    }

    pub(crate) fn with(builder: TracerBuilder<Event, ada::Detail>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.ada");
        let (layer, guard) =
            ada_tracing::layer(builder.sink(FileSink::create(&path).unwrap())).unwrap();
        Self {
            dir,
            path,
            dispatch: dispatch(layer),
            guard,
        }
    }

    /// Runs `f` with this layer as the calling thread's default subscriber.
    pub(crate) fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        tracing::dispatcher::with_default(&self.dispatch, f)
    }

    /// Finishes the tracer (checking conservation per thread and lane) and reads the
    /// capture back (checking it holds every delivered record).
    pub(crate) fn finish(self) -> (DrainReport, ada_tracing::LayerStats, Capture) {
        let (report, stats, capture, _) = self.finish_keeping_file();
        (report, stats, capture)
    }

    /// As [`finish`](Self::finish), and the folder that holds the capture file.
    pub(crate) fn finish_keeping_file(
        self,
    ) -> (
        DrainReport,
        ada_tracing::LayerStats,
        Capture,
        tempfile::TempDir,
    ) {
        drop(self.dispatch);
        let (report, stats) = self.guard.finish_with_stats().unwrap();
        assert_conserved(&report);
        let capture = read(&self.path);
        assert_eq!(capture.records, report.totals.events_delivered);
        if report.totals.dropped.total() == 0 {
            assert_eq!(capture.orphan_args, 0, "every argument follows its event");
        }
        (report, stats, capture, self.dir)
    }
}

/// A registry with `layer`, as a dispatch any thread can make its default.
pub(crate) fn dispatch(layer: AdaLayer) -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(layer))
}

/// Written = delivered + dropped (by cause) + discarded, exactly, per thread and lane.
pub(crate) fn assert_conserved(report: &DrainReport) {
    for thread in &report.threads {
        for lane in [&thread.index, &thread.detail] {
            assert_eq!(
                lane.events_written,
                lane.events_delivered + lane.dropped.total() + lane.events_discarded,
                "{thread:?}"
            );
        }
    }
    assert!(report.totals.is_conserved(), "{:?}", report.totals);
}
