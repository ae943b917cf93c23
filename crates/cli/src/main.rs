//! `ada`: the main job. Until the drain pipeline exists it demonstrates the two leaves:
//! a two-thread SPSC transfer and a record-buffer fill/read, each with a printed result.

use ada_ring_buffer::RingBuffer;
use ada_spsc::Queue;
use clap::{Parser, Subcommand};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// ada: per-thread ring pools with a drain thread.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Moves values from a producer thread to a consumer thread through an ada-spsc queue.
    Spsc(SpscArgs),
    /// Fills an ada-ring-buffer with 32-byte records while another thread reads them.
    Ring(RingArgs),
}

#[derive(Debug, clap::Args)]
struct SpscArgs {
    /// Values to transfer.
    #[arg(long, default_value_t = 50_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    items: u64,
    /// Queue capacity (entries).
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..))]
    capacity: u64,
}

#[derive(Debug, clap::Args)]
struct RingArgs {
    /// Records per buffer.
    #[arg(long, default_value_t = 16_384, value_parser = clap::value_parser!(u64).range(1..))]
    records: u64,
    /// How many times the buffer is filled, read and reset.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..))]
    fills: u64,
}

/// A 32-byte record, the size of an index-lane event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Event {
    timestamp: u64,
    address: u64,
    sequence: u64,
    kind: u64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Spsc(args)) => spsc(&args),
        Some(Command::Ring(args)) => ring(&args),
        None => spsc(&SpscArgs {
            items: 50_000_000,
            capacity: 4096,
        })
        .and_then(|()| {
            ring(&RingArgs {
                records: 16_384,
                fills: 2_000,
            })
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ada: {message}");
            ExitCode::FAILURE
        }
    }
}

fn spsc(args: &SpscArgs) -> Result<(), String> {
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

fn ring(args: &RingArgs) -> Result<(), String> {
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

fn seconds(elapsed: Duration) -> String {
    format!("{:.3} s", elapsed.as_secs_f64())
}
