//! The byte layout shared by the writer and the reader (all integers little-endian).

/// The file's first eight bytes.
pub(crate) const FILE_MAGIC: [u8; 8] = *b"ADACAPT\0";
/// The format version this crate writes.
pub(crate) const VERSION: u16 = 3;
/// The first format version with the clock record and names blocks.
pub(crate) const NAMES_VERSION: u16 = 3;
/// The oldest format version this crate reads (no loss causes, no trailer).
pub(crate) const OLDEST_VERSION: u16 = 1;
/// Every block's first four bytes.
pub(crate) const BLOCK_MAGIC: [u8; 4] = *b"RING";
/// The trailer's first four bytes.
pub(crate) const TRAILER_MAGIC: [u8; 4] = *b"TAIL";
/// The clock record's first four bytes (version 3: right after the header).
pub(crate) const CLOCK_MAGIC: [u8; 4] = *b"CLOK";
/// A names block's first four bytes (version 3).
pub(crate) const NAMES_MAGIC: [u8; 4] = *b"NAME";
/// Bytes of a version 1 block before the thread name: magic, lane, kind, name length,
/// flags, slot, generation, record count, sequence, lost events.
pub(crate) const BLOCK_FIXED_V1: usize = 40;
/// Bytes of a version 2 block before its loss causes: the version 1 fields and the
/// number of cause entries.
pub(crate) const BLOCK_FIXED: usize = 42;
/// Bytes of the trailer before its lane entries: magic, lane entries, length.
pub(crate) const TRAILER_FIXED: usize = 16;
/// Bytes of one cause entry: the cause's code and its events.
pub(crate) const CAUSE_ENTRY: usize = 10;
/// Bytes of the file header before the layout names.
pub(crate) const HEADER_FIXED: usize = 24;
/// The most cause entries one list holds (a block's, or a trailer's per lane).
pub const MAX_CAUSES: usize = 16;
/// The largest record payload of one block: the sink refuses to write more (a lane
/// whose rings hold more is refused when the drain starts the sink) and the reader
/// refuses to read more, which also bounds what a corrupted count can make it allocate.
pub const MAX_BLOCK_BYTES: u64 = 8 << 20;

/// A record type that can be stored in a capture file: plain old data with a layout
/// name that readers check before they reinterpret the bytes.
///
/// ```
/// #[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
/// #[repr(C)]
/// struct Sample {
///     timestamp: u64,
///     value: u64,
/// }
///
/// impl ada_capture::Record for Sample {
///     const LAYOUT: &'static str = "example.Sample/1";
/// }
/// ```
pub trait Record: bytemuck::Pod + Send {
    /// A name for the record's layout, changed whenever the layout changes.
    const LAYOUT: &'static str;
}

macro_rules! primitive_records {
    ($($t:ty),*) => {$(
        impl Record for $t {
            const LAYOUT: &'static str = stringify!($t);
        }
    )*};
}
primitive_records!(u8, u16, u32, u64, i8, i16, i32, i64);

/// Which lane a block's ring came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LaneId {
    /// The index lane.
    Index,
    /// The detail lane.
    Detail,
}

impl LaneId {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Self::Index => 0,
            Self::Detail => 1,
        }
    }

    pub(crate) fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Index),
            1 => Some(Self::Detail),
            _ => None,
        }
    }
}

/// How a block's records reached the drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockKind {
    /// A whole submitted ring (it has a sequence number, flags and loss count).
    Ring,
    /// Records collected in place from a ring still being written (no header: they
    /// precede that ring's later block, which holds only the records after them).
    Collected,
}

impl BlockKind {
    pub(crate) fn to_byte(self) -> u8 {
        match self {
            Self::Ring => 0,
            Self::Collected => 1,
        }
    }

    pub(crate) fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Ring),
            1 => Some(Self::Collected),
            _ => None,
        }
    }
}

/// The file header: the format version and each lane's record layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileHeader {
    /// Format version.
    pub version: u16,
    /// Index lane record size in bytes.
    pub index_record_size: u32,
    /// Detail lane record size in bytes.
    pub detail_record_size: u32,
    /// Index lane layout name ([`Record::LAYOUT`]).
    pub index_layout: String,
    /// Detail lane layout name.
    pub detail_layout: String,
}

impl FileHeader {
    /// The header for lanes of `I` and `D` records.
    #[must_use]
    pub fn of<I: Record, D: Record>() -> Self {
        Self {
            version: VERSION,
            index_record_size: size_u32::<I>(),
            detail_record_size: size_u32::<D>(),
            index_layout: I::LAYOUT.to_owned(),
            detail_layout: D::LAYOUT.to_owned(),
        }
    }

    /// The record size of `lane`.
    #[must_use]
    pub fn record_size(&self, lane: LaneId) -> u32 {
        match lane {
            LaneId::Index => self.index_record_size,
            LaneId::Detail => self.detail_record_size,
        }
    }

    /// The layout name of `lane`.
    #[must_use]
    pub fn layout(&self, lane: LaneId) -> &str {
        match lane {
            LaneId::Index => &self.index_layout,
            LaneId::Detail => &self.detail_layout,
        }
    }

    /// The header's bytes, checksum included.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let index = bounded_name(&self.index_layout).as_bytes();
        let detail = bounded_name(&self.detail_layout).as_bytes();
        let total = HEADER_FIXED + index.len() + detail.len() + 4;
        let mut bytes = Vec::with_capacity(total);
        bytes.extend_from_slice(&FILE_MAGIC);
        bytes.extend_from_slice(&self.version.to_le_bytes());
        // At most 24 + 2 × 1024 + 4 bytes: names are bounded.
        bytes.extend_from_slice(&u16::try_from(total).unwrap_or(u16::MAX).to_le_bytes());
        bytes.extend_from_slice(&self.index_record_size.to_le_bytes());
        bytes.extend_from_slice(&self.detail_record_size.to_le_bytes());
        bytes.extend_from_slice(&name_len(index).to_le_bytes());
        bytes.extend_from_slice(&name_len(detail).to_le_bytes());
        bytes.extend_from_slice(index);
        bytes.extend_from_slice(detail);
        let checksum = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        bytes
    }
}

/// `size_of::<T>()` as stored in the header (record types are far below 4 GiB).
pub(crate) fn size_u32<T>() -> u32 {
    u32::try_from(size_of::<T>()).unwrap_or(u32::MAX)
}

/// Longest layout or thread name the format stores (longer names are cut, at a
/// character boundary).
pub(crate) const MAX_NAME: usize = 1024;

/// `name` cut to at most [`MAX_NAME`] bytes at a character boundary.
pub(crate) fn bounded_name(name: &str) -> &str {
    if name.len() <= MAX_NAME {
        return name;
    }
    let mut end = MAX_NAME;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// The length of a name cut by [`bounded_name`] (at most [`MAX_NAME`], so it fits).
pub(crate) fn name_len(name: &[u8]) -> u16 {
    u16::try_from(name.len()).unwrap_or(u16::MAX)
}

/// Why events are missing before a block, or after a lane's last block: a cause of
/// loss, or flight-recorder windows discarded by design. Each has a code in the file
/// (`docs/file-format.md`); codes this reader does not know, written by a later one,
/// are kept as [`LossCause::Unknown`] and count as losses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LossCause {
    /// Submitted rings the producer took back under drop-oldest (code 1).
    DropOldest,
    /// Events the producer discarded on arrival, no ring being free (code 2).
    DropNewest,
    /// Rings the sink failed (or panicked) on (code 3).
    Sink,
    /// Flight-recorder windows recycled without a mark: discarded by design, not a
    /// loss (code 4).
    Discarded,
    /// Events a blocking lane's producer discarded on arrival after it gave up waiting
    /// for a ring: its timeout passed, or the registry shut down (code 5).
    Timeout,
    /// A code this reader does not know (6 and above): a loss whose cause a later
    /// writer names.
    Unknown(u16),
}

impl LossCause {
    /// Every cause this crate names, in code order.
    pub const KNOWN: [Self; 5] = [
        Self::DropOldest,
        Self::DropNewest,
        Self::Sink,
        Self::Discarded,
        Self::Timeout,
    ];

    /// The cause's code in the file.
    #[must_use]
    pub fn code(self) -> u16 {
        match self {
            Self::DropOldest => 1,
            Self::DropNewest => 2,
            Self::Sink => 3,
            Self::Discarded => 4,
            Self::Timeout => 5,
            Self::Unknown(code) => code,
        }
    }

    /// The cause of `code`; `None` for 0, which no cause has.
    #[must_use]
    pub fn from_code(code: u16) -> Option<Self> {
        match code {
            0 => None,
            1 => Some(Self::DropOldest),
            2 => Some(Self::DropNewest),
            3 => Some(Self::Sink),
            4 => Some(Self::Discarded),
            5 => Some(Self::Timeout),
            code => Some(Self::Unknown(code)),
        }
    }

    /// Whether the events are lost (every cause but [`Discarded`](Self::Discarded)).
    #[must_use]
    pub fn is_loss(self) -> bool {
        self != Self::Discarded
    }
}

impl std::fmt::Display for LossCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DropOldest => f.write_str("drop-oldest"),
            Self::DropNewest => f.write_str("drop-newest"),
            Self::Sink => f.write_str("sink"),
            Self::Discarded => f.write_str("discarded"),
            Self::Timeout => f.write_str("timeout"),
            Self::Unknown(code) => write!(f, "cause {code}"),
        }
    }
}

/// Events by [`LossCause`]: what a block says is missing just before it, or what a lane
/// lost after its last block. Kept in code order, each cause once, never a zero count.
///
/// ```
/// use ada_capture::{LossCause, Losses};
///
/// let mut losses = Losses::default();
/// losses.add(LossCause::Sink, 5);
/// losses.add(LossCause::DropOldest, 3);
/// losses.add(LossCause::Discarded, 64);
/// assert_eq!(losses.lost(), 8);
/// assert_eq!(losses.get(LossCause::Discarded), 64);
/// assert_eq!(losses.to_string(), "drop-oldest 3, sink 5, discarded 64");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Losses {
    entries: Vec<(LossCause, u64)>,
}

impl Losses {
    /// Adds `events` to `cause` (saturating; adding zero changes nothing).
    pub fn add(&mut self, cause: LossCause, events: u64) {
        if events == 0 {
            return;
        }
        match self
            .entries
            .binary_search_by_key(&cause.code(), |(c, _)| c.code())
        {
            Ok(at) => self.entries[at].1 = self.entries[at].1.saturating_add(events),
            Err(at) => self.entries.insert(at, (cause, events)),
        }
    }

    /// Adds every cause of `other`.
    pub fn add_all(&mut self, other: &Self) {
        for (cause, events) in other.iter() {
            self.add(cause, events);
        }
    }

    /// The events of `cause` (0 when absent).
    #[must_use]
    pub fn get(&self, cause: LossCause) -> u64 {
        self.entries
            .iter()
            .find(|(c, _)| c.code() == cause.code())
            .map_or(0, |&(_, events)| events)
    }

    /// Every cause with its events, in code order.
    pub fn iter(&self) -> impl Iterator<Item = (LossCause, u64)> + '_ {
        self.entries.iter().copied()
    }

    /// Events lost, every cause but [`LossCause::Discarded`] (saturating).
    #[must_use]
    pub fn lost(&self) -> u64 {
        self.iter()
            .filter(|(cause, _)| cause.is_loss())
            .fold(0, |sum, (_, events)| sum.saturating_add(events))
    }

    /// Whether no cause has events.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Cause entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entries' bytes: code (u16) and events (u64) each.
    pub(crate) fn encode_into(&self, bytes: &mut Vec<u8>) {
        for (cause, events) in self.iter() {
            bytes.extend_from_slice(&cause.code().to_le_bytes());
            bytes.extend_from_slice(&events.to_le_bytes());
        }
    }

    /// Reads `bytes` (whole entries) as a list: codes above zero, strictly increasing,
    /// counts above zero.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, &'static str> {
        let mut entries: Vec<(LossCause, u64)> = Vec::with_capacity(bytes.len() / CAUSE_ENTRY);
        for entry in bytes.chunks_exact(CAUSE_ENTRY) {
            let code = u16::from_le_bytes([entry[0], entry[1]]);
            let mut word = [0; 8];
            word.copy_from_slice(&entry[2..]);
            let events = u64::from_le_bytes(word);
            let cause = LossCause::from_code(code).ok_or("a loss cause of code 0")?;
            if events == 0 {
                return Err("a loss cause with no events");
            }
            if entries.last().is_some_and(|(last, _)| last.code() >= code) {
                return Err("loss causes out of code order or repeated");
            }
            entries.push((cause, events));
        }
        Ok(Self { entries })
    }
}

impl std::fmt::Display for Losses {
    /// `cause events` pairs, comma-separated; `none` when empty.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (n, (cause, events)) in self.iter().enumerate() {
            if n > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{cause} {events}")?;
        }
        Ok(())
    }
}

impl FromIterator<(LossCause, u64)> for Losses {
    fn from_iter<T: IntoIterator<Item = (LossCause, u64)>>(iter: T) -> Self {
        let mut losses = Self::default();
        for (cause, events) in iter {
            losses.add(cause, events);
        }
        losses
    }
}
