//! What a supervised server is doing, as the supervisor observed it.
//!
//! [`ServerState`] is the value published on the supervisor's watch channel and passed to
//! the [`Observer`](super::Observer); its [`as_str`](ServerState::as_str) spellings are the
//! ones the store keeps in `servers.actual_state`. This module only names states; deciding
//! when to move between them belongs to the supervisor task.

use serde::{Deserialize, Serialize};

use crate::supervisor::process::Exit;

/// A server's observed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ServerState {
    /// A process may run for this server that the host cannot control (it was found but
    /// could not be reattached); the host will not start a second copy while it lives.
    Unmanaged,
    /// No process runs.
    Stopped,
    /// Launched, waiting for the game to report that it is ready.
    Starting,
    /// Running (and ready, when the game reports readiness).
    Running,
    /// Asked to stop; the process has not ended yet.
    Stopping,
    /// The process ended without being asked to, or failed to become ready.
    Crashed {
        /// Its exit code, when it exited by itself and was our child.
        exit: Option<i32>,
        /// The signal that ended it, when one did.
        signal: Option<i32>,
    },
}

impl ServerState {
    /// The text stored in `servers.actual_state` and used by the API.
    pub fn as_str(&self) -> &'static str {
        match self {
            ServerState::Unmanaged => "unmanaged",
            ServerState::Stopped => "stopped",
            ServerState::Starting => "starting",
            ServerState::Running => "running",
            ServerState::Stopping => "stopping",
            ServerState::Crashed { .. } => "crashed",
        }
    }

    /// The crashed state for a process that ended with `exit`.
    pub fn crashed(exit: Exit) -> ServerState {
        match exit {
            Exit::Code(code) => ServerState::Crashed {
                exit: Some(code),
                signal: None,
            },
            Exit::Signal(signal) => ServerState::Crashed {
                exit: None,
                signal: Some(signal),
            },
            Exit::Unknown => ServerState::Crashed {
                exit: None,
                signal: None,
            },
        }
    }

    /// Whether a process belongs to this state (starting, running or stopping).
    pub fn has_process(&self) -> bool {
        matches!(
            self,
            ServerState::Starting | ServerState::Running | ServerState::Stopping
        )
    }
}

impl std::fmt::Display for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
