//! What can stop an export, as a typed error.

use ada::capture::LaneId;
use std::fmt;
use std::io;

/// Why an export stopped.
///
/// A capture that ends early (a torn last block after a crash) or has an unreadable
/// block is *not* an error: the export writes what precedes it, marks the end on the
/// timeline and says so in [`ExportSummary::cut`](crate::ExportSummary::cut).
#[derive(Debug)]
#[non_exhaustive]
pub enum ExportError {
    /// A lane's records are not ada's standard records ([`ada::Event`] on the index
    /// lane, [`ada::Detail`] on the detail lane): nothing was written.
    Layout {
        /// The lane.
        lane: LaneId,
        /// The file's layout name and record size for that lane.
        found: String,
        /// What the exporter reads.
        expected: String,
    },
    /// More thread registrations than thread ids below 2^31 (not reachable with a real
    /// capture; refused rather than wrapped).
    TooManyThreads,
    /// Writing the output failed.
    Write(io::Error),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Layout {
                lane,
                found,
                expected,
            } => write!(
                f,
                "the {} lane holds {found} records; the exporter reads {expected}",
                match lane {
                    LaneId::Index => "index",
                    LaneId::Detail => "detail",
                }
            ),
            Self::TooManyThreads => f.write_str("more thread registrations than thread ids"),
            Self::Write(error) => write!(f, "writing the output: {error}"),
        }
    }
}

impl std::error::Error for ExportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Write(error) => Some(error),
            Self::Layout { .. } | Self::TooManyThreads => None,
        }
    }
}

impl From<io::Error> for ExportError {
    fn from(error: io::Error) -> Self {
        Self::Write(error)
    }
}
