//! Watching one process through its pidfd, and signalling it.
//!
//! A pidfd refers to one process for as long as it is open, even if the pid number is
//! later reused, and turns readable when that process ends; registered with tokio's
//! reactor it wakes the waiting task at once, with no polling. This module only watches and
//! signals; reaping a child and reading its status belong to [`super::process`].

use std::os::fd::OwnedFd;

use rustix::io::Errno;
use rustix::process::{Signal, pidfd_send_signal};
use tokio::io::unix::AsyncFd;

use super::error::ProcessError;
use super::process_id::ProcessId;
use super::signals::signal_group;

/// A process and the pidfd that tells when it ends.
#[derive(Debug)]
pub(super) struct Watch {
    /// The process, for checks against `/proc` and for log messages.
    pub(super) id: ProcessId,
    /// The group to signal; none for a process that does not lead its own group.
    pub(super) group: Option<i32>,
    /// Readable once the process has ended.
    pidfd: AsyncFd<OwnedFd>,
}

impl Watch {
    pub(super) fn new(
        id: ProcessId,
        group: Option<i32>,
        pidfd: OwnedFd,
    ) -> Result<Watch, ProcessError> {
        // `AsyncFd::new` is deprecated because an arbitrary `AsRawFd` may change or close its
        // fd behind the reactor's back; an `OwnedFd` cannot, which is exactly what the unsafe
        // replacement (`AsyncFd::register`) asks its caller to promise.
        #[allow(deprecated)]
        let pidfd = AsyncFd::new(pidfd).map_err(|source| ProcessError::Watch { id, source })?;
        Ok(Watch { id, group, pidfd })
    }

    /// Completes when the process has ended.
    pub(super) async fn readable(&self) -> tokio::io::unix::AsyncFdReadyGuard<'_, OwnedFd> {
        match self.pidfd.readable().await {
            Ok(guard) => guard,
            Err(e) => {
                // Only when the runtime is shutting down; nothing will poll us again.
                tracing::debug!(id = %self.id, "pidfd no longer watched: {e}");
                std::future::pending().await
            }
        }
    }

    /// Sends `signal` to the group, or to the process alone through its pidfd when it leads
    /// no group. A process or group that is already gone is fine; other failures are logged.
    pub(super) fn signal(&self, signal: Signal) {
        let result = match self.group {
            Some(pgid) => signal_group(pgid, signal),
            None => match pidfd_send_signal(self.pidfd.get_ref(), signal) {
                Ok(()) | Err(Errno::SRCH) => Ok(()),
                Err(errno) => Err(ProcessError::Signal {
                    pgid: self.id.pid,
                    source: errno.into(),
                }),
            },
        };
        if let Err(e) = result {
            tracing::warn!(id = %self.id, "cannot send {signal:?}: {e}");
        }
    }

    /// After the leader has ended: kills whatever it left in its group.
    pub(super) fn kill_stragglers(&self) {
        if let Some(pgid) = self.group
            && let Err(e) = signal_group(pgid, Signal::KILL)
        {
            tracing::warn!(id = %self.id, "cannot kill leftover group members: {e}");
        }
    }
}
