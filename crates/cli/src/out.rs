//! Standard output that a closed pipe does not break: `ada … | head` ends quietly.
//!
//! `println!` panics when stdout fails (a reader that closed its end of a pipe gives
//! `EPIPE`, Rust ignoring `SIGPIPE`), so report lines go through [`outln!`] instead: the
//! first failed write stops every later one, the command runs on and exits with its own
//! status. A closed pipe is no error (the reader has all it wanted); any other failure
//! (a full disk) is kept, and [`take_error`] hands it to `main`, which reports it with
//! exit status 2 unless the command failed otherwise. Commands that stream to stdout
//! and stop at a failed write (`dump`, `export -o -`, `inspect`) return it as a
//! [`Failure`](crate::error::Failure), which `main` treats the same way
//! ([`is_closed_pipe`]).

use std::fmt;
use std::io::{self, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the first failed write to stdout: nothing more is written.
static STOPPED: AtomicBool = AtomicBool::new(false);
/// The first failure that was not a closed pipe.
static ERROR: Mutex<Option<io::Error>> = Mutex::new(None);

/// Prints one line on stdout, or nothing once a write to stdout has failed.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}
pub(crate) use outln;

/// [`outln!`]'s body: one line, unless stdout has failed before.
pub(crate) fn line(text: fmt::Arguments<'_>) {
    if STOPPED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(error) = writeln!(out, "{text}").and_then(|()| out.flush()) {
        STOPPED.store(true, Ordering::Relaxed);
        if !is_closed_pipe(&error) {
            let mut kept = ERROR
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            kept.get_or_insert(error);
        }
    }
}

/// The first failure to write stdout that was not a closed pipe, if any.
pub(crate) fn take_error() -> Option<io::Error> {
    ERROR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take()
}

/// Whether a write failed because the reader closed its end of the pipe.
pub(crate) fn is_closed_pipe(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}
