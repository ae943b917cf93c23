//! Names blocks (format version 3): the writer's name table, each name once, before the
//! first block that can use it; and [`Names`], the table a reader rebuilds from them.

use crate::format::{MAX_NAME, NAMES_MAGIC, name_len};
use std::fmt;

/// Bytes of a names block before its entries: magic, first id, count, length.
pub(crate) const NAMES_FIXED: usize = 16;
/// The most bytes of one names block; the writer splits a longer list, the reader
/// refuses a longer block (so a corrupted length cannot make it allocate more).
pub(crate) const MAX_NAMES_BLOCK: usize = 1 << 20;

// The writer's names must fit the format's bound on a name.
const _: () = assert!(ada_names::MAX_LEN <= MAX_NAME);

/// The name table of a capture (format version 3): the names of ids `1..=len()`, as
/// the names blocks read so far gave them. Version 1 and 2 captures have none.
///
/// ```
/// use ada_capture::{Label, Names};
///
/// let names = Names::from_names(["parse", "db"]);
/// assert_eq!(names.get(1), Some("parse"));
/// assert_eq!(names.label(2), Label::Name("db"));
/// assert_eq!(names.label(0), Label::None);
/// assert_eq!(names.label(9).to_string(), "#9", "an id the table lacks");
/// assert!(names.label(9).is_unknown());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    names: Vec<String>,
}

/// What a record's name id stands for, to show it: the name, nothing (id 0), or an id
/// the capture's table lacks (shown `#<id>`: readers count these as warnings, never
/// show another name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label<'a> {
    /// Id 0: no name.
    None,
    /// The name.
    Name(&'a str),
    /// An id the table does not have.
    Unknown(u32),
}

impl Label<'_> {
    /// Whether the id is missing from the table (a reader warning).
    #[must_use]
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }
}

impl fmt::Display for Label<'_> {
    /// The name, `#<id>` for an unknown id, nothing for id 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => Ok(()),
            Self::Name(name) => f.write_str(name),
            Self::Unknown(id) => write!(f, "#{id}"),
        }
    }
}

impl Names {
    /// A table of `names`, ids from 1 in order (for tests and tools).
    #[must_use]
    pub fn from_names<S: Into<String>>(names: impl IntoIterator<Item = S>) -> Self {
        Self {
            names: names.into_iter().map(Into::into).collect(),
        }
    }

    /// The name of `id`; `None` for 0 and ids the table lacks.
    #[must_use]
    pub fn get(&self, id: u32) -> Option<&str> {
        let index = usize::try_from(id).ok()?.checked_sub(1)?;
        self.names.get(index).map(String::as_str)
    }

    /// How `id` shows: [`Label::Name`], [`Label::None`] for 0, [`Label::Unknown`].
    #[must_use]
    pub fn label(&self, id: u32) -> Label<'_> {
        match (id, self.get(id)) {
            (0, _) => Label::None,
            (_, Some(name)) => Label::Name(name),
            (_, None) => Label::Unknown(id),
        }
    }

    /// Names in the table: ids `1..=len()`.
    #[must_use]
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the table is empty (always, for versions 1 and 2).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Every (id, name), in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        self.names
            .iter()
            .enumerate()
            .map(|(index, name)| (u32::try_from(index + 1).unwrap_or(u32::MAX), name.as_str()))
    }

    /// The id the next names block must start at.
    pub(crate) fn next_id(&self) -> u64 {
        self.names.len() as u64 + 1
    }

    /// Reads a names block's entries (its checksum checked): `count` names that follow
    /// the table's last, each a length and UTF-8 bytes filling `entries` exactly.
    pub(crate) fn extend_from_block(
        &mut self,
        first: u32,
        count: u32,
        entries: &[u8],
    ) -> Result<(), NamesBlockError> {
        if u64::from(first) != self.next_id() {
            return Err(NamesBlockError::Malformed(
                "the first id does not follow the names before it",
            ));
        }
        if count == 0 {
            return Err(NamesBlockError::Malformed("no names"));
        }
        if u64::from(first) + u64::from(count) - 1 > u64::from(u32::MAX) {
            return Err(NamesBlockError::Malformed("ids beyond 2^32"));
        }
        let mut rest = entries;
        let mut names = Vec::new();
        for _ in 0..count {
            let Some((len, tail)) = rest.split_first_chunk::<2>() else {
                return Err(NamesBlockError::Malformed("entries shorter than the count"));
            };
            let len = usize::from(u16::from_le_bytes(*len));
            if len > MAX_NAME {
                return Err(NamesBlockError::Malformed("a name over 1024 bytes"));
            }
            let Some((name, tail)) = tail.split_at_checked(len) else {
                return Err(NamesBlockError::Malformed("entries shorter than the count"));
            };
            names.push(
                std::str::from_utf8(name)
                    .map_err(|_| NamesBlockError::NotUtf8)?
                    .to_owned(),
            );
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(NamesBlockError::Malformed("bytes after the last name"));
        }
        self.names.extend(names);
        Ok(())
    }
}

/// Why a names block's entries do not read.
#[derive(Debug)]
pub(crate) enum NamesBlockError {
    Malformed(&'static str),
    NotUtf8,
}

/// Appends to `buffer` the names blocks for `names` (ids from `first`, consecutive),
/// each at most [`MAX_NAMES_BLOCK`] bytes.
pub(crate) fn encode_blocks(first: u32, names: &[&str], buffer: &mut Vec<u8>) {
    let mut id = first;
    let mut rest = names;
    while !rest.is_empty() {
        let start = buffer.len();
        let mut bytes = NAMES_FIXED + 4;
        let count = rest
            .iter()
            .take_while(|name| {
                bytes += 2 + name.len().min(MAX_NAME);
                bytes <= MAX_NAMES_BLOCK
            })
            .count()
            .max(1);
        let (block, tail) = rest.split_at(count);
        // At most MAX_NAMES_BLOCK / 2 names.
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        buffer.extend_from_slice(&NAMES_MAGIC);
        buffer.extend_from_slice(&id.to_le_bytes());
        buffer.extend_from_slice(&count.to_le_bytes());
        let length_at = buffer.len();
        buffer.extend_from_slice(&[0; 4]);
        for name in block {
            let name = crate::format::bounded_name(name).as_bytes();
            buffer.extend_from_slice(&name_len(name).to_le_bytes());
            buffer.extend_from_slice(name);
        }
        // At most MAX_NAMES_BLOCK bytes.
        let length = u32::try_from(buffer.len() - start + 4).unwrap_or(u32::MAX);
        buffer[length_at..length_at + 4].copy_from_slice(&length.to_le_bytes());
        let checksum = crc32fast::hash(&buffer[start..]);
        buffer.extend_from_slice(&checksum.to_le_bytes());
        id = id.saturating_add(count);
        rest = tail;
    }
}
