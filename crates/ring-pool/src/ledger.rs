//! Loss accounting: where each ring starts in its lane's stream of events (the producer's
//! stamps) and how far the drain has delivered (the drain's ledger), from which every
//! delivery's [`Gap`] is worked out exactly, by cause (`docs/protocol.md`, "Loss
//! accounting").
//!
//! Every event the producer emits has a position in its lane: events accepted into a
//! ring and events dropped on arrival both count, in emission order. A ring's records
//! are consecutive positions. Four causes leave holes between delivered records: events
//! dropped on arrival (`newest`, or `timeout` when a blocking lane's producer gave up
//! waiting), rings taken back under drop-oldest (`oldest`, the part not collected in
//! place) and unmarked flight-recorder windows (discarded, by design). The producer
//! stamps each ring with the position of its first record and the cumulative counts of
//! every cause but `oldest` before it; the drain remembers the
//! position after its last delivery and the counts it last saw, so a hole is the
//! difference of positions, split by the differences of counts, and `oldest` is the
//! rest. Take-backs are never stamped: the producer cannot write into a ring that is
//! already queued, and need not.

use ada_metrics::DropCounts;

/// What a lane lost or discarded between its previous delivery (a ring, or records
/// collected in place) and this one: exactly the events that were emitted after the
/// previous delivery's last record and before this delivery's first, plus the records of
/// deliveries the sink failed since the previous successful one.
///
/// Summed over a lane's deliveries, plus what the lane lost after its last delivery,
/// `lost` gives the lane's `dropped` counters and `discarded` its `events_discarded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Gap {
    /// Events lost, by cause: `oldest` (in rings taken back under drop-oldest, less what
    /// was collected in place), `newest` (dropped on arrival, no ring to write them in),
    /// `sink` (records of deliveries the sink failed since the lane's previous delivery),
    /// `timeout` (dropped on arrival by a blocking lane's producer that gave up waiting).
    pub lost: DropCounts,
    /// Events in flight-recorder windows recycled without a mark: discarded by design,
    /// not a loss.
    pub discarded: u64,
}

impl Gap {
    /// Whether nothing was lost or discarded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lost.total() == 0 && self.discarded == 0
    }
}

/// Where a ring starts in its lane, stamped by the producer when it makes the ring
/// active (before the `active` swap that publishes it), so a drain that pins the ring
/// reads it through the pin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct RingStart {
    /// Events emitted before the ring's first record.
    pub(crate) first_event: u64,
    /// Of those, events dropped on arrival (`newest`).
    pub(crate) dropped_newest_before: u64,
    /// Of those, events dropped on arrival after a blocking wait gave up (`timeout`).
    /// Read by the drain from this cell (not the header, which `ada-ring-buffer`
    /// defines): through a pin, or after its claim of the submitted ring.
    pub(crate) dropped_timeout_before: u64,
}

/// The producer's running totals, exact `u64`s in its private state (the counters are
/// statistics, 32-bit on some targets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Emitted {
    /// Events accepted into rings that are no longer active, plus events dropped on
    /// arrival: the position the next active ring starts at.
    pub(crate) events: u64,
    /// Events dropped on arrival (`newest`).
    pub(crate) dropped_newest: u64,
    /// Events dropped on arrival after a blocking wait gave up (`timeout`).
    pub(crate) dropped_timeout: u64,
    /// Events in discarded flight-recorder windows.
    pub(crate) discarded: u64,
}

impl Emitted {
    /// The stamp of a ring made active now.
    pub(crate) fn start(&self) -> RingStart {
        RingStart {
            first_event: self.events,
            dropped_newest_before: self.dropped_newest,
            dropped_timeout_before: self.dropped_timeout,
        }
    }
}

/// Where one delivery starts: the position of its first record and the lane's
/// cumulative counts before the ring it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct At {
    pub(crate) event: u64,
    pub(crate) dropped_newest_before: u64,
    pub(crate) dropped_timeout_before: u64,
    pub(crate) discarded_before: u64,
}

/// The drain's record of one lane: where its next delivery should start, the counts it
/// last saw, and the records of failed deliveries not yet reported. Touched by the drain
/// only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Ledger {
    /// Position after the last delivered (or failed) record.
    next_event: u64,
    /// `dropped_newest_before` of the last delivery's ring.
    dropped_newest: u64,
    /// `dropped_timeout_before` of the last delivery's ring.
    dropped_timeout: u64,
    /// `discarded_before` of the last delivery's ring.
    discarded: u64,
    /// Records of failed deliveries since the last delivery was opened.
    failed: u64,
}

impl Ledger {
    /// Opens a delivery of `records` records starting `at`: returns the gap before it
    /// and moves the ledger past it. The records count as delivered unless
    /// [`failed`](Self::failed) says otherwise.
    pub(crate) fn open(&mut self, at: At, records: u64) -> Gap {
        let hole = at.event.checked_sub(self.next_event);
        let newest = at.dropped_newest_before.checked_sub(self.dropped_newest);
        let timeout = at.dropped_timeout_before.checked_sub(self.dropped_timeout);
        let discarded = at.discarded_before.checked_sub(self.discarded);
        let oldest = match (hole, newest, timeout, discarded) {
            (Some(hole), Some(newest), Some(timeout), Some(discarded)) => hole
                .checked_sub(newest)
                .and_then(|rest| rest.checked_sub(timeout))
                .and_then(|rest| rest.checked_sub(discarded)),
            _ => None,
        };
        debug_assert!(
            oldest.is_some(),
            "lane positions went backwards: {self:?} then {at:?}"
        );
        let gap = Gap {
            lost: DropCounts {
                oldest: oldest.unwrap_or(0),
                newest: newest.unwrap_or(0),
                sink: self.failed,
                timeout: timeout.unwrap_or(0),
            },
            discarded: discarded.unwrap_or(0),
        };
        *self = Self {
            next_event: at.event + records,
            dropped_newest: at.dropped_newest_before,
            dropped_timeout: at.dropped_timeout_before,
            discarded: at.discarded_before,
            failed: 0,
        };
        gap
    }

    /// The delivery opened last failed: its `records` are lost to the sink, reported
    /// with the next delivery.
    pub(crate) fn failed(&mut self, records: u64) {
        self.failed += records;
    }

    /// The discarded count last seen, for a delivery from a ring that was never handed
    /// on (collected in place: only `SubmitAll` lanes, which never discard).
    pub(crate) fn discarded(&self) -> u64 {
        self.discarded
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    fn at(event: u64, dropped_newest_before: u64, discarded_before: u64) -> At {
        At {
            event,
            dropped_newest_before,
            dropped_timeout_before: 0,
            discarded_before,
        }
    }

    #[test]
    fn ledger__holes_between_deliveries__then_split_by_cause() {
        let mut ledger = Ledger::default();
        assert!(ledger.open(at(0, 0, 0), 4).is_empty());
        // Positions 4..10 missing: 2 dropped on arrival, 1 discarded, the rest taken back.
        let gap = ledger.open(at(10, 2, 1), 4);
        assert_eq!(
            gap.lost,
            DropCounts {
                oldest: 3,
                newest: 2,
                sink: 0,
                timeout: 0
            }
        );
        assert_eq!(gap.discarded, 1);
        ledger.failed(4);
        let gap = ledger.open(at(14, 2, 1), 1);
        assert_eq!((gap.lost.sink, gap.lost.total(), gap.discarded), (4, 4, 0));
        assert_eq!(ledger.discarded(), 1);
    }

    #[test]
    fn ledger__hole_with_timeout_drops__then_timeout_split_from_newest() {
        let mut ledger = Ledger::default();
        assert!(ledger.open(at(0, 0, 0), 4).is_empty());
        // Positions 4..9 missing: 1 dropped on arrival, 3 after a blocking wait gave up,
        // the one left taken back.
        let gap = ledger.open(
            At {
                dropped_timeout_before: 3,
                ..at(9, 1, 0)
            },
            2,
        );
        assert_eq!(
            gap.lost,
            DropCounts {
                oldest: 1,
                newest: 1,
                sink: 0,
                timeout: 3
            }
        );
        // The counts are cumulative: the next hole counts only new timeouts.
        let gap = ledger.open(
            At {
                dropped_timeout_before: 5,
                ..at(13, 1, 0)
            },
            1,
        );
        assert_eq!((gap.lost.timeout, gap.lost.total()), (2, 2));
    }
}
