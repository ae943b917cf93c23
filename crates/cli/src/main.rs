//! `ada`: the main job. With no command it runs an instrumented workload (`job.rs`):
//! worker threads, one per core, hash, parse and sort generated data with enter/leave
//! spans three deep, once untraced and once traced with the same inputs, three times
//! each, and the report gives the tracing overhead, what moved and what was lost (with
//! the loss explained), the drain thread's CPU and the memory per thread. Commands run
//! the flood workload (`stress`, `record`), read capture files back, soak the pipeline,
//! and measure the drain's idle CPU. Everything goes through the facade `ada`.
//!
//! Exit status: 0 when every event is accounted for, 1 when an invariant broke, 2 for
//! usage, configuration or input errors (with a message that says what to fix). Every
//! numeric argument is checked by its parser (a bad one is a usage error naming the
//! flag), and a reader closing stdout early (`ada dump FILE | head`) ends the output
//! quietly, not the command's status (`out.rs`).

mod error;
mod export;
mod idle;
mod inspect;
mod job;
mod lanes;
mod out;
mod soak;
mod stress;

use clap::{Parser, Subcommand};
use error::Failure;
use out::outln;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use stress::SinkChoice;

/// What `--help` says after the commands.
const AFTER_HELP: &str = "\
Exit status:
  0  every event accounted for (for inspect, dump and export: the capture reads and
     reconciles; a file cut short by a crash is read up to its cut, with a warning)
  1  an invariant broke (an event unaccounted for, a failed drain or producer, a
     capture whose blocks and trailer do not reconcile)
  2  usage, configuration or input error (a capture corrupt before its end)";

/// What `--help` says before the commands.
const ABOUT: &str = "\
ada: per-thread trace lanes, one drain thread, nothing lost uncounted.

With no command, `ada` runs the main job: worker threads (one per core, at least 2) hash,
parse and sort generated data with enter/leave spans, untraced and traced with the same
inputs (3 runs each, about 4 s in all), then report the tracing overhead, events written,
delivered and dropped (losses explained), the drain thread's CPU and the memory per
thread. `ada stress` is the flood test.";

/// The command line: a command, or none for the main job (with its options).
#[derive(Debug, Parser)]
#[command(
    name = "ada",
    version,
    about = ABOUT,
    long_about = None,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// The main job's options (without a command).
    #[command(flatten)]
    job: job::JobArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The flood test: producer threads write enter/leave pairs as fast as they can
    /// through the whole pipeline; reports throughput, losses by cause (explained) and
    /// conservation.
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
    /// Converts a capture file for trace viewers: Perfetto's native format
    /// (`--perfetto`) or Chrome trace JSON (`--chrome`), streamed in bounded memory.
    Export(export::ExportArgs),
    /// Churn, bursts, marks, both policies and a stalling, failing sink, with every
    /// record checked for integrity, order and conservation (`cargo xtask soak`).
    Soak(soak::SoakArgs),
    /// Measures the drain thread's CPU use while registered threads are idle.
    Idle(idle::IdleArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => job::run(&cli.job),
        Some(Command::Stress(command)) => stress::run(&command.workload, &command.sink),
        Some(Command::Record(command)) => {
            stress::run(&command.workload, &SinkChoice::File(command.out.clone())).map(|()| {
                if !command.workload.json {
                    outln!("captured to {}", command.out.display());
                }
            })
        }
        Some(Command::Inspect { file, json }) => inspect::inspect(&file, json),
        Some(Command::Dump { file }) => inspect::dump(&file),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Soak(args)) => soak::run(&args),
        Some(Command::Idle(args)) => idle::run(&args),
    };
    // A failed write to stdout the command did not see (its report lines, `outln!`).
    let unwritten = out::take_error().map(Failure::stdout);
    match result {
        Err(failure) if failure.is_closed_pipe() => ExitCode::SUCCESS,
        Err(failure) => {
            say(&failure);
            if let Some(unwritten) = unwritten {
                say(&unwritten);
            }
            ExitCode::from(failure.exit_status())
        }
        Ok(()) => match unwritten {
            Some(failure) => {
                say(&failure);
                ExitCode::from(failure.exit_status())
            }
            None => ExitCode::SUCCESS,
        },
    }
}

/// A failure on stderr (if stderr is gone too, the exit status still says it).
fn say(failure: &Failure) {
    let _ = writeln!(std::io::stderr(), "ada: {failure}");
}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn cli__definition__then_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn parse__no_command__then_the_main_job_with_its_defaults() {
        let cli = Cli::try_parse_from(["ada"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.job.threads, None);
        assert!((cli.job.seconds - 4.0).abs() < f64::EPSILON);
        assert_eq!(cli.job.repeats, 3);
        assert_eq!(cli.job.out, None);
        assert!(!cli.job.json);
        let cli = Cli::try_parse_from(["ada", "--json", "-o", "run.ada"]).unwrap();
        assert!(cli.command.is_none() && cli.job.json);
        assert_eq!(cli.job.out, Some(PathBuf::from("run.ada")));
    }

    #[test]
    fn parse__job_options_before_a_command__then_usage_error() {
        assert!(Cli::try_parse_from(["ada", "--json", "stress"]).is_err());
    }

    #[test]
    fn parse__stress_without_flags__then_the_documented_workload() {
        let Some(Command::Stress(command)) =
            Cli::try_parse_from(["ada", "stress"]).unwrap().command
        else {
            panic!("not stress");
        };
        assert_eq!(command.sink, SinkChoice::Null);
        assert_eq!(command.workload.policy, stress::Policy::DropOldest);
        assert!((command.workload.seconds - 3.0).abs() < f64::EPSILON);
        assert_eq!(command.workload.threads, None);
        assert!(!command.workload.json);
    }
}
