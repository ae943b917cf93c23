//! The validating reader.

use crate::clock::{self, CLOCK_LEN, Timebase};
use crate::format::{
    BLOCK_FIXED, BLOCK_FIXED_V1, BLOCK_MAGIC, BlockKind, CAUSE_ENTRY, CLOCK_MAGIC, FILE_MAGIC,
    FileHeader, HEADER_FIXED, LaneId, Losses, MAX_BLOCK_BYTES, MAX_CAUSES, NAMES_MAGIC,
    NAMES_VERSION, OLDEST_VERSION, Record, TRAILER_FIXED, TRAILER_MAGIC, VERSION,
};
use crate::names::{MAX_NAMES_BLOCK, NAMES_FIXED, Names, NamesBlockError};
use crate::reconcile::{LaneTally, Reconciliation};
use crate::trailer::{LaneKey, TRAILER_MIN, Trailer};
use ada_ring_buffer::RingFlags;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::sync::Arc;

/// What is wrong with a capture file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaptureError {
    /// Byte offset of the header or block that is wrong.
    pub offset: u64,
    /// What is wrong.
    pub kind: CaptureErrorKind,
}

/// The ways a capture file can be wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// Reading failed.
    Io(String),
    /// The file does not start with the capture magic: not a capture file.
    NotACapture,
    /// A format version this reader does not know.
    UnsupportedVersion(u16),
    /// The header's length field disagrees with its contents.
    BadHeaderLength(u16),
    /// The file ends inside a header or block: `needed` bytes were expected, `found`
    /// were there.
    Truncated {
        /// Bytes the header or block needs from its offset.
        needed: u64,
        /// Bytes present.
        found: u64,
    },
    /// A checksum does not match: the bytes were changed.
    BadChecksum {
        /// The checksum in the file.
        stored: u32,
        /// The checksum of the bytes read.
        computed: u32,
    },
    /// A block does not start with the block magic.
    BadBlockMagic,
    /// A block names a lane other than index (0) or detail (1).
    BadLane(u8),
    /// A block kind other than ring (0) or collected (1).
    BadKind(u8),
    /// Ring flags this reader does not know.
    BadFlags(u32),
    /// A layout or thread name that is not UTF-8.
    BadName,
    /// A record size of zero in the header.
    ZeroRecordSize,
    /// A block larger than [`MAX_BLOCK_BYTES`](crate::MAX_BLOCK_BYTES).
    BlockTooLarge {
        /// Bytes the block claims.
        bytes: u64,
    },
    /// A block's loss causes are malformed (the text says how): a code of 0, a cause
    /// twice or out of code order, a zero count, more than
    /// [`MAX_CAUSES`](crate::MAX_CAUSES) entries, or a `LOSS_BEFORE` flag that disagrees
    /// with the count.
    BadLossCauses(&'static str),
    /// A block's `lost events` is not the sum of its loss causes.
    LossSumMismatch {
        /// The block's `lost events`.
        stored: u64,
        /// The sum of its loss causes (discarded windows excluded).
        causes: u64,
    },
    /// A ring block whose sequence number does not follow its lane's previous one: a
    /// duplicated or reordered block.
    OutOfOrder {
        /// The block's lane.
        lane: LaneKey,
        /// The sequence number of the lane's previous ring block.
        previous: u64,
        /// This block's.
        sequence: u64,
    },
    /// The trailer is malformed (the text says how).
    BadTrailer(&'static str),
    /// The clock record (version 3, right after the header) is missing or malformed
    /// (the text says how).
    BadClock(&'static str),
    /// A names block is malformed (the text says how): its first id does not follow the
    /// names before it, it has no names, its entries do not fill it exactly, a name is
    /// over 1024 bytes, or its length is out of bounds.
    BadNames(&'static str),
    /// Bytes follow the trailer.
    DataAfterTrailer,
    /// Records asked for as a type whose layout differs from the file's.
    LayoutMismatch {
        /// The file's layout name and record size.
        file: String,
        /// The requested type's layout name and size.
        requested: String,
    },
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: ", self.offset)?;
        match &self.kind {
            CaptureErrorKind::Io(error) => write!(f, "read error: {error}"),
            CaptureErrorKind::NotACapture => f.write_str("not an ada capture file (bad magic)"),
            CaptureErrorKind::UnsupportedVersion(v) => {
                write!(
                    f,
                    "format version {v} is not supported (this reader reads \
                     {OLDEST_VERSION} to {VERSION})"
                )
            }
            CaptureErrorKind::BadHeaderLength(n) => write!(f, "header length {n} is inconsistent"),
            CaptureErrorKind::Truncated { needed, found } => {
                write!(f, "file truncated: {needed} bytes needed, {found} present")
            }
            CaptureErrorKind::BadChecksum { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x}): corrupted"
            ),
            CaptureErrorKind::BadBlockMagic => f.write_str("not a block (bad block magic)"),
            CaptureErrorKind::BadLane(lane) => write!(f, "unknown lane {lane}"),
            CaptureErrorKind::BadKind(kind) => write!(f, "unknown block kind {kind}"),
            CaptureErrorKind::BadFlags(flags) => write!(f, "unknown ring flags {flags:#x}"),
            CaptureErrorKind::BadName => f.write_str("a name is not UTF-8"),
            CaptureErrorKind::ZeroRecordSize => f.write_str("a lane's record size is zero"),
            CaptureErrorKind::BlockTooLarge { bytes } => {
                write!(f, "block of {bytes} bytes exceeds the reader's limit")
            }
            CaptureErrorKind::BadLossCauses(why) => write!(f, "bad loss causes: {why}"),
            CaptureErrorKind::LossSumMismatch { stored, causes } => write!(
                f,
                "lost events {stored} disagree with the sum of the loss causes {causes}"
            ),
            CaptureErrorKind::OutOfOrder {
                lane,
                previous,
                sequence,
            } => write!(
                f,
                "ring {sequence} of {lane} after ring {previous}: a duplicated or \
                 reordered block"
            ),
            CaptureErrorKind::BadTrailer(why) => write!(f, "bad trailer: {why}"),
            CaptureErrorKind::BadClock(why) => write!(f, "bad clock record: {why}"),
            CaptureErrorKind::BadNames(why) => write!(f, "bad names block: {why}"),
            CaptureErrorKind::DataAfterTrailer => f.write_str("data after the trailer"),
            CaptureErrorKind::LayoutMismatch { file, requested } => {
                write!(f, "records are {file}, not {requested}")
            }
        }
    }
}

impl std::error::Error for CaptureError {}

/// One ring's block, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// Byte offset of the block in the file.
    pub offset: u64,
    /// The lane the ring came from.
    pub lane: LaneId,
    /// A whole ring or an in-place collection.
    pub kind: BlockKind,
    /// The producing thread's name ("" when it had none).
    pub thread_name: String,
    /// The ring's flags (empty for a collection).
    pub flags: RingFlags,
    /// Registry slot of the producing thread.
    pub slot: u32,
    /// The slot's generation (one per registration).
    pub generation: u32,
    /// The ring's sequence number in its lane (0 for a collection).
    pub sequence: u64,
    /// Events lost just before this block, every cause (in version 1 files, events
    /// lost before a ring, 0 for a collection).
    pub lost_events: u64,
    /// Why events are missing just before this block: the lost events by cause, and
    /// the flight-recorder windows discarded since the lane's previous block. `None` in
    /// version 1 files, whose blocks carry a count without causes.
    pub losses: Option<Losses>,
    /// Records in the block.
    pub record_count: u32,
    layout: Arc<str>,
    record_size: u32,
    data: Vec<u8>,
}

impl Block {
    /// The layout name of the block's lane (from the file header).
    #[must_use]
    pub fn layout(&self) -> &str {
        &self.layout
    }

    /// Bytes per record of the block's lane (from the file header).
    #[must_use]
    pub fn record_size(&self) -> u32 {
        self.record_size
    }

    /// Whether the records are `T`s (same layout name and size).
    #[must_use]
    pub fn holds<T: Record>(&self) -> bool {
        T::LAYOUT == &*self.layout && size_of::<T>() == self.record_size as usize
    }

    /// The records' bytes, as written.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The records as `T`.
    ///
    /// # Errors
    /// [`CaptureErrorKind::LayoutMismatch`] when `T`'s layout name or size differs from
    /// the file's for this lane.
    pub fn records<T: Record>(&self) -> Result<Vec<T>, CaptureError> {
        if !self.holds::<T>() {
            return Err(CaptureError {
                offset: self.offset,
                kind: CaptureErrorKind::LayoutMismatch {
                    file: format!("{} ({} bytes)", self.layout, self.record_size),
                    requested: format!("{} ({} bytes)", T::LAYOUT, size_of::<T>()),
                },
            });
        }
        Ok(bytemuck::pod_collect_to_vec(&self.data))
    }
}

/// Reads a capture file block by block, then its trailer.
///
/// While it reads, it checks each lane's ring order (sequence numbers strictly increase
/// per registration and lane: a duplicated or reordered block is a
/// [`CaptureErrorKind::OutOfOrder`]) and counts what each lane's blocks hold
/// ([`lanes`](Self::lanes)); once [`next_block`](Self::next_block) has returned `None`,
/// [`trailer`](Self::trailer) is the trailer, if the file has one, and
/// [`reconcile`](Self::reconcile) checks the counts against it.
///
/// Format version 3 adds what the records' ids and ticks need: the clock record, read
/// with the header ([`timebase`](Self::timebase)), and names blocks, read as they come
/// between the ring blocks ([`names`](Self::names): after a block, every name its records
/// can use is there).
pub struct CaptureReader<R> {
    input: R,
    header: FileHeader,
    timebase: Timebase,
    names: Names,
    layouts: [Arc<str>; 2],
    position: u64,
    lanes: BTreeMap<LaneKey, LaneTally>,
    trailer: Option<Trailer>,
    ended: bool,
}

impl CaptureReader<BufReader<File>> {
    /// Opens `path` and reads its header.
    ///
    /// # Errors
    /// The file cannot be opened, or its header is invalid.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CaptureError> {
        let file = File::open(path).map_err(|error| CaptureError {
            offset: 0,
            kind: CaptureErrorKind::Io(error.to_string()),
        })?;
        Self::new(BufReader::new(file))
    }
}

impl<R: Read> CaptureReader<R> {
    /// Reads and validates the file header from `input`.
    ///
    /// # Errors
    /// A [`CaptureError`] at offset 0 saying what is wrong with the header.
    pub fn new(mut input: R) -> Result<Self, CaptureError> {
        let error = |kind| CaptureError { offset: 0, kind };
        let fixed = read_up_to(&mut input, HEADER_FIXED as u64, 0)?;
        // A short file that is not even a prefix of the magic is foreign, not truncated.
        let magic = fixed.len().min(FILE_MAGIC.len());
        if fixed.is_empty() || fixed[..magic] != FILE_MAGIC[..magic] {
            return Err(error(CaptureErrorKind::NotACapture));
        }
        if fixed.len() < HEADER_FIXED {
            return Err(error(CaptureErrorKind::Truncated {
                needed: HEADER_FIXED as u64,
                found: fixed.len() as u64,
            }));
        }
        let version = u16_at(&fixed, 8);
        if !(OLDEST_VERSION..=VERSION).contains(&version) {
            return Err(error(CaptureErrorKind::UnsupportedVersion(version)));
        }
        let length = u16_at(&fixed, 10);
        let index_record_size = u32_at(&fixed, 12);
        let detail_record_size = u32_at(&fixed, 16);
        let index_len = usize::from(u16_at(&fixed, 20));
        let detail_len = usize::from(u16_at(&fixed, 22));
        if usize::from(length) != HEADER_FIXED + index_len + detail_len + 4 {
            return Err(error(CaptureErrorKind::BadHeaderLength(length)));
        }
        let rest = read_exact(&mut input, (index_len + detail_len + 4) as u64, 0)?;
        let names_end = index_len + detail_len;
        let stored = u32_at(&rest, names_end);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&fixed);
        hasher.update(&rest[..names_end]);
        let computed = hasher.finalize();
        if stored != computed {
            return Err(error(CaptureErrorKind::BadChecksum { stored, computed }));
        }
        if index_record_size == 0 || detail_record_size == 0 {
            return Err(error(CaptureErrorKind::ZeroRecordSize));
        }
        let name = |bytes: &[u8]| {
            std::str::from_utf8(bytes)
                .map(str::to_owned)
                .map_err(|_| error(CaptureErrorKind::BadName))
        };
        let header = FileHeader {
            version,
            index_record_size,
            detail_record_size,
            index_layout: name(&rest[..index_len])?,
            detail_layout: name(&rest[index_len..names_end])?,
        };
        let layouts = [
            Arc::from(header.index_layout.as_str()),
            Arc::from(header.detail_layout.as_str()),
        ];
        let mut position = u64::from(length);
        let timebase = if version >= NAMES_VERSION {
            let calibration = read_clock(&mut input, position)?;
            position += CLOCK_LEN as u64;
            Timebase::Ticks(calibration)
        } else {
            Timebase::Nanoseconds
        };
        Ok(Self {
            input,
            header,
            timebase,
            names: Names::default(),
            layouts,
            position,
            lanes: BTreeMap::new(),
            trailer: None,
            ended: false,
        })
    }

    /// The file header.
    #[must_use]
    pub fn header(&self) -> &FileHeader {
        &self.header
    }

    /// How the records' timestamps read: ticks with the writer's calibration (version
    /// 3), nanoseconds (versions 1 and 2).
    #[must_use]
    pub fn timebase(&self) -> Timebase {
        self.timebase
    }

    /// The names read so far (version 3; empty before): after
    /// [`next_block`](Self::next_block) returned a block, every name its records can use.
    #[must_use]
    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Bytes read and checked so far: the offset of the next block (after the end, the
    /// file's length).
    #[must_use]
    pub fn position(&self) -> u64 {
        self.position
    }

    /// What each lane's blocks read so far hold, by registration and lane.
    #[must_use]
    pub fn lanes(&self) -> &BTreeMap<LaneKey, LaneTally> {
        &self.lanes
    }

    /// The trailer, once [`next_block`](Self::next_block) has read it (`None` before,
    /// in version 1 files, and in files whose writer did not finish).
    #[must_use]
    pub fn trailer(&self) -> Option<&Trailer> {
        self.trailer.as_ref()
    }

    /// Every lane's blocks checked against the trailer: records in the file =
    /// delivered, per cause announced + lost after the last block = dropped, and the
    /// same for discarded windows. `None` without a trailer.
    #[must_use]
    pub fn reconcile(&self) -> Option<Reconciliation> {
        self.trailer
            .as_ref()
            .map(|trailer| Reconciliation::new(&self.lanes, trailer))
    }

    /// The next block, or `None` at the end of the file (after the trailer, if any).
    /// Names blocks on the way are read into [`names`](Self::names).
    ///
    /// # Errors
    /// A [`CaptureError`] naming the block's offset. After an error the reader's
    /// position is undefined: stop reading.
    pub fn next_block(&mut self) -> Result<Option<Block>, CaptureError> {
        loop {
            match self.step()? {
                Step::Block(block) => return Ok(Some(block)),
                Step::Names => {}
                Step::End => return Ok(None),
            }
        }
    }

    /// Reads the next ring block, names block or trailer.
    fn step(&mut self) -> Result<Step, CaptureError> {
        if self.ended {
            return Ok(Step::End);
        }
        let offset = self.position;
        let error = |kind| CaptureError { offset, kind };
        let v1 = self.header.version == OLDEST_VERSION;
        let fixed_len = if v1 { BLOCK_FIXED_V1 } else { BLOCK_FIXED };
        let magic = read_up_to(&mut self.input, 4, offset)?;
        if magic.is_empty() {
            self.ended = true;
            return Ok(Step::End);
        }
        if magic.len() < 4 {
            return Err(error(CaptureErrorKind::Truncated {
                needed: fixed_len as u64,
                found: magic.len() as u64,
            }));
        }
        if !v1 && magic[..] == TRAILER_MAGIC {
            self.read_trailer(offset)?;
            return Ok(Step::End);
        }
        if self.header.version >= NAMES_VERSION && magic[..] == NAMES_MAGIC {
            self.read_names(offset)?;
            return Ok(Step::Names);
        }
        if magic[..] != BLOCK_MAGIC {
            return Err(error(CaptureErrorKind::BadBlockMagic));
        }
        let mut first = magic;
        first.extend(read_up_to(&mut self.input, fixed_len as u64 - 4, offset)?);
        if first.len() < fixed_len {
            return Err(error(CaptureErrorKind::Truncated {
                needed: fixed_len as u64,
                found: first.len() as u64,
            }));
        }
        let lane = LaneId::from_byte(first[4]).ok_or(error(CaptureErrorKind::BadLane(first[4])))?;
        let kind =
            BlockKind::from_byte(first[5]).ok_or(error(CaptureErrorKind::BadKind(first[5])))?;
        let name_len = u64::from(u16_at(&first, 6));
        let flag_bits = u32_at(&first, 8);
        let flags =
            RingFlags::from_bits(flag_bits).ok_or(error(CaptureErrorKind::BadFlags(flag_bits)))?;
        let slot = u32_at(&first, 12);
        let generation = u32_at(&first, 16);
        let record_count = u32_at(&first, 20);
        let sequence = u64_at(&first, 24);
        let lost_events = u64_at(&first, 32);
        let causes = if v1 {
            0
        } else {
            usize::from(u16_at(&first, 40))
        };
        if causes > MAX_CAUSES {
            return Err(error(CaptureErrorKind::BadLossCauses(
                "more than 16 cause entries",
            )));
        }
        let record_size = self.header.record_size(lane);
        let payload = u64::from(record_count) * u64::from(record_size);
        if payload > MAX_BLOCK_BYTES {
            return Err(error(CaptureErrorKind::BlockTooLarge { bytes: payload }));
        }
        let causes_len = (causes * CAUSE_ENTRY) as u64;
        let rest_len = causes_len + name_len + payload + 4;
        let rest = read_up_to(&mut self.input, rest_len, offset)?;
        if (rest.len() as u64) < rest_len {
            return Err(error(CaptureErrorKind::Truncated {
                needed: fixed_len as u64 + rest_len,
                found: (fixed_len + rest.len()) as u64,
            }));
        }
        let body_end = rest.len() - 4;
        let stored = u32_at(&rest, body_end);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&first);
        hasher.update(&rest[..body_end]);
        let computed = hasher.finalize();
        if stored != computed {
            return Err(error(CaptureErrorKind::BadChecksum { stored, computed }));
        }
        #[allow(clippy::cast_possible_truncation)] // at most 16 entries of 10 bytes
        let causes_end = causes_len as usize;
        let losses = if v1 {
            None
        } else {
            let losses = Losses::decode(&rest[..causes_end])
                .map_err(|why| error(CaptureErrorKind::BadLossCauses(why)))?;
            if losses.lost() != lost_events {
                return Err(error(CaptureErrorKind::LossSumMismatch {
                    stored: lost_events,
                    causes: losses.lost(),
                }));
            }
            if flags.contains(RingFlags::LOSS_BEFORE) != (lost_events > 0) {
                return Err(error(CaptureErrorKind::BadLossCauses(
                    "the LOSS_BEFORE flag disagrees with the lost events",
                )));
            }
            Some(losses)
        };
        #[allow(clippy::cast_possible_truncation)] // at most u16::MAX
        let name_end = causes_end + name_len as usize;
        let thread_name = std::str::from_utf8(&rest[causes_end..name_end])
            .map_err(|_| error(CaptureErrorKind::BadName))?
            .to_owned();
        let key = LaneKey {
            slot,
            generation,
            lane,
        };
        let tally = self.lanes.entry(key).or_default();
        if kind == BlockKind::Ring
            && let Some(previous) = tally.last_sequence
            && sequence <= previous
        {
            return Err(error(CaptureErrorKind::OutOfOrder {
                lane: key,
                previous,
                sequence,
            }));
        }
        let mut data = rest;
        data.truncate(body_end);
        data.drain(..name_end);
        self.position += fixed_len as u64 + rest_len;
        let block = Block {
            offset,
            lane,
            kind,
            thread_name,
            flags,
            slot,
            generation,
            sequence,
            lost_events,
            losses,
            record_count,
            layout: Arc::clone(&self.layouts[usize::from(lane.to_byte())]),
            record_size,
            data,
        };
        tally.count(&block);
        Ok(Step::Block(block))
    }

    /// Reads the names block at `offset` (its magic already read) into the table.
    fn read_names(&mut self, offset: u64) -> Result<(), CaptureError> {
        let error = |kind| CaptureError { offset, kind };
        let fixed = read_up_to(&mut self.input, NAMES_FIXED as u64 - 4, offset)?;
        if fixed.len() < NAMES_FIXED - 4 {
            return Err(error(CaptureErrorKind::Truncated {
                needed: NAMES_FIXED as u64,
                found: 4 + fixed.len() as u64,
            }));
        }
        let first = u32_at(&fixed, 0);
        let count = u32_at(&fixed, 4);
        let length = u64::from(u32_at(&fixed, 8));
        if length < (NAMES_FIXED + 4) as u64 || length > MAX_NAMES_BLOCK as u64 {
            return Err(error(CaptureErrorKind::BadNames(
                "a length out of bounds (20 bytes to 1 MiB)",
            )));
        }
        let rest_len = length - NAMES_FIXED as u64;
        let rest = read_up_to(&mut self.input, rest_len, offset)?;
        if (rest.len() as u64) < rest_len {
            return Err(error(CaptureErrorKind::Truncated {
                needed: length,
                found: (NAMES_FIXED + rest.len()) as u64,
            }));
        }
        let body_end = rest.len() - 4;
        let stored = u32_at(&rest, body_end);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&NAMES_MAGIC);
        hasher.update(&fixed);
        hasher.update(&rest[..body_end]);
        let computed = hasher.finalize();
        if stored != computed {
            return Err(error(CaptureErrorKind::BadChecksum { stored, computed }));
        }
        self.names
            .extend_from_block(first, count, &rest[..body_end])
            .map_err(|why| {
                error(match why {
                    NamesBlockError::Malformed(why) => CaptureErrorKind::BadNames(why),
                    NamesBlockError::NotUtf8 => CaptureErrorKind::BadName,
                })
            })?;
        self.position = offset + length;
        Ok(())
    }

    /// Reads the trailer at `offset` (its magic already read), then checks that nothing
    /// follows it.
    fn read_trailer(&mut self, offset: u64) -> Result<(), CaptureError> {
        let error = |kind| CaptureError { offset, kind };
        let fixed = read_up_to(&mut self.input, TRAILER_FIXED as u64 - 4, offset)?;
        if fixed.len() < TRAILER_FIXED - 4 {
            return Err(error(CaptureErrorKind::Truncated {
                needed: TRAILER_FIXED as u64,
                found: 4 + fixed.len() as u64,
            }));
        }
        let lanes = u32_at(&fixed, 0);
        let length = u64_at(&fixed, 4);
        if length < TRAILER_MIN {
            return Err(error(CaptureErrorKind::BadTrailer(
                "a length shorter than the smallest trailer",
            )));
        }
        let rest_len = length - TRAILER_FIXED as u64;
        let rest = read_up_to(&mut self.input, rest_len, offset)?;
        if (rest.len() as u64) < rest_len {
            return Err(error(CaptureErrorKind::Truncated {
                needed: length,
                found: (TRAILER_FIXED + rest.len()) as u64,
            }));
        }
        let body_end = rest.len() - 4;
        let stored = u32_at(&rest, body_end);
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&TRAILER_MAGIC);
        hasher.update(&fixed);
        hasher.update(&rest[..body_end]);
        let computed = hasher.finalize();
        if stored != computed {
            return Err(error(CaptureErrorKind::BadChecksum { stored, computed }));
        }
        let trailer = Trailer::decode(offset, lanes, &rest[..body_end])
            .map_err(|why| error(CaptureErrorKind::BadTrailer(why)))?;
        let end = offset + length;
        if !read_up_to(&mut self.input, 1, end)?.is_empty() {
            return Err(CaptureError {
                offset: end,
                kind: CaptureErrorKind::DataAfterTrailer,
            });
        }
        self.position = end;
        self.trailer = Some(trailer);
        self.ended = true;
        Ok(())
    }
}

/// What [`CaptureReader::step`] read.
enum Step {
    Block(Block),
    Names,
    End,
}

/// Reads and checks the clock record at `offset` (right after a version 3 header).
fn read_clock(input: &mut impl Read, offset: u64) -> Result<ada_clock::Calibration, CaptureError> {
    let error = |kind| CaptureError { offset, kind };
    let bytes = read_exact(input, CLOCK_LEN as u64, offset)?;
    if bytes[..4] != CLOCK_MAGIC {
        return Err(error(CaptureErrorKind::BadClock(
            "no clock record after the header",
        )));
    }
    let stored = u32_at(&bytes, CLOCK_LEN - 4);
    let computed = crc32fast::hash(&bytes[..CLOCK_LEN - 4]);
    if stored != computed {
        return Err(error(CaptureErrorKind::BadChecksum { stored, computed }));
    }
    let mut record = [0; CLOCK_LEN];
    record.copy_from_slice(&bytes);
    clock::decode(&record).map_err(|why| error(CaptureErrorKind::BadClock(why)))
}

impl LaneTally {
    /// Counts `block`, the lane's next (its order already checked).
    fn count(&mut self, block: &Block) {
        if self.rings == 0 && self.collections == 0 {
            self.thread_name.clone_from(&block.thread_name);
        }
        self.records += u64::from(block.record_count);
        self.lost_events = self.lost_events.saturating_add(block.lost_events);
        if let Some(losses) = &block.losses {
            self.causes.add_all(losses);
        }
        match block.kind {
            BlockKind::Collected => self.collections += 1,
            BlockKind::Ring => {
                self.rings += 1;
                if let Some(previous) = self.last_sequence {
                    self.rings_missing += block.sequence - previous - 1;
                }
                self.last_sequence = Some(block.sequence);
                self.marked += u64::from(block.flags.contains(RingFlags::MARKED));
            }
        }
    }
}

impl<R> fmt::Debug for CaptureReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CaptureReader")
            .field("header", &self.header)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

/// Up to `n` bytes (fewer only at the end of the input). The buffer grows with the data
/// actually read, so a corrupted length cannot make it allocate more than is there.
fn read_up_to(input: &mut impl Read, n: u64, offset: u64) -> Result<Vec<u8>, CaptureError> {
    let mut bytes = Vec::new();
    input
        .take(n)
        .read_to_end(&mut bytes)
        .map_err(|error| CaptureError {
            offset,
            kind: CaptureErrorKind::Io(error.to_string()),
        })?;
    Ok(bytes)
}

/// Exactly `n` bytes, or [`CaptureErrorKind::Truncated`].
fn read_exact(input: &mut impl Read, n: u64, offset: u64) -> Result<Vec<u8>, CaptureError> {
    let bytes = read_up_to(input, n, offset)?;
    if (bytes.len() as u64) < n {
        return Err(CaptureError {
            offset,
            kind: CaptureErrorKind::Truncated {
                needed: n,
                found: bytes.len() as u64,
            },
        });
    }
    Ok(bytes)
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}
