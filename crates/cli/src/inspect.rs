//! Reading capture files: `ada inspect`, `ada dump` (`ada export` is `export.rs`).
//!
//! Both show whatever the file holds, then say how it ends:
//!
//! - with its trailer: `inspect` checks every lane against it (records in the file =
//!   delivered; per cause, losses the blocks announce + losses after the last block =
//!   dropped) and exits 1 when some lane does not reconcile;
//! - without one, as version 1 files are written: said by `inspect`, exit 0;
//! - without one in a version 2 file, after its last whole block or with a torn block
//!   (what a crash leaves): a warning on stderr naming the byte, exit 0;
//! - with an unreadable block in the middle (a bad checksum, a duplicated or reordered
//!   ring, ...): what precedes it is shown, then the error, exit 2.
//!
//! Times are nanoseconds: a version 3 capture's ticks converted with its clock record's
//! calibration (since its anchor), older captures' as stored. Names are the capture's
//! (version 3 names blocks): a name id the capture lacks is shown `#<id>`, and both
//! commands warn on stderr how many there were.

use crate::error::Failure;
use ada::capture::{
    Block, BlockKind, CaptureError, CaptureErrorKind, CaptureReader, FileHeader, Label,
    LaneCounters, LaneId, LaneKey, LaneTally, LossCause, Losses, Names, Reconciliation, Record,
    Timebase, Trailer,
};
use ada::{ArgType, Detail, Event, EventKind};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;

/// How a capture's reading ended.
#[derive(Debug)]
pub(crate) enum Ending {
    /// At the trailer (version 2), with the blocks checked against it.
    Trailer {
        /// The trailer.
        trailer: Trailer,
        /// Every lane checked.
        reconciliation: Reconciliation,
    },
    /// At the end of a version 1 file, which has no trailer.
    Version1 {
        /// The file's length.
        offset: u64,
    },
    /// At the end of a version 2 file after a whole block, with no trailer: its writer
    /// did not finish.
    NoTrailer {
        /// The file's length.
        offset: u64,
    },
    /// At a block cut short by the end of the file (no trailer).
    Torn(CaptureError),
    /// At an unreadable block before the end.
    Unreadable(CaptureError),
}

impl Ending {
    fn of(reader: &CaptureReader<BufReader<File>>, error: Option<CaptureError>) -> Self {
        match error {
            Some(error) if matches!(error.kind, CaptureErrorKind::Truncated { .. }) => {
                Self::Torn(error)
            }
            Some(error) => Self::Unreadable(error),
            None => match (reader.trailer(), reader.reconcile()) {
                (Some(trailer), Some(reconciliation)) => Self::Trailer {
                    trailer: trailer.clone(),
                    reconciliation,
                },
                _ if reader.header().version == 1 => Self::Version1 {
                    offset: reader.position(),
                },
                _ => Self::NoTrailer {
                    offset: reader.position(),
                },
            },
        }
    }

    /// `trailer`, `no_trailer_version_1`, `no_trailer`, `torn` or `unreadable`.
    fn status(&self) -> &'static str {
        match self {
            Self::Trailer { .. } => "trailer",
            Self::Version1 { .. } => "no_trailer_version_1",
            Self::NoTrailer { .. } => "no_trailer",
            Self::Torn(_) => "torn",
            Self::Unreadable(_) => "unreadable",
        }
    }

    fn offset(&self) -> u64 {
        match self {
            Self::Trailer { trailer, .. } => trailer.offset,
            Self::Version1 { offset } | Self::NoTrailer { offset } => *offset,
            Self::Torn(error) | Self::Unreadable(error) => error.offset,
        }
    }

    /// Where and why the capture ends, in words.
    fn describe(&self) -> String {
        match self {
            Self::Trailer { trailer, .. } => format!(
                "trailer at byte {} ({} lanes that wrote something)",
                trailer.offset,
                trailer.lanes.len()
            ),
            Self::Version1 { offset } => format!("no trailer (version 1), at byte {offset}"),
            Self::NoTrailer { offset } => format!(
                "no trailer: the file stops after its last whole block, at byte {offset} \
                 (its writer did not finish)"
            ),
            Self::Torn(error) => format!(
                "torn block at byte {} (no trailer): the file was cut short",
                error.offset
            ),
            Self::Unreadable(error) => format!("unreadable block {error}"),
        }
    }

    /// Whether every lane reconciles (`None` without a trailer).
    fn reconciles(&self) -> Option<bool> {
        match self {
            Self::Trailer { reconciliation, .. } => Some(reconciliation.reconciles()),
            _ => None,
        }
    }

    /// The warning for stderr, for an ending that is not the writer's own (a crash).
    fn warning(&self, path: &Path, shown: &str) -> Option<String> {
        let what = match self {
            Self::NoTrailer { offset } => format!(
                "the capture has no trailer: it stops at byte {offset} after its last whole \
                 block (its writer did not finish)"
            ),
            Self::Torn(error) => format!(
                "the capture ends with a torn block at byte {} (no trailer)",
                error.offset
            ),
            _ => return None,
        };
        Some(format!("ada: {}: {what}; {shown}", path.display()))
    }

    /// What the command returns once it has shown the capture.
    fn outcome(self, path: &Path, shown: &str) -> Result<(), Failure> {
        if let Some(warning) = self.warning(path, shown) {
            eprintln!("{warning}");
        }
        match self {
            Self::Unreadable(source) => Err(Failure::Capture {
                path: path.to_owned(),
                source,
            }),
            Self::Trailer { reconciliation, .. } if !reconciliation.reconciles() => {
                Err(Failure::NotReconciled {
                    path: path.to_owned(),
                    lanes: Some(reconciliation.failures().count()),
                    totals: !reconciliation.totals.is_empty(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// What a capture says beside its blocks: how its timestamps read and its names (as
/// far as read).
#[derive(Debug, Clone, Copy)]
struct Context<'a> {
    timebase: Timebase,
    names: &'a Names,
}

/// What [`for_each_block`] read besides the blocks.
struct Read {
    header: FileHeader,
    tallies: BTreeMap<LaneKey, LaneTally>,
    ending: Ending,
    timebase: Timebase,
    names: usize,
}

/// Reads every block of `path`, calling `f` for each (with the names read so far), until
/// the end or the first unreadable block. Only an unreadable header, or `f`'s failure, is
/// an `Err`.
fn for_each_block(
    path: &Path,
    mut f: impl FnMut(&Block, Context<'_>) -> Result<(), Failure>,
) -> Result<Read, Failure> {
    let mut reader = CaptureReader::open(path).map_err(|source| Failure::Capture {
        path: path.to_owned(),
        source,
    })?;
    let timebase = reader.timebase();
    let error = loop {
        match reader.next_block() {
            Ok(Some(block)) => f(
                &block,
                Context {
                    timebase,
                    names: reader.names(),
                },
            )?,
            Ok(None) => break None,
            Err(error) => break Some(error),
        }
    };
    let ending = Ending::of(&reader, error);
    Ok(Read {
        header: reader.header().clone(),
        tallies: reader.lanes().clone(),
        ending,
        timebase,
        names: reader.names().len(),
    })
}

/// Counts the name ids of `events` (names, categories, argument keys and name values)
/// that `names` lacks.
fn unknown_ids(events: &[Event], names: &Names) -> u64 {
    let unknown = |id: u32| u64::from(names.label(id).is_unknown());
    events
        .iter()
        .map(|event| {
            let value = match event.arg_type() {
                Some(ArgType::Name) => u32::try_from(event.argument).map_or(0, unknown),
                _ => 0,
            };
            unknown(event.name) + unknown(event.category) + value
        })
        .sum()
}

/// The stderr warning for `unknown` ids missing from the capture's name table.
fn warn_unknown(path: &Path, unknown: u64) {
    if unknown > 0 {
        eprintln!(
            "ada: {}: {unknown} name ids are not in the capture's name table: shown as #<id>",
            path.display()
        );
    }
}

/// The clock record as JSON (`null` for versions 1 and 2: nanoseconds as stored).
fn clock_json(timebase: Timebase) -> Value {
    match timebase.calibration() {
        None => Value::Null,
        Some(calibration) => json!({
            "source": calibration.source.name(),
            "ticks_per_second": calibration.ticks_per_second(),
            "ticks_span": calibration.ticks_span,
            "ns_span": calibration.ns_span,
            "anchor_ticks": calibration.anchor_ticks,
            "anchor_unix_ns": calibration.anchor_unix_ns,
        }),
    }
}

/// The records of a block as `T`, or a usage error naming the file.
fn records<T: Record>(path: &Path, block: &Block) -> Result<Vec<T>, Failure> {
    block.records::<T>().map_err(|source| Failure::Capture {
        path: path.to_owned(),
        source,
    })
}

/// One registration's lane, as `inspect` sums it up.
#[derive(Debug, Default, Serialize)]
struct LaneSummary {
    thread_name: String,
    slot: u32,
    generation: u32,
    lane: &'static str,
    rings: u64,
    collections: u64,
    records: u64,
    events_lost: u64,
    rings_missing: u64,
    marked_windows: u64,
    first_ns: Option<u64>,
    last_ns: Option<u64>,
    /// The lost events by cause the blocks announce (`None`: version 1 blocks).
    lost_by_cause: Option<BTreeMap<String, u64>>,
    /// Events of discarded flight-recorder windows the blocks announce.
    discarded_before: u64,
    /// The trailer's counters for the lane (`None` without a trailer entry).
    #[serde(rename = "final")]
    counters: Option<Value>,
    /// Whether the lane reconciles with its trailer entry (`None` without a trailer).
    reconciles: Option<bool>,
    /// Where it does not.
    mismatches: Vec<String>,
}

impl LaneSummary {
    fn new(key: LaneKey, thread_name: &str) -> Self {
        Self {
            thread_name: thread_name.to_owned(),
            slot: key.slot,
            generation: key.generation,
            lane: lane_name(key.lane),
            ..Self::default()
        }
    }

    fn add_time(&mut self, timestamp: u64) {
        self.first_ns = Some(self.first_ns.map_or(timestamp, |t| t.min(timestamp)));
        self.last_ns = Some(self.last_ns.map_or(timestamp, |t| t.max(timestamp)));
    }

    /// The counts of the lane's blocks, as the reader made them.
    fn count(&mut self, tally: &LaneTally, version: u16) {
        self.rings = tally.rings;
        self.collections = tally.collections;
        self.records = tally.records;
        self.events_lost = tally.lost_events;
        self.rings_missing = tally.rings_missing;
        self.marked_windows = tally.marked;
        self.discarded_before = tally.causes.get(LossCause::Discarded);
        self.lost_by_cause = (version >= 2).then(|| by_cause(&tally.causes, true));
    }
}

/// `{cause: events}`, losses only or with the discarded windows.
fn by_cause(losses: &Losses, only_losses: bool) -> BTreeMap<String, u64> {
    losses
        .iter()
        .filter(|(cause, _)| !only_losses || cause.is_loss())
        .map(|(cause, events)| (cause.to_string(), events))
        .collect()
}

/// A trailer entry's counters as JSON.
fn counters_json(counters: &LaneCounters) -> Value {
    json!({
        "written": counters.written,
        "delivered": counters.delivered,
        "dropped": by_cause(&counters.dropped, true),
        "discarded": counters.discarded,
        "in_flight": counters.in_flight,
        "lost_after": by_cause(&counters.lost_after, true),
        "discarded_after": counters.discarded_after,
    })
}

/// `ada inspect`: per thread and lane, rings, records, losses, marked windows, span;
/// then how the file ends and, with a trailer, whether every lane reconciles.
pub(crate) fn inspect(path: &Path, as_json: bool) -> Result<(), Failure> {
    let mut times: BTreeMap<LaneKey, LaneSummary> = BTreeMap::new();
    let mut unknown = 0_u64;
    let read = for_each_block(path, |block, context| {
        let key = LaneKey {
            slot: block.slot,
            generation: block.generation,
            lane: block.lane,
        };
        let lane = times
            .entry(key)
            .or_insert_with(|| LaneSummary::new(key, &block.thread_name));
        let timestamps: Vec<u64> = match (block.lane, block.bytes().is_empty()) {
            (_, true) => Vec::new(),
            (LaneId::Index, false) if block.holds::<Event>() => {
                let events = records::<Event>(path, block)?;
                unknown += unknown_ids(&events, context.names);
                events
                    .iter()
                    // Argument records carry no time.
                    .filter(|e| e.kind() != Some(EventKind::Arg))
                    .map(|e| e.ticks)
                    .collect()
            }
            (LaneId::Detail, false) if block.holds::<Detail>() => records::<Detail>(path, block)?
                .iter()
                .map(|d| d.ticks)
                .collect(),
            _ => Vec::new(),
        };
        for timestamp in timestamps {
            lane.add_time(context.timebase.to_ns(timestamp));
        }
        Ok(())
    })?;
    let Read {
        header,
        tallies,
        ending,
        timebase,
        names,
    } = read;
    let mut lanes = times;
    for (key, tally) in &tallies {
        lanes
            .entry(*key)
            .or_insert_with(|| LaneSummary::new(*key, &tally.thread_name))
            .count(tally, header.version);
    }
    let mut announced = Losses::default();
    for tally in tallies.values() {
        announced.add_all(&tally.causes);
    }
    if let Ending::Trailer { reconciliation, .. } = &ending {
        for check in &reconciliation.lanes {
            let counters = check.counters.as_ref();
            // Lanes that wrote nothing are not worth a row.
            if check.tally == LaneTally::default() && counters.is_none_or(|c| c.written == 0) {
                continue;
            }
            let lane = lanes.entry(check.key).or_insert_with(|| {
                let mut lane = LaneSummary::new(check.key, &check.thread_name);
                lane.count(&check.tally, header.version);
                lane
            });
            lane.counters = counters.map(counters_json);
            lane.reconciles = Some(check.reconciles());
            lane.mismatches = check.mismatches.iter().map(ToString::to_string).collect();
        }
    }
    let lanes: Vec<LaneSummary> = lanes.into_values().collect();
    let file = FileFacts {
        header: &header,
        timebase,
        names,
        unknown,
    };
    if as_json {
        print_json(path, &file, &lanes, &announced, &ending)?;
    } else {
        print_text(path, &file, &lanes, &announced, &ending)?;
    }
    warn_unknown(path, unknown);
    ending.outcome(path, "inspected what precedes it")
}

/// What `inspect` says about the file as a whole.
struct FileFacts<'a> {
    header: &'a FileHeader,
    timebase: Timebase,
    /// Names in the capture's table.
    names: usize,
    /// Name ids the records use that the table lacks.
    unknown: u64,
}

fn print_json(
    path: &Path,
    file: &FileFacts<'_>,
    lanes: &[LaneSummary],
    announced: &Losses,
    ending: &Ending,
) -> Result<(), Failure> {
    let header = file.header;
    let trailer = match ending {
        Ending::Trailer {
            trailer,
            reconciliation,
        } => {
            json!({
                "offset": trailer.offset,
                "lanes": trailer.lanes.len(),
                "totals": counters_json(&trailer.totals),
                "mismatches": reconciliation
                    .totals
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>(),
            })
        }
        _ => Value::Null,
    };
    let value = json!({
        "file": path.display().to_string(),
        "version": header.version,
        "index_layout": header.index_layout,
        "detail_layout": header.detail_layout,
        "clock": clock_json(file.timebase),
        "names": file.names,
        "unknown_name_ids": file.unknown,
        "lanes": lanes,
        "lost_by_cause": (header.version >= 2).then(|| by_cause(announced, true)),
        "discarded_before": announced.get(LossCause::Discarded),
        "ending": {
            "status": ending.status(),
            "offset": ending.offset(),
            "message": ending.describe(),
        },
        "trailer": trailer,
        "reconciles": ending.reconciles(),
    });
    let text = serde_json::to_string_pretty(&value).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}").map_err(Failure::stdout)
}

fn print_text(
    path: &Path,
    file: &FileFacts<'_>,
    lanes: &[LaneSummary],
    announced: &Losses,
    ending: &Ending,
) -> Result<(), Failure> {
    let header = file.header;
    let mut out = std::io::stdout().lock();
    let mut line = |text: String| writeln!(out, "{text}").map_err(Failure::stdout);
    line(format!(
        "{}: version {}, index records {} ({} B), detail records {} ({} B)",
        path.display(),
        header.version,
        header.index_layout,
        header.index_record_size,
        header.detail_layout,
        header.detail_record_size
    ))?;
    match file.timebase.calibration() {
        Some(calibration) => line(format!(
            "clock: {} ticks, {:.6} GHz (timestamps: ns since the calibration's anchor);              names: {}{}",
            calibration.source.name(),
            calibration.ticks_per_second() / 1e9,
            file.names,
            if file.unknown > 0 {
                format!(", {} ids not in the table", file.unknown)
            } else {
                String::new()
            }
        ))?,
        None => line("clock: timestamps in ns as stored (before version 3); no names".to_owned())?,
    }
    line(format!(
        "{:<14} {:>5} {:>4} {:<6} {:>8} {:>6} {:>11} {:>10} {:>7} {:>7} {:>12} {:>11} {:>10} {:>4}",
        "thread",
        "slot",
        "gen",
        "lane",
        "rings",
        "coll",
        "records",
        "lost",
        "missing",
        "marked",
        "span ms",
        "delivered",
        "lost after",
        "ok"
    ))?;
    for lane in lanes {
        let span = match (lane.first_ns, lane.last_ns) {
            (Some(first), Some(last)) => format!("{:.3}", (last - first) as f64 / 1e6),
            _ => "-".to_owned(),
        };
        let counter = |name: &str| {
            lane.counters
                .as_ref()
                .map_or("-".to_owned(), |c| match &c[name] {
                    Value::Object(causes) => causes
                        .values()
                        .filter_map(Value::as_u64)
                        .sum::<u64>()
                        .to_string(),
                    value => value.to_string(),
                })
        };
        line(format!(
            "{:<14} {:>5} {:>4} {:<6} {:>8} {:>6} {:>11} {:>10} {:>7} {:>7} {:>12} {:>11} {:>10} {:>4}",
            if lane.thread_name.is_empty() {
                "-"
            } else {
                &lane.thread_name
            },
            lane.slot,
            lane.generation,
            lane.lane,
            lane.rings,
            lane.collections,
            lane.records,
            lane.events_lost,
            lane.rings_missing,
            lane.marked_windows,
            span,
            counter("delivered"),
            counter("lost_after"),
            match lane.reconciles {
                Some(true) => "yes",
                Some(false) => "NO",
                None => "-",
            }
        ))?;
    }
    if header.version >= 2 {
        line(format!(
            "lost before blocks, by cause: {}; discarded windows' events before blocks: {}",
            Losses::from_iter(announced.iter().filter(|(cause, _)| cause.is_loss())),
            announced.get(LossCause::Discarded)
        ))?;
    }
    line(format!("ends: {}", ending.describe()))?;
    if let Ending::Trailer {
        trailer,
        reconciliation,
    } = ending
    {
        let totals = &trailer.totals;
        line(format!(
            "trailer totals: written {}, delivered {}, dropped {} ({}), discarded {}, in \
             flight {}; lost after the last blocks {}",
            totals.written,
            totals.delivered,
            totals.dropped.lost(),
            totals.dropped,
            totals.discarded,
            totals.in_flight,
            totals.lost_after.lost()
        ))?;
        if reconciliation.reconciles() {
            line(
                "reconciles: yes (every lane: records in the file = delivered; lost before \
                 blocks + lost after the last = dropped, by cause)"
                    .to_owned(),
            )?;
        } else {
            line(format!(
                "reconciles: NO ({} lanes)",
                reconciliation.failures().count()
            ))?;
            for check in reconciliation.failures() {
                for mismatch in &check.mismatches {
                    line(format!("  {}: {mismatch}", check.key))?;
                }
            }
            for mismatch in &reconciliation.totals {
                line(format!("  {mismatch}"))?;
            }
        }
    }
    Ok(())
}

fn lane_name(lane: LaneId) -> &'static str {
    match lane {
        LaneId::Index => "index",
        LaneId::Detail => "detail",
    }
}

/// `ada dump`: every record as one JSON line, with its block's origin; then how the
/// file ends when it is not the writer's own end (on stderr).
pub(crate) fn dump(path: &Path) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut unknown = 0_u64;
    let read = for_each_block(path, |block, context| {
        let origin = json!({
            "thread": block.thread_name,
            "slot": block.slot,
            "generation": block.generation,
            "lane": lane_name(block.lane),
            "sequence": block.sequence,
            "collected": block.kind == BlockKind::Collected,
        });
        let lines: Vec<Value> = if block.holds::<Event>() {
            records::<Event>(path, block)?
                .iter()
                .map(|record| {
                    let event = event_json(record, context, &mut unknown);
                    json!({"origin": origin, "event": event})
                })
                .collect()
        } else if block.holds::<Detail>() {
            records::<Detail>(path, block)?
                .iter()
                .map(|record| {
                    let detail = json!({
                        "ts_ns": context.timebase.to_ns(record.ticks),
                        "ticks": record.ticks,
                        "function": record.function,
                        "payload": record.payload,
                    });
                    json!({"origin": origin, "detail": detail})
                })
                .collect()
        } else {
            vec![json!({"origin": origin, "bytes": hex(block.bytes())})]
        };
        for line in lines {
            writeln!(out, "{line}").map_err(Failure::stdout)?;
        }
        Ok(())
    })?;
    out.flush().map_err(Failure::stdout)?;
    warn_unknown(path, unknown);
    read.ending
        .outcome(path, "dumped every whole block before it")
}

/// `id` as the capture names it: `null` for 0, the name, or `#<id>` (counted in
/// `unknown`).
fn name_json(names: &Names, id: u32, unknown: &mut u64) -> Value {
    match names.label(id) {
        Label::None => Value::Null,
        Label::Name(name) => json!(name),
        label @ Label::Unknown(_) => {
            *unknown += 1;
            json!(label.to_string())
        }
    }
}

/// An index record as `dump` shows it: its kind, time in ns (with the raw ticks), names
/// resolved; an argument record's key, type and typed value.
fn event_json(event: &Event, context: Context<'_>, unknown: &mut u64) -> Value {
    let names = context.names;
    let kind = match event.kind() {
        Some(kind) => json!(kind),
        None => json!(event.kind),
    };
    if event.kind() == Some(EventKind::Arg) {
        let (ty, value) = match event.arg_type() {
            Some(ArgType::U64) => ("u64", json!(event.argument)),
            Some(ArgType::I64) => ("i64", json!(event.argument.cast_signed())),
            // JSON has no NaN or infinities: those as strings.
            Some(ArgType::F64) => {
                let x = f64::from_bits(event.argument);
                (
                    "f64",
                    serde_json::Number::from_f64(x)
                        .map_or_else(|| json!(x.to_string()), Value::Number),
                )
            }
            Some(ArgType::Bool) => ("bool", json!(event.argument != 0)),
            Some(ArgType::Name) => (
                "name",
                u32::try_from(event.argument)
                    .map_or(json!(event.argument), |id| name_json(names, id, unknown)),
            ),
            None => ("unknown", json!(event.argument)),
        };
        return json!({
            "kind": kind,
            "key": name_json(names, event.name, unknown),
            "type": ty,
            "value": value,
        });
    }
    json!({
        "kind": kind,
        "ts_ns": context.timebase.to_ns(event.ticks),
        "ticks": event.ticks,
        "name": name_json(names, event.name, unknown),
        "category": name_json(names, event.category, unknown),
        "argument": event.argument,
        "depth": event.depth,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
