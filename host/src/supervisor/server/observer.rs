//! What the supervisor tells the host and asks of it, as two small traits so that it knows
//! no database and no game protocol, and tests can use fakes.
//!
//! The host implements [`Observer`] by recording state changes and events in the store,
//! and [`StopActions`] with its RCon driver. Both are called from the supervisor task:
//! [`Observer`] methods must return quickly (hand the write to the store's own thread, do
//! not block on SQLite here), and a [`StopActions`] future may take as long as it needs, the
//! supervisor bounds it.

use std::future::Future;
use std::pin::Pin;

use crate::supervisor::process::ProcessId;

use super::{RestartStatus, ServerState};

/// A boxed, sendable future, so the traits stay usable as `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Receives every state change and event of every supervised server.
pub trait Observer: Send + Sync + 'static {
    /// The server moved from `from` to `to`. `process` is the game process that belongs to
    /// the new state (none once it has ended); `detail` says why, in words for an operator;
    /// `restarts` how the automatic restarts stand with it (after a crash: whether one
    /// follows).
    fn state_changed(
        &self,
        server_id: i64,
        from: &ServerState,
        to: &ServerState,
        process: Option<ProcessId>,
        detail: &str,
        restarts: RestartStatus,
    );

    /// Something worth a line in the server's history: `kind` is a short machine-readable
    /// word (`crashed`, `gave_up`, `reattached`, …), `message` the sentence to show.
    fn event(&self, server_id: i64, kind: &str, message: &str);

    /// A game process now belongs to the server: `launched` when this supervisor has just
    /// started it (its logs begin now), not when it was reattached after a host restart (its
    /// logs resume where they were left). Called after the matching state change.
    fn process_started(&self, _server_id: i64, _process: ProcessId, _launched: bool) {}

    /// The server's process has ended. Called before the matching state change.
    fn process_ended(&self, _server_id: i64) {}
}

/// Game-specific actions a stop plan may need.
pub trait StopActions: Send + Sync + 'static {
    /// Sends `command` to the server over RCon and returns the reply, or why it failed.
    fn rcon_command<'a>(
        &'a self,
        server_id: i64,
        command: &'a str,
    ) -> BoxFuture<'a, Result<String, String>>;
}
