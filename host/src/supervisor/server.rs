//! The per-server supervisor: one task per game server that owns its process and decides
//! what runs.
//!
//! A [`ServerSupervisor`] is a cheap handle to that task. Commands (start, stop, kill,
//! restart, mark ready, adopt, shut down) travel over a channel and are answered when done;
//! the state ([`ServerState`]: unmanaged, stopped, starting, running, stopping, crashed) is
//! published on a watch channel and every change, with the reason, goes to the host's
//! [`Observer`] as well.
//!
//! - **Start**: the [`LaunchPlan`]'s process is launched; without `wait_for_ready` the
//!   server is running at once, with it it is starting until [`ServerSupervisor::mark_ready`]
//!   and crashed if that does not come within the startup timeout. A start while a process
//!   lives is refused: a second copy is never launched.
//! - **Stop**: stopping; the plan's steps in order (RCon commands through [`StopActions`],
//!   signals, waits), then SIGTERM to the group and SIGKILL after the grace; then stopped,
//!   whatever the exit code. **Kill**: SIGKILL to the group, then stopped.
//! - **Crash**: an end nobody asked for is noticed at once and reported as crashed with its
//!   exit code or signal; the server is restarted after the policy's backoff unless it has
//!   already been restarted [`RestartPolicy::max`] times within the window, in which case it
//!   stays crashed and an event says the supervisor gave up.
//! - **Adopt** (host boot): the recorded process is reattached and the server is running,
//!   without a launch; a process that is gone leaves the server stopped or crashed (as the
//!   user wanted it running or not), with an event.
//! - **Shutdown** (host exit): the task ends and the game keeps running, to be adopted by
//!   the next host run. Dropping every handle does the same.
//!
//! This module knows no game and no database: the host supplies both through
//! [`Observer`] and [`StopActions`], and builds the launch plan from the adapter.

mod command;
mod error;
mod observer;
mod plan;
mod restart;
mod sequence;
mod state;
mod task;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use self::command::{Command, Reply};
pub use self::error::SupervisorError;
pub use self::observer::{BoxFuture, Observer, StopActions};
pub use self::plan::{DEFAULT_STARTUP_TIMEOUT, LaunchPlan, StopSignal, StopStep};
use self::restart::RestartRecord;
pub use self::restart::{RestartPolicy, RestartStatus};
pub use self::state::ServerState;
use self::task::Task;
use crate::supervisor::process::ProcessId;

/// What the previous host run recorded about a server's game, for [`ServerSupervisor::adopt_recorded`].
#[derive(Debug)]
pub struct Adoption {
    /// The recorded process.
    pub id: ProcessId,
    /// The plan for stopping and restarting it, or why none could be made.
    pub plan: Result<LaunchPlan, String>,
    /// Whether the user wants it running (a gone process is then crashed).
    pub desired_running: bool,
    /// Whether it was still starting (not yet ready) when recorded.
    pub starting: bool,
}

/// How many commands may wait for the task before senders wait too.
const COMMAND_QUEUE: usize = 16;

/// A handle to one server's supervisor task. Clones share the task; it ends on
/// [`shutdown`](ServerSupervisor::shutdown) or when the last handle is dropped, leaving the
/// game process running.
#[derive(Debug, Clone)]
pub struct ServerSupervisor {
    server_id: i64,
    /// To the task; its closing (every handle dropped) ends the task.
    commands: mpsc::Sender<Command>,
    /// The task's published state.
    state: watch::Receiver<ServerState>,
    /// The task's automatic restarts, counted when asked.
    restarts: watch::Receiver<RestartRecord>,
}

impl ServerSupervisor {
    /// Starts the supervisor task of server `server_id` with no process, in state
    /// `initial` (stopped, crashed or unmanaged, as last recorded; any other is taken as
    /// stopped). The initial state is not reported to the observer. Must be called inside a
    /// tokio runtime.
    pub fn spawn(
        server_id: i64,
        initial: ServerState,
        policy: RestartPolicy,
        observer: Arc<dyn Observer>,
        actions: Arc<dyn StopActions>,
    ) -> ServerSupervisor {
        let initial = if initial.has_process() {
            ServerState::Stopped
        } else {
            initial
        };
        let (state_tx, state) = watch::channel(initial);
        let (restarts_tx, restarts) = watch::channel(RestartRecord {
            policy,
            ..RestartRecord::default()
        });
        let (commands, commands_rx) = mpsc::channel(COMMAND_QUEUE);
        let task = Task::new(
            server_id,
            policy,
            observer,
            actions,
            state_tx,
            restarts_tx,
            commands_rx,
        );
        // Owned through the command channel: the task ends when every handle is gone.
        tokio::spawn(task.run());
        ServerSupervisor {
            server_id,
            commands,
            state,
            restarts,
        }
    }

    /// The server this supervisor runs.
    pub fn server_id(&self) -> i64 {
        self.server_id
    }

    /// The state, to read now or to watch for changes.
    pub fn state(&self) -> watch::Receiver<ServerState> {
        self.state.clone()
    }

    /// The state right now.
    pub fn current(&self) -> ServerState {
        *self.state.borrow()
    }

    /// The automatic restarts after crashes within the policy's window, counted now, and
    /// whether one is waiting for its backoff.
    pub fn restarts(&self) -> RestartStatus {
        self.restarts.borrow().status(tokio::time::Instant::now())
    }

    /// Launches the server. Answers once the process has started (starting or running);
    /// refused while a process of this server lives.
    pub async fn start(&self, plan: LaunchPlan) -> Result<(), SupervisorError> {
        self.request(|reply| Command::Start { plan, reply }).await
    }

    /// Stops the server with its plan's ordered stop; answers once it has stopped. Stopping
    /// a server without a process only cancels a pending automatic restart.
    pub async fn stop(&self) -> Result<(), SupervisorError> {
        self.request(|reply| Command::Stop { reply }).await
    }

    /// SIGKILLs the server's process group; answers once it has ended.
    pub async fn kill(&self) -> Result<(), SupervisorError> {
        self.request(|reply| Command::Kill { reply }).await
    }

    /// Stops the server if it runs, then launches `plan`; answers once launched.
    pub async fn restart(&self, plan: LaunchPlan) -> Result<(), SupervisorError> {
        self.request(|reply| Command::Restart { plan, reply }).await
    }

    /// The game reported that it is ready: a starting server is now running.
    pub async fn mark_ready(&self) -> Result<(), SupervisorError> {
        self.request(|reply| Command::MarkReady { reply }).await
    }

    /// At host boot: reattaches to `id`, recorded by the previous run, and answers with the
    /// resulting state. Never launches: a live process makes the server running, a gone one
    /// leaves it crashed (`desired_running`) or stopped, one that cannot be watched leaves
    /// it unmanaged. `plan` is kept for stopping and for restarts after a crash.
    pub async fn adopt(
        &self,
        id: ProcessId,
        plan: LaunchPlan,
        desired_running: bool,
    ) -> Result<ServerState, SupervisorError> {
        self.adopt_recorded(Adoption {
            id,
            plan: Ok(plan),
            desired_running,
            starting: false,
        })
        .await
    }

    /// [`ServerSupervisor::adopt`] with everything the previous run recorded: a game that
    /// had not reported ready is starting again (with a fresh startup budget) until it does,
    /// when its plan waits for ready; a live game for which no plan could be made is
    /// unmanaged, with the reason in the event, and is never launched a second time.
    pub async fn adopt_recorded(&self, adoption: Adoption) -> Result<ServerState, SupervisorError> {
        self.request(|reply| Command::Adopt { adoption, reply })
            .await
    }

    /// Replaces the restart policy; disabling it cancels a pending restart.
    pub async fn set_policy(&self, policy: RestartPolicy) -> Result<(), SupervisorError> {
        self.commands
            .send(Command::SetPolicy { policy })
            .await
            .map_err(|_| SupervisorError::Ended)
    }

    /// Ends supervision and leaves the game running (the host is exiting). Answers once the
    /// task has let go of everything.
    pub async fn shutdown(&self) -> Result<(), SupervisorError> {
        let (reply, done) = oneshot::channel();
        self.commands
            .send(Command::Shutdown { reply })
            .await
            .map_err(|_| SupervisorError::Ended)?;
        done.await.map_err(|_| SupervisorError::Ended)
    }

    async fn request<T>(
        &self,
        command: impl FnOnce(Reply<T>) -> Command,
    ) -> Result<T, SupervisorError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| SupervisorError::Ended)?;
        answer.await.map_err(|_| SupervisorError::Ended)?
    }
}
