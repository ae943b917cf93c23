//! SPSC queues side by side: two-thread throughput and single-thread push+pop, same item
//! type (`u64`) and capacity for every implementation.

use ada_benches::two_thread_transfer;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ringbuf::traits::{Consumer as _, Producer as _, Split as _};
use std::hint::black_box;

const CAPACITY: usize = 4096;

fn two_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("spsc_two_thread");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ada-spsc", |b| {
        b.iter_custom(|iters| {
            let mut queue = ada_spsc::Queue::with_capacity(CAPACITY).unwrap();
            let (producer, consumer) = queue.split();
            two_thread_transfer(
                iters,
                producer,
                consumer,
                |p, v| p.push(v).is_ok(),
                |c| c.pop(),
            )
        });
    });
    group.bench_function("rtrb", |b| {
        b.iter_custom(|iters| {
            let (producer, consumer) = rtrb::RingBuffer::new(CAPACITY);
            two_thread_transfer(
                iters,
                producer,
                consumer,
                |p, v| p.push(v).is_ok(),
                |c| c.pop().ok(),
            )
        });
    });
    group.bench_function("crossbeam-queue ArrayQueue", |b| {
        b.iter_custom(|iters| {
            let queue = crossbeam_queue::ArrayQueue::new(CAPACITY);
            two_thread_transfer(iters, &queue, &queue, |q, v| q.push(v).is_ok(), |q| q.pop())
        });
    });
    group.bench_function("ringbuf HeapRb", |b| {
        b.iter_custom(|iters| {
            let (producer, consumer) = ringbuf::HeapRb::<u64>::new(CAPACITY).split();
            two_thread_transfer(
                iters,
                producer,
                consumer,
                |p, v| p.try_push(v).is_ok(),
                |c| c.try_pop(),
            )
        });
    });
    group.bench_function("std sync_channel", |b| {
        b.iter_custom(|iters| {
            let (sender, receiver) = std::sync::mpsc::sync_channel(CAPACITY);
            two_thread_transfer(
                iters,
                sender,
                receiver,
                |s, v| s.try_send(v).is_ok(),
                |r| r.try_recv().ok(),
            )
        });
    });
    group.finish();
}

fn single_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("spsc_push_pop_single_thread");
    group.throughput(Throughput::Elements(1));
    group.bench_function("ada-spsc", |b| {
        let mut queue = ada_spsc::Queue::with_capacity(CAPACITY).unwrap();
        let (mut producer, mut consumer) = queue.split();
        b.iter(|| {
            producer.push(black_box(7_u64)).unwrap();
            black_box(consumer.pop())
        });
    });
    group.bench_function("rtrb", |b| {
        let (mut producer, mut consumer) = rtrb::RingBuffer::new(CAPACITY);
        b.iter(|| {
            producer.push(black_box(7_u64)).unwrap();
            black_box(consumer.pop().ok())
        });
    });
    group.bench_function("crossbeam-queue ArrayQueue", |b| {
        let queue = crossbeam_queue::ArrayQueue::new(CAPACITY);
        b.iter(|| {
            queue.push(black_box(7_u64)).unwrap();
            black_box(queue.pop())
        });
    });
    group.bench_function("ringbuf HeapRb", |b| {
        let (mut producer, mut consumer) = ringbuf::HeapRb::<u64>::new(CAPACITY).split();
        b.iter(|| {
            producer.try_push(black_box(7_u64)).unwrap();
            black_box(consumer.try_pop())
        });
    });
    group.bench_function("std sync_channel", |b| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(CAPACITY);
        b.iter(|| {
            sender.try_send(black_box(7_u64)).unwrap();
            black_box(receiver.try_recv().ok())
        });
    });
    group.finish();
}

criterion_group!(benches, two_thread, single_thread);
criterion_main!(benches);
