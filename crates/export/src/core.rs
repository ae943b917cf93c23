//! The one walk over a capture that both writers share: blocks in file order, a track
//! per thread registration with a small thread id, per-track open-span stacks, losses,
//! flight-recorder marks and the capture's end, turned into [`Item`]s that a writer
//! ([`Emit`]) encodes. Timestamps become nanoseconds with the capture's timebase, name
//! ids become the capture's names (`#<id>` for an id it lacks, counted), and an event's
//! argument records (the `Arg` records right after it on its lane, possibly in the
//! lane's next block) become its args: an Enter or Instant is held until the lane's next
//! record that is not an argument. Memory: the block being read, the track table, the
//! open spans and one held event per track; nothing grows with the number of events.

use crate::{ExportError, ExportSummary, Progress};
use ada::capture::{
    Block, BlockKind, CaptureError, CaptureErrorKind, CaptureReader, FileHeader, Label, LaneId,
    Names, Record, Timebase,
};
use ada::ring_buffer::RingFlags;
use ada::{ArgType, Detail, Event, EventKind};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Read};

/// The process id every track belongs to.
pub(crate) const PID: u32 = 1;
/// The thread id of the first registration seen; each later one gets the next. 1 is
/// left to the process, so no registration is taken for its main thread.
pub(crate) const FIRST_TID: u32 = 2;
/// The process's name on the timeline.
pub(crate) const PROCESS_NAME: &str = "ada capture";
/// The category of index events that name none.
pub(crate) const DEFAULT_CATEGORY: &str = "ada";
/// The title of an index event whose name id is 0.
pub(crate) const UNNAMED: &str = "(unnamed)";
/// Argument records kept per event: later ones are counted
/// ([`ExportSummary::args_unattached`]), not shown.
pub(crate) const MAX_ARGS: usize = 64;

/// One thread registration: a (slot, generation) pair of the capture.
#[derive(Debug)]
pub(crate) struct Track {
    /// Its thread id in the output: small, unique per registration, below 2^31.
    pub(crate) tid: u32,
    /// The thread's name, or `slot S gen G` when it had none.
    pub(crate) name: String,
}

/// An index event as the timeline shows it: names resolved, arguments attached.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Shown<'a> {
    /// The event's name ([`UNNAMED`] for id 0, `#<id>` for an id the capture lacks).
    pub(crate) name: Cow<'a, str>,
    /// The category's name; `None` when the event names none ([`DEFAULT_CATEGORY`]).
    pub(crate) category: Option<Cow<'a, str>>,
    /// The record's free argument (a counter's value).
    pub(crate) argument: u64,
    /// The argument records, keys and values, in order.
    pub(crate) args: Vec<(Cow<'a, str>, Value<'a>)>,
}

impl Shown<'_> {
    /// The category to write.
    pub(crate) fn category(&self) -> &str {
        self.category.as_deref().unwrap_or(DEFAULT_CATEGORY)
    }
}

/// What a writer encodes, in the order it should appear in the output.
#[derive(Debug)]
pub(crate) enum Item<'a> {
    /// A registration seen for the first time: before anything on its track.
    Thread(&'a Track),
    /// An [`EventKind::Enter`]: a span opens.
    Begin {
        track: &'a Track,
        ts: u64,
        event: &'a Shown<'a>,
    },
    /// A span closes: the innermost open one on the track.
    End {
        track: &'a Track,
        ts: u64,
        close: &'a Close,
    },
    /// An [`EventKind::Instant`].
    Instant {
        track: &'a Track,
        ts: u64,
        event: &'a Shown<'a>,
    },
    /// An [`EventKind::Counter`]: its value is the event's `argument`.
    Counter {
        track: &'a Track,
        ts: u64,
        event: &'a Shown<'a>,
    },
    /// A detail-lane record, at `ts` (nanoseconds).
    Detail {
        track: &'a Track,
        ts: u64,
        detail: &'a Detail,
    },
    /// Something the timeline must show that is not a record: on a thread's track, or
    /// the process's when `track` is `None`.
    Marker {
        track: Option<&'a Track>,
        ts: u64,
        marker: &'a Marker,
    },
}

/// How a span was closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Close {
    /// By a leave of the same name.
    Matched,
    /// By a leave of another name (it still closes the innermost span).
    Mismatched { leave_name: String },
    /// By the end of the capture (flagged in the span's args).
    CaptureEnded,
    /// Just before lost events: its leave may have been among them (flagged).
    EventsLost,
}

impl Close {
    /// The args an end carries: none for a matched leave.
    pub(crate) fn args(&self) -> Option<(Arg, Value<'_>)> {
        match self {
            Self::Matched => None,
            Self::Mismatched { leave_name } => {
                Some((Arg::LeaveName, Value::Str(Cow::Borrowed(leave_name))))
            }
            Self::CaptureEnded => Some((
                Arg::Closed,
                Value::Str(Cow::Borrowed("still open when the capture ends")),
            )),
            Self::EventsLost => Some((
                Arg::Closed,
                Value::Str(Cow::Borrowed("events were lost while it was open")),
            )),
        }
    }
}

/// A marker: what happened, where no record says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Marker {
    /// Events lost before a ring (drop-oldest, drop-newest, a failing sink...).
    Loss {
        lane: LaneId,
        /// Events the block says were lost before it (`LOSS_BEFORE`).
        events: u64,
        /// Rings missing from the lane's sequence just before it.
        rings: u64,
        /// Why, when the block says (format version 1 blocks do not).
        cause: Option<String>,
    },
    /// A leave with no open span on its track.
    UnmatchedLeave { name: String, argument: u64 },
    /// An index record whose kind no [`EventKind`] has.
    UnknownKind {
        kind: u32,
        name: String,
        argument: u64,
    },
    /// A ring the flight recorder kept (`MARKED`).
    Mark { lane: LaneId, records: u32 },
    /// The capture stops being readable here.
    CaptureEnds { offset: u64, reason: String },
}

impl Marker {
    /// The marker's name on the timeline.
    pub(crate) fn title(&self) -> String {
        match self {
            Self::Loss {
                lane,
                events,
                rings,
                cause,
            } => {
                let lane = match lane {
                    LaneId::Index => "",
                    LaneId::Detail => "detail ",
                };
                let what = if *events > 0 || *rings == 0 {
                    format!("{events} {lane}events lost")
                } else {
                    format!("{rings} {lane}rings lost")
                };
                match cause {
                    Some(cause) => format!("{what}: {cause}"),
                    None => what,
                }
            }
            Self::UnmatchedLeave { name, .. } => format!("leave without enter: {name}"),
            Self::UnknownKind { kind, name, .. } => {
                format!("event of unknown kind {kind}: {name}")
            }
            Self::Mark { .. } => "flight-recorder mark".to_owned(),
            Self::CaptureEnds { reason, .. } => format!("capture ends: {reason}"),
        }
    }

    /// The marker's args.
    pub(crate) fn args(&self) -> Vec<(Arg, Value<'_>)> {
        match self {
            Self::Loss {
                lane,
                events,
                rings,
                cause,
            } => {
                let mut args = vec![
                    (Arg::Lane, Value::Str(Cow::Borrowed(lane_name(*lane)))),
                    (Arg::LostEvents, Value::U64(*events)),
                    (Arg::RingsMissing, Value::U64(*rings)),
                ];
                if let Some(cause) = cause {
                    args.push((Arg::Cause, Value::Str(Cow::Borrowed(cause))));
                }
                args
            }
            Self::UnmatchedLeave { name, argument } | Self::UnknownKind { name, argument, .. } => {
                let mut args = vec![
                    (Arg::Name, Value::Str(Cow::Borrowed(name))),
                    (Arg::Argument, Value::U64(*argument)),
                ];
                if let Self::UnknownKind { kind, .. } = self {
                    args.push((Arg::Kind, Value::U64(u64::from(*kind))));
                }
                args
            }
            Self::Mark { lane, records } => vec![
                (Arg::Lane, Value::Str(Cow::Borrowed(lane_name(*lane)))),
                (Arg::Records, Value::U64(u64::from(*records))),
            ],
            Self::CaptureEnds { offset, reason } => vec![
                (Arg::Offset, Value::U64(*offset)),
                (Arg::Reason, Value::Str(Cow::Borrowed(reason))),
            ],
        }
    }
}

fn lane_name(lane: LaneId) -> &'static str {
    match lane {
        LaneId::Index => "index",
        LaneId::Detail => "detail",
    }
}

/// The names of every arg the exporter writes (interned once in the Perfetto output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arg {
    Argument,
    P0,
    P1,
    P2,
    P3,
    P4,
    P5,
    Name,
    Lane,
    LostEvents,
    RingsMissing,
    Cause,
    Closed,
    LeaveName,
    Kind,
    Records,
    Offset,
    Reason,
    Value,
}

impl Arg {
    /// Every arg, in the order of their numbers.
    pub(crate) const ALL: [Self; 19] = [
        Self::Argument,
        Self::P0,
        Self::P1,
        Self::P2,
        Self::P3,
        Self::P4,
        Self::P5,
        Self::Name,
        Self::Lane,
        Self::LostEvents,
        Self::RingsMissing,
        Self::Cause,
        Self::Closed,
        Self::LeaveName,
        Self::Kind,
        Self::Records,
        Self::Offset,
        Self::Reason,
        Self::Value,
    ];

    /// The detail payload's words.
    pub(crate) const PAYLOAD: [Self; 6] =
        [Self::P0, Self::P1, Self::P2, Self::P3, Self::P4, Self::P5];

    /// The arg's key.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Argument => "argument",
            Self::P0 => "p0",
            Self::P1 => "p1",
            Self::P2 => "p2",
            Self::P3 => "p3",
            Self::P4 => "p4",
            Self::P5 => "p5",
            Self::Name => "name",
            Self::Lane => "lane",
            Self::LostEvents => "lost_events",
            Self::RingsMissing => "rings_missing",
            Self::Cause => "cause",
            Self::Closed => "closed",
            Self::LeaveName => "leave_name",
            Self::Kind => "kind",
            Self::Records => "records",
            Self::Offset => "offset",
            Self::Reason => "reason",
            Self::Value => "value",
        }
    }
}

/// An arg's value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    U64(u64),
    I64(i64),
    F64(f64),
    Bool(bool),
    /// An address or id, shown in hexadecimal.
    Hex(u64),
    Str(Cow<'a, str>),
}

/// A writer: receives the walk's items in order.
pub(crate) trait Emit {
    /// Encodes one item.
    fn item(&mut self, item: Item<'_>) -> io::Result<()>;
    /// Writes whatever closes the output and flushes it.
    fn finish(&mut self) -> io::Result<()>;
}

/// A span open on a track: its name id.
#[derive(Debug, Clone, Copy)]
struct Open {
    name: u32,
}

/// An Enter or Instant held for the argument records that may follow it.
#[derive(Debug)]
struct Held {
    ts: u64,
    event: Event,
    args: Vec<Event>,
}

/// A track with what the walk keeps about it.
#[derive(Debug)]
struct TrackState {
    track: Track,
    /// Spans open on the track, innermost last.
    open: Vec<Open>,
    /// The last index-lane timestamp (index timestamps are kept from going backwards,
    /// so that spans nest as they were written).
    index_last: Option<u64>,
    /// The latest timestamp of either lane.
    last: Option<u64>,
    /// The sequence number each lane's next ring should have.
    next_sequence: [Option<u64>; 2],
    /// The index event waiting for its argument records.
    held: Option<Held>,
}

impl TrackState {
    fn saw(&mut self, ts: u64) {
        self.last = Some(self.last.map_or(ts, |last| last.max(ts)));
    }
}

/// The walk's state between blocks.
#[derive(Debug)]
struct Walk {
    ids: HashMap<(u32, u32), usize>,
    tracks: Vec<TrackState>,
    summary: ExportSummary,
    timebase: Timebase,
}

impl Default for Walk {
    fn default() -> Self {
        Self {
            ids: HashMap::new(),
            tracks: Vec::new(),
            summary: ExportSummary::default(),
            timebase: Timebase::Nanoseconds,
        }
    }
}

/// Checks that the capture holds ada's standard records.
pub(crate) fn check_layouts(header: &FileHeader) -> Result<(), ExportError> {
    for (lane, layout, size) in [
        (LaneId::Index, Event::LAYOUT, size_of::<Event>()),
        (LaneId::Detail, Detail::LAYOUT, size_of::<Detail>()),
    ] {
        let file_size = header.record_size(lane) as usize;
        if header.layout(lane) != layout || file_size != size {
            return Err(ExportError::Layout {
                lane,
                found: format!("{} ({file_size} B)", header.layout(lane)),
                expected: format!("{layout} ({size} B)"),
            });
        }
    }
    Ok(())
}

/// Walks every block of `reader` into `out`, then closes what is still open and
/// finishes the output.
pub(crate) fn walk<R: Read>(
    mut reader: CaptureReader<R>,
    out: &mut impl Emit,
    progress: &mut dyn FnMut(Progress),
) -> Result<ExportSummary, ExportError> {
    check_layouts(reader.header())?;
    let mut walk = Walk {
        timebase: reader.timebase(),
        ..Walk::default()
    };
    let cut = loop {
        match reader.next_block() {
            Ok(Some(block)) => {
                progress(Progress {
                    bytes: block.offset,
                    events: walk.summary.events,
                });
                walk.block(&block, reader.names(), out)?;
            }
            Ok(None) => break None,
            Err(error) => break Some(error),
        }
    };
    walk.end(cut, reader.names(), out)?;
    out.finish()?;
    walk.summary.version = reader.header().version;
    walk.summary.end = reader.position();
    walk.summary.trailer = reader.trailer().map(|trailer| trailer.offset);
    walk.summary.reconciles = reader
        .reconcile()
        .map(|reconciliation| reconciliation.reconciles());
    Ok(walk.summary)
}

impl Walk {
    /// The track of `block`'s registration, announced to `out` when it is new.
    fn track(&mut self, block: &Block, out: &mut impl Emit) -> Result<usize, ExportError> {
        if let Some(&index) = self.ids.get(&(block.slot, block.generation)) {
            return Ok(index);
        }
        let index = self.tracks.len();
        let tid = u32::try_from(index)
            .ok()
            .and_then(|index| index.checked_add(FIRST_TID))
            .filter(|&tid| i32::try_from(tid).is_ok())
            .ok_or(ExportError::TooManyThreads)?;
        let name = if block.thread_name.is_empty() {
            format!("slot {} gen {}", block.slot, block.generation)
        } else {
            block.thread_name.clone()
        };
        self.tracks.push(TrackState {
            track: Track { tid, name },
            open: Vec::new(),
            index_last: None,
            last: None,
            next_sequence: [None; 2],
            held: None,
        });
        self.ids.insert((block.slot, block.generation), index);
        self.summary.threads += 1;
        out.item(Item::Thread(&self.tracks[index].track))?;
        Ok(index)
    }

    fn block(
        &mut self,
        block: &Block,
        names: &Names,
        out: &mut impl Emit,
    ) -> Result<(), ExportError> {
        let index = self.track(block, out)?;
        let timebase = self.timebase;
        let summary = &mut self.summary;
        let state = &mut self.tracks[index];
        let lane = usize::from(block.lane == LaneId::Detail);
        let first = first_timestamp(block).map(|ticks| timebase.to_ns(ticks));
        // Rings missing from the lane's sequence (taken back, or failed by the sink).
        let rings = if block.kind == BlockKind::Ring {
            let rings = match state.next_sequence[lane] {
                Some(expected) if block.sequence > expected => block.sequence - expected,
                _ => 0,
            };
            state.next_sequence[lane] = Some(block.sequence.saturating_add(1));
            rings
        } else {
            0
        };
        // Version 2 blocks of either kind may say what was lost before them; version 1
        // ring blocks say it with `LOSS_BEFORE`.
        let lost = block.flags.contains(RingFlags::LOSS_BEFORE) || block.lost_events > 0;
        if lost || rings > 0 {
            let events = if lost { block.lost_events } else { 0 };
            let ts = match block.lane {
                LaneId::Index => {
                    // The held event's arguments end at the gap.
                    show_held(state, names, summary, out)?;
                    // The spans open before the gap may have lost their leaves in it:
                    // close them where the gap starts rather than let a later leave
                    // close the wrong one.
                    if let Some(at) = state.index_last {
                        summary.spans_closed_at_loss +=
                            close_all(state, at, &Close::EventsLost, out)?;
                    }
                    first.map(|ts| state.index_last.map_or(ts, |last| last.max(ts)))
                }
                LaneId::Detail => first,
            };
            let ts = ts.or(state.last).unwrap_or(0);
            let marker = Marker::Loss {
                lane: block.lane,
                events,
                rings,
                cause: loss_cause(block),
            };
            summary.losses += 1;
            summary.events_lost += events;
            out.item(Item::Marker {
                track: Some(&state.track),
                ts,
                marker: &marker,
            })?;
        }
        if block.kind == BlockKind::Ring && block.flags.contains(RingFlags::MARKED) {
            let ts = first.or(state.last).unwrap_or(0);
            summary.marks += 1;
            out.item(Item::Marker {
                track: Some(&state.track),
                ts,
                marker: &Marker::Mark {
                    lane: block.lane,
                    records: block.record_count,
                },
            })?;
        }
        match block.lane {
            LaneId::Index => index_records(block, timebase, names, state, summary, out),
            LaneId::Detail => {
                for record in block.bytes().chunks_exact(size_of::<Detail>()) {
                    let detail: Detail = bytemuck::pod_read_unaligned(record);
                    let ts = timebase.to_ns(detail.ticks);
                    state.saw(ts);
                    summary.details += 1;
                    out.item(Item::Detail {
                        track: &state.track,
                        ts,
                        detail: &detail,
                    })?;
                }
                Ok(())
            }
        }
    }

    /// Marks where an unreadable capture ends, closes every span still open at its
    /// track's last timestamp, and records the cut.
    fn end(
        &mut self,
        cut: Option<CaptureError>,
        names: &Names,
        out: &mut impl Emit,
    ) -> Result<(), ExportError> {
        for state in &mut self.tracks {
            show_held(state, names, &mut self.summary, out)?;
        }
        if let Some(error) = &cut {
            let reason = match error.kind {
                CaptureErrorKind::Truncated { .. } => {
                    format!("torn block at byte {}", error.offset)
                }
                _ => format!("unreadable block {error}"),
            };
            let ts = self.tracks.iter().filter_map(|t| t.last).max().unwrap_or(0);
            out.item(Item::Marker {
                track: None,
                ts,
                marker: &Marker::CaptureEnds {
                    offset: error.offset,
                    reason,
                },
            })?;
        }
        for state in &mut self.tracks {
            if let Some(at) = state.last {
                self.summary.spans_closed_at_end +=
                    close_all(state, at, &Close::CaptureEnded, out)?;
            }
        }
        self.summary.cut = cut;
        Ok(())
    }
}

/// The index lane's records of `block` as spans, instants, counters and markers; an
/// Enter or Instant is held until the lane's next record that is not one of its
/// argument records.
fn index_records(
    block: &Block,
    timebase: Timebase,
    names: &Names,
    state: &mut TrackState,
    summary: &mut ExportSummary,
    out: &mut impl Emit,
) -> Result<(), ExportError> {
    for record in block.bytes().chunks_exact(size_of::<Event>()) {
        let event: Event = bytemuck::pod_read_unaligned(record);
        summary.events += 1;
        if event.kind() == Some(EventKind::Arg) {
            // Arguments carry no time: they belong to the event they follow.
            match &mut state.held {
                Some(held) if held.args.len() < MAX_ARGS => held.args.push(event),
                _ => summary.args_unattached += 1,
            }
            continue;
        }
        show_held(state, names, summary, out)?;
        let ticks = timebase.to_ns(event.ticks);
        let ts = match state.index_last {
            Some(last) if last > ticks => {
                summary.timestamps_raised += 1;
                last
            }
            _ => ticks,
        };
        state.index_last = Some(ts);
        state.saw(ts);
        let track = &state.track;
        match event.kind() {
            Some(EventKind::Enter | EventKind::Instant) => {
                state.held = Some(Held {
                    ts,
                    event,
                    args: Vec::new(),
                });
            }
            Some(EventKind::Leave) => match state.open.pop() {
                Some(open) => {
                    let close = if open.name == event.name {
                        Close::Matched
                    } else {
                        summary.mismatched_leaves += 1;
                        Close::Mismatched {
                            leave_name: title(names, event.name, summary).into_owned(),
                        }
                    };
                    out.item(Item::End {
                        track,
                        ts,
                        close: &close,
                    })?;
                }
                None => {
                    summary.unmatched_leaves += 1;
                    let name = title(names, event.name, summary).into_owned();
                    out.item(Item::Marker {
                        track: Some(track),
                        ts,
                        marker: &Marker::UnmatchedLeave {
                            name,
                            argument: event.argument,
                        },
                    })?;
                }
            },
            Some(EventKind::Counter) => {
                summary.counters += 1;
                let shown = shown(names, &event, &[], summary);
                out.item(Item::Counter {
                    track,
                    ts,
                    event: &shown,
                })?;
            }
            Some(EventKind::Arg) => {}
            None => {
                let name = title(names, event.name, summary).into_owned();
                out.item(Item::Marker {
                    track: Some(track),
                    ts,
                    marker: &Marker::UnknownKind {
                        kind: event.kind,
                        name,
                        argument: event.argument,
                    },
                })?;
            }
        }
    }
    Ok(())
}

/// Writes the track's held event, if any, with its arguments: a span's begin (the span
/// opens) or an instant.
fn show_held(
    state: &mut TrackState,
    names: &Names,
    summary: &mut ExportSummary,
    out: &mut impl Emit,
) -> Result<(), ExportError> {
    let Some(held) = state.held.take() else {
        return Ok(());
    };
    summary.args += held.args.len() as u64;
    let shown = shown(names, &held.event, &held.args, summary);
    let track = &state.track;
    if held.event.kind() == Some(EventKind::Enter) {
        state.open.push(Open {
            name: held.event.name,
        });
        out.item(Item::Begin {
            track,
            ts: held.ts,
            event: &shown,
        })?;
    } else {
        out.item(Item::Instant {
            track,
            ts: held.ts,
            event: &shown,
        })?;
    }
    Ok(())
}

/// `id` as the capture names it: `None` for 0, `#<id>` (counted) for an id it lacks.
fn label<'n>(names: &'n Names, id: u32, summary: &mut ExportSummary) -> Option<Cow<'n, str>> {
    match names.label(id) {
        Label::None => None,
        Label::Name(name) => Some(Cow::Borrowed(name)),
        Label::Unknown(id) => {
            summary.unknown_names += 1;
            Some(Cow::Owned(format!("#{id}")))
        }
    }
}

/// An event's title: its name, or [`UNNAMED`].
fn title<'n>(names: &'n Names, id: u32, summary: &mut ExportSummary) -> Cow<'n, str> {
    label(names, id, summary).unwrap_or(Cow::Borrowed(UNNAMED))
}

/// `event` with its names resolved and `args` (its argument records) attached.
fn shown<'n>(
    names: &'n Names,
    event: &Event,
    args: &[Event],
    summary: &mut ExportSummary,
) -> Shown<'n> {
    Shown {
        name: title(names, event.name, summary),
        category: label(names, event.category, summary),
        argument: event.argument,
        args: args
            .iter()
            .map(|arg| {
                let key = title(names, arg.name, summary);
                let value = match arg.arg_type() {
                    Some(ArgType::U64) => Value::U64(arg.argument),
                    Some(ArgType::I64) => Value::I64(arg.argument.cast_signed()),
                    Some(ArgType::F64) => Value::F64(f64::from_bits(arg.argument)),
                    Some(ArgType::Bool) => Value::Bool(arg.argument != 0),
                    Some(ArgType::Name) => match u32::try_from(arg.argument) {
                        Ok(id) => Value::Str(label(names, id, summary).unwrap_or_default()),
                        Err(_) => Value::Hex(arg.argument),
                    },
                    // A type a later writer adds: the bits, as they are.
                    None => Value::Hex(arg.argument),
                };
                (key, value)
            })
            .collect(),
    }
}

/// Closes every span open on `state`'s track at `ts`, innermost first; how many.
fn close_all(
    state: &mut TrackState,
    ts: u64,
    close: &Close,
    out: &mut impl Emit,
) -> Result<u64, ExportError> {
    let mut closed = 0;
    while state.open.pop().is_some() {
        out.item(Item::End {
            track: &state.track,
            ts,
            close,
        })?;
        closed += 1;
    }
    Ok(closed)
}

/// The first timed record's ticks (both record types begin with them, stored as
/// written; argument records carry none).
fn first_timestamp(block: &Block) -> Option<u64> {
    match block.lane {
        LaneId::Index => block
            .bytes()
            .chunks_exact(size_of::<Event>())
            .map(bytemuck::pod_read_unaligned::<Event>)
            .find(|event| event.kind() != Some(EventKind::Arg))
            .map(|event| event.ticks),
        LaneId::Detail => {
            let bytes = block.bytes().get(..size_of::<u64>())?;
            Some(bytemuck::pod_read_unaligned(bytes))
        }
    }
}

/// Why the events before `block` were lost, as its loss causes say: the cause's name
/// when there is one (`drop-oldest`, `drop-newest`, `sink`, or `cause N` for a code a
/// later writer added), each with its events when there are several (`drop-oldest 3,
/// sink 5`). The markers then read "N events lost: CAUSE". `None` for version 1 blocks,
/// which carry a count without causes, and for a block that lost nothing (discarded
/// flight-recorder windows are not a loss).
fn loss_cause(block: &Block) -> Option<String> {
    let losses = block.losses.as_ref()?;
    let lost: Vec<_> = losses.iter().filter(|(cause, _)| cause.is_loss()).collect();
    match lost[..] {
        [] => None,
        [(cause, _)] => Some(cause.to_string()),
        _ => Some(
            lost.iter()
                .map(|(cause, events)| format!("{cause} {events}"))
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
}
