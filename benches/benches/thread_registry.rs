//! The thread registry: registration, the thread-local fast path beside an explicit
//! handle, and the drain's enumeration of 64 and 1024 occupied slots.

use ada_benches::{Event, event};
use ada_ring_pool::LaneConfig;
use ada_thread_registry::{Registry, RegistryConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn registry(capacity: usize) -> std::sync::Arc<Registry<Event, [u8; 64]>> {
    Registry::new(RegistryConfig {
        capacity,
        index: LaneConfig {
            ring_records: 4096,
            ..LaneConfig::index_lane()
        },
        detail: LaneConfig::detail_lane(),
    })
    .unwrap()
}

fn registration(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry_register");
    group.bench_function("ada-thread-registry register", |b| {
        let registry = registry(64);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let handle = registry.register().unwrap();
                total += start.elapsed();
                drop(handle); // retire, then free the slot outside the timing
                let mut drain = registry.drain().unwrap();
                drain.for_each_slot(|slot| {
                    slot.release().unwrap();
                });
            }
            total
        });
    });
    group.finish();
}

fn local_fast_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry_write_32B");
    group.throughput(Throughput::Elements(1));
    let registry = registry(4);
    group.bench_function("ada-thread-registry with_local write", |b| {
        let mut i = 0_u64;
        b.iter(|| {
            registry
                .with_local(|handle| handle.index(event(black_box(i))))
                .unwrap();
            i += 1;
        });
    });
    // Registered once: criterion calls the closure more than once.
    let mut handle = registry.register().unwrap();
    group.bench_function("ada-thread-registry explicit handle write", |b| {
        let mut i = 0_u64;
        b.iter(|| {
            handle.index(event(black_box(i)));
            i += 1;
        });
    });
    group.finish();
}

fn enumeration(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry_enumerate");
    for capacity in [64, 1024] {
        let registry = registry(capacity);
        let _handles: Vec<_> = (0..capacity)
            .map(|_| registry.register().unwrap())
            .collect();
        group.throughput(Throughput::Elements(capacity as u64));
        group.bench_function(
            format!("ada-thread-registry {capacity} occupied slots"),
            |b| {
                let mut drain = registry.drain().unwrap();
                b.iter(|| {
                    black_box(drain.for_each_slot(|slot| {
                        black_box(slot.slot());
                    }))
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, registration, local_fast_path, enumeration);
criterion_main!(benches);
