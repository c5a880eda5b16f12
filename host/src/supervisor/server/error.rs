//! Why a command to a server's supervisor was refused or failed. Messages are fit to show
//! an operator as they are.

use crate::supervisor::process::{ProcessError, ProcessId};

/// Errors of the per-server supervisor.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// A process already runs for the server; a second one is never launched.
    #[error("the server is already running")]
    AlreadyRunning,
    /// The server is being stopped; the command can be given again once it has stopped.
    #[error("the server is stopping")]
    Stopping,
    /// A process the host cannot control still runs for the server.
    #[error("an unmanaged process ({0}) still runs for this server")]
    Unmanaged(ProcessId),
    /// `mark_ready` while the server is not starting.
    #[error("the server is not starting")]
    NotStarting,
    /// The game process could not be started.
    #[error("cannot start the server: {0}")]
    Launch(#[from] ProcessError),
    /// An adapter's stop plan names a signal the host does not know.
    #[error("unknown stop signal `{0}` (expected `interrupt` or `terminate`)")]
    UnknownStopSignal(String),
    /// A later command (a stop or a kill) replaced this one before it could complete.
    #[error("cancelled by a later command")]
    Superseded,
    /// The supervisor task has ended (shut down, or every handle dropped).
    #[error("the server's supervisor has ended")]
    Ended,
}
