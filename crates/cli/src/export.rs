//! `ada export`: a capture file to Perfetto's native trace (`--perfetto`) or the Chrome
//! trace event JSON (`--chrome`), streamed by `ada-export` to a file or, with `-o -`, to
//! standard output; a progress bar on long exports when stderr is a terminal; a warning
//! when the capture ends with a torn block; never over the input file.

use crate::error::Failure;
use crate::out::outln;
use ada::capture::CaptureReader;
use ada_export::{ExportSummary, Format, Progress};
use indicatif::{ProgressBar, ProgressStyle};
use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Captures at least this large get a progress bar (about half a million events).
const PROGRESS_FROM_BYTES: u64 = 16 << 20;

/// `ada export`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    input: Input,
    /// The output file, or `-` for standard output.
    #[arg(short, long, value_name = "FILE")]
    out: PathBuf,
}

/// The capture file, named by the flag of the format to write.
#[derive(Debug, Clone, clap::Args)]
#[group(required = true, multiple = false)]
struct Input {
    /// The capture file to convert to Perfetto's native trace format (`.pftrace`; opens
    /// in ui.perfetto.dev).
    #[arg(long, value_name = "FILE")]
    perfetto: Option<PathBuf>,
    /// The capture file to convert to the Chrome trace event JSON format (opens in
    /// ui.perfetto.dev and chrome://tracing).
    #[arg(long, value_name = "FILE")]
    chrome: Option<PathBuf>,
}

/// Runs the export and says what was written.
pub(crate) fn run(args: &ExportArgs) -> Result<(), Failure> {
    let (format, input) = match (&args.input.perfetto, &args.input.chrome) {
        (Some(path), _) => (Format::Perfetto, path),
        (None, Some(path)) => (Format::Chrome, path),
        (None, None) => {
            return Err(Failure::Arguments(clap::Error::raw(
                clap::error::ErrorKind::MissingRequiredArgument,
                "one of --perfetto FILE or --chrome FILE is required\n",
            )));
        }
    };
    let reader = CaptureReader::open(input).map_err(|source| Failure::Capture {
        path: input.clone(),
        source,
    })?;
    let to_stdout = args.out.as_os_str() == "-";
    let target = if to_stdout {
        "stdout".to_owned()
    } else {
        args.out.display().to_string()
    };
    let bar = progress_bar(input);
    let progress = |progress: Progress| bar.set_position(progress.bytes);
    let result = if to_stdout {
        ada_export::export_with_progress(reader, format, std::io::stdout().lock(), progress)
    } else {
        refuse_overwrite(input, &args.out)?;
        let file = File::create(&args.out).map_err(|source| Failure::Create {
            path: args.out.clone(),
            source,
        })?;
        ada_export::export_with_progress(reader, format, file, progress)
    };
    bar.finish_and_clear();
    let summary = result.map_err(|source| Failure::Export {
        input: input.clone(),
        source,
    })?;
    report(&summary, input, &target, to_stdout);
    match summary.cut {
        Some(source) if !summary.is_torn() => Err(Failure::Capture {
            path: input.clone(),
            source,
        }),
        _ if summary.reconciles == Some(false) => Err(Failure::NotReconciled {
            path: input.clone(),
            lanes: None,
            totals: false,
        }),
        _ => Ok(()),
    }
}

/// What was written: on stdout, or on stderr when stdout holds the trace; the capture's
/// early end always on stderr.
fn report(summary: &ExportSummary, input: &Path, target: &str, to_stdout: bool) {
    let mut line = format!(
        "{}, {}, {} written to {target}",
        counted(summary.events, "event"),
        counted(summary.details, "detail record"),
        counted(summary.threads, "thread")
    );
    if summary.losses > 0 {
        line += &format!(
            "; {} lost, marked at {}",
            counted(summary.events_lost, "event"),
            counted(summary.losses, "gap")
        );
    }
    if summary.spans_closed_at_end > 0 {
        line += &format!(
            "; {} open at the end, closed and flagged",
            counted(summary.spans_closed_at_end, "span")
        );
    }
    if to_stdout {
        eprintln!("{line}");
    } else {
        outln!("{line}");
    }
    if let Some(error) = &summary.cut {
        let what = if summary.is_torn() {
            "the capture ends with a torn block"
        } else {
            "the capture has an unreadable block"
        };
        eprintln!(
            "ada: {}: {what} at byte {} (no trailer): exported what precedes it; the \
             timeline marks the end (`capture ends`)",
            input.display(),
            error.offset
        );
    } else if summary.trailer.is_none() {
        if summary.version >= 2 {
            eprintln!(
                "ada: {}: the capture has no trailer: it stops at byte {} after its last \
                 whole block (its writer did not finish); exported every block",
                input.display(),
                summary.end
            );
        } else {
            eprintln!(
                "ada: {}: no trailer (version 1): losses are exported without their causes",
                input.display()
            );
        }
    }
    if summary.unknown_names > 0 {
        eprintln!(
            "ada: {}: {} name ids are not in the capture's name table: shown as #<id>",
            input.display(),
            summary.unknown_names
        );
    }
    if summary.args_unattached > 0 {
        eprintln!(
            "ada: {}: {} argument records follow no event on their lane (it was lost, or \
             another record came between): not exported",
            input.display(),
            summary.args_unattached
        );
    }
    if summary.reconciles == Some(false) {
        eprintln!(
            "ada: {}: the capture's blocks do not reconcile with its trailer (`ada inspect` \
             says which lanes)",
            input.display()
        );
    }
}

/// `1 event`, `2 events`.
fn counted(n: u64, what: &str) -> String {
    if n == 1 {
        format!("{n} {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Refuses an output that is the input file (the same path, a link to it, or another
/// name of it): creating the output would truncate the capture before it is read.
fn refuse_overwrite(input: &Path, out: &Path) -> Result<(), Failure> {
    let same_path = matches!(
        (std::fs::canonicalize(input), std::fs::canonicalize(out)),
        (Ok(input), Ok(out)) if input == out
    );
    if same_path || same_file(input, out) {
        return Err(Failure::WouldOverwriteInput {
            path: out.to_owned(),
        });
    }
    Ok(())
}

/// Whether both paths name one file (same device and inode).
#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Whether both paths name one file (beyond their canonical paths, unknown here).
#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

/// A bar over the capture's bytes, for a large capture when stderr is a terminal.
fn progress_bar(input: &Path) -> ProgressBar {
    let size = std::fs::metadata(input).map_or(0, |metadata| metadata.len());
    if size < PROGRESS_FROM_BYTES || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} exporting [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}
