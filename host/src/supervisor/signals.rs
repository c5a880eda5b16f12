//! Signals to a game server's process group.
//!
//! Every game process leads its own process group, so one signal reaches the server and
//! whatever it forked. A group that no longer exists (`ESRCH`) is not an error: the point
//! of the signal has already been reached. These functions refuse group ids that would hit
//! init, every process the host may signal, or the host's own group.

use rustix::io::Errno;
use rustix::process::{Pid, Signal, getpgrp, kill_process_group};

use super::process::ProcessError;

/// Sends SIGTERM to process group `pgid`: the polite request to shut down.
pub fn terminate_group(pgid: i32) -> Result<(), ProcessError> {
    signal_group(pgid, Signal::TERM)
}

/// Sends SIGINT to process group `pgid`, as Ctrl-C in a terminal would.
pub fn interrupt_group(pgid: i32) -> Result<(), ProcessError> {
    signal_group(pgid, Signal::INT)
}

/// Sends SIGKILL to process group `pgid`: every member ends at once.
pub fn kill_group(pgid: i32) -> Result<(), ProcessError> {
    signal_group(pgid, Signal::KILL)
}

/// Sends `signal` to every process in group `pgid`; a group that is gone is fine.
pub(crate) fn signal_group(pgid: i32, signal: Signal) -> Result<(), ProcessError> {
    // Checked before `Pid::from_raw`, which must not see a negative number.
    let group = Some(pgid)
        .filter(|pgid| *pgid > 1)
        .and_then(Pid::from_raw)
        .filter(|group| *group != getpgrp())
        .ok_or(ProcessError::InvalidGroup(pgid))?;
    match kill_process_group(group, signal) {
        Ok(()) | Err(Errno::SRCH) => Ok(()),
        Err(errno) => Err(ProcessError::Signal {
            pgid,
            source: errno.into(),
        }),
    }
}
