//! The clock record (format version 3): the writer's clock calibration, so that readers
//! turn the records' raw ticks into nanoseconds.

use crate::format::CLOCK_MAGIC;
use ada_clock::{Calibration, ClockSource};

/// Bytes of the clock record: magic, source, 3 reserved, four words, checksum.
pub(crate) const CLOCK_LEN: usize = 44;

/// How a capture's record timestamps read: raw clock ticks with the writer's
/// calibration (format version 3), or nanoseconds already (versions 1 and 2, whose
/// records stored `timestamp_ns`).
///
/// ```
/// use ada_capture::Timebase;
/// use ada_clock::{Calibration, ClockSource};
///
/// assert_eq!(Timebase::Nanoseconds.to_ns(1_234), 1_234);
/// let ticks = Timebase::Ticks(Calibration {
///     source: ClockSource::Tsc,
///     ticks_span: 3,
///     ns_span: 1,
///     anchor_ticks: 3_000,
///     anchor_unix_ns: 1_700_000_000_000_000_000,
/// });
/// assert_eq!(ticks.to_ns(9_000), 2_000, "ns since the anchor");
/// assert_eq!(ticks.to_ns(0), 0, "a tick before the anchor reads 0");
/// assert_eq!(ticks.to_unix_ns(9_000), Some(1_700_000_000_000_002_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timebase {
    /// Timestamps are nanoseconds (format versions 1 and 2).
    Nanoseconds,
    /// Timestamps are ticks of the writer's clock, converted with its calibration.
    Ticks(Calibration),
}

impl Timebase {
    /// A record's timestamp in nanoseconds: since the calibration's anchor for ticks
    /// (saturating at 0 for a tick before it), as stored otherwise. Monotone: a later
    /// tick never reads earlier.
    #[must_use]
    pub fn to_ns(&self, stamp: u64) -> u64 {
        match self {
            Self::Nanoseconds => stamp,
            Self::Ticks(calibration) => {
                calibration.ticks_to_ns(stamp.saturating_sub(calibration.anchor_ticks))
            }
        }
    }

    /// A tick's wall-clock time, in nanoseconds since the Unix epoch; `None` when the
    /// capture has no calibration (versions 1 and 2).
    #[must_use]
    pub fn to_unix_ns(&self, stamp: u64) -> Option<u64> {
        match self {
            Self::Nanoseconds => None,
            Self::Ticks(calibration) => Some(calibration.to_unix_ns(stamp)),
        }
    }

    /// The calibration, when the timestamps are ticks.
    #[must_use]
    pub fn calibration(&self) -> Option<&Calibration> {
        match self {
            Self::Nanoseconds => None,
            Self::Ticks(calibration) => Some(calibration),
        }
    }
}

fn source_code(source: ClockSource) -> u8 {
    match source {
        ClockSource::Tsc => 1,
        ClockSource::Monotonic => 2,
        // `None`, and any source a later clock adds: the calibration still converts.
        _ => 0,
    }
}

fn source_of(code: u8) -> Option<ClockSource> {
    match code {
        0 => Some(ClockSource::None),
        1 => Some(ClockSource::Tsc),
        2 => Some(ClockSource::Monotonic),
        _ => None,
    }
}

/// The clock record's bytes, checksum included.
pub(crate) fn encode(calibration: &Calibration) -> [u8; CLOCK_LEN] {
    let mut bytes = [0; CLOCK_LEN];
    bytes[..4].copy_from_slice(&CLOCK_MAGIC);
    bytes[4] = source_code(calibration.source);
    for (at, word) in [
        calibration.ticks_span,
        calibration.ns_span,
        calibration.anchor_ticks,
        calibration.anchor_unix_ns,
    ]
    .into_iter()
    .enumerate()
    {
        bytes[8 + 8 * at..16 + 8 * at].copy_from_slice(&word.to_le_bytes());
    }
    let checksum = crc32fast::hash(&bytes[..CLOCK_LEN - 4]);
    bytes[CLOCK_LEN - 4..].copy_from_slice(&checksum.to_le_bytes());
    bytes
}

/// Why a clock record (its checksum already checked) is malformed.
pub(crate) fn decode(bytes: &[u8; CLOCK_LEN]) -> Result<Calibration, &'static str> {
    let word = |at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[8 + 8 * at..16 + 8 * at]);
        u64::from_le_bytes(word)
    };
    let source = source_of(bytes[4]).ok_or("an unknown clock source")?;
    if bytes[5..8] != [0; 3] {
        return Err("reserved bytes are not zero");
    }
    let calibration = Calibration {
        source,
        ticks_span: word(0),
        ns_span: word(1),
        anchor_ticks: word(2),
        anchor_unix_ns: word(3),
    };
    if calibration.ticks_span == 0 || calibration.ns_span == 0 {
        return Err("a span of zero");
    }
    Ok(calibration)
}
