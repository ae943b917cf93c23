//! The Perfetto writer: a `Trace` written one `TracePacket` at a time (each packet
//! encoded by prost as a one-packet `Trace`, and concatenated `Trace`s are one `Trace`),
//! on one packet sequence whose first packet clears the incremental state, interns the
//! categories and arg names and describes the process track. Each thread track is a
//! `TrackDescriptor` with a `ThreadDescriptor`; spans are `TYPE_SLICE_BEGIN`/`END`,
//! everything else `TYPE_INSTANT` (a counter sample too, its value an annotation
//! `value`), args are debug annotations (the exporter's own keys interned, an event's
//! argument keys written in full), event names are interned as they first appear (up to
//! [`MAX_INTERNED_NAMES`], then written in full), an event's category other than the
//! default is written in full.

use crate::core::{
    Arg, Close, DEFAULT_CATEGORY, Emit, Item, Marker, PID, PROCESS_NAME, Shown, Track, Value,
};
use crate::perfetto_protos::debug_annotation::{
    NameField as AnnotationName, Value as AnnotationValue,
};
use crate::perfetto_protos::trace_packet::{Data, OptionalTrustedPacketSequenceId, SequenceFlags};
use crate::perfetto_protos::track_event::{NameField, Type};
use crate::perfetto_protos::{
    DebugAnnotation, DebugAnnotationName, EventCategory, EventName, InternedData,
    ProcessDescriptor, ThreadDescriptor, Trace, TracePacket, TrackDescriptor, TrackEvent,
};
use ada::Detail;
use prost::Message;
use std::collections::HashMap;
use std::io::{self, Write};

/// The one packet sequence the writer uses.
const SEQUENCE: u32 = 1;
/// The process track's uuid (a thread's track uuid is its tid, 2 and up).
const PROCESS_UUID: u64 = 1;
/// Interned categories: the index lane's events, the detail lane's, the markers.
const CATEGORIES: [&str; 3] = [DEFAULT_CATEGORY, "ada.detail", "ada.marker"];
const CATEGORY_ADA: u64 = 1;
const CATEGORY_DETAIL: u64 = 2;
const CATEGORY_MARKER: u64 = 3;
/// Event names interned at most (a bound on the table, whatever the capture holds);
/// names after those are written in full in each event.
pub(crate) const MAX_INTERNED_NAMES: usize = 1 << 16;
/// Encoded bytes gathered before they are handed to the output.
const CHUNK: usize = 1 << 16;

/// Writes Perfetto trace packets to `out`.
#[derive(Debug)]
pub(crate) struct PerfettoWriter<W: Write> {
    out: W,
    /// Encoded packets not yet written.
    buffer: Vec<u8>,
    /// The `Trace` each packet is encoded in, alone (empty between packets).
    trace: Trace,
    /// The event packet, reused: the sequence's id and flags stay set.
    template: TracePacket,
    /// The event being built, reused (its vectors keep their capacity).
    event: TrackEvent,
    /// Event names interned so far, and their ids.
    names: HashMap<String, u64>,
}

impl<W: Write> PerfettoWriter<W> {
    /// Writes the sequence's first packet: cleared incremental state, interned
    /// categories and arg names, the process track.
    pub(crate) fn new(out: W) -> io::Result<Self> {
        let mut writer = Self {
            out,
            buffer: Vec::with_capacity(CHUNK * 2),
            trace: Trace {
                packet: Vec::with_capacity(1),
            },
            template: TracePacket {
                optional_trusted_packet_sequence_id: Some(
                    OptionalTrustedPacketSequenceId::TrustedPacketSequenceId(SEQUENCE),
                ),
                sequence_flags: Some(SequenceFlags::SeqNeedsIncrementalState as u32),
                ..TracePacket::default()
            },
            event: TrackEvent::default(),
            names: HashMap::new(),
        };
        let interned = InternedData {
            event_categories: (1..)
                .zip(CATEGORIES)
                .map(|(iid, name)| EventCategory {
                    iid: Some(iid),
                    name: Some(name.to_owned()),
                })
                .collect(),
            event_names: Vec::new(),
            debug_annotation_names: Arg::ALL
                .iter()
                .map(|&arg| DebugAnnotationName {
                    iid: Some(arg_iid(arg)),
                    name: Some(arg.name().to_owned()),
                })
                .collect(),
        };
        writer.packet(TracePacket {
            optional_trusted_packet_sequence_id: Some(
                OptionalTrustedPacketSequenceId::TrustedPacketSequenceId(SEQUENCE),
            ),
            sequence_flags: Some(SequenceFlags::SeqIncrementalStateCleared as u32),
            first_packet_on_sequence: Some(true),
            interned_data: Some(interned),
            data: Some(Data::TrackDescriptor(TrackDescriptor {
                uuid: Some(PROCESS_UUID),
                process: Some(ProcessDescriptor {
                    pid: i32::try_from(PID).ok(),
                    process_name: Some(PROCESS_NAME.to_owned()),
                }),
                ..TrackDescriptor::default()
            })),
            ..TracePacket::default()
        })?;
        Ok(writer)
    }

    /// Encodes a packet other than an event (rare: descriptors).
    fn packet(&mut self, packet: TracePacket) -> io::Result<()> {
        self.trace.packet.push(packet);
        let encoded = self.trace.encode(&mut self.buffer);
        self.trace.packet.clear();
        encoded.map_err(io::Error::other)?;
        self.spill()
    }

    /// Encodes [`Self::event`] at `ts` (with `interned`, new names it uses), in the
    /// reused packet.
    fn write_event(&mut self, ts: u64, interned: Option<InternedData>) -> io::Result<()> {
        let mut packet = std::mem::take(&mut self.template);
        packet.timestamp = Some(ts);
        packet.interned_data = interned;
        packet.data = Some(Data::TrackEvent(std::mem::take(&mut self.event)));
        self.trace.packet.push(packet);
        let encoded = self.trace.encode(&mut self.buffer);
        if let Some(mut packet) = self.trace.packet.pop() {
            if let Some(Data::TrackEvent(event)) = packet.data.take() {
                self.event = event;
            }
            packet.interned_data = None;
            self.template = packet;
        }
        encoded.map_err(io::Error::other)?;
        self.spill()
    }

    /// Hands the encoded bytes to the output once there are enough of them.
    fn spill(&mut self) -> io::Result<()> {
        if self.buffer.len() >= CHUNK {
            self.out.write_all(&self.buffer)?;
            self.buffer.clear();
        }
        Ok(())
    }

    /// The event's name: an interned id (with the interning when it is new), or the
    /// full name once the table is full.
    fn name(&mut self, name: &str) -> (NameField, Option<InternedData>) {
        if let Some(&iid) = self.names.get(name) {
            return (NameField::NameIid(iid), None);
        }
        let name = name.to_owned();
        if self.names.len() >= MAX_INTERNED_NAMES {
            return (NameField::Name(name), None);
        }
        let iid = self.names.len() as u64 + 1;
        self.names.insert(name.clone(), iid);
        let interned = InternedData {
            event_names: vec![EventName {
                iid: Some(iid),
                name: Some(name),
            }],
            ..InternedData::default()
        };
        (NameField::NameIid(iid), Some(interned))
    }

    /// Sets the reused event's fields; its annotations are cleared for the caller.
    fn set(&mut self, kind: Type, track_uuid: u64, name: Option<NameField>, category: Option<u64>) {
        let event = &mut self.event;
        event.r#type = Some(kind as i32);
        event.track_uuid = Some(track_uuid);
        event.name_field = name;
        event.category_iids.clear();
        event.category_iids.extend(category);
        event.categories.clear();
        event.debug_annotations.clear();
    }

    fn annotate(&mut self, arg: Arg, value: Value<'_>) {
        self.annotation(AnnotationName::NameIid(arg_iid(arg)), value);
    }

    fn annotation(&mut self, name: AnnotationName, value: Value<'_>) {
        self.event.debug_annotations.push(DebugAnnotation {
            name_field: Some(name),
            value: Some(match value {
                Value::U64(n) => AnnotationValue::UintValue(n),
                Value::I64(n) => AnnotationValue::IntValue(n),
                Value::F64(x) => AnnotationValue::DoubleValue(x),
                Value::Bool(b) => AnnotationValue::BoolValue(b),
                Value::Hex(n) => AnnotationValue::PointerValue(n),
                Value::Str(text) => AnnotationValue::StringValue(text.into_owned()),
            }),
            ..DebugAnnotation::default()
        });
    }

    fn thread(&mut self, track: &Track) -> io::Result<()> {
        self.packet(TracePacket {
            optional_trusted_packet_sequence_id: Some(
                OptionalTrustedPacketSequenceId::TrustedPacketSequenceId(SEQUENCE),
            ),
            data: Some(Data::TrackDescriptor(TrackDescriptor {
                uuid: Some(uuid(track)),
                parent_uuid: Some(PROCESS_UUID),
                thread: Some(ThreadDescriptor {
                    pid: i32::try_from(PID).ok(),
                    tid: i32::try_from(track.tid).ok(),
                    thread_name: Some(track.name.clone()),
                }),
                ..TrackDescriptor::default()
            })),
            ..TracePacket::default()
        })
    }

    /// An index event: a span's begin, an instant or a counter sample.
    fn index_event(
        &mut self,
        kind: Type,
        track: &Track,
        ts: u64,
        event: &Shown<'_>,
        counter: bool,
    ) -> io::Result<()> {
        let (name, interned) = self.name(&event.name);
        let default = event.category.is_none();
        self.set(
            kind,
            uuid(track),
            Some(name),
            default.then_some(CATEGORY_ADA),
        );
        if let Some(category) = &event.category {
            self.event.categories.push(category.clone().into_owned());
        }
        if counter {
            self.annotate(Arg::Value, Value::U64(event.argument));
        } else {
            self.annotate(Arg::Argument, Value::U64(event.argument));
            for (key, value) in &event.args {
                self.annotation(
                    AnnotationName::Name(key.clone().into_owned()),
                    value.clone(),
                );
            }
        }
        self.write_event(ts, interned)
    }

    fn detail(&mut self, track: &Track, ts: u64, detail: &Detail) -> io::Result<()> {
        let (name, interned) = self.name(&format!("detail fn {:#x}", detail.function));
        self.set(
            Type::Instant,
            uuid(track),
            Some(name),
            Some(CATEGORY_DETAIL),
        );
        for (arg, word) in Arg::PAYLOAD.into_iter().zip(detail.payload) {
            self.annotate(arg, Value::U64(word));
        }
        self.write_event(ts, interned)
    }

    fn marker(&mut self, track: Option<&Track>, ts: u64, marker: &Marker) -> io::Result<()> {
        let track_uuid = track.map_or(PROCESS_UUID, uuid);
        self.set(
            Type::Instant,
            track_uuid,
            Some(NameField::Name(marker.title())),
            Some(CATEGORY_MARKER),
        );
        for (arg, value) in marker.args() {
            self.annotate(arg, value);
        }
        self.write_event(ts, None)
    }
}

impl<W: Write> Emit for PerfettoWriter<W> {
    fn item(&mut self, item: Item<'_>) -> io::Result<()> {
        match item {
            Item::Thread(track) => self.thread(track),
            Item::Begin { track, ts, event } => {
                self.index_event(Type::SliceBegin, track, ts, event, false)
            }
            Item::End { track, ts, close } => {
                self.set(Type::SliceEnd, uuid(track), None, None);
                if let Some((arg, value)) = Close::args(close) {
                    self.annotate(arg, value);
                }
                self.write_event(ts, None)
            }
            Item::Instant { track, ts, event } => {
                self.index_event(Type::Instant, track, ts, event, false)
            }
            Item::Counter { track, ts, event } => {
                self.index_event(Type::Instant, track, ts, event, true)
            }
            Item::Detail { track, ts, detail } => self.detail(track, ts, detail),
            Item::Marker { track, ts, marker } => self.marker(track, ts, marker),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.write_all(&self.buffer)?;
        self.buffer.clear();
        self.out.flush()
    }
}

/// A thread track's uuid: its tid.
fn uuid(track: &Track) -> u64 {
    u64::from(track.tid)
}

/// An arg's interned id: its position in [`Arg::ALL`], from 1.
fn arg_iid(arg: Arg) -> u64 {
    arg as u64 + 1
}
