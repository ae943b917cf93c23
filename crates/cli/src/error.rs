//! What can go wrong in an `ada` command, as typed errors, and the exit status each one
//! means: 2 for usage, configuration or input errors, 1 when the run itself broke an
//! invariant.

use ada::capture::CaptureError;
use ada::drain::DrainError;
use ada::ring_pool::MarkError;
use ada::{BuildError, RegisterError};
use ada_export::ExportError;
use std::fmt;
use std::io;
use std::path::PathBuf;

/// Exit status: a usage, configuration or input error.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit status: the run finished but an invariant broke.
pub(crate) const EXIT_VIOLATED: u8 = 1;

/// Why a command failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The arguments could not be turned into settings.
    Arguments(clap::Error),
    /// The tracer refused a setting (the message names it).
    Config(BuildError),
    /// A file could not be created.
    Create {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A capture file is unreadable or invalid (the message names the offset).
    Capture {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        source: CaptureError,
    },
    /// An export stopped (records that are not ada's, or writing failed).
    Export {
        /// The capture file.
        input: PathBuf,
        /// Why.
        source: ExportError,
    },
    /// The output file is the input file: writing it would destroy the capture.
    WouldOverwriteInput {
        /// The output path given.
        path: PathBuf,
    },
    /// Writing output failed.
    Write {
        /// Where: a path, or `stdout`.
        to: String,
        /// Why.
        source: io::Error,
    },
    /// The drain thread failed.
    Drain(DrainError),
    /// A producer thread failed.
    Producer(ProducerError),
    /// Some lane's counters do not balance: written ≠ delivered + dropped + discarded.
    NotConserved,
    /// A capture's blocks disagree with its trailer: some lane's records ≠ delivered, or
    /// its announced losses + losses after its last block ≠ dropped.
    NotReconciled {
        /// The capture file.
        path: PathBuf,
        /// Lanes that do not reconcile, when counted.
        lanes: Option<usize>,
        /// Whether the trailer's totals disagree with its lanes.
        totals: bool,
    },
    /// The main job's traced runs computed something else than its untraced runs.
    Diverged {
        /// The first run's digest.
        expected: u64,
        /// A later run's.
        found: u64,
    },
    /// The soak found broken invariants.
    Soak {
        /// Violations found (integrity, order, accounting).
        violations: usize,
        /// Whether the totals balanced.
        conserved: bool,
    },
}

impl Failure {
    /// The process exit status this failure means.
    pub(crate) fn exit_status(&self) -> u8 {
        match self {
            Self::Arguments(_)
            | Self::Config(_)
            | Self::Create { .. }
            | Self::Capture { .. }
            | Self::Export { .. }
            | Self::WouldOverwriteInput { .. }
            | Self::Write { .. } => EXIT_USAGE,
            Self::Drain(_)
            | Self::Producer(_)
            | Self::NotConserved
            | Self::NotReconciled { .. }
            | Self::Diverged { .. }
            | Self::Soak { .. } => EXIT_VIOLATED,
        }
    }

    /// Whether this is a write to stdout stopped by a closed pipe (`ada dump … | head`):
    /// the reader has what it wanted, so the command ends quietly with status 0.
    pub(crate) fn is_closed_pipe(&self) -> bool {
        match self {
            Self::Write { source, .. }
            | Self::Export {
                source: ExportError::Write(source),
                ..
            } => crate::out::is_closed_pipe(source),
            _ => false,
        }
    }

    /// A failure to write to standard output.
    pub(crate) fn stdout(source: io::Error) -> Self {
        Self::Write {
            to: "stdout".to_owned(),
            source,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Arguments(error) => write!(f, "{error}"),
            Self::Config(error) => write!(f, "{error}"),
            Self::Create { path, source } => {
                write!(f, "cannot create {}: {source}", path.display())
            }
            Self::Capture { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Export { input, source } => write!(f, "exporting {}: {source}", input.display()),
            Self::WouldOverwriteInput { path } => write!(
                f,
                "refusing to write the output over the input file {}: name another output",
                path.display()
            ),
            Self::Write { to, source } => write!(f, "writing {to}: {source}"),
            Self::Drain(error) => write!(f, "drain: {error}"),
            Self::Producer(error) => write!(f, "{error}"),
            Self::NotConserved => {
                f.write_str("written ≠ delivered + dropped + discarded for some lane")
            }
            Self::NotReconciled {
                path,
                lanes,
                totals,
            } => {
                write!(
                    f,
                    "{}: the capture does not reconcile with its trailer",
                    path.display()
                )?;
                match (lanes, totals) {
                    (Some(lanes), true) => write!(f, " ({lanes} lanes, and its totals)"),
                    (Some(lanes), false) => write!(f, " ({lanes} lanes)"),
                    (None, true) => f.write_str(" (its totals)"),
                    (None, false) => Ok(()),
                }
            }
            Self::Diverged { expected, found } => write!(
                f,
                "the workload's digest changed between runs ({expected:#018x}, then {found:#018x})"
            ),
            Self::Soak {
                violations,
                conserved,
            } => write!(f, "{violations} violations, conserved: {conserved}"),
        }
    }
}

impl std::error::Error for Failure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Arguments(error) => Some(error),
            Self::Config(error) => Some(error),
            Self::Create { source, .. } | Self::Write { source, .. } => Some(source),
            Self::Capture { source, .. } => Some(source),
            Self::Export { source, .. } => Some(source),
            Self::Drain(error) => Some(error),
            Self::Producer(error) => Some(error),
            Self::NotConserved
            | Self::NotReconciled { .. }
            | Self::Soak { .. }
            | Self::Diverged { .. }
            | Self::WouldOverwriteInput { .. } => None,
        }
    }
}

/// Why a producer thread of the workload stopped early.
#[derive(Debug)]
pub(crate) enum ProducerError {
    /// The thread could not register with the tracer.
    Register {
        /// The producer's number.
        thread: u64,
        /// Why.
        source: RegisterError,
    },
    /// The detail lane refused a mark.
    Mark {
        /// The producer's number.
        thread: u64,
        /// Why.
        source: MarkError,
    },
    /// The OS refused a thread.
    Spawn(io::Error),
    /// The producer panicked.
    Panicked,
}

impl fmt::Display for ProducerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Register { thread, source } => write!(f, "producer {thread}: {source}"),
            Self::Mark { thread, source } => write!(f, "producer {thread}: {source}"),
            Self::Spawn(error) => write!(f, "could not spawn a producer: {error}"),
            Self::Panicked => f.write_str("a producer panicked"),
        }
    }
}

impl std::error::Error for ProducerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Register { source, .. } => Some(source),
            Self::Mark { source, .. } => Some(source),
            Self::Spawn(error) => Some(error),
            Self::Panicked => None,
        }
    }
}

/// An argument value a value parser refused: what was given and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BadValue {
    /// The text given.
    pub(crate) text: String,
    /// What would have been accepted.
    pub(crate) expected: &'static str,
}

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: expected {}", self.text, self.expected)
    }
}

impl std::error::Error for BadValue {}

#[cfg(test)]
mod tests {
    #![allow(non_snake_case)]
    use super::*;

    #[test]
    fn failure__each_kind__then_its_documented_exit_status() {
        let missing = io::Error::new(io::ErrorKind::NotFound, "gone");
        assert_eq!(
            Failure::Create {
                path: "x".into(),
                source: missing
            }
            .exit_status(),
            EXIT_USAGE
        );
        assert_eq!(
            Failure::stdout(io::Error::from(io::ErrorKind::BrokenPipe)).exit_status(),
            EXIT_USAGE
        );
        assert_eq!(Failure::NotConserved.exit_status(), EXIT_VIOLATED);
        assert_eq!(
            Failure::Producer(ProducerError::Panicked).exit_status(),
            EXIT_VIOLATED
        );
        assert_eq!(
            Failure::Drain(DrainError::WorkerPanicked).exit_status(),
            EXIT_VIOLATED
        );
    }

    #[test]
    fn failure__display__then_names_the_cause_and_keeps_the_source() {
        let error = Failure::Producer(ProducerError::Register {
            thread: 3,
            source: RegisterError::ShuttingDown,
        });
        assert!(error.to_string().starts_with("producer 3: "), "{error}");
        let source = std::error::Error::source(&error).expect("a source");
        assert!(
            source
                .to_string()
                .contains(&RegisterError::ShuttingDown.to_string())
        );
    }
}
