//! The workers: claim a job, run it, record how it ended, repeat.
//!
//! Workers sleep on a [`Notify`] that enqueueing and finishing a job wake, so a queued job
//! starts without polling latency; a slow periodic sweep ([`SAFETY_SWEEP`]) only covers jobs
//! queued by something that could not wake them. Claiming is the store's one short
//! transaction, committed before the job runs; nothing here holds a transaction or a lock
//! across a step. Each job runs in its own task, so a panicking executor fails its job and
//! the worker carries on. The queue owns its workers: [`JobQueue::shutdown`] cancels running
//! steps and waits for every worker.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::{JoinError, JoinHandle};
use tokio_util::sync::CancellationToken;

use super::context::JobContext;
use super::{JobError, JobExecutor, JobFailure, StepSuccess};
use crate::events::{Event, EventBus, EventKind};
use crate::store::{CancelOutcome, Job, JobOutcome, LogStream, NewJob, Store, jobs};

/// Workers started when the configuration does not say.
pub const DEFAULT_WORKERS: usize = 2;

/// How often idle workers look for runnable jobs even if nobody woke them.
pub const SAFETY_SWEEP: Duration = Duration::from_secs(30);

/// How long a shutdown waits for a job to end after cancelling it before abandoning its
/// task (its step's process group is killed when the task is dropped).
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

/// What every worker and handle shares.
struct Shared {
    store: Store,
    /// Where claimed and finished jobs, progress and log lines are published.
    events: EventBus,
    executor: Arc<dyn JobExecutor>,
    /// Wakes idle workers: a job was queued, or one finished (which may unblock another).
    wake: Notify,
    /// Cancelled by shutdown; every running job's token is a child of it.
    shutdown: CancellationToken,
    /// The jobs running in this process, so that a cancel reaches the right step.
    running: Mutex<HashMap<i64, Running>>,
}

/// A job some worker is running.
struct Running {
    /// Cancels the job's steps.
    token: CancellationToken,
    /// Set before `token` is cancelled by a user's request, to tell it from a shutdown.
    by_user: Arc<AtomicBool>,
}

impl Running {
    fn cancel_by_user(&self) {
        self.by_user.store(true, Ordering::SeqCst);
        self.token.cancel();
    }
}

impl Shared {
    /// Publishes a job's stored row.
    fn publish(&self, job: Job) {
        self.events.publish(Event::new(
            job.server_id.unwrap_or(0),
            EventKind::Job { job },
        ));
    }

    /// The map of running jobs. Never held across an `.await`; a panic while it was held
    /// cannot leave it inconsistent (each update is one map operation).
    fn running(&self) -> MutexGuard<'_, HashMap<i64, Running>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Enqueues and cancels jobs. Cheap to clone; for request handlers.
#[derive(Clone)]
pub struct JobQueueHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for JobQueueHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobQueueHandle").finish_non_exhaustive()
    }
}

impl JobQueueHandle {
    /// Stores the job, then wakes the workers.
    pub async fn enqueue(&self, new: NewJob) -> Result<Job, JobError> {
        let job = self
            .shared
            .store
            .call(move |conn| jobs::enqueue(conn, &new))
            .await?;
        self.shared.wake.notify_waiters();
        Ok(job)
    }

    /// Stores an install or update of a game runtime, unless one of the same runtime is
    /// already queued or running (a conflict naming it), then wakes the workers.
    pub async fn enqueue_runtime(&self, new: NewJob) -> Result<Job, JobError> {
        let job = self
            .shared
            .store
            .call(move |conn| jobs::enqueue_runtime(conn, &new))
            .await?;
        self.shared.wake.notify_waiters();
        Ok(job)
    }

    /// Cancels a job: a queued one at once (it never runs); for a running one the request
    /// is stored and its step's process group is terminated. A finished job is a conflict.
    pub async fn cancel(&self, id: i64) -> Result<CancelOutcome, JobError> {
        let outcome = self
            .shared
            .store
            .call(move |conn| jobs::request_cancel(conn, id))
            .await?;
        if let CancelOutcome::Cancelled(job) = &outcome {
            self.shared.publish(job.clone());
        }
        if let CancelOutcome::Requested(_) = &outcome {
            // A worker that claimed the job but has not registered it yet reads
            // `cancel_requested` after registering, so the request is never lost.
            if let Some(running) = self.shared.running().get(&id) {
                running.cancel_by_user();
            }
        }
        Ok(outcome)
    }
}

/// The job workers. Owns their tasks: [`JobQueue::shutdown`] stops them and waits; dropping
/// the queue only asks them to stop.
pub struct JobQueue {
    handle: JobQueueHandle,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobQueue")
            .field("workers", &self.workers.len())
            .finish_non_exhaustive()
    }
}

impl JobQueue {
    /// Fails the jobs a dead host left `running` ("host restarted"), then starts `workers`
    /// workers (at least one) that run jobs through `executor`.
    pub async fn start(
        store: Store,
        executor: Arc<dyn JobExecutor>,
        workers: usize,
    ) -> Result<JobQueue, JobError> {
        Self::start_publishing(store, executor, workers, EventBus::new()).await
    }

    /// [`JobQueue::start`], publishing every job change and job log batch on `events`
    /// (after it is stored).
    pub async fn start_publishing(
        store: Store,
        executor: Arc<dyn JobExecutor>,
        workers: usize,
        events: EventBus,
    ) -> Result<JobQueue, JobError> {
        let stale = store
            .call(|conn| jobs::fail_stale_running(conn, "host restarted"))
            .await?;
        if !stale.is_empty() {
            tracing::warn!(?stale, "failed jobs left running by the previous host");
        }
        let shared = Arc::new(Shared {
            store,
            events,
            executor,
            wake: Notify::new(),
            shutdown: CancellationToken::new(),
            running: Mutex::new(HashMap::new()),
        });
        let workers = (0..workers.max(1))
            .map(|index| tokio::spawn(work(shared.clone(), index)))
            .collect();
        Ok(JobQueue {
            handle: JobQueueHandle { shared },
            workers,
        })
    }

    /// A cheap handle for enqueueing and cancelling.
    pub fn handle(&self) -> JobQueueHandle {
        self.handle.clone()
    }

    /// See [`JobQueueHandle::enqueue`].
    pub async fn enqueue(&self, new: NewJob) -> Result<Job, JobError> {
        self.handle.enqueue(new).await
    }

    /// See [`JobQueueHandle::cancel`].
    pub async fn cancel(&self, id: i64) -> Result<CancelOutcome, JobError> {
        self.handle.cancel(id).await
    }

    /// Stops the workers and waits for them. Running steps are terminated and their jobs
    /// recorded as failed ("the host shut down …"); queued jobs stay queued.
    pub async fn shutdown(mut self) {
        self.handle.shared.shutdown.cancel();
        for worker in std::mem::take(&mut self.workers) {
            if let Err(e) = worker.await {
                tracing::error!("a job worker ended abnormally: {e}");
            }
        }
    }
}

impl Drop for JobQueue {
    fn drop(&mut self) {
        self.handle.shared.shutdown.cancel();
    }
}

/// One worker's loop.
async fn work(shared: Arc<Shared>, index: usize) {
    tracing::debug!(worker = index, "job worker started");
    while !shared.shutdown.is_cancelled() {
        // Registered before claiming, so a job queued after the claim still wakes us.
        let notified = shared.wake.notified();
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().enable();
        match shared.store.call(jobs::claim_next).await {
            Ok(Some(job)) => {
                run_job(&shared, job).await;
                // Finishing may have unblocked a job of the same server or runtime.
                shared.wake.notify_waiters();
                continue;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(worker = index, "claiming a job failed: {e}"),
        }
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep(SAFETY_SWEEP) => {}
            () = shared.shutdown.cancelled() => {}
        }
    }
    tracing::debug!(worker = index, "job worker stopped");
}

/// Runs one claimed job to its recorded end. Nothing the job does escapes this function.
async fn run_job(shared: &Arc<Shared>, job: Job) {
    let id = job.id;
    shared.publish(job.clone());
    let token = shared.shutdown.child_token();
    let by_user = Arc::new(AtomicBool::new(false));
    shared.running().insert(
        id,
        Running {
            token: token.clone(),
            by_user: by_user.clone(),
        },
    );
    // A cancel stored between the claim and the registration above is seen here.
    match shared.store.call(move |conn| jobs::get(conn, id)).await {
        Ok(current) if current.cancel_requested => {
            by_user.store(true, Ordering::SeqCst);
            token.cancel();
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(job_id = id, "re-reading a claimed job failed: {e}"),
    }

    let (ctx, appender) = JobContext::start(
        shared.store.clone(),
        shared.events.clone(),
        &job,
        token.clone(),
    );
    tracing::info!(job_id = id, kind = %job.kind, server_id = ?job.server_id, "job started");
    let result = if token.is_cancelled() {
        Err(JobFailure::Cancelled { exit_code: None })
    } else {
        execute(shared, job, ctx.clone()).await
    };
    let outcome = match result {
        Ok(StepSuccess { exit_code }) => JobOutcome::Succeeded { exit_code },
        Err(failure) => failure.into_outcome(by_user.load(Ordering::SeqCst)),
    };
    let summary = match &outcome {
        JobOutcome::Succeeded { .. } => "job succeeded".to_owned(),
        JobOutcome::Failed { error, .. } => format!("job failed: {error}"),
        JobOutcome::Cancelled { .. } => "job cancelled".to_owned(),
    };
    ctx.log(LogStream::System, summary).await;
    ctx.close().await;
    drop(ctx);
    if let Err(e) = appender.await {
        tracing::error!(job_id = id, "the job log appender died: {e}");
    }
    shared.running().remove(&id);
    let finished = shared
        .store
        .call(move |conn| jobs::finish(conn, id, &outcome))
        .await;
    match finished {
        Ok(job) => {
            tracing::info!(job_id = id, state = %job.state, exit_code = ?job.exit_code, "job finished");
            shared.publish(job);
        }
        Err(e) => tracing::error!(job_id = id, "recording the end of a job failed: {e}"),
    }
}

/// Runs the executor in its own task so that a panic stays in it; on shutdown a job that
/// ignores its cancellation is abandoned after [`SHUTDOWN_GRACE`].
async fn execute(
    shared: &Arc<Shared>,
    job: Job,
    ctx: JobContext,
) -> Result<StepSuccess, JobFailure> {
    let executor = shared.executor.clone();
    let mut task = tokio::spawn(async move { executor.run(job, ctx).await });
    let joined = tokio::select! {
        joined = &mut task => joined,
        () = async {
            shared.shutdown.cancelled().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            task.abort();
            task.await
        }
    };
    joined.unwrap_or_else(|e| Err(joined_failure(e)))
}

fn joined_failure(e: JoinError) -> JobFailure {
    let Ok(payload) = e.try_into_panic() else {
        return JobFailure::Cancelled { exit_code: None };
    };
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned());
    JobFailure::error(format!("the job panicked: {message}"))
}
