//! Reattaching at host start: the games the previous host run left running (processes are
//! started so that they survive a host restart) are found again by pid and process start
//! time and handed back to their supervisors, never launched a second time; the ones that
//! are gone are recorded as crashed or stopped.
//!
//! [`Reattach`] owns this; it is reached as [`Servers::reattach`], and the host runs it once
//! at start (its counterpart at exit is [`Servers::detach_all`]). The check of the process
//! itself is the supervisor's (`adopt_recorded`); this module plans for it.

use super::Servers;
use super::plan::Purpose;
use crate::store::StoreError;
use crate::store::servers::{self, ActualState, DesiredState, Server};
use crate::supervisor::process::ProcessId;
use crate::supervisor::server::{Adoption, ServerState, SupervisorError};

/// Why one server could not be reattached (logged; the others are still reattached).
#[derive(Debug, thiserror::Error)]
pub enum ReattachError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The supervisor refused or failed.
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
}

/// Reattaching to the games a previous host run left running. Cheap to clone.
#[derive(Clone)]
pub struct Reattach {
    servers: Servers,
}

impl Reattach {
    pub(super) fn new(servers: Servers) -> Self {
        Reattach { servers }
    }

    /// At host start: every server recorded as running (or starting, or stopping) is checked
    /// by pid and process start time and reattached if it is still ours, or marked crashed,
    /// stopped or unmanaged, with the reason in its events. Each server is handled on its
    /// own: one that fails (its adapter removed, its settings unreadable) is marked and the
    /// others are still reattached. Never launches anything. Returns how many games run
    /// again under the host (running, or starting until ready).
    pub async fn all(&self) -> Result<usize, StoreError> {
        let recorded = self
            .servers
            .inner
            .store
            .call(|conn| servers::list_for_reattach(conn))
            .await?;
        let mut reattached = 0;
        for server in recorded {
            match self.reattach(&server).await {
                Ok(ServerState::Running | ServerState::Starting) => reattached += 1,
                Ok(_) => {}
                Err(e) => tracing::error!(server = server.id, "reattaching failed: {e}"),
            }
        }
        Ok(reattached)
    }

    /// Reattaches one server recorded as running (see [`Reattach::all`]).
    async fn reattach(&self, server: &Server) -> Result<ServerState, ReattachError> {
        let supervisor = self.servers.supervisor(server);
        let desired_running = server.desired_state == DesiredState::Running;
        let Some(identity) = server.process else {
            // Recorded as running without a process: it is gone like any dead one.
            self.mark_gone(server, desired_running).await?;
            return Ok(ServerState::Stopped);
        };
        let id = ProcessId {
            pid: i32::try_from(identity.pid).unwrap_or(0),
            start_time: identity.start_time,
        };
        let plan = match self.servers.plans().prepare(server, Purpose::Plans).await {
            Ok(prepared) => {
                self.servers
                    .inner
                    .actions
                    .set_endpoint(server.id, prepared.endpoint);
                Ok(prepared.plan)
            }
            Err(e) => {
                tracing::warn!(server = server.id, "cannot plan for reattached server: {e}");
                Err(e.to_string())
            }
        };
        Ok(supervisor
            .adopt_recorded(Adoption {
                id,
                plan,
                desired_running,
                starting: server.actual_state == ActualState::Starting,
            })
            .await?)
    }

    /// Records that a server recorded as running has no process any more: crashed if the
    /// user wanted it running, stopped otherwise.
    async fn mark_gone(&self, server: &Server, desired_running: bool) -> Result<(), ReattachError> {
        let (state, message) = if desired_running {
            (
                ActualState::Crashed,
                "no process was recorded for the running server",
            )
        } else {
            (
                ActualState::Stopped,
                "no process was recorded; marked stopped",
            )
        };
        let id = server.id;
        self.servers
            .inner
            .store
            .call(move |conn| {
                let observed = servers::Observed {
                    state,
                    exit_code: None,
                    process: None,
                    last_error: desired_running.then(|| message.to_string()),
                };
                servers::set_actual_state(conn, id, &observed)?;
                crate::store::events::append(
                    conn,
                    id,
                    &crate::store::events::NewEvent::new("gone", message),
                )
                .map(|_| ())
            })
            .await?;
        Ok(())
    }
}
