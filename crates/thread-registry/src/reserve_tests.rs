//! The registry's shared reserves: typed errors for budgets its lanes cannot use, and a
//! thread that exits holding borrowed rings gives every one back once its slot is
//! drained, within the budget.
#![allow(non_snake_case)]

use crate::{Registry, RegistryConfig, RegistryError, ReserveConfig};
use ada_ring_pool::{ExhaustionPolicy, LaneConfig, LaneConfigError, LaneMode};

fn config() -> RegistryConfig {
    let index = LaneConfig {
        rings: 2,
        ring_records: 4,
        policy: ExhaustionPolicy::DropNewest,
        mode: LaneMode::SubmitAll,
    };
    RegistryConfig {
        capacity: 4,
        index,
        ..RegistryConfig::default()
    }
}

#[test]
fn reserve__budgets_its_lanes_cannot_use__then_typed_errors() {
    let below = ReserveConfig {
        index_bytes: 31, // one ring is 4 × 8 B
        ..ReserveConfig::default()
    };
    assert_eq!(
        Registry::<u64, u64>::with_reserve(config(), below).err(),
        Some(RegistryError::ReserveBelowOneRing {
            bytes: 31,
            ring_bytes: 32
        })
    );
    let on_recorder = ReserveConfig {
        detail_bytes: 1 << 20,
        ..ReserveConfig::default()
    };
    assert_eq!(
        Registry::<u64, u64>::with_reserve(config(), on_recorder).err(),
        Some(RegistryError::DetailLane(
            LaneConfigError::ReserveOnFlightRecorder
        ))
    );
    let too_large = ReserveConfig {
        index_bytes: 253 * 32,
        ..ReserveConfig::default()
    };
    assert!(matches!(
        Registry::<u64, u64>::with_reserve(config(), too_large).err(),
        Some(RegistryError::IndexLane(
            LaneConfigError::ReserveTooLarge { .. }
        ))
    ));
}

#[test]
fn reserve__threads_exit_holding_borrowed_rings__then_all_given_back_within_the_budget() {
    let reserve = ReserveConfig {
        index_bytes: 3 * 32, // 3 rings of 4 records
        ..ReserveConfig::default()
    };
    let registry = Registry::<u64, u64>::with_reserve(config(), reserve).unwrap();
    std::thread::scope(|s| {
        for thread in 0..3_u64 {
            let registry = &registry;
            s.spawn(move || {
                let mut handle = registry.register().unwrap();
                for event in 0..16 {
                    // 2 own rings of 4, then borrowed ones while the reserve has any
                    // (no drain runs yet), then DropNewest.
                    handle.index(thread * 100 + event);
                }
            });
        }
    });
    let usage = registry.reserve_usage();
    assert_eq!((usage.index.rings, usage.index.bytes), (3, 96));
    assert!(
        usage.index.high_water <= 3,
        "never more than the budget: {usage:?}"
    );
    assert_eq!(usage.index.lent, 3, "the exited threads still hold them");
    let mut drain = registry.drain().unwrap();
    let (mut written, mut delivered, mut borrowed, mut released) = (0, 0, 0, 0);
    drain.for_each_slot(|mut slot| {
        let mut lane = slot.index_drain();
        while let Some(ring) = lane.take() {
            ring.deliver();
        }
        let retired = slot.release().unwrap();
        written += retired.index.events_written;
        delivered += retired.index.events_delivered;
        borrowed += retired.index.rings_borrowed;
        assert!(retired.index.is_conserved());
        released += 1;
    });
    assert_eq!(released, 3);
    // Nothing was given back while the threads wrote: the reserve's 3 rings were lent
    // once each, 4 records apiece; the rest found no ring.
    assert_eq!(borrowed, 3);
    assert_eq!((written, delivered), (48, 3 * 8 + 3 * 4));
    assert_eq!(
        registry.reserve_usage().index.lent,
        0,
        "every borrowed ring is back"
    );
}
