//! A submitted ring in the drain's hands, until it is delivered or failed and goes back
//! to the producer through the free queue.

use crate::drain::{LaneDrain, Settlement};
use crate::sync::Place;
use ada_ring_buffer::RingHeader;

/// A submitted ring in the drain's hands. Deliver it ([`deliver`](Self::deliver)) once
/// the sink has its records, or [`fail`](Self::fail) it when the sink failed; dropping it
/// counts as a failure. Either way the ring returns to the producer.
pub struct TakenRing<'d, 'l, T: Copy> {
    drain: &'d mut LaneDrain<'l, T>,
    index: u32,
    header: RingHeader,
}

impl<'d, 'l, T: Copy> TakenRing<'d, 'l, T> {
    /// Ring `index`, which the drain has just claimed, with its header.
    pub(crate) fn new(drain: &'d mut LaneDrain<'l, T>, index: u32, header: RingHeader) -> Self {
        Self {
            drain,
            index,
            header,
        }
    }

    /// The records not collected in place earlier, in write order.
    #[must_use]
    pub fn records(&self) -> &[T] {
        // SAFETY: the ring is the drain's until this handle is settled.
        unsafe { self.drain.lane.rings[self.index as usize].reader() }.peek()
    }

    /// Sequence number, flags (`MARKED`, `PARTIAL`, `CONTEXT`, `LOSS_BEFORE`) and the
    /// events lost just before this ring.
    #[must_use]
    pub fn header(&self) -> RingHeader {
        self.header
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
        let buffer = &lane.rings[self.index as usize];
        let records = buffer.unread() as u64;
        let counters = &lane.drain.counters;
        match settlement {
            Settlement::Delivered => {
                counters.events_delivered.add(records);
                counters.rings_delivered.add(1);
            }
            Settlement::Failed => counters.dropped_sink.add(records),
        }
        // SAFETY: the drain owns the ring (claimed, not yet pushed back).
        unsafe { buffer.reset_unchecked() };
        lane.places.moved(self.index, Place::Drain, Place::Free);
        // SAFETY: the drain is the free queue's only producer (`&mut LaneDrain`).
        let pushed = unsafe { lane.free.producer() }.push(self.index);
        // The free queue holds every ring of the lane, so it cannot be full.
        debug_assert!(pushed.is_ok());
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
            .finish()
    }
}
