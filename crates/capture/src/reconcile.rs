//! What the reader counted in each lane's blocks, and the check of those counts against
//! the trailer: records in the file = delivered, and per cause, losses the blocks
//! announce + losses after the last block = dropped.

use crate::format::{LossCause, Losses};
use crate::trailer::{LaneCounters, LaneKey, Trailer};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// What one lane's blocks hold, as the reader counted them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneTally {
    /// The thread's name in the lane's first block.
    pub thread_name: String,
    /// Whole-ring blocks.
    pub rings: u64,
    /// Blocks of records collected in place.
    pub collections: u64,
    /// Records in the lane's blocks.
    pub records: u64,
    /// Events the blocks say were lost just before them (their `lost events` fields).
    pub lost_events: u64,
    /// The same, by cause, with the discarded windows' events (version 2 blocks only).
    pub causes: Losses,
    /// Rings missing from the lane's sequence (gaps between consecutive ring blocks).
    pub rings_missing: u64,
    /// Rings the flight recorder kept (`MARKED`).
    pub marked: u64,
    /// The last ring block's sequence number.
    pub last_sequence: Option<u64>,
}

/// Where one lane's blocks and its trailer entry disagree.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// The lane has blocks but no trailer entry.
    NotInTrailer,
    /// The blocks hold another number of records than the drain delivered.
    Records {
        /// Records in the lane's blocks.
        in_file: u64,
        /// Events delivered, per the trailer.
        delivered: u64,
    },
    /// For one cause: announced + lost after the last block ≠ dropped.
    Lost {
        /// The cause.
        cause: LossCause,
        /// Events the blocks announce.
        in_blocks: u64,
        /// Events the trailer says were lost after the last block.
        after: u64,
        /// Events the trailer says were dropped.
        dropped: u64,
    },
    /// Discarded windows: announced + after the last block ≠ discarded.
    Discarded {
        /// Events the blocks announce.
        in_blocks: u64,
        /// Events the trailer says were discarded after the last block.
        after: u64,
        /// Events the trailer says were discarded.
        discarded: u64,
    },
    /// A total disagrees with the sum over the lanes.
    Totals {
        /// Which counter.
        counter: String,
        /// The trailer's total.
        total: u64,
        /// The sum over its lanes.
        lanes: u64,
    },
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotInTrailer => f.write_str("blocks of a lane the trailer does not list"),
            Self::Records { in_file, delivered } => {
                write!(f, "{in_file} records in the file, {delivered} delivered")
            }
            Self::Lost {
                cause,
                in_blocks,
                after,
                dropped,
            } => write!(
                f,
                "{cause}: {in_blocks} announced by the blocks + {after} after the last \
                 block, {dropped} dropped"
            ),
            Self::Discarded {
                in_blocks,
                after,
                discarded,
            } => write!(
                f,
                "discarded: {in_blocks} announced by the blocks + {after} after the last \
                 block, {discarded} discarded"
            ),
            Self::Totals {
                counter,
                total,
                lanes,
            } => write!(f, "total {counter} {total}, the lanes sum to {lanes}"),
        }
    }
}

/// One lane's blocks checked against its trailer entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneCheck {
    /// The registration and lane.
    pub key: LaneKey,
    /// The thread's name (the trailer's, or the blocks' when the trailer lacks it).
    pub thread_name: String,
    /// What the blocks hold (all zero when the lane has none).
    pub tally: LaneTally,
    /// The trailer's entry (`None`: blocks without one).
    pub counters: Option<LaneCounters>,
    /// Every disagreement; empty when the lane reconciles.
    pub mismatches: Vec<Mismatch>,
}

impl LaneCheck {
    /// Whether the lane's blocks agree with its trailer entry.
    #[must_use]
    pub fn reconciles(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Every lane of a capture checked against its trailer
/// ([`CaptureReader::reconcile`](crate::CaptureReader::reconcile)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconciliation {
    /// Every lane with blocks or a trailer entry, in (slot, generation, lane) order.
    pub lanes: Vec<LaneCheck>,
    /// Totals that disagree with the sum over the lanes.
    pub totals: Vec<Mismatch>,
}

impl Reconciliation {
    /// Whether every lane and the totals reconcile.
    #[must_use]
    pub fn reconciles(&self) -> bool {
        self.totals.is_empty() && self.lanes.iter().all(LaneCheck::reconciles)
    }

    /// Lanes that do not reconcile.
    pub fn failures(&self) -> impl Iterator<Item = &LaneCheck> {
        self.lanes.iter().filter(|lane| !lane.reconciles())
    }

    pub(crate) fn new(tallies: &BTreeMap<LaneKey, LaneTally>, trailer: &Trailer) -> Self {
        let finals: BTreeMap<LaneKey, _> = trailer.lanes.iter().map(|l| (l.key, l)).collect();
        let keys: BTreeSet<LaneKey> = tallies.keys().chain(finals.keys()).copied().collect();
        let lanes = keys
            .into_iter()
            .map(|key| {
                let tally = tallies.get(&key).cloned().unwrap_or_default();
                match finals.get(&key) {
                    Some(entry) => LaneCheck {
                        key,
                        thread_name: entry.thread_name.clone(),
                        mismatches: check(&tally, &entry.counters),
                        counters: Some(entry.counters.clone()),
                        tally,
                    },
                    None => LaneCheck {
                        key,
                        thread_name: tally.thread_name.clone(),
                        tally,
                        counters: None,
                        mismatches: vec![Mismatch::NotInTrailer],
                    },
                }
            })
            .collect();
        Self {
            lanes,
            totals: check_totals(trailer),
        }
    }
}

/// One lane's blocks against its trailer counters.
fn check(tally: &LaneTally, counters: &LaneCounters) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if tally.records != counters.delivered {
        mismatches.push(Mismatch::Records {
            in_file: tally.records,
            delivered: counters.delivered,
        });
    }
    let causes: BTreeSet<u16> = tally
        .causes
        .iter()
        .chain(counters.dropped.iter())
        .chain(counters.lost_after.iter())
        .map(|(cause, _)| cause.code())
        .filter(|&code| code != LossCause::Discarded.code())
        .collect();
    for cause in causes.into_iter().filter_map(LossCause::from_code) {
        let (in_blocks, after) = (tally.causes.get(cause), counters.lost_after.get(cause));
        let dropped = counters.dropped.get(cause);
        if in_blocks.checked_add(after) != Some(dropped) {
            mismatches.push(Mismatch::Lost {
                cause,
                in_blocks,
                after,
                dropped,
            });
        }
    }
    let in_blocks = tally.causes.get(LossCause::Discarded);
    if in_blocks.checked_add(counters.discarded_after) != Some(counters.discarded) {
        mismatches.push(Mismatch::Discarded {
            in_blocks,
            after: counters.discarded_after,
            discarded: counters.discarded,
        });
    }
    mismatches
}

/// The trailer's totals against the sum over its lanes.
fn check_totals(trailer: &Trailer) -> Vec<Mismatch> {
    let mut sums = LaneCounters::default();
    for lane in &trailer.lanes {
        let c = &lane.counters;
        sums.written = sums.written.saturating_add(c.written);
        sums.delivered = sums.delivered.saturating_add(c.delivered);
        sums.discarded = sums.discarded.saturating_add(c.discarded);
        sums.discarded_after = sums.discarded_after.saturating_add(c.discarded_after);
        sums.dropped.add_all(&c.dropped);
        sums.lost_after.add_all(&c.lost_after);
    }
    let totals = &trailer.totals;
    let mut counters = vec![
        ("written".to_owned(), totals.written, sums.written),
        ("delivered".to_owned(), totals.delivered, sums.delivered),
        ("discarded".to_owned(), totals.discarded, sums.discarded),
        (
            "discarded after the last block".to_owned(),
            totals.discarded_after,
            sums.discarded_after,
        ),
    ];
    for (name, total, lanes) in [
        ("dropped", &totals.dropped, &sums.dropped),
        (
            "lost after the last block",
            &totals.lost_after,
            &sums.lost_after,
        ),
    ] {
        let causes: BTreeSet<u16> = total
            .iter()
            .chain(lanes.iter())
            .map(|(cause, _)| cause.code())
            .collect();
        for cause in causes.into_iter().filter_map(LossCause::from_code) {
            counters.push((
                format!("{name} ({cause})"),
                total.get(cause),
                lanes.get(cause),
            ));
        }
    }
    counters
        .into_iter()
        .filter(|(_, total, lanes)| total != lanes)
        .map(|(counter, total, lanes)| Mismatch::Totals {
            counter,
            total,
            lanes,
        })
        .collect()
}
