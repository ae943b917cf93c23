//! `ada`: the main job. With no arguments it runs the default workload, one producer
//! thread per core writing 32-byte index records and marked detail records through the
//! whole pipeline for a few seconds, and prints the report. Subcommands run the workload
//! with other settings, capture it to a file, read capture files back, and exercise the
//! parts one at a time.
//!
//! Exit status: 0 when every event is accounted for, 1 when an invariant broke, 2 for
//! usage, configuration or input errors (with a message that says what to fix).

mod inspect;
mod parts;
mod soak;
mod stress;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use stress::{Failure, SinkChoice};

/// ada: per-thread trace lanes, one drain thread, nothing lost uncounted.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Producer threads write through the whole pipeline; reports throughput, losses by
    /// cause and conservation.
    Stress(stress::StressCommand),
    /// The stress workload captured to a file.
    Record(stress::RecordCommand),
    /// Per thread and lane of a capture file: rings, records, losses, marked windows,
    /// time span.
    Inspect {
        /// The capture file.
        file: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every record of a capture file as a JSON line.
    Dump {
        /// The capture file.
        file: PathBuf,
    },
    /// Converts a capture file for other tools.
    Export {
        /// Write the Chrome trace event format (opens in the Perfetto UI).
        #[arg(long, value_name = "FILE")]
        chrome: PathBuf,
        /// The output file.
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Churn, bursts, marks, both policies and a stalling, failing sink, with every
    /// record checked for integrity, order and conservation (`cargo xtask soak`).
    Soak(soak::SoakArgs),
    /// Moves values from a producer thread to a consumer thread through an ada-spsc queue.
    Spsc(parts::SpscArgs),
    /// Fills an ada-ring-buffer with 32-byte records while another thread reads them.
    Ring(parts::RingArgs),
    /// Runs a lane (ring pool) with a producer and a drain thread; reports swap latency
    /// percentiles, losses, conservation and the memory of the default lane set.
    Lane(parts::LaneArgs),
    /// Measures the drain thread's CPU use while registered threads are idle.
    Idle(parts::IdleArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => stress::run(&default_workload(), &SinkChoice::Null),
        Some(Command::Stress(command)) => stress::run(&command.workload, &command.sink),
        Some(Command::Record(command)) => {
            stress::run(&command.workload, &SinkChoice::File(command.out.clone())).map(|()| {
                if !command.workload.json {
                    println!("captured to {}", command.out.display());
                }
            })
        }
        Some(Command::Inspect { file, json }) => inspect::inspect(&file, json),
        Some(Command::Dump { file }) => inspect::dump(&file),
        Some(Command::Export { chrome, out }) => {
            inspect::export_chrome(&chrome, &out).map(|events| {
                println!("{events} events written to {}", out.display());
            })
        }
        Some(Command::Soak(args)) => soak::run(&args),
        Some(Command::Spsc(args)) => parts::spsc(&args).map_err(Failure::Violated),
        Some(Command::Ring(args)) => parts::ring(&args).map_err(Failure::Violated),
        Some(Command::Lane(args)) => parts::lane(&args).map_err(Failure::Violated),
        Some(Command::Idle(args)) => parts::idle(&args).map_err(Failure::Violated),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Violated(message)) => {
            eprintln!("ada: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(message)) => {
            eprintln!("ada: {message}");
            ExitCode::from(2)
        }
    }
}

/// The workload `ada` runs without arguments.
fn default_workload() -> stress::StressArgs {
    stress::StressArgs {
        threads: None,
        seconds: 3.0,
        events: None,
        policy: stress::Policy::DropOldest,
        ring_records: 2048,
        rings: 4,
        json: false,
    }
}
