//! The byte layout shared by the writer and the reader (all integers little-endian).

/// The file's first eight bytes.
pub(crate) const FILE_MAGIC: [u8; 8] = *b"ADACAPT\0";
/// The format version this crate writes and reads.
pub(crate) const VERSION: u16 = 1;
/// Every block's first four bytes.
pub(crate) const BLOCK_MAGIC: [u8; 4] = *b"RING";
/// Bytes of a block before the thread name: magic, lane, kind, name length, flags, slot,
/// generation, record count, sequence, lost events.
pub(crate) const BLOCK_FIXED: usize = 40;
/// Bytes of the file header before the layout names.
pub(crate) const HEADER_FIXED: usize = 24;
/// The largest record payload of one block the reader accepts: a bound on what a
/// corrupted count can make it allocate (far above any ring ada builds).
pub const MAX_BLOCK_BYTES: u64 = 1 << 30;

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
