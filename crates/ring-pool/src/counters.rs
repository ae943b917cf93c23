//! The lane's statistics: each counter set is listed once, and its read-out and reset
//! are generated from that list, so a new counter cannot be left out of either.

use crate::sync::Counter;
use ada_metrics::{DropCounts, LaneSnapshot};

/// Defines a set of [`Counter`]s, a plain-value copy of it, and `read`/`reset` that
/// visit every counter of the list.
macro_rules! counter_set {
    (
        $(#[$set_doc:meta])*
        $set:ident => $values:ident {
            $( $(#[$doc:meta])* $field:ident, )*
        }
    ) => {
        $(#[$set_doc])*
        #[derive(Debug, Default)]
        pub(crate) struct $set {
            $( $(#[$doc])* pub(crate) $field: Counter, )*
        }

        #[doc = concat!("The values of a [`", stringify!($set), "`] at one read.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub(crate) struct $values {
            $( $(#[$doc])* pub(crate) $field: u64, )*
        }

        impl $set {
            /// Every counter's current value.
            pub(crate) fn read(&self) -> $values {
                $values { $( $field: self.$field.get(), )* }
            }

            /// Every counter back to zero, for a lane being reused. Exclusive access only.
            pub(crate) fn reset(&self) {
                $( self.$field.reset(); )*
            }
        }
    };
}

counter_set! {
    /// Written by the producer only.
    ProducerCounters => ProducerCounts {
        /// Events committed into rings that are no longer active, plus events dropped on
        /// arrival. The active ring's records are added by `Lane::snapshot`.
        events_written,
        dropped_oldest,
        dropped_newest,
        dropped_timeout,
        events_discarded,
        windows_discarded,
        rings_dropped,
        rings_submitted,
        swaps,
        exhaustions,
        submit_high_water,
        /// Waits of a blocking lane's producer for a ring, counted by its caller.
        blocked_waits,
        /// Nanoseconds of those waits.
        blocked_ns,
        /// Rings borrowed from the shared reserve.
        rings_borrowed,
    }
}

counter_set! {
    /// Written by the drain only.
    DrainCounters => DrainCounts {
        events_delivered,
        rings_delivered,
        dropped_sink,
    }
}

/// The lane's snapshot: both counter sets, plus the records of the still active ring.
///
/// Both sets are destructured without `..`, so a counter added to a list above does not
/// compile until it is mapped here.
pub(crate) fn lane_snapshot(
    producer: ProducerCounts,
    drain: DrainCounts,
    active_len: u64,
) -> LaneSnapshot {
    let ProducerCounts {
        events_written,
        dropped_oldest,
        dropped_newest,
        dropped_timeout,
        events_discarded,
        windows_discarded,
        rings_dropped,
        rings_submitted,
        swaps,
        exhaustions,
        submit_high_water,
        blocked_waits,
        blocked_ns,
        rings_borrowed,
    } = producer;
    let DrainCounts {
        events_delivered,
        rings_delivered,
        dropped_sink,
    } = drain;
    LaneSnapshot {
        events_written: events_written + active_len,
        events_delivered,
        dropped: DropCounts {
            oldest: dropped_oldest,
            newest: dropped_newest,
            sink: dropped_sink,
            timeout: dropped_timeout,
        },
        events_discarded,
        windows_discarded,
        rings_dropped,
        rings_submitted,
        rings_delivered,
        swaps,
        exhaustions,
        submit_high_water,
        blocked_waits,
        blocked_ns,
        rings_borrowed,
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn counter_set__reset__then_every_counter_zero() {
        let producer = ProducerCounters::default();
        let drain = DrainCounters::default();
        // A distinct value in every counter, so each one's mapping and reset show.
        producer.events_written.add(1);
        producer.dropped_oldest.add(2);
        producer.dropped_newest.add(3);
        producer.events_discarded.add(4);
        producer.windows_discarded.add(5);
        producer.rings_dropped.add(6);
        producer.rings_submitted.add(7);
        producer.swaps.add(8);
        producer.exhaustions.add(9);
        producer.submit_high_water.raise_to(10);
        producer.dropped_timeout.add(14);
        producer.blocked_waits.add(15);
        producer.blocked_ns.add(16);
        drain.events_delivered.add(11);
        drain.rings_delivered.add(12);
        drain.dropped_sink.add(13);
        let snapshot = lane_snapshot(producer.read(), drain.read(), 100);
        assert_eq!(snapshot.events_written, 101);
        assert_eq!(snapshot.dropped.total(), 2 + 3 + 13 + 14);
        assert_eq!(snapshot.submit_high_water, 10);
        assert_eq!((snapshot.blocked_waits, snapshot.blocked_ns), (15, 16));
        producer.reset();
        drain.reset();
        assert_eq!(producer.read(), ProducerCounts::default());
        assert_eq!(drain.read(), DrainCounts::default());
    }
}
