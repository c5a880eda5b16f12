//! The messages between a [`ServerSupervisor`](super::ServerSupervisor) handle and its
//! task: one variant per command, each carrying the channel its answer goes back on.

use tokio::sync::oneshot;

use super::{LaunchPlan, RestartPolicy, ServerState, SupervisorError};

/// Where a command's answer goes.
pub(super) type Reply<T> = oneshot::Sender<Result<T, SupervisorError>>;

/// What a handle asks of the task.
pub(super) enum Command {
    Start {
        plan: LaunchPlan,
        reply: Reply<()>,
    },
    Restart {
        plan: LaunchPlan,
        reply: Reply<()>,
    },
    Stop {
        reply: Reply<()>,
    },
    Kill {
        reply: Reply<()>,
    },
    MarkReady {
        reply: Reply<()>,
    },
    Adopt {
        adoption: super::Adoption,
        reply: Reply<ServerState>,
    },
    SetPolicy {
        policy: RestartPolicy,
    },
    Shutdown {
        reply: oneshot::Sender<()>,
    },
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Start { .. } => "Start",
            Command::Restart { .. } => "Restart",
            Command::Stop { .. } => "Stop",
            Command::Kill { .. } => "Kill",
            Command::MarkReady { .. } => "MarkReady",
            Command::Adopt { .. } => "Adopt",
            Command::SetPolicy { .. } => "SetPolicy",
            Command::Shutdown { .. } => "Shutdown",
        })
    }
}
