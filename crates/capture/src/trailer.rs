//! The trailer: the record [`FileSink`](crate::FileSink) writes once at shutdown, after
//! the last block, with every lane's final counters and the totals (format version 2).

use crate::format::{
    CAUSE_ENTRY, LaneId, LossCause, Losses, MAX_CAUSES, TRAILER_FIXED, TRAILER_MAGIC, bounded_name,
    name_len,
};
use std::collections::BTreeSet;

/// Bytes of a counters entry before its two cause lists: written, delivered,
/// discarded, in flight, discarded after the last block, and the two lists' lengths.
pub(crate) const COUNTERS_FIXED: usize = 44;
/// Bytes of a lane entry before the thread name: slot, generation, lane, retired, name
/// length.
pub(crate) const LANE_FIXED: usize = 12;
/// The smallest trailer: the fixed part, the totals with empty lists, the checksum.
pub(crate) const TRAILER_MIN: u64 = (TRAILER_FIXED + COUNTERS_FIXED + 4) as u64;

/// One registration's lane, as the blocks and the trailer name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LaneKey {
    /// Registry slot of the producing thread.
    pub slot: u32,
    /// The slot's generation (one per registration).
    pub generation: u32,
    /// The lane.
    pub lane: LaneId,
}

impl std::fmt::Display for LaneKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lane = match self.lane {
            LaneId::Index => "index",
            LaneId::Detail => "detail",
        };
        write!(f, "slot {} gen {} {lane} lane", self.slot, self.generation)
    }
}

/// A lane's final counters as the drain reported them at shutdown, and what the sink
/// says was lost after the lane's last block (the losses no block announces).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneCounters {
    /// Events the producer committed.
    pub written: u64,
    /// Events the drain delivered (the records the lane's blocks hold).
    pub delivered: u64,
    /// Events lost, by cause (never [`LossCause::Discarded`]).
    pub dropped: Losses,
    /// Events in flight-recorder windows recycled without a mark.
    pub discarded: u64,
    /// Events neither delivered, lost nor discarded when the drain stopped.
    pub in_flight: u64,
    /// Of `dropped`, the events no block announces: lost after the lane's last block.
    pub lost_after: Losses,
    /// Of `discarded`, the events no block announces.
    pub discarded_after: u64,
}

impl LaneCounters {
    fn encode_into(&self, bytes: &mut Vec<u8>) {
        for word in [
            self.written,
            self.delivered,
            self.discarded,
            self.in_flight,
            self.discarded_after,
        ] {
            bytes.extend_from_slice(&word.to_le_bytes());
        }
        for list in [&self.dropped, &self.lost_after] {
            // At most the causes this crate names: far below `MAX_CAUSES`.
            bytes.extend_from_slice(&u16::try_from(list.len()).unwrap_or(0).to_le_bytes());
        }
        self.dropped.encode_into(bytes);
        self.lost_after.encode_into(bytes);
    }

    fn decode(cursor: &mut Cursor<'_>) -> Result<Self, &'static str> {
        let fixed = cursor.take(COUNTERS_FIXED)?;
        let word = |at: usize| {
            let mut bytes = [0; 8];
            bytes.copy_from_slice(&fixed[at..at + 8]);
            u64::from_le_bytes(bytes)
        };
        let dropped_len = usize::from(u16::from_le_bytes([fixed[40], fixed[41]]));
        let after_len = usize::from(u16::from_le_bytes([fixed[42], fixed[43]]));
        if dropped_len > MAX_CAUSES || after_len > MAX_CAUSES {
            return Err("a cause list longer than 16 entries");
        }
        let dropped = Losses::decode(cursor.take(dropped_len * CAUSE_ENTRY)?)?;
        let lost_after = Losses::decode(cursor.take(after_len * CAUSE_ENTRY)?)?;
        if dropped.get(LossCause::Discarded) > 0 || lost_after.get(LossCause::Discarded) > 0 {
            return Err("discarded events listed as dropped");
        }
        Ok(Self {
            written: word(0),
            delivered: word(8),
            discarded: word(16),
            in_flight: word(24),
            discarded_after: word(32),
            dropped,
            lost_after,
        })
    }
}

/// One lane's entry in the trailer: its registration and its final counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneFinal {
    /// The registration and lane.
    pub key: LaneKey,
    /// The thread's name ("" when it had none).
    pub thread_name: String,
    /// Whether the thread had exited (its slot released) when the drain stopped.
    pub retired: bool,
    /// The final counters.
    pub counters: LaneCounters,
}

/// The trailer: every lane's final counters (lanes that wrote nothing are left out) and
/// the totals, as the drain reported them when it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trailer {
    /// Byte offset of the trailer in the file.
    pub offset: u64,
    /// Every lane that wrote something, in (slot, generation, lane) order.
    pub lanes: Vec<LaneFinal>,
    /// The sum over every thread and lane, as the report gave it.
    pub totals: LaneCounters,
}

impl Trailer {
    /// The trailer's bytes, checksum included.
    pub(crate) fn encode(lanes: &[LaneFinal], totals: &LaneCounters) -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&TRAILER_MAGIC);
        bytes.extend_from_slice(&u32::try_from(lanes.len()).unwrap_or(u32::MAX).to_le_bytes());
        bytes.extend_from_slice(&0_u64.to_le_bytes()); // the length, set below
        for lane in lanes {
            let name = bounded_name(&lane.thread_name).as_bytes();
            bytes.extend_from_slice(&lane.key.slot.to_le_bytes());
            bytes.extend_from_slice(&lane.key.generation.to_le_bytes());
            bytes.push(lane.key.lane.to_byte());
            bytes.push(u8::from(lane.retired));
            bytes.extend_from_slice(&name_len(name).to_le_bytes());
            bytes.extend_from_slice(name);
            lane.counters.encode_into(&mut bytes);
        }
        totals.encode_into(&mut bytes);
        let length = bytes.len() as u64 + 4;
        bytes[8..16].copy_from_slice(&length.to_le_bytes());
        let checksum = crc32fast::hash(&bytes);
        bytes.extend_from_slice(&checksum.to_le_bytes());
        bytes
    }

    /// The lane entries and totals of `body` (the bytes after the fixed part, before
    /// the checksum), which must hold exactly `lanes` entries and the totals.
    pub(crate) fn decode(offset: u64, lanes: u32, body: &[u8]) -> Result<Self, &'static str> {
        let mut cursor = Cursor { bytes: body };
        // Each entry takes at least its fixed parts: a corrupted count cannot make the
        // list allocate beyond the bytes present.
        let most = body.len() / (LANE_FIXED + COUNTERS_FIXED);
        let mut entries = Vec::with_capacity((lanes as usize).min(most));
        let mut seen = BTreeSet::new();
        for _ in 0..lanes {
            let fixed = cursor.take(LANE_FIXED)?;
            let key = LaneKey {
                slot: u32::from_le_bytes([fixed[0], fixed[1], fixed[2], fixed[3]]),
                generation: u32::from_le_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
                lane: LaneId::from_byte(fixed[8]).ok_or("an unknown lane")?,
            };
            let retired = match fixed[9] {
                0 => false,
                1 => true,
                _ => return Err("a retired flag other than 0 or 1"),
            };
            let name = cursor.take(usize::from(u16::from_le_bytes([fixed[10], fixed[11]])))?;
            let thread_name = std::str::from_utf8(name)
                .map_err(|_| "a thread name that is not UTF-8")?
                .to_owned();
            let counters = LaneCounters::decode(&mut cursor)?;
            if !seen.insert(key) {
                return Err("a lane listed twice");
            }
            entries.push(LaneFinal {
                key,
                thread_name,
                retired,
                counters,
            });
        }
        let totals = LaneCounters::decode(&mut cursor)?;
        if !cursor.bytes.is_empty() {
            return Err("bytes after the totals");
        }
        Ok(Self {
            offset,
            lanes: entries,
            totals,
        })
    }
}

/// Reads a byte slice front to back.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if n > self.bytes.len() {
            return Err("entries longer than the trailer");
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }
}
