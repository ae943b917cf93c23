//! The parts one at a time: an SPSC transfer, a ring-buffer fill, a lane under a
//! producer and a drain thread, and the drain's idle CPU. Each checks what it moved and
//! prints what it measured.

use ada_ring_buffer::RingBuffer;
use ada_spsc::Queue;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub(crate) struct IdleArgs {
    /// Registered idle threads.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub(crate) threads: u64,
    /// Seconds to measure.
    #[arg(long, default_value_t = 2.0)]
    pub(crate) seconds: f64,
}

#[derive(Debug, clap::Args)]
pub(crate) struct LaneArgs {
    /// Records to write.
    #[arg(long, default_value_t = 20_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) events: u64,
    /// Records per ring.
    #[arg(long, default_value_t = 2048, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) ring_records: u64,
    /// Rings in the lane.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(2..=64))]
    pub(crate) rings: u64,
    /// Exhaustion policy.
    #[arg(long, value_enum, default_value_t = Policy::DropOldest)]
    pub(crate) policy: Policy,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum Policy {
    DropOldest,
    DropNewest,
}

#[derive(Debug, clap::Args)]
pub(crate) struct SpscArgs {
    /// Values to transfer.
    #[arg(long, default_value_t = 50_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) items: u64,
    /// Queue capacity (entries).
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) capacity: u64,
}

#[derive(Debug, clap::Args)]
pub(crate) struct RingArgs {
    /// Records per buffer.
    #[arg(long, default_value_t = 16_384, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) records: u64,
    /// How many times the buffer is filled, read and reset.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) fills: u64,
}

/// A 32-byte record, the size of an index-lane event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    pub(crate) timestamp: u64,
    pub(crate) address: u64,
    pub(crate) sequence: u64,
    pub(crate) kind: u64,
}

pub(crate) fn spsc(args: &SpscArgs) -> Result<(), String> {
    let capacity = usize::try_from(args.capacity).map_err(|e| e.to_string())?;
    let mut queue =
        Queue::<u64>::with_capacity(capacity).map_err(|e| format!("capacity {capacity}: {e}"))?;
    let items = args.items;
    let (elapsed, sum) = std::thread::scope(|s| {
        let (mut producer, mut consumer) = queue.split();
        let start = Instant::now();
        s.spawn(move || {
            for value in 0..items {
                while producer.push(value).is_err() {
                    std::hint::spin_loop();
                }
            }
        });
        let (mut expected, mut sum) = (0_u64, 0_u64);
        let mut batch = [0_u64; 256];
        while expected < items {
            let n = consumer.pop_slice(&mut batch);
            for &value in &batch[..n] {
                if value != expected {
                    return Err(format!("value {value} arrived where {expected} was due"));
                }
                sum = sum.wrapping_add(value);
                expected += 1;
            }
        }
        Ok((start.elapsed(), sum))
    })?;
    let expected_sum = (0..items).fold(0_u64, u64::wrapping_add);
    println!(
        "spsc: {items} u64 values, capacity {capacity}, 2 threads: {} ({:.1} M values/s, {:.2} ns/value); order and sum checked{}",
        seconds(elapsed),
        items as f64 / elapsed.as_secs_f64() / 1e6,
        elapsed.as_nanos() as f64 / items as f64,
        if sum == expected_sum {
            ""
        } else {
            " — SUM MISMATCH"
        },
    );
    if sum == expected_sum {
        Ok(())
    } else {
        Err("checksum mismatch".to_owned())
    }
}

pub(crate) fn ring(args: &RingArgs) -> Result<(), String> {
    let records = usize::try_from(args.records).map_err(|e| e.to_string())?;
    let mut ring = RingBuffer::<Event>::with_capacity(records)
        .map_err(|e| format!("capacity {records}: {e}"))?;
    let mut write_time = Duration::ZERO;
    let mut read = 0_u64;
    for fill in 0..args.fills {
        let start = Instant::now();
        std::thread::scope(|s| {
            let (mut writer, mut reader) = ring.split();
            s.spawn(move || {
                for i in 0..records as u64 {
                    let event = Event {
                        timestamp: i,
                        address: fill,
                        sequence: i,
                        kind: i & 1,
                    };
                    if writer.push(event).is_err() {
                        break;
                    }
                }
            });
            let mut next = 0_u64;
            while next < records as u64 {
                let committed = reader.peek();
                for event in committed {
                    debug_assert_eq!(event.sequence, next);
                    next += 1;
                }
                let n = committed.len();
                reader.advance(n);
            }
            read += next;
        });
        write_time += start.elapsed();
        ring.reset();
    }
    let total = args.fills * args.records;
    println!(
        "ring: {} fills of {records} 32-byte records read concurrently: {} ({:.1} M records/s); {read} records read of {total} written",
        args.fills,
        seconds(write_time),
        total as f64 / write_time.as_secs_f64() / 1e6,
    );
    if read == total {
        Ok(())
    } else {
        Err("records lost".to_owned())
    }
}

pub(crate) fn lane(args: &LaneArgs) -> Result<(), String> {
    use ada_ring_pool::{ExhaustionPolicy, Lane, LaneConfig, LaneMode};
    let config = LaneConfig {
        rings: usize::try_from(args.rings).map_err(|e| e.to_string())?,
        ring_records: usize::try_from(args.ring_records).map_err(|e| e.to_string())?,
        policy: match args.policy {
            Policy::DropOldest => ExhaustionPolicy::DropOldest,
            Policy::DropNewest => ExhaustionPolicy::DropNewest,
        },
        mode: LaneMode::SubmitAll,
    };
    let lane = Lane::<Event>::new(config).map_err(|e| e.to_string())?;
    let events = args.events;
    let done = std::sync::atomic::AtomicBool::new(false);
    let mut swap_ns: Vec<u32> = Vec::new();
    let (elapsed, delivered) = std::thread::scope(|s| {
        let (lane, done, swap_ns) = (&lane, &done, &mut swap_ns);
        let start = Instant::now();
        s.spawn(move || {
            // SAFETY: this thread is the lane's only producer.
            let mut producer = unsafe { lane.producer() }.expect("a new lane is open");
            for i in 0..events {
                let event = Event {
                    timestamp: i,
                    address: 0x4000,
                    sequence: i,
                    kind: i & 1,
                };
                if producer.active_len() == lane.config().ring_records {
                    // This write swaps rings: time it alone.
                    let started = Instant::now();
                    producer.write(event);
                    swap_ns.push(u32::try_from(started.elapsed().as_nanos()).unwrap_or(u32::MAX));
                } else {
                    producer.write(event);
                }
            }
            producer.close();
            done.store(true, std::sync::atomic::Ordering::Release);
        });
        // SAFETY: this thread is the lane's only drain.
        let mut drain = unsafe { lane.drain() };
        let mut delivered = 0_u64;
        loop {
            let finished = done.load(std::sync::atomic::Ordering::Acquire);
            match drain.take() {
                Some(ring) => {
                    delivered += ring.records().len() as u64;
                    ring.deliver();
                }
                None if finished => break,
                None => std::hint::spin_loop(),
            }
        }
        (start.elapsed(), delivered)
    });
    swap_ns.sort_unstable();
    let percentile = |p: f64| {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let index = ((swap_ns.len() as f64 - 1.0) * p).round() as usize;
        swap_ns.get(index).copied().unwrap_or(0)
    };
    let snapshot = lane.snapshot();
    println!(
        "lane: {events} 32-byte records, {} rings of {} records, {:?}, producer + drain threads: {} ({:.1} M records/s)",
        args.rings,
        args.ring_records,
        args.policy,
        seconds(elapsed),
        events as f64 / elapsed.as_secs_f64() / 1e6,
    );
    println!(
        "      swaps {}: write-with-swap p50 {} ns, p99 {} ns (Instant per swap); delivered {delivered}, lost {} ({} rings taken back, {} dropped on arrival); conserved: {}",
        snapshot.swaps,
        percentile(0.5),
        percentile(0.99),
        snapshot.events_lost(),
        snapshot.rings_dropped,
        snapshot.dropped.newest,
        snapshot.is_conserved(),
    );
    let index = Lane::<Event>::new(LaneConfig::index_lane()).map_err(|e| e.to_string())?;
    let detail = Lane::<[u8; 512]>::new(LaneConfig::detail_lane()).map_err(|e| e.to_string())?;
    println!(
        "      default lane set per thread: index lane {} B (4 x 2048 x 32 B records) + detail lane {} B (2 x 128 x 512 B records) = {} B ({:.1} KiB)",
        index.memory_bytes(),
        detail.memory_bytes(),
        index.memory_bytes() + detail.memory_bytes(),
        (index.memory_bytes() + detail.memory_bytes()) as f64 / 1024.0,
    );
    if snapshot.is_conserved() && delivered == snapshot.events_delivered {
        Ok(())
    } else {
        Err(format!("conservation violated: {snapshot:?}"))
    }
}

/// CPU time (user + system) this process has used.
pub(crate) fn process_cpu() -> Duration {
    // SAFETY: `getrusage` writes a `rusage` into the zeroed struct we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &raw mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

pub(crate) fn idle(args: &IdleArgs) -> Result<(), String> {
    use ada_drain::{Drain, DrainConfig, NullSink};
    use ada_thread_registry::{Registry, RegistryConfig};
    if !(args.seconds > 0.0 && args.seconds.is_finite()) {
        return Err(format!(
            "--seconds must be a positive number, not {}",
            args.seconds
        ));
    }
    let threads = usize::try_from(args.threads).map_err(|e| e.to_string())?;
    let registry = Registry::<Event, [u8; 512]>::new(RegistryConfig {
        capacity: threads,
        ..RegistryConfig::default()
    })
    .map_err(|e| e.to_string())?;
    let config = DrainConfig::default();
    let mut drain =
        Drain::new(registry.clone(), NullSink::default(), config).map_err(|e| e.to_string())?;
    drain.start().map_err(|e| e.to_string())?;
    let registered = std::sync::Barrier::new(threads + 1);
    let release = std::sync::Barrier::new(threads + 1);
    let (used, wall) = std::thread::scope(|s| {
        for _ in 0..threads {
            let (registry, registered, release) = (&registry, &registered, &release);
            s.spawn(move || {
                let mut handle = registry.register().expect("capacity matches the threads");
                handle.index(Event {
                    timestamp: 0,
                    address: 0,
                    sequence: 0,
                    kind: 0,
                });
                registered.wait();
                release.wait(); // idle, registered, until the measurement is over
            });
        }
        registered.wait();
        std::thread::sleep(Duration::from_millis(200)); // let the drain settle into parking
        let (cpu, start) = (process_cpu(), Instant::now());
        std::thread::sleep(Duration::from_secs_f64(args.seconds));
        let measured = (process_cpu() - cpu, start.elapsed());
        release.wait();
        measured
    });
    let report = drain.stop().map_err(|e| e.to_string())?;
    println!(
        "idle: {threads} registered idle threads, drain {:?}: {:.3} ms CPU in {:.2} s = {:.3} % of one core (getrusage, whole process); {} cycles, {} parks",
        config.park_interval,
        used.as_secs_f64() * 1e3,
        wall.as_secs_f64(),
        100.0 * used.as_secs_f64() / wall.as_secs_f64(),
        report.drain.cycles,
        report.drain.parks,
    );
    Ok(())
}

fn seconds(elapsed: Duration) -> String {
    format!("{:.3} s", elapsed.as_secs_f64())
}
