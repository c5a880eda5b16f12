//! A game server's console log: the file its stdout and stderr go to.
//!
//! The process writes straight into `<console_dir>/console.log`, opened in append mode, so
//! no pipe ties it to the host and it keeps running (and logging) when the host exits.
//! Each start first rotates the previous run's log: `console.log` becomes `console.1.log`,
//! `console.1.log` becomes `console.2.log`, and so on; at most [`KEPT_CONSOLE_LOGS`] earlier
//! runs are kept. This module only moves and opens files; reading and tailing logs belongs
//! elsewhere.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// How many earlier runs' console logs are kept beside the current one.
pub const KEPT_CONSOLE_LOGS: usize = 5;

/// The file the running process writes to.
pub fn console_log_path(console_dir: &Path) -> PathBuf {
    console_dir.join("console.log")
}

/// The log of the `n`-th earlier run (1 = the run before the current one).
pub fn rotated_log_path(console_dir: &Path, n: usize) -> PathBuf {
    console_dir.join(format!("console.{n}.log"))
}

/// Creates `console_dir` if needed, rotates the previous logs and opens a fresh
/// `console.log` for appending, readable by the host's user only (a game may print
/// passwords it was given).
pub(crate) fn open_fresh(console_dir: &Path) -> io::Result<File> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(console_dir)?;
    rotate(console_dir)?;
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(console_log_path(console_dir))
}

/// Shifts every kept log one place older and drops the oldest. Missing files are skipped:
/// a server that has run twice has only `console.log` and `console.1.log`.
fn rotate(console_dir: &Path) -> io::Result<()> {
    ignore_missing(fs::remove_file(rotated_log_path(
        console_dir,
        KEPT_CONSOLE_LOGS,
    )))?;
    for n in (1..KEPT_CONSOLE_LOGS).rev() {
        ignore_missing(fs::rename(
            rotated_log_path(console_dir, n),
            rotated_log_path(console_dir, n + 1),
        ))?;
    }
    ignore_missing(fs::rename(
        console_log_path(console_dir),
        rotated_log_path(console_dir, 1),
    ))
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
