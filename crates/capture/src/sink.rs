//! The writer: one checksummed block per delivered ring, one `write` per block.

use crate::format::{BLOCK_MAGIC, BlockKind, FileHeader, LaneId, Record, bounded_name, name_len};
use ada_drain::{Delivery, Sink, SinkError};
use ada_ring_buffer::RingHeader;
use std::fs::File;
use std::io::Write;
use std::marker::PhantomData;
use std::path::Path;

/// A [`Sink`] that appends every delivered ring to a capture file.
///
/// Each ring becomes one block written with a single `write_all` of a buffer reused
/// from ring to ring, so the drain pays one system call per ring, not per record. A
/// write error is returned to the drain, which counts the ring's records as lost to the
/// sink; the file then ends at the last whole block or with a truncated one, which the
/// reader reports with its offset.
pub struct FileSink<I, D> {
    file: File,
    buffer: Vec<u8>,
    blocks: u64,
    bytes: u64,
    _records: PhantomData<fn(I, D)>,
}

impl<I: Record, D: Record> FileSink<I, D> {
    /// Creates (or truncates) `path` and writes the file header.
    ///
    /// # Errors
    /// The file could not be created or written.
    pub fn create(path: impl AsRef<Path>) -> std::io::Result<Self> {
        Self::new(File::create(path)?)
    }

    /// Writes the file header to `file` and appends blocks after it.
    ///
    /// # Errors
    /// The header could not be written.
    pub fn new(mut file: File) -> std::io::Result<Self> {
        let header = FileHeader::of::<I, D>().encode();
        file.write_all(&header)?;
        Ok(Self {
            file,
            buffer: Vec::new(),
            blocks: 0,
            bytes: header.len() as u64,
            _records: PhantomData,
        })
    }

    /// Blocks written so far.
    #[must_use]
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// Bytes written so far, header included.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    fn append<T: Record>(
        &mut self,
        lane: LaneId,
        delivery: &Delivery<'_, T>,
    ) -> Result<(), SinkError> {
        let name = bounded_name(delivery.origin.thread_name.unwrap_or("")).as_bytes();
        let records: &[u8] = bytemuck::cast_slice(delivery.records);
        let count = u32::try_from(delivery.records.len())
            .map_err(|_| SinkError("a ring of more than 2^32 records".to_owned()))?;
        let (kind, header) = match delivery.header {
            Some(header) => (BlockKind::Ring, header),
            None => (BlockKind::Collected, RingHeader::default()),
        };
        let slot = u32::try_from(delivery.origin.slot)
            .map_err(|_| SinkError("a slot index above 2^32".to_owned()))?;
        let buffer = &mut self.buffer;
        buffer.clear();
        buffer.extend_from_slice(&BLOCK_MAGIC);
        buffer.push(lane.to_byte());
        buffer.push(kind.to_byte());
        buffer.extend_from_slice(&name_len(name).to_le_bytes());
        buffer.extend_from_slice(&header.flags.bits().to_le_bytes());
        buffer.extend_from_slice(&slot.to_le_bytes());
        buffer.extend_from_slice(&delivery.origin.generation.to_le_bytes());
        buffer.extend_from_slice(&count.to_le_bytes());
        buffer.extend_from_slice(&header.sequence.to_le_bytes());
        buffer.extend_from_slice(&header.lost_events.to_le_bytes());
        buffer.extend_from_slice(name);
        buffer.extend_from_slice(records);
        let checksum = crc32fast::hash(buffer);
        buffer.extend_from_slice(&checksum.to_le_bytes());
        self.file
            .write_all(buffer)
            .map_err(|error| SinkError(format!("writing the capture file: {error}")))?;
        self.blocks += 1;
        self.bytes += buffer.len() as u64;
        Ok(())
    }
}

impl<I: Record, D: Record> Sink<I, D> for FileSink<I, D> {
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
}

impl<I, D> std::fmt::Debug for FileSink<I, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink")
            .field("blocks", &self.blocks)
            .field("bytes", &self.bytes)
            .finish_non_exhaustive()
    }
}
