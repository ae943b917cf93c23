//! A submitted ring in the drain's hands, until it is delivered or failed and goes back
//! to the producer through the free queue (or, borrowed, to the shared reserve).

use crate::drain::{LaneDrain, Settlement};
use crate::ledger::{At, Gap};
use crate::sync::Place;
use ada_ring_buffer::{RingFlags, RingHeader};

/// A submitted ring in the drain's hands. Deliver it ([`deliver`](Self::deliver)) once
/// the sink has its records, or [`fail`](Self::fail) it when the sink failed; dropping it
/// counts as a failure. Either way the ring returns to the producer.
pub struct TakenRing<'d, 'l, T: Copy> {
    drain: &'d mut LaneDrain<'l, T>,
    index: u32,
    header: RingHeader,
    gap: Gap,
}

impl<'d, 'l, T: Copy> TakenRing<'d, 'l, T> {
    /// Ring `index`, which the drain has just claimed, with the header the producer
    /// wrote: opens the delivery in the drain's ledger, which gives the gap before it.
    pub(crate) fn new(drain: &'d mut LaneDrain<'l, T>, index: u32, mut header: RingHeader) -> Self {
        let lane = drain.lane;
        let buffer = &lane.ring(index);
        let unread = buffer.unread();
        // Records collected in place before the ring was submitted come first.
        let collected = (buffer.len() - unread) as u64;
        // SAFETY: the producer stamped the ring before it activated and then submitted
        // it, and stamps it again only once it is back in the producer's hands (through
        // the free queue, after this delivery; a take-back needs the claim we won): the
        // claim (Acquire on `tail`) orders the stamp before this read.
        let start = unsafe { lane.start(index) };
        let at = At {
            event: header.first_event + collected,
            dropped_newest_before: header.dropped_newest_before,
            dropped_timeout_before: start.dropped_timeout_before,
            discarded_before: header.discarded_before,
        };
        // SAFETY: a `TakenRing` borrows the lane's only drain.
        let gap = unsafe { lane.ledger(|ledger| ledger.open(at, unread as u64)) };
        header
            .flags
            .set(RingFlags::LOSS_BEFORE, gap.lost.total() > 0);
        Self {
            drain,
            index,
            header,
            gap,
        }
    }

    /// The records not collected in place earlier, in write order.
    #[must_use]
    pub fn records(&self) -> &[T] {
        // SAFETY: the ring is the drain's until this handle is settled.
        unsafe { self.drain.lane.ring(self.index).reader() }.peek()
    }

    /// Sequence number, flags (`MARKED`, `PARTIAL`, `CONTEXT`, and `LOSS_BEFORE` when
    /// [`gap`](Self::gap) lost anything) and the ring's position in its lane.
    #[must_use]
    pub fn header(&self) -> RingHeader {
        self.header
    }

    /// What the lane lost or discarded between its previous delivery (a ring, or records
    /// collected in place) and these records, by cause.
    #[must_use]
    pub fn gap(&self) -> Gap {
        self.gap
    }

    /// Counts the records as delivered and recycles the ring.
    pub fn deliver(self) {
        self.settle(Settlement::Delivered);
    }

    /// Counts the records as lost to the sink and recycles the ring.
    pub fn fail(self) {
        self.settle(Settlement::Failed);
    }

    fn settle(self, settlement: Settlement) {
        let mut this = core::mem::ManuallyDrop::new(self);
        this.recycle(settlement);
    }

    fn recycle(&mut self, settlement: Settlement) {
        let lane = self.drain.lane;
        let buffer = &lane.ring(self.index);
        let records = buffer.unread() as u64;
        let counters = &lane.drain.counters;
        match settlement {
            Settlement::Delivered => {
                counters.events_delivered.add(records);
                counters.rings_delivered.add(1);
            }
            Settlement::Failed => {
                counters.dropped_sink.add(records);
                // SAFETY: a `TakenRing` borrows the lane's only drain.
                unsafe { lane.ledger(|ledger| ledger.failed(records)) };
            }
        }
        // SAFETY: the drain owns the ring (claimed, not yet pushed back).
        unsafe { buffer.reset_unchecked() };
        if self.index >= lane.own_rings() && !lane.keeps_borrowed(self.index) {
            // Borrowed: back to the reserve, for whichever lane runs out next.
            // SAFETY: the drain owns the ring; pins end before a take.
            unsafe { lane.give_back(self.index, Place::Drain) };
        } else {
            // An own ring, or a borrowed one the lane keeps (`Reserve::adopting`).
            lane.places.moved(self.index, Place::Drain, Place::Free);
            // SAFETY: the drain is the free queue's only producer (`&mut LaneDrain`).
            let pushed = unsafe { lane.free.producer() }.push(self.index);
            // The free queue holds every ring the lane owns or keeps, so it cannot be
            // full.
            debug_assert!(pushed.is_ok());
        }
        // A blocking lane's producer may be waiting for this ring: the drain's owner
        // wakes it (`Lane::rings_recycled`).
        lane.drain.recycled.add(1);
    }
}

impl<T: Copy> Drop for TakenRing<'_, '_, T> {
    fn drop(&mut self) {
        self.recycle(Settlement::Failed);
    }
}

impl<T: Copy> core::fmt::Debug for TakenRing<'_, '_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TakenRing")
            .field("index", &self.index)
            .field("header", &self.header)
            .field("gap", &self.gap)
            .finish()
    }
}
