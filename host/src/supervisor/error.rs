//! The process layer's errors: what can go wrong starting, finding or signalling a game
//! process. Messages name the program, directory or process concerned, so they can be shown
//! to an operator as they are.

use std::io;
use std::path::PathBuf;

use super::process_id::ProcessId;

/// Errors of the process layer.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// The program does not exist.
    #[error("program {0} not found")]
    ProgramNotFound(PathBuf),
    /// The program exists but cannot be executed.
    #[error("program {0} is not an executable file")]
    NotExecutable(PathBuf),
    /// The working directory is missing or not a directory.
    #[error("working directory {path}: {source}")]
    WorkingDir {
        /// The directory.
        path: PathBuf,
        /// Why it cannot be used.
        source: io::Error,
    },
    /// The console log could not be rotated or opened.
    #[error("console log in {path}: {source}")]
    ConsoleLog {
        /// The console directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The operating system refused to start the program.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The process could not be watched (pidfd or reactor registration failed).
    #[error("cannot watch {id}: {source}")]
    Watch {
        /// The process.
        id: ProcessId,
        /// Why.
        source: io::Error,
    },
    /// The recorded process is no longer running.
    #[error("{0} is not running")]
    NotRunning(ProcessId),
    /// The recorded pid now belongs to a different process.
    #[error("pid {pid} belongs to another process now (started at {found}, recorded {recorded})")]
    PidReused {
        /// The pid.
        pid: i32,
        /// The start time the host recorded.
        recorded: u64,
        /// The start time of the process holding the pid now.
        found: u64,
    },
    /// Called outside a tokio runtime, whose reactor watches the pidfd.
    #[error("processes can only be started or attached inside a tokio runtime")]
    NoRuntime,
    /// A group id that must never be signalled (init, everything, the host's own group).
    #[error("refusing to signal process group {0}")]
    InvalidGroup(i32),
    /// Sending a signal failed for a reason other than the group being gone.
    #[error("cannot signal process group {pgid}: {source}")]
    Signal {
        /// The group.
        pgid: i32,
        /// Why.
        source: io::Error,
    },
}
