//! The writer: one checksummed block per delivered ring, one `write` per block, and the
//! trailer at shutdown.

use crate::format::{
    BLOCK_MAGIC, BlockKind, FileHeader, LaneId, LossCause, Losses, MAX_BLOCK_BYTES, Record,
    bounded_name, name_len, size_u32,
};
use crate::trailer::{LaneCounters, LaneFinal, LaneKey, Trailer};
use crate::{clock, names};
use ada_drain::{Delivery, DrainReport, LaneLayout, LaneShape, Sink, SinkError};
use ada_ring_buffer::{RingFlags, RingHeader};
use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::Path;

/// Why a [`FileSink`] could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum FileSinkError {
    /// The file could not be created, or its header written.
    Io(std::io::Error),
    /// A lane's record type has no bytes: a capture stores records by size, and the
    /// reader refuses a record size of zero.
    ZeroSizedRecord {
        /// The lane.
        lane: LaneId,
        /// The record type's layout name.
        layout: &'static str,
    },
}

impl fmt::Display for FileSinkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(error) => write!(f, "{error}"),
            Self::ZeroSizedRecord { lane, layout } => write!(
                f,
                "the {} lane's records ({layout}) have no bytes: a capture cannot store \
                 zero-sized records",
                lane_name(*lane)
            ),
        }
    }
}

impl std::error::Error for FileSinkError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(error) => Some(error),
            Self::ZeroSizedRecord { .. } => None,
        }
    }
}

impl From<std::io::Error> for FileSinkError {
    fn from(error: std::io::Error) -> Self {
        Self::Io(error)
    }
}

/// Where `?` needs an I/O error: the same text, kind `InvalidInput` for a zero-sized
/// record.
impl From<FileSinkError> for std::io::Error {
    fn from(error: FileSinkError) -> Self {
        match error {
            FileSinkError::Io(error) => error,
            other => Self::new(std::io::ErrorKind::InvalidInput, other),
        }
    }
}

/// A [`Sink`] that appends every delivered ring to a capture file, and at shutdown a
/// trailer with every lane's final counters.
///
/// Each ring becomes one block written with a single `write_all` of a buffer reused
/// from ring to ring, so the drain pays one system call per ring, not per record. A
/// block carries, beside its records, the events lost just before it by cause and the
/// flight-recorder windows discarded since the lane's previous block. A write error is
/// returned to the drain, which counts the ring's records as lost to the sink; the file
/// is cut back to its last whole block when it can be (a file that refuses, a pipe for
/// one, keeps the torn block, which the reader reports with its offset).
///
/// Format version 3: the file starts with the header and a clock record (the process's
/// clock calibration, so readers convert the records' ticks to nanoseconds), and before
/// each ring block the sink checks the process-wide name table (`ada_names::len`): the
/// names added since its last check go into a names block in the same write, so every
/// name is in the file once, before the first block that can use it, and a file cut
/// short still names everything its whole blocks hold.
///
/// The drain [starts](Sink::start) the sink with the lanes' shapes before any delivery:
/// a lane whose rings hold more than [`MAX_BLOCK_BYTES`] of records is refused there,
/// so the sink never writes a block its reader would refuse. At shutdown
/// ([`Sink::finish`]) it writes the trailer and syncs the file.
pub struct FileSink<I, D> {
    file: File,
    buffer: Vec<u8>,
    blocks: u64,
    bytes: u64,
    /// Per registration and lane: the losses its written blocks announced.
    announced: HashMap<LaneKey, Losses>,
    /// Names of the process-wide table written so far: ids `1..=names_written`.
    names_written: u32,
    finished: bool,
    _records: PhantomData<fn(I, D)>,
}

impl<I: Record, D: Record> FileSink<I, D> {
    /// Creates (or truncates) `path` and writes the file header.
    ///
    /// # Errors
    /// [`FileSinkError::ZeroSizedRecord`] (checked before the file is created), or the
    /// file could not be created or written.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, FileSinkError> {
        check_record_sizes::<I, D>()?;
        Self::new(File::create(path)?)
    }

    /// Writes the file header and the clock record (this process's
    /// [`Calibration`](ada_clock::Calibration), measured now if it was not yet) to
    /// `file` and appends blocks after them.
    ///
    /// # Errors
    /// [`FileSinkError::ZeroSizedRecord`], or the header could not be written.
    pub fn new(mut file: File) -> Result<Self, FileSinkError> {
        check_record_sizes::<I, D>()?;
        let mut header = FileHeader::of::<I, D>().encode();
        header.extend_from_slice(&clock::encode(ada_clock::Calibration::get()));
        file.write_all(&header)?;
        Ok(Self {
            file,
            buffer: Vec::new(),
            blocks: 0,
            bytes: header.len() as u64,
            announced: HashMap::new(),
            names_written: 0,
            finished: false,
            _records: PhantomData,
        })
    }

    /// Ring blocks written so far (names blocks not counted).
    #[must_use]
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// Bytes written so far, header (and trailer) included.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Writes the buffer at the end of the file; on failure cuts the file back to its
    /// last whole block when it can, so that a later block does not follow a torn one.
    /// `what` starts the error's text.
    fn write(&mut self, what: &str) -> Result<(), SinkError> {
        if let Err(error) = self.file.write_all(&self.buffer) {
            if self.file.set_len(self.bytes).is_ok() {
                let _ = self.file.seek(SeekFrom::Start(self.bytes));
            }
            return Err(SinkError(format!("{what}: {error}")));
        }
        self.bytes += self.buffer.len() as u64;
        Ok(())
    }

    fn append<T: Record>(
        &mut self,
        lane: LaneId,
        delivery: &Delivery<'_, T>,
    ) -> Result<(), SinkError> {
        if self.finished {
            return Err(SinkError(
                "a delivery after the capture's trailer was written".to_owned(),
            ));
        }
        let name = bounded_name(delivery.origin.thread_name.unwrap_or("")).as_bytes();
        let records: &[u8] = bytemuck::cast_slice(delivery.records);
        let count = u32::try_from(delivery.records.len())
            .map_err(|_| SinkError("a ring of more than 2^32 records".to_owned()))?;
        if records.len() as u64 > MAX_BLOCK_BYTES {
            return Err(SinkError(format!(
                "a delivery of {} bytes of records exceeds a capture block's limit of \
                 {MAX_BLOCK_BYTES} bytes",
                records.len()
            )));
        }
        let (kind, header) = match delivery.header {
            Some(header) => (BlockKind::Ring, header),
            None => (BlockKind::Collected, RingHeader::default()),
        };
        let slot = u32::try_from(delivery.origin.slot)
            .map_err(|_| SinkError("a slot index above 2^32".to_owned()))?;
        let losses = losses_before(delivery);
        let lost = losses.lost();
        let mut flags = header.flags;
        flags.set(RingFlags::LOSS_BEFORE, lost > 0);
        self.buffer.clear();
        // The names interned since the last block, before the first block that can use
        // them (the records were written after their names were interned, and the
        // ring's hand-over to the drain orders those before this load).
        let names_upto = self.new_names_into_buffer();
        let buffer = &mut self.buffer;
        let start = buffer.len();
        buffer.extend_from_slice(&BLOCK_MAGIC);
        buffer.push(lane.to_byte());
        buffer.push(kind.to_byte());
        buffer.extend_from_slice(&name_len(name).to_le_bytes());
        buffer.extend_from_slice(&flags.bits().to_le_bytes());
        buffer.extend_from_slice(&slot.to_le_bytes());
        buffer.extend_from_slice(&delivery.origin.generation.to_le_bytes());
        buffer.extend_from_slice(&count.to_le_bytes());
        buffer.extend_from_slice(&header.sequence.to_le_bytes());
        buffer.extend_from_slice(&lost.to_le_bytes());
        // At most the four causes a delivery names.
        buffer.extend_from_slice(&u16::try_from(losses.len()).unwrap_or(0).to_le_bytes());
        losses.encode_into(buffer);
        buffer.extend_from_slice(name);
        buffer.extend_from_slice(records);
        let checksum = crc32fast::hash(&buffer[start..]);
        buffer.extend_from_slice(&checksum.to_le_bytes());
        self.write("writing the capture file")?;
        self.names_written = names_upto;
        self.blocks += 1;
        if !losses.is_empty() {
            let key = LaneKey {
                slot,
                generation: delivery.origin.generation,
                lane,
            };
            self.announced.entry(key).or_default().add_all(&losses);
        }
        Ok(())
    }

    /// Appends to the buffer a names block (or several) with the process-wide names not
    /// yet written; returns the last id written once the buffer is.
    fn new_names_into_buffer(&mut self) -> u32 {
        // Acquire (in `ada_names::len`): every name up to it is readable.
        let len = u32::try_from(ada_names::len()).unwrap_or(u32::MAX);
        if len <= self.names_written {
            return self.names_written;
        }
        let new = ada_names::names_from(self.names_written + 1);
        let names: Vec<&str> = new.iter().map(|&(_, name)| name).collect();
        names::encode_blocks(self.names_written + 1, &names, &mut self.buffer);
        self.names_written + u32::try_from(names.len()).unwrap_or(0)
    }

    /// The trailer's entries for `report`: every lane that wrote something, with what
    /// its blocks did not announce.
    fn trailer(&self, report: &DrainReport) -> Result<(Vec<LaneFinal>, LaneCounters), SinkError> {
        let mut lanes = Vec::with_capacity(report.threads.len() * 2);
        let mut after = Losses::default();
        let mut discarded_after = 0_u64;
        for thread in &report.threads {
            let slot = u32::try_from(thread.slot)
                .map_err(|_| SinkError("a slot index above 2^32".to_owned()))?;
            for (lane, counters) in [
                (LaneId::Index, &thread.index),
                (LaneId::Detail, &thread.detail),
            ] {
                let key = LaneKey {
                    slot,
                    generation: thread.generation,
                    lane,
                };
                let announced = self.announced.get(&key).cloned().unwrap_or_default();
                let mut counters = lane_counters(counters);
                if counters == LaneCounters::default() && announced.is_empty() {
                    continue;
                }
                counters.lost_after = counters
                    .dropped
                    .iter()
                    .map(|(cause, events)| (cause, events.saturating_sub(announced.get(cause))))
                    .collect();
                counters.discarded_after = counters
                    .discarded
                    .saturating_sub(announced.get(LossCause::Discarded));
                after.add_all(&counters.lost_after);
                discarded_after = discarded_after.saturating_add(counters.discarded_after);
                lanes.push(LaneFinal {
                    key,
                    thread_name: thread.thread_name.clone().unwrap_or_default(),
                    retired: thread.retired,
                    counters,
                });
            }
        }
        lanes.sort_by_key(|lane| lane.key);
        let mut totals = lane_counters(&report.totals);
        totals.lost_after = after;
        totals.discarded_after = discarded_after;
        Ok((lanes, totals))
    }
}

/// Refuses record types of no bytes.
fn check_record_sizes<I: Record, D: Record>() -> Result<(), FileSinkError> {
    for (lane, size, layout) in [
        (LaneId::Index, size_u32::<I>(), I::LAYOUT),
        (LaneId::Detail, size_u32::<D>(), D::LAYOUT),
    ] {
        if size == 0 {
            return Err(FileSinkError::ZeroSizedRecord { lane, layout });
        }
    }
    Ok(())
}

/// What a delivery says is missing just before it, by cause.
fn losses_before<T>(delivery: &Delivery<'_, T>) -> Losses {
    let lost = &delivery.lost_before;
    [
        (LossCause::DropOldest, lost.oldest),
        (LossCause::DropNewest, lost.newest),
        (LossCause::Sink, lost.sink),
        (LossCause::Discarded, delivery.discarded_before),
        (LossCause::Timeout, lost.timeout),
    ]
    .into_iter()
    .collect()
}

/// A lane snapshot's final counters (nothing "after" yet).
fn lane_counters(lane: &ada_metrics::LaneSnapshot) -> LaneCounters {
    LaneCounters {
        written: lane.events_written,
        delivered: lane.events_delivered,
        dropped: [
            (LossCause::DropOldest, lane.dropped.oldest),
            (LossCause::DropNewest, lane.dropped.newest),
            (LossCause::Sink, lane.dropped.sink),
            (LossCause::Timeout, lane.dropped.timeout),
        ]
        .into_iter()
        .collect(),
        discarded: lane.events_discarded,
        in_flight: lane.events_in_flight(),
        lost_after: Losses::default(),
        discarded_after: 0,
    }
}

fn lane_name(lane: LaneId) -> &'static str {
    match lane {
        LaneId::Index => "index",
        LaneId::Detail => "detail",
    }
}

/// Refuses a lane whose whole ring would make a block over [`MAX_BLOCK_BYTES`].
fn check_shape(lane: LaneId, shape: &LaneShape) -> Result<(), SinkError> {
    if shape.record_size == 0 {
        return Err(SinkError(format!(
            "the {} lane's records have no bytes: a capture cannot store zero-sized records",
            lane_name(lane)
        )));
    }
    let bytes = shape.ring_bytes();
    if bytes > MAX_BLOCK_BYTES {
        return Err(SinkError(format!(
            "the {} lane's rings of {} records × {} B = {bytes} B exceed the capture \
             file's block limit of {MAX_BLOCK_BYTES} B (8 MiB, ada_capture::MAX_BLOCK_BYTES): \
             use smaller rings",
            lane_name(lane),
            shape.config.ring_records,
            shape.record_size,
        )));
    }
    Ok(())
}

impl<I: Record, D: Record> Sink<I, D> for FileSink<I, D> {
    /// Refuses lanes whose rings exceed [`MAX_BLOCK_BYTES`] (or hold zero-sized
    /// records), before the first ring is written.
    fn start(&mut self, lanes: &LaneLayout) -> Result<(), SinkError> {
        check_shape(LaneId::Index, &lanes.index)?;
        check_shape(LaneId::Detail, &lanes.detail)
    }

    fn index(&mut self, delivery: &Delivery<'_, I>) -> Result<(), SinkError> {
        self.append(LaneId::Index, delivery)
    }

    fn detail(&mut self, delivery: &Delivery<'_, D>) -> Result<(), SinkError> {
        self.append(LaneId::Detail, delivery)
    }

    fn flush(&mut self) -> Result<(), SinkError> {
        self.file
            .flush()
            .and_then(|()| self.file.sync_data())
            .map_err(|error| SinkError(format!("syncing the capture file: {error}")))
    }

    /// Writes the trailer (every lane's final counters and the totals) and syncs the
    /// file. A second call is refused: a file has one trailer.
    fn finish(&mut self, report: &DrainReport) -> Result<(), SinkError> {
        if self.finished {
            return Err(SinkError(
                "the capture's trailer is already written".to_owned(),
            ));
        }
        let (lanes, totals) = self.trailer(report)?;
        self.buffer = Trailer::encode(&lanes, &totals);
        self.write("writing the capture file's trailer")?;
        self.finished = true;
        self.buffer = Vec::new();
        self.flush()
    }
}

impl<I, D> fmt::Debug for FileSink<I, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSink")
            .field("blocks", &self.blocks)
            .field("bytes", &self.bytes)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}
