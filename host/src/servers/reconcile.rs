//! The drift check: desired versus actual state, as a safety net.
//!
//! Supervisors react to process exits at once (a crash is noticed through its pidfd and
//! handled by the restart policy), so this is not how the host normally notices anything.
//! Every interval (30 s by default) it compares, for servers with no queued or running job,
//! what the user asked for with what was observed, records what it finds as a server event,
//! and queues the job that closes the gap. A server that crashed past its restart limit is
//! left alone: that is for a person to look at.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::Servers;
use crate::jobs::{JobError, JobQueueHandle};
use crate::store::StoreError;
use crate::store::events::{self, NewEvent};
use crate::store::servers::{self, ActualState, DesiredState};
use crate::store::{JobKind, NewJob};

/// How often the drift check runs by default.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// Who the reconciler's jobs are requested by.
pub const REQUESTER: &str = "reconciler";

/// Why a drift check failed (logged; the next one tries again).
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The job queue refused.
    #[error(transparent)]
    Jobs(#[from] JobError),
}

/// Runs the drift check every `interval` until `cancel` fires.
pub fn spawn(
    servers: Servers,
    jobs: JobQueueHandle,
    interval: Duration,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if let Err(e) = reconcile_once(&servers, &jobs).await {
                tracing::warn!("drift check failed: {e}");
            }
        }
    })
}

/// One pass: queues a job for every idle server whose actual state drifted from the desired
/// one, and returns how many it queued.
pub async fn reconcile_once(
    servers: &Servers,
    jobs: &JobQueueHandle,
) -> Result<usize, ReconcileError> {
    let (all, busy) = servers
        .store()
        .call(|conn| Ok((servers::list(conn)?, servers::busy_ids(conn)?)))
        .await?;
    let mut queued = 0;
    for server in all.into_iter().filter(|s| !busy.contains(&s.id)) {
        let (kind, finding) = match (server.desired_state, server.actual_state) {
            (DesiredState::Running, ActualState::Stopped) => (
                JobKind::Start,
                "should be running but is stopped; starting it",
            ),
            (DesiredState::Stopped, ActualState::Running | ActualState::Starting) => (
                JobKind::Stop,
                "should be stopped but is running; stopping it",
            ),
            _ => continue,
        };
        let id = server.id;
        servers
            .store()
            .call(move |conn| {
                events::append(conn, id, &NewEvent::new("drift", finding)).map(|_| ())
            })
            .await?;
        jobs.enqueue(NewJob::for_server(id, kind, REQUESTER))
            .await?;
        queued += 1;
    }
    Ok(queued)
}
