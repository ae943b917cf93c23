//! The record buffer's append (single and batch) and read throughput for 32-byte
//! records. A plain `Vec::push` into reserved memory is the floor to compare with.

use ada_benches::{Event, event, ring_push_floor};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const RECORDS: usize = 4096;
const BATCH: usize = 64;

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring_append_32B");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ada-ring-buffer push", |b| ring_push_floor(b, RECORDS));
    group.bench_function("Vec push (floor)", |b| {
        let mut vec = Vec::with_capacity(RECORDS);
        let mut i = 0_u64;
        b.iter(|| {
            if vec.len() == RECORDS {
                vec.clear();
            }
            vec.push(event(black_box(i)));
            i += 1;
        });
    });
    group.finish();

    let mut group = c.benchmark_group("ring_append_32B_batch64");
    group.throughput(Throughput::Elements(BATCH as u64));
    let batch: Vec<Event> = (0..BATCH as u64).map(event).collect();
    group.bench_function("ada-ring-buffer push_slice", |b| {
        let mut ring = ada_ring_buffer::RingBuffer::<Event>::with_capacity(RECORDS).unwrap();
        b.iter(|| {
            let (mut writer, _) = ring.split();
            if writer.push_slice(black_box(&batch)) == 0 {
                ring.reset();
            }
        });
    });
    group.bench_function("Vec extend_from_slice (floor)", |b| {
        let mut vec = Vec::with_capacity(RECORDS);
        b.iter(|| {
            if vec.len() == RECORDS {
                vec.clear();
            }
            vec.extend_from_slice(black_box(&batch));
        });
    });
    group.finish();
}

fn read(c: &mut Criterion) {
    let mut group = c.benchmark_group("ring_read_32B");
    group.throughput(Throughput::Elements(RECORDS as u64));
    let mut ring = ada_ring_buffer::RingBuffer::<Event>::with_capacity(RECORDS).unwrap();
    {
        let (mut writer, _) = ring.split();
        while writer.push(event(writer.len() as u64)).is_ok() {}
    }
    group.bench_function("ada-ring-buffer peek (zero-copy)", |b| {
        b.iter(|| {
            // SAFETY: single thread; this is the only reader, and the ring is not written.
            let reader = unsafe { ring.reader() };
            black_box(reader.peek().iter().map(|e| e.address).sum::<u64>())
        });
    });
    group.finish();
}

criterion_group!(benches, append, read);
criterion_main!(benches);
