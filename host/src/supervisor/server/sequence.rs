//! The ordered stop: the adapter's steps, then SIGTERM, then SIGKILL after the grace.
//!
//! The sequence only acts (RCon commands through [`StopActions`], signals, sleeps); it
//! never waits for the process itself. The supervisor task runs it beside its own watch on
//! the process and drops it the moment the process ends, so a `Wait` step lasts "up to"
//! its time, later steps are skipped once the game is gone, and nothing is signalled after
//! the end has been seen. Its last state is waiting forever after SIGKILL.

use std::sync::Arc;
use std::time::Duration;

use rustix::process::{Pid, Signal, kill_process};

use crate::supervisor::process::{ProcessId, RunningProcess};
use crate::supervisor::signals::signal_group;

use super::restart::human;
use super::{Observer, StopActions, StopSignal, StopStep};

/// How long one RCon step may take before the stop goes on without its answer.
pub(super) const RCON_STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// Where signals for one process go: its group, or the process alone when it leads none
/// (a reattached process whose group the host cannot vouch for).
#[derive(Debug, Clone, Copy)]
pub(super) struct Target {
    id: ProcessId,
    group: Option<i32>,
}

impl Target {
    pub fn of(process: &RunningProcess) -> Target {
        match process {
            RunningProcess::Spawned(p) => Target {
                id: p.id(),
                group: Some(p.pgid()),
            },
            RunningProcess::Attached(p) => Target {
                id: p.id(),
                group: p.pgid(),
            },
        }
    }

    /// Sends `signal`; a process that is gone is fine, other failures are logged.
    pub fn send(&self, signal: Signal) {
        let result = match self.group {
            Some(pgid) => signal_group(pgid, signal).map_err(|e| e.to_string()),
            // Only while the pid still names our process: it is not our child, so it may
            // have been reaped and the number reused.
            None if self.id.is_alive_and_same() => match Pid::from_raw(self.id.pid) {
                Some(pid) => kill_process(pid, signal).map_err(|e| e.to_string()),
                None => Ok(()),
            },
            None => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(id = %self.id, "cannot send {signal:?}: {e}");
        }
    }
}

/// Everything the stop sequence of one process needs; owned, so the sequence can be kept
/// beside the task's other state.
pub(super) struct OrderedStop {
    pub server_id: i64,
    pub target: Target,
    pub steps: Vec<StopStep>,
    pub grace: Duration,
    pub actions: Arc<dyn StopActions>,
    pub observer: Arc<dyn Observer>,
}

impl OrderedStop {
    /// Runs the steps, SIGTERM, the grace, SIGKILL; then waits forever for the supervisor
    /// to notice the end and drop it.
    pub async fn run(self) {
        for step in &self.steps {
            match step {
                StopStep::Rcon(command) => self.rcon(command).await,
                StopStep::Signal(StopSignal::Interrupt) => self.target.send(Signal::INT),
                StopStep::Signal(StopSignal::Terminate) => self.target.send(Signal::TERM),
                StopStep::Wait(time) => tokio::time::sleep(*time).await,
            }
        }
        self.target.send(Signal::TERM);
        tokio::time::sleep(self.grace).await;
        let message = format!(
            "did not stop within {} of SIGTERM; killed it",
            human(self.grace)
        );
        tracing::info!(server_id = self.server_id, "{message}");
        self.observer
            .event(self.server_id, "stop_escalated", &message);
        self.target.send(Signal::KILL);
        std::future::pending::<()>().await;
    }

    async fn rcon(&self, command: &str) {
        let sent = tokio::time::timeout(
            RCON_STEP_TIMEOUT,
            self.actions.rcon_command(self.server_id, command),
        )
        .await;
        let failure = match sent {
            Ok(Ok(reply)) => {
                tracing::debug!(
                    server_id = self.server_id,
                    command,
                    reply,
                    "stop command sent"
                );
                return;
            }
            Ok(Err(e)) => e,
            Err(_) => format!("no answer within {}", human(RCON_STEP_TIMEOUT)),
        };
        let message = format!("stop command `{command}` failed: {failure}");
        tracing::warn!(server_id = self.server_id, "{message}");
        self.observer
            .event(self.server_id, "stop_step_failed", &message);
    }
}
